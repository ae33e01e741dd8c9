#!/bin/bash
# labels: es
# timeout: 90
#   setup_sends_template_and_policy: `logferry setup` PUTs the ILM policy and the index
#     template (http.response.status_code long, source.ip ip) and is idempotent;
#     `logferry test-output` says reachable and the version;
#   basic_auth_header_is_sent / api_key_header_is_sent: a stand-in that demands Basic, then one
#     that demands ApiKey, gets every line once; the secrets never appear in logs or output;
#   gzip_bodies (when built with zlib): a stand-in that refuses plain bodies gets them all.
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/es_lib.sh"
lf_setup
export ES_PASSWORD='pw-Zq81-secret' ES_API_KEY='a2V5aWQ6c2VjcmV0a2V5LVg3'
es_start --user elastic --password "$ES_PASSWORD"
es_conf "$T/agent.conf" 'username = elastic' 'password = ${ES_PASSWORD}' 'ilm_delete_after = 14d'
"$LOGFERRY" setup -c "$T/agent.conf" >"$T/setup.out" 2>&1 || { cat "$T/setup.out"; fail "setup failed"; }
"$LOGFERRY" setup -c "$T/agent.conf" >>"$T/setup.out" 2>&1 || { cat "$T/setup.out"; fail "second setup failed"; }
curl -sf "http://127.0.0.1:$ES_PORT/_standin/setup" >"$T/es/setup.json"
python3 - "$T/es/setup.json" <<'PY' || fail "template/policy not as expected"
import json, sys
d = json.load(open(sys.argv[1]))
t = d["templates"]["logferry"]
assert t["index_patterns"] == ["logs-*"], t["index_patterns"]
p = t["template"]["mappings"]["properties"]
assert p["http"]["properties"]["response"]["properties"]["status_code"]["type"] == "long"
assert p["source"]["properties"]["ip"]["type"] == "ip"
assert p["@timestamp"]["type"] == "date" and p["event"]["properties"]["duration"]["type"] == "long"
assert t["template"]["settings"]["index.lifecycle.name"] == "logferry"
pol = d["policies"]["logferry"]["policy"]["phases"]
assert pol["delete"]["min_age"] == "14d", pol
print("template and policy OK")
PY
"$LOGFERRY" test-output -c "$T/agent.conf" >"$T/test.out" 2>&1 || { cat "$T/test.out"; fail "test-output failed"; }
grep -q "reachable: Elasticsearch 8.11.0" "$T/test.out" || { cat "$T/test.out"; fail "test-output did not report the version"; }

gen_lines "$T/logs/app.log" 1 500
start_agent "$T/agent.conf"
wait_for "[ \$(es_stat created) -ge 500 ]" 20 || fail "basic auth: only $(es_stat created) of 500"
stop_agent
[ "$(es_stat auth_failures)" = 0 ] || fail "basic auth refused"
es_stat auth_seen | grep -q Basic || fail "no Basic header seen"
es_stop

es_start --api-key "$ES_API_KEY"
es_conf "$T/agent.conf" 'api_key = ${ES_API_KEY}'
gen_lines "$T/logs/app.log" 501 1000
start_agent "$T/agent.conf"
wait_for "[ \$(es_stat created) -ge 500 ]" 20 || fail "api key: only $(es_stat created) of 500 new"
stop_agent
[ "$(es_stat auth_failures)" = 0 ] || fail "api key refused"
es_stat auth_seen | grep -q ApiKey || fail "no ApiKey header seen"

if "$LOGFERRY" check -c <(es_conf /dev/stdout 'compression = gzip') >/dev/null 2>&1; then
    es_stop
    es_start --require-gzip
    es_conf "$T/agent.conf" 'compression = gzip'
    gen_lines "$T/logs/app.log" 1001 1500
    start_agent "$T/agent.conf"
    wait_for "[ \$(es_stat created) -ge 500 ]" 20 || fail "gzip: only $(es_stat created) of 500 new"
    stop_agent
    [ "$(es_stat gzip_requests)" -gt 0 ] || fail "no gzip request seen"
    last=1500
else
    echo "SKIP gzip phase: this build has no zlib (compression = gzip is refused by check)"
    last=1000
fi
seq_check "$T/es/store.ndjson" 1 $last || fail "not every line exactly once"
for f in "$T/agent.log" "$T/setup.out" "$T/test.out"; do
    grep -q -e "$ES_PASSWORD" -e "$ES_API_KEY" "$f" && fail "a secret leaked into $f"
done
echo "PASS es_auth_setup"
