#!/bin/bash
# labels: logstash
# timeout: 120
#   connection_lost_mid_window_resends_only_the_unacked_rest: every 3rd window, the server
#     processes and ACKs its first half and then drops the connection. The agent reconnects
#     (with backoff) and sends again only what was not ACKed: every number arrives exactly
#     once (resending whole windows would duplicate the ACKed halves), and the drops and
#     resends are reported.
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/lj_lib.sh"
lf_setup
lj_start a --drop-every 3
lj_conf "$T/agent.conf" "127.0.0.1:$LJ_PORT_a" "window = 500"
gen_lines "$T/logs/app.log" 1 20000
start_agent "$T/agent.conf"
wait_for '[ $(lj_count a) -ge 20000 ]' 90 || fail "only $(lj_count a) of 20000"
stop_agent
drops=$(lj_stat a drops)
echo "the server dropped $drops windows"
[ "$drops" -ge 3 ] || fail "only $drops windows dropped: the test proves nothing"
seq_check "$T/lj/a.ndjson" 1 20000 || fail "not exactly once across dropped connections"
grep -q "events in flight are sent again" "$T/agent.log" || fail "resends not reported"
echo "PASS logstash_dropped_windows_resend_rest"
