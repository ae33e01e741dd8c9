#!/bin/bash
# labels: logstash
# timeout: 120
#   server_down_at_start_then_up: the agent starts while nothing listens, reports the failure,
#     retries with backoff, and when the server comes up every line arrives exactly once.
#   server_killed_mid_stream_then_back: kill -9 of the server while windows are in flight, a
#     restart on the same port: every line arrives; duplicates (events the server stored but
#     whose ACK never left it) are counted and stay within what is in flight (two windows).
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/lj_lib.sh"
lf_setup
lj_start a; port=$LJ_PORT_a; lj_stop a
lj_conf "$T/agent.conf" "127.0.0.1:$port" "window = 200"
gen_lines "$T/logs/app.log" 1 5000
start_agent "$T/agent.conf"
wait_for "grep -q 'connect: Connection refused' $T/agent.log" 20 || fail "the failure was not reported"
lj_start a --port "$port"
wait_for '[ $(lj_count a) -ge 5000 ]' 30 || fail "only $(lj_count a) of 5000 after the server came up"
grep -q "ACKs windows again" "$T/agent.log" || fail "recovery not logged"
seq_check "$T/lj/a.ndjson" 1 5000 || fail "not exactly once after an outage at start"
# Second phase: a slow server killed while it is busy.
lj_stop a
lj_start a --port "$port" --delay-ms 20
gen_lines "$T/logs/app.log" 5001 40000
wait_for '[ $(lj_count a) -ge 8000 ]' 30 || fail "phase 2 did not start"
lj_stop a
before=$(lj_count a)
[ "$before" -lt 40000 ] || fail "everything arrived before the kill: the test proves nothing"
lj_start a --port "$port"
wait_for "python3 -c 'import sys; sys.exit(0)' && [ \$(lj_count a) -ge 40000 ]" 60 || fail "only $(lj_count a) of 40000 after the restart"
sleep 0.5
stop_agent
seq_check "$T/lj/a.ndjson" 1 40000 --allow-dups || fail "lines lost across a server crash"
total=$(lj_count a)
echo "duplicates after the server's kill -9: $((total - 40000))"
[ $((total - 40000)) -le 400 ] || fail "more duplicates than two windows in flight (400)"
echo "PASS logstash_server_down_and_back"
