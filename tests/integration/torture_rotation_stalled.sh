#!/usr/bin/env bash
# labels: torture
# timeout: 120
# torture_rotation_stalled: rename rotations that happen while the agent is stalled lose
# nothing.
#
# A loaded host delays the agent; logrotate does not wait. Deterministic version of what
# torture_rotation hits by chance under load: the agent is frozen (SIGSTOP) while app.log is
# appended to, renamed to app.log.1, recreated, appended to, renamed to app.log.2, recreated
# and appended to again; then it is thawed (SIGCONT) and gets all those inotify events at once.
# The glob matches app.log only, so the two renamed files can only be found through the
# events. Asserted: every line of all three generations arrives exactly once, and the live
# app.log keeps being followed afterwards.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tools/torture_lib.bash"
lf_setup

tt_conf "$T/agent.conf" "$T/logs/app.log"
gen_lines "$T/logs/app.log" 1 100 stall
start_agent "$T/agent.conf"
wait_for "[ \$(count_events '$TT_OUT') -ge 100 ]" 20 || fail "first 100 lines not shipped"

kill -STOP "$AGENT_PID"
gen_lines "$T/logs/app.log" 101 200 stall
mv "$T/logs/app.log" "$T/logs/app.log.1"
gen_lines "$T/logs/app.log" 201 300 stall
mv "$T/logs/app.log" "$T/logs/app.log.2"
gen_lines "$T/logs/app.log" 301 400 stall
kill -CONT "$AGENT_PID"

wait_for "[ \$(count_events '$TT_OUT') -ge 400 ]" 15 || true
gen_lines "$T/logs/app.log" 401 500 stall
wait_for "[ \$(count_events '$TT_OUT') -ge 500 ]" 15 || true
tt_wait_stable "$TT_OUT" 10 1 >/dev/null
stop_agent
res=$(tt_analyze "$TT_OUT" stall 1 500)
echo "stalled rotation: $res"
tt_figures rotation_stalled written=500 lost="$(tt_kv "$res" missing)" duplicated="$(tt_kv "$res" dups)"
seq_check "$TT_OUT" 1 500 --tag stall || fail "lines lost or duplicated across rotations made while the agent was stalled (missing from: app.log.1 = 101..200, app.log.2 = 201..300, live app.log = 301..500)"
echo "PASS torture_rotation_stalled"
