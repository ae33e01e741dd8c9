#!/bin/bash
# labels: core
# timeout: 120
# copytruncate of a file the agent had closed (close_inactive; with many files the agent also
# closes idle files to free descriptors): while it is closed, the file is truncated and
# rewritten with MORE bytes than the old offset (made deterministic with SIGSTOP/SIGCONT).
# The size alone cannot reveal the truncation. Proves the reopen checks the fingerprint of
# the first bytes and reads the new content from offset 0: every line exactly once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
core_conf "$T/agent.conf" "" "close_inactive = 1s"
gen_lines "$T/logs/app.log" 1 100 old
core_start "$T/agent.conf"
wait_events "$T/out/out.ndjson" 100 60 || fail "first lines missing"
wait_for "grep -q 'closed $T/logs/app.log (inactive)' '$T/agent.log'" 30 || fail "app.log not closed for inactivity"
kill -STOP "$AGENT_PID"
cp "$T/logs/app.log" "$T/logs/app.log.1"
truncate -s 0 "$T/logs/app.log"
gen_lines "$T/logs/app.log" 1 400 new        # 4x the old size
kill -CONT "$AGENT_PID"
wait_events "$T/out/out.ndjson" 500 30
stop_agent
seq_check "$T/out/out.ndjson" 1 100 --tag old || fail "old lines"
seq_check "$T/out/out.ndjson" 1 400 --tag new || fail "the head of a closed file truncated and rewritten was skipped"
echo PASS
