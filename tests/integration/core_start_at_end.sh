#!/bin/bash
# labels: core
# timeout: 120
# start_at = end: on a first start (no registry entry) an existing file's old lines are
# skipped and only lines appended afterwards are shipped; a file created later is read from
# its beginning. After a restart the registry, not start_at, decides: lines written while
# the agent was down are shipped, and a file created while it was down is read from its
# beginning.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
core_conf "$T/agent.conf" "" "start_at = end"
gen_lines "$T/logs/app.log" 1 500 old
core_start "$T/agent.conf"
wait_for "grep -q 'reading $T/logs/app.log' '$T/agent.log'" 30 || fail "app.log not opened"
gen_lines "$T/logs/app.log" 1 200 new
gen_lines "$T/logs/late.log" 1 300 late
wait_events "$T/out/out.ndjson" 500 60 || fail "only $(count_events "$T/out/out.ndjson") of 500 events"
stop_agent
gen_lines "$T/logs/app.log" 201 300 new
gen_lines "$T/logs/down.log" 1 100 down      # created while the agent is down
core_start "$T/agent.conf"
wait_events "$T/out/out.ndjson" 700 60 || fail "lines written while down not shipped"
stop_agent
seq_check "$T/out/out.ndjson" 1 100 --tag down || fail "a file created while the agent was down was skipped (start_at = end must apply to the first start only)"
grep -q '"message":"old ' "$T/out/out.ndjson" && fail "old lines shipped despite start_at = end"
seq_check "$T/out/out.ndjson" 1 300 --tag new || fail "new lines"
seq_check "$T/out/out.ndjson" 1 300 --tag late || fail "file created later not read from its beginning"
echo PASS
