#!/bin/bash
# labels: slack
# timeout: 60
#   when_routes_events_on_any_output: [output file errors] with
#     when = http.response.status_code >= 500 and not url.path =~ "^/health" receives exactly
#     the matching lines while [output file all] receives every line;
#   when_syntax_error_names_line_and_column: `logferry check` refuses a broken condition with
#     FILE:LINE: when: ... at column N, and a bad regex likewise.
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/slack_lib.sh"
lf_setup
cat >"$T/bad.conf" <<CONF
[agent]
data_dir = $T/data
$(slack_conf_web)
[output file]
path = $T/out/x.ndjson
when = http.response.status_code >= and url.path == "/x"
CONF
out=$("$LOGFERRY" check -c "$T/bad.conf" 2>&1) && fail "check accepted a broken condition"
echo "$out" | grep -q "bad.conf:8: when: .* at column 30" || fail "no FILE:LINE + column in: $out"
sed -i 's#^when = .*#when = url.path =~ "^/a(b"#' "$T/bad.conf"
out=$("$LOGFERRY" check -c "$T/bad.conf" 2>&1) && fail "check accepted a broken regex"
echo "$out" | grep -q "bad.conf:8: when: invalid regex: .* at column" || fail "bad regex not reported: $out"

cat >"$T/agent.conf" <<CONF
$(slack_conf_agent)
$(slack_conf_web)
[output file errors]
path = $T/out/errors.ndjson
when = http.response.status_code >= 500 and not url.path =~ "^/health"
[output file all]
path = $T/out/all.ndjson
CONF
"$LOGFERRY" check -c "$T/agent.conf" >/dev/null 2>&1 || fail "valid condition refused"
: >"$T/logs/access.log"
start_agent "$T/agent.conf"
python3 - "$T/logs/access.log" "$T/expected" <<'PY'
import sys
n = 0
with open(sys.argv[1], "a") as f:
    for i in range(1, 2001):
        st = [200, 500, 503, 404, 502][i % 5]
        path = "/health" if i % 7 == 0 else f"/api/{i % 3}"
        n += st >= 500 and path != "/health"
        f.write(f'10.0.0.1 - - [26/Nov/2026:05:00:00 +0000] "GET {path}?n={i} HTTP/1.1" {st} 1 "-" "t"\n')
open(sys.argv[2], "w").write(str(n))
PY
wait_for "[ \$(count_events $T/out/all.ndjson) -ge 2000 ]" 30 || fail "all output did not get 2000 events"
stop_agent
python3 - "$T/out/errors.ndjson" "$T/out/all.ndjson" "$(cat "$T/expected")" <<'PY' || fail "routing"
import json, sys
errs = [json.loads(l) for l in open(sys.argv[1])]
alls = [json.loads(l) for l in open(sys.argv[2])]
want = int(sys.argv[3])
assert len(alls) == 2000, len(alls)
assert len(errs) == want, (len(errs), want)
assert all(e["http"]["response"]["status_code"] >= 500 and e["url"]["path"] != "/health" for e in errs)
print(f"errors output: {len(errs)} of 2000 events, as expected")
PY
echo PASS
