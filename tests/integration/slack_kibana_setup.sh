#!/bin/bash
# labels: slack
# timeout: 60
# `logferry setup` with kibana_url on the Slack output, against a Kibana stand-in
# (tests/tools/kibana_standin.py, which models the saved-objects import API):
#   setup_imports_saved_objects: packaging/kibana/logferry-kibana.ndjson is POSTed to
#     /api/saved_objects/_import?overwrite=true as the multipart part "file" with kbn-xsrf and
#     the configured basic credentials; every object of the file (the data view
#     logferry-data-view included) is imported; setup reports the count and exits 0;
#   setup_refused_is_reported: with a wrong password Kibana answers 401: setup exits non-zero
#     and says so; the password is never printed;
#   without kibana_url: "nothing to set up".
. "$(dirname "$0")/lib.sh"
lf_setup
python3 "$SRC_DIR/tests/tools/kibana_standin.py" --port-file "$T/port" --record "$T/kibana.jsonl" \
    --user logferry --password 'pa55-SECRETxKIB' >/dev/null 2>&1 &
LF_BG_PIDS="${LF_BG_PIDS:-} $!"
wait_for "[ -s $T/port ]" 10 || fail "stand-in did not start"
OBJ="$SRC_DIR/packaging/kibana/logferry-kibana.ndjson"
conf() {
    cat >"$T/agent.conf" <<CONF
[agent]
data_dir = $T/data
[input web]
paths = $T/logs/access.log
[output slack]
kibana_url = http://127.0.0.1:$(cat "$T/port")/
kibana_objects = $OBJ
kibana_username = logferry
kibana_password = $1
CONF
}
conf 'pa55-SECRETxKIB'
"$LOGFERRY" setup -c "$T/agent.conf" >"$T/setup.out" 2>&1 || { cat "$T/setup.out"; fail "setup failed"; }
cat "$T/setup.out"
n=$(grep -c . "$OBJ")
grep -q "imported $n Kibana saved objects into http://127.0.0.1" "$T/setup.out" || fail "setup did not report $n objects"
python3 - "$T/kibana.jsonl" "$OBJ" <<'PY' || fail "import request"
import json, sys
r = json.loads(open(sys.argv[1]).readline())
want = [[o["type"], o["id"]] for o in map(json.loads, filter(str.strip, open(sys.argv[2])))]
assert r["path"] == "/api/saved_objects/_import" and r["query"] == "overwrite=true", r
assert r["xsrf"] and r["auth"] == "basic logferry" and r["status"] == 200, r
assert r["filename"].endswith(".ndjson") and r["objects"] == want, r
assert ["index-pattern", "logferry-data-view"] in want
PY
conf 'wrong-SECRETxKIB'
if "$LOGFERRY" setup -c "$T/agent.conf" >"$T/setup2.out" 2>&1; then fail "setup with a wrong password succeeded"; fi
cat "$T/setup2.out"
grep -q "refused the saved objects: HTTP 401" "$T/setup2.out" || fail "401 not reported"
grep -q "SECRETxKIB" "$T/setup.out" "$T/setup2.out" && fail "the password was printed"
sed -i '/^kibana_/d' "$T/agent.conf"
"$LOGFERRY" setup -c "$T/agent.conf" 2>&1 | grep -q "nothing to set up (no kibana_url)" || fail "no kibana_url"
echo "PASS slack_kibana_setup"
