#!/bin/bash
# labels: logstash
# timeout: 120
#   agent_kill9_mid_stream_loses_nothing: kill -9 of the agent while windows are in flight to
#     a slow server, then a restart: every line arrives; duplicates (ACKed by the server but
#     not yet committed to the registry) are counted and bounded by the in-flight budget.
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/lj_lib.sh"
lf_setup
lj_start a --delay-ms 10
lj_conf "$T/agent.conf" "127.0.0.1:$LJ_PORT_a" "window = 500"
N=40000
gen_lines "$T/logs/app.log" 1 $N
start_agent "$T/agent.conf"
wait_for '[ $(lj_count a) -ge 5000 ]' 30 || fail "nothing delivered"
kill9_agent
got=$(lj_count a)
echo "killed with $got of $N ACKed"
[ "$got" -lt $N ] || fail "everything was delivered before the kill: the test proves nothing"
gen_lines "$T/logs/app.log" $((N + 1)) $((N + 2000))
start_agent "$T/agent.conf"
# every distinct line, not a count: the restart re-sends what was in flight (and what the
# output's spool held), so the count passes N + 2000 before the new lines are read
wait_for "seq_check $T/lj/a.ndjson 1 $((N + 2000)) --allow-dups >/dev/null 2>&1" 60 ||
    fail "not every line after the restart ($(lj_count a) received)"
sleep 0.5
stop_agent
seq_check "$T/lj/a.ndjson" 1 $((N + 2000)) --allow-dups || fail "lines lost"
dups=$(( $(lj_count a) - N - 2000 ))
echo "duplicates after kill -9: $dups"
[ "$dups" -le 65536 ] || fail "$dups duplicates: more than the in-flight budget"
echo "PASS logstash_kill9_restart"
