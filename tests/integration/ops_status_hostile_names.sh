# labels: ops
# timeout: 60
# ops_status_hostile_names.sh - files whose names are not valid UTF-8 or carry markup, quotes,
# newlines and terminal escapes stay visible and inert everywhere the agent describes them:
# /status lists every file (invalid bytes as U+FFFD), /metrics keeps one well-formed series per
# file, the page escapes them, and `logferry status` prints no raw control character.
set -u
. "$(dirname "$0")/lib.sh"
lf_setup
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$T/agent.conf" <<EOF
[agent]
data_dir = $T/data
http_listen = 127.0.0.1:$PORT
[input app]
paths = $T/logs/*.log
[output file main]
path = $T/out/events.ndjson
EOF
python3 - "$T/logs" <<'PY'
import os, sys
d = sys.argv[1].encode()
names = [b"plain.log", b"bad\xffutf8.log", b'quote"back\\slash.log', b"new\nline.log",
         b"esc\x1b[2Jterm.log", b"<b>tag.log"]
for i, n in enumerate(names):
    with open(os.path.join(d, n), "w") as f:
        for k in range(1, 11):
            f.write(f"line {i * 10 + k} payload\n")
PY
start_agent "$T/agent.conf"
wait_for "[ \$(count_events $T/out/events.ndjson) -ge 60 ]" 20 || fail "not all 60 lines shipped"
wait_for "curl -s --noproxy '*' http://127.0.0.1:$PORT/status | python3 -c 'import json,sys; assert len(json.load(sys.stdin)[\"files\"]) == 6'" 10 \
    || fail "/status does not list all 6 files: $(curl -s --noproxy '*' http://127.0.0.1:$PORT/status | head -c 600)"
curl -s --noproxy '*' "http://127.0.0.1:$PORT/status" | python3 -c '
import json, sys
paths = sorted(f["path"].rsplit("/", 1)[1] for f in json.load(sys.stdin)["files"])
assert "bad\ufffdutf8.log" in paths, paths
assert "new\nline.log" in paths and "esc\x1b[2Jterm.log" in paths, paths
' || fail "/status paths are not the file names"
curl -s --noproxy '*' "http://127.0.0.1:$PORT/metrics" >"$T/metrics.txt"
python3 - "$T/metrics.txt" <<'PY' || fail "/metrics per-file series are malformed"
import re, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
series = [l for l in lines if l.startswith("logferry_file_lag_bytes{")]
assert len(series) == 6, series
pat = re.compile(r'^logferry_file_lag_bytes\{input="app",path="((?:[^"\\\n]|\\.)*)"\} \d+$')
for l in series:
    assert pat.match(l), l
PY
if command -v promtool >/dev/null; then
    promtool check metrics <"$T/metrics.txt" >"$T/promtool.txt" 2>&1 \
        || { cat "$T/promtool.txt"; fail "promtool rejects /metrics with hostile file names"; }
fi
curl -s --noproxy '*' "http://127.0.0.1:$PORT/" >"$T/page.html"
grep -q '&lt;b&gt;tag.log' "$T/page.html" || fail "page does not escape the tag-like name"
grep -q '<b>' "$T/page.html" && fail "page contains a raw <b> from a file name"
grep -q $'\x1b' "$T/page.html" && fail "page contains a raw ESC"
"$LOGFERRY" status -c "$T/agent.conf" >"$T/status.txt" 2>&1 || fail "status command failed"
grep -q $'\x1b' "$T/status.txt" && fail "status command printed a raw ESC"
grep -q 'esc\\x1B\[2Jterm.log' "$T/status.txt" || fail "status command lacks the escaped name"
grep -q 'new\\x0Aline.log' "$T/status.txt" || fail "status command lacks the newline name as \\x0A"
[ "$(grep -c '\.log ' "$T/status.txt")" = 6 ] || { cat "$T/status.txt"; fail "status table does not have 6 file rows"; }
stop_agent
seq_check "$T/out/events.ndjson" 1 60 || fail "lines lost"
echo PASS
