#!/bin/bash
# labels: logstash
# timeout: 120
#   loadbalance_spreads_windows_over_hosts: loadbalance = true over two live hosts: both
#     receive windows, and together they hold every number exactly once.
#   loadbalance_with_one_host_down: one of the hosts is down: everything reaches the other,
#     exactly once; when the host comes back it receives windows again.
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/lj_lib.sh"
lf_setup
lj_start a
lj_start b
lj_conf "$T/agent.conf" "127.0.0.1:$LJ_PORT_a, 127.0.0.1:$LJ_PORT_b" "loadbalance = true" "window = 200"
gen_lines "$T/logs/app.log" 1 10000
start_agent "$T/agent.conf"
wait_for '[ $(( $(lj_count a) + $(lj_count b) )) -ge 10000 ]' 30 || fail "only $(lj_count a) + $(lj_count b) of 10000"
echo "both up: a $(lj_count a), b $(lj_count b)"
[ "$(lj_count a)" -gt 0 ] && [ "$(lj_count b)" -gt 0 ] || fail "windows were not spread"
# b goes down: everything goes to a.
porta=$LJ_PORT_a; portb=$LJ_PORT_b
lj_stop b
a0=$(lj_count a)
gen_lines "$T/logs/app.log" 10001 20000
wait_for '[ $(lj_count a) -ge $((a0 + 10000)) ]' 30 || fail "a got only $(( $(lj_count a) - a0 )) of 10000 with b down"
# b comes back: it gets windows again.
b0=$(lj_count b)
lj_start b --port "$portb"
gen_lines "$T/logs/app.log" 20001 40000
wait_for '[ $(( $(lj_count a) + $(lj_count b) )) -ge 40000 ]' 40 || fail "only $(lj_count a) + $(lj_count b) of 40000"
stop_agent
echo "after b's return: b got $(( $(lj_count b) - b0 ))"
[ "$(lj_count b)" -gt "$b0" ] || fail "b received nothing after it came back"
cat "$T/lj/a.ndjson" "$T/lj/b.ndjson" >"$T/both.ndjson"
seq_check "$T/both.ndjson" 1 40000 || fail "not exactly once with loadbalance"
echo "PASS logstash_loadbalance_one_down"
