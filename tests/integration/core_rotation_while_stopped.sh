#!/bin/bash
# labels: core
# timeout: 120
# Rotation while the agent is down: lines are appended to app.log while the agent is
# stopped, then app.log is renamed to app.log.1 (which the glob does not match) and a new
# app.log is started. Proves the lines written to the old file after the last commit are
# not lost on restart: the agent finds the registry's inode under its new name, drains it
# from the committed offset, and reads the new app.log from its beginning.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
core_conf "$T/agent.conf" "" "close_renamed = 1s"
gen_lines "$T/logs/app.log" 1 500
core_start "$T/agent.conf"
wait_events "$T/out/out.ndjson" 500 60 || fail "first lines missing"
stop_agent
gen_lines "$T/logs/app.log" 501 800           # written while the agent is down ...
mv "$T/logs/app.log" "$T/logs/app.log.1"      # ... then rotated away
gen_lines "$T/logs/app.log" 801 1000
core_start "$T/agent.conf"
wait_events "$T/out/out.ndjson" 1000 30
stop_agent
seq_check "$T/out/out.ndjson" 1 1000 || fail "lines written to the old file before a rotation during downtime were lost"
echo PASS
