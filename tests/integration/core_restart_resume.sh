#!/bin/bash
# labels: core
# timeout: 180
# Restart resume: lines shipped, agent stopped (SIGTERM), lines appended while it is down
# (including a partial last line completed while down), agent restarted. Proves the
# registry resumes exactly where delivery stopped: every number exactly once across runs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
core_conf "$T/agent.conf"
gen_lines "$T/logs/app.log" 1 1000
gen_lines "$T/logs/b.log" 1 100 b
core_start "$T/agent.conf"
wait_events "$T/out/out.ndjson" 1100 60 || fail "first run incomplete"
printf 'line 1001 lorem ip' >>"$T/logs/app.log"     # partial line at stop time
sleep 0.3
stop_agent
[ "$(count_events "$T/out/out.ndjson")" = 1100 ] || fail "partial line shipped before its newline"
printf 'sum dolor sit amet\n' >>"$T/logs/app.log"
gen_lines "$T/logs/app.log" 1002 2000
gen_lines "$T/logs/b.log" 101 200 b
for run in 2 3; do
    core_start "$T/agent.conf"
    wait_events "$T/out/out.ndjson" 2200 60 || fail "run $run: lines written while down missing"
    stop_agent
done
seq_check "$T/out/out.ndjson" 1 2000 || fail "app.log: not exactly once across restarts"
seq_check "$T/out/out.ndjson" 1 200 --tag b || fail "b.log: not exactly once across restarts"
grep -q '"message":"line 1001 lorem ipsum dolor sit amet"' "$T/out/out.ndjson" || fail "line completed while down is damaged"
echo PASS
