#!/bin/bash
# labels: core
# timeout: 180
# copytruncate followed by a restart: the file is truncated, the agent notices and is
# stopped before anything new is written; while it is down the application writes more
# bytes than the old offset. Proves the registry does not keep the pre-truncation offset
# for the truncated file (that would resume in the middle of the new content and lose its
# head): after the restart every new line arrives, from offset 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
core_conf "$T/agent.conf"
gen_lines "$T/logs/app.log" 1 500
core_start "$T/agent.conf"
wait_events "$T/out/out.ndjson" 500 60 || fail "first 500 lines did not arrive"
truncate -s 0 "$T/logs/app.log"
wait_for "grep -q 'was truncated' '$T/agent.log'" 60 || fail "truncation not noticed"
sleep 0.5   # a registry flush (100ms) after the truncation: what a crash would leave
stop_agent
echo "registry offset after truncation: $(reg_offset "$T/logs/app.log")"
gen_lines "$T/logs/app.log" 501 2000     # far more bytes than the old offset
core_start "$T/agent.conf"
wait_events "$T/out/out.ndjson" 2000 60
stop_agent
seq_check "$T/out/out.ndjson" 1 2000 || fail "lines written after the truncation were skipped on restart"
echo PASS
