#!/bin/bash
# labels: core
# timeout: 120
# Rotation of a file the agent had closed for inactivity (close_inactive): the application
# writes its last lines and the file is rotated right after, before the agent looks (made
# deterministic by pausing the agent with SIGSTOP around the write + rename + new file).
# Proves the last lines of the closed file are still read: the agent reopens the rotated
# file under its new name and drains it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
core_conf "$T/agent.conf" "" "close_inactive = 1s
close_renamed = 1s"
gen_lines "$T/logs/app.log" 1 100
core_start "$T/agent.conf"
wait_events "$T/out/out.ndjson" 100 60 || fail "first lines missing"
wait_for "grep -q 'closed $T/logs/app.log (inactive)' '$T/agent.log'" 30 || fail "app.log not closed for inactivity"
kill -STOP "$AGENT_PID"
gen_lines "$T/logs/app.log" 101 200
mv "$T/logs/app.log" "$T/logs/app.log.1"
gen_lines "$T/logs/app.log" 201 300
kill -CONT "$AGENT_PID"
wait_events "$T/out/out.ndjson" 300 30
stop_agent
seq_check "$T/out/out.ndjson" 1 300 || fail "last lines of an inactive-closed file rotated away were lost"
echo PASS
