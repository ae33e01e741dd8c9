#!/bin/bash
# labels: es
# timeout: 90
#   server_down_then_up_delivers_everything: the agent starts while Elasticsearch is down
#     (hosts = a port nobody ever listens on, then the real one), keeps retrying, reports the
#     failure once, and when the server comes up every line is indexed exactly once, through
#     the second host (failover); SIGTERM then exits 0.
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/es_lib.sh"
lf_setup
es_start; port=$ES_PORT; es_stop
es_start; dead=$ES_PORT; es_stop
ES_HOSTS="http://127.0.0.1:$dead, http://127.0.0.1:$port" es_conf "$T/agent.conf" "bulk_max_events = 300"
gen_lines "$T/logs/app.log" 1 2000
start_agent "$T/agent.conf"
wait_for "grep -q '_bulk to .* failed' $T/agent.log" 20 || fail "the failure was not reported"
gen_lines "$T/logs/app.log" 2001 3000
es_start --port "$port"
wait_for "[ \$(es_stat created) -ge 3000 ]" 40 || fail "only $(es_stat created) of 3000 after the server came up"
grep -q "accepts requests again" "$T/agent.log" || fail "recovery not logged"
stop_agent
seq_check "$T/es/store.ndjson" 1 3000 || fail "not exactly once after an outage"
echo "PASS es_server_down"
