#!/bin/bash
# labels: core
# timeout: 180
# Delete and recreate. Proves (1) lines appended just before the delete are still shipped
# (drained through the open descriptor), (2) after the delete the agent no longer holds the
# file open, so the disk space is freed (checked in /proc/PID/fd), (3) a new file at the same
# path is read from its beginning (log.offset 0), every number exactly once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
core_conf "$T/agent.conf"
gen_lines "$T/logs/app.log" 1 1000
core_start "$T/agent.conf"
wait_events "$T/out/out.ndjson" 1000 60 || fail "first lines did not arrive"
ls -l /proc/$AGENT_PID/fd | grep -q "$T/logs/app.log" || fail "agent does not hold app.log open"
gen_lines "$T/logs/app.log" 1001 3000 && rm "$T/logs/app.log"
wait_events "$T/out/out.ndjson" 3000 60 || fail "lines appended right before the delete were not drained"
wait_for "! ls -l /proc/$AGENT_PID/fd | grep -q 'app.log'" 30 ||
    fail "deleted file still open: $(ls -l /proc/$AGENT_PID/fd | grep app.log)"
gen_lines "$T/logs/app.log" 3001 3500
wait_events "$T/out/out.ndjson" 3500 60 || fail "recreated file not read"
stop_agent
seq_check "$T/out/out.ndjson" 1 3500 || fail "numbers missing or duplicated"
python3 - "$T/out/out.ndjson" <<'PY' || fail "recreated file not read from its beginning"
import json, sys
for raw in open(sys.argv[1]):
    ev = json.loads(raw)
    if ev["message"].startswith("line 3001 "):
        sys.exit(0 if ev["log"]["offset"] == 0 else 1)
sys.exit(1)
PY
echo PASS
