#!/bin/bash
# labels: logstash
# timeout: 90
#   shutdown_with_a_hung_server_commits_nothing_unacked: the server reads but never ACKs;
#     SIGTERM makes the agent give up after shutdown_timeout and exit 0 without committing
#     what Logstash did not ACK; restarted against a healthy server, every line arrives
#     (those the hung server never confirmed included).
#   trickle_is_shipped_without_waiting_for_a_full_window: single lines written one by one
#     arrive one by one (a partial window is sent when no batch follows).
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/lj_lib.sh"
lf_setup
lj_start hung --stall-after 0
LJ_TIMEOUT=60s lj_conf "$T/agent.conf" "127.0.0.1:$LJ_PORT_hung"
sed -i 's/^shutdown_timeout = .*/shutdown_timeout = 2s/' "$T/agent.conf"
gen_lines "$T/logs/app.log" 1 3000
start_agent "$T/agent.conf"
wait_for '[ "$(lj_stat hung windows)" -ge 1 ]' 20 || fail "the hung server got no window"
t0=$(date +%s)
stop_agent
t1=$(date +%s)
[ $((t1 - t0)) -le 10 ] || fail "shutdown took $((t1 - t0)) s with shutdown_timeout = 2s"
[ "$(lj_count hung)" = 0 ] || fail "the hung server stored events"
grep -q "not ACKed by Logstash within" "$T/agent.log" || fail "the unACKed events were not reported"
lj_start good
lj_conf "$T/agent.conf" "127.0.0.1:$LJ_PORT_good"
start_agent "$T/agent.conf"
wait_for '[ $(lj_count good) -ge 3000 ]' 30 || fail "after the restart: only $(lj_count good) of 3000"
seq_check "$T/lj/good.ndjson" 1 3000 || fail "lines lost or doubled across the shutdown"
for i in 3001 3002 3003; do
    gen_lines "$T/logs/app.log" $i $i
    wait_for "[ \$(lj_count good) -ge $i ]" 10 || fail "line $i alone did not arrive"
done
stop_agent
seq_check "$T/lj/good.ndjson" 1 3003 || fail "trickle: lines lost or doubled"
echo "PASS logstash_shutdown_unacked_resent"
