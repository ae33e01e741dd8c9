#!/bin/bash
# labels: es
# timeout: 180
# The drain waits as long as it says, counted from the signal (issue 21 item 1).
#   sigterm_drain_catches_answer_within_deadline: shutdown_timeout = 6s; an Elasticsearch
#     _bulk request is open (the stand-in holds it) and the tail thread has been asleep in
#     poll() for 5.5 s when SIGTERM comes; the stand-in answers 2.5 s after the signal. The
#     answer is within the deadline, so it is taken: exit 0 within shutdown_timeout + 3 s,
#     registry at the file's end, and after a restart no line is shipped again to either
#     output (file output: every number exactly once; the stand-in saw no 409 conflict).
#   sighup_drain_catches_answer_within_deadline: the same around a SIGHUP reload.
#   sigterm_during_reload_stops: SIGTERM in a reload's drain turns it into a stop (same
#     drain, no re-exec); nothing lost or shipped twice.
#   second_sigterm_ends_the_drain: shutdown_timeout = 60s and the request is never answered:
#     a second SIGTERM ends the drain at once (exit 0 within 5 s of it); the unacknowledged
#     lines are shipped after the restart (at least once), none lost.
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/es_lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
es_start --hold
write_conf() { # shutdown_timeout
    cat >"$T/agent.conf" <<CONF
[agent]
data_dir = $T/data
shutdown_timeout = $1
registry_flush = 200ms
rescan_interval = 1h
[input app]
paths = $T/logs/*.log
start_at = beginning
[output file]
path = $T/out/events.ndjson
[output elasticsearch]
hosts = http://127.0.0.1:$ES_PORT
index = logs-%Y.%m.%d
flush_interval = 100ms
backoff_init = 20ms
backoff_max = 300ms
timeout = 60s
CONF
}
# Writes lines A..B, waits until the file output has N events and a _bulk request is held.
ship_and_hold() {
    gen_lines "$T/logs/app.log" "$1" "$2"
    wait_for "[ \$(count_events $T/out/events.ndjson) -ge $2 ]" 20 || fail "file output did not get line $2"
    wait_for "[ \$(es_stat held) -ge 1 ]" 20 || fail "no _bulk request open at the stand-in"
}
# After a stop or reload: lines A..B more must arrive in both outputs.
more_lines() {
    gen_lines "$T/logs/app.log" "$1" "$2"
    wait_for "[ \$(count_events $T/out/events.ndjson) -ge $2 ]" 30 || fail "file output did not get line $2"
    wait_for "[ \$(es_stat created) -ge $2 ]" 30 || fail "Elasticsearch did not get line $2"
}
write_conf 6s

# --- SIGTERM
start_agent "$T/agent.conf"
ship_and_hold 1 1000
sleep 5.5 # nothing to do: the tail thread sleeps in poll() all this time
( sleep 2.5; es_config '{"hold": false}' ) &
stop_timed TERM
wait $!
echo "SIGTERM: exit $STOP_RC after $STOP_MS ms (shutdown_timeout 6000 ms; answer at 2500 ms)"
[ "$STOP_RC" = 0 ] || fail "exit status $STOP_RC after SIGTERM"
[ "$STOP_MS" -le 9000 ] || fail "shutdown took $STOP_MS ms, over shutdown_timeout + 3 s"
offset=$(reg_offset "$T/logs/app.log") size=$(stat -c %s "$T/logs/app.log")
start_agent "$T/agent.conf"
more_lines 1001 1100
stop_agent
seq_check "$T/out/events.ndjson" 1 1100 || fail "SIGTERM: file output lost or re-shipped lines"
[ "$(es_stat conflicts)" = 0 ] || fail "SIGTERM: $(es_stat conflicts) documents were sent to Elasticsearch again"
grep -q "not acknowledged" "$T/agent.log" && fail "the drain gave up although the answer came within the deadline"
[ "$offset" = "$size" ] || fail "registry offset $offset after SIGTERM, not the end of app.log ($size)"

# --- SIGHUP
es_config '{"hold": true}'
start_agent "$T/agent.conf"
ship_and_hold 1101 2100
sleep 5.5
touch "$T/agent.conf"
kill -HUP "$AGENT_PID"
sleep 2.5
es_config '{"hold": false}'
wait_for "grep -q 'stopped for reload' $T/agent.log" 10 || fail "reload did not finish"
more_lines 2101 2200
stop_agent
seq_check "$T/out/events.ndjson" 1 2200 || fail "SIGHUP: file output lost or re-shipped lines"
[ "$(es_stat conflicts)" = 0 ] || fail "SIGHUP: $(es_stat conflicts) documents were sent to Elasticsearch again"
grep -q "not acknowledged" "$T/agent.log" && fail "the reload's drain gave up although the answer came within the deadline"

# --- SIGTERM during a reload's drain: the drain goes on, then the agent stops (no re-exec)
es_config '{"hold": true}'
start_agent "$T/agent.conf"
ship_and_hold 2201 2250
reloads=$(grep -c 'stopped for reload' "$T/agent.log")
kill -HUP "$AGENT_PID"
wait_for "grep -q 'then reloading' $T/agent.log" 10 || fail "reload did not start"
( sleep 1; es_config '{"hold": false}' ) &
stop_timed TERM
wait $!
echo "SIGTERM during the reload's drain: exit $STOP_RC after $STOP_MS ms"
[ "$STOP_RC" = 0 ] || fail "exit status $STOP_RC after SIGTERM during a reload"
grep -q "stopping instead" "$T/agent.log" || fail "SIGTERM during the reload not reported"
[ "$(grep -c 'stopped for reload' "$T/agent.log")" = "$reloads" ] || fail "the agent reloaded although SIGTERM came"
seq_check "$T/out/events.ndjson" 1 2250 || fail "lines lost or re-shipped around SIGTERM during a reload"

# --- second SIGTERM during the drain
write_conf 60s
es_config '{"hold": true}'
start_agent "$T/agent.conf"
ship_and_hold 2251 2300
kill -TERM "$AGENT_PID"
sleep 1
kill -0 "$AGENT_PID" 2>/dev/null || fail "agent should still be draining (shutdown_timeout 60s)"
stop_timed TERM
echo "second SIGTERM in the drain: exit $STOP_RC after $STOP_MS ms"
[ "$STOP_RC" = 0 ] || fail "exit status $STOP_RC after the second SIGTERM"
[ "$STOP_MS" -le 5000 ] || fail "the second SIGTERM took $STOP_MS ms to end the drain"
grep -q "second signal" "$T/agent.log" || fail "no second-signal message"
es_config '{"hold": false}'
start_agent "$T/agent.conf"
more_lines 2301 2400
stop_agent
seq_check "$T/out/events.ndjson" 1 2400 --allow-dups || fail "lines lost after the second SIGTERM"
seq_check "$T/es/store.ndjson" 1 2400 || fail "Elasticsearch store lost or duplicated lines"
echo PASS
