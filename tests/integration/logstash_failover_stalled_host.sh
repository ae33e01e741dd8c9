#!/bin/bash
# labels: logstash
# timeout: 120
#   stalled_host_fails_over_to_the_next: two hosts, loadbalance = false. The first one stops
#     answering after 3 windows (it reads on but ACKs nothing); after `timeout` without ACK the
#     agent resends the window to the second host, which then takes everything. Together the
#     two servers confirmed every number exactly once.
#   first_host_down_uses_the_second: with the first host not listening at all, everything goes
#     to the second.
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/lj_lib.sh"
lf_setup
lj_start a --stall-after 3
lj_start b
LJ_TIMEOUT=1s lj_conf "$T/agent.conf" "127.0.0.1:$LJ_PORT_a, 127.0.0.1:$LJ_PORT_b" "window = 300"
gen_lines "$T/logs/app.log" 1 10000
start_agent "$T/agent.conf"
wait_for '[ $(( $(lj_count a) + $(lj_count b) )) -ge 10000 ]' 60 || fail "only $(lj_count a) + $(lj_count b) of 10000"
stop_agent
echo "host a confirmed $(lj_count a), host b $(lj_count b)"
[ "$(lj_count a)" -gt 0 ] && [ "$(lj_count b)" -gt 0 ] || fail "one host took nothing: the test proves nothing"
grep -q "no ACK for 1000 ms" "$T/agent.log" || fail "the stall was not reported"
cat "$T/lj/a.ndjson" "$T/lj/b.ndjson" >"$T/both.ndjson"
seq_check "$T/both.ndjson" 1 10000 || fail "not exactly once across failover"
# The first host down from the start.
lj_stop a
lj_stop b
rm -rf "$T/data"/* "$T/logs"/* "$T/lj"
lj_start c; dead=$LJ_PORT_c; lj_stop c
lj_start d
lj_conf "$T/agent.conf" "127.0.0.1:$dead, 127.0.0.1:$LJ_PORT_d"
gen_lines "$T/logs/app.log" 1 5000
start_agent "$T/agent.conf"
wait_for '[ $(lj_count d) -ge 5000 ]' 30 || fail "only $(lj_count d) of 5000 on the second host"
stop_agent
seq_check "$T/lj/d.ndjson" 1 5000 || fail "not exactly once with the first host down"
echo "PASS logstash_failover_stalled_host"
