#!/bin/bash
# labels: core
# timeout: 240
# Rename rotation while writing: a writer appends numbered lines to app.log and every 1000
# lines renames it to app.log.K (K = 1, 2, ...) and continues in a new app.log, like logback's
# or logrotate's rename scheme. The glob ($T/logs/*.log) matches only app.log. Proves the
# renamed file is read to its end although it no longer matches, the new app.log is read from
# its beginning, and every number arrives exactly once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
core_conf "$T/agent.conf" "" "close_renamed = 2s"
: >"$T/logs/app.log"
core_start "$T/agent.conf"
wait_for "grep -q 'reading $T/logs/app.log' '$T/agent.log'" 30 || fail "agent did not open app.log"
N=12000
python3 - "$T/logs" "$N" <<'PY'
import os, sys, time
d, n = sys.argv[1], int(sys.argv[2])
path = os.path.join(d, "app.log")
f = open(path, "a")
k = 0
for i in range(1, n + 1):
    f.write(f"line {i} lorem ipsum dolor sit amet\n")
    if i % 100 == 0:
        f.flush()
        time.sleep(0.002)
    if i % 1000 == 0 and i < n:
        f.close()
        k += 1
        os.rename(path, f"{path}.{k}")
        f = open(path, "a")
f.close()
PY
wait_events "$T/out/out.ndjson" "$N" 120 || fail "only $(count_events "$T/out/out.ndjson") of $N events arrived"
# the agent lets go of rotated files after close_renamed
wait_for "! ls -l /proc/$AGENT_PID/fd 2>/dev/null | grep -q 'app.log\.'" 30 ||
    fail "rotated files still open: $(ls -l /proc/$AGENT_PID/fd | grep app.log)"
stop_agent
seq_check "$T/out/out.ndjson" 1 "$N" || fail "numbered lines missing or duplicated across rotations"
echo PASS
