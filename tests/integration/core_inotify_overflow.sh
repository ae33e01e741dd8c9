#!/bin/bash
# labels: core
# timeout: 180
# inotify queue overflow (IN_Q_OVERFLOW): with the agent paused (SIGSTOP), more events than
# fs.inotify.max_queued_events are generated (appends alternating between two files, so the
# kernel cannot merge them) and new files are created. Proves the overflow triggers a rescan
# that finds every change: every line of every file arrives exactly once, although
# rescan_interval is one hour.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
core_conf "$T/agent.conf"
: >"$T/logs/a.log"; : >"$T/logs/b.log"
core_start "$T/agent.conf"
wait_for "grep -q 'reading $T/logs/b.log' '$T/agent.log'" 30 || fail "agent did not open the files"
limit=$(cat /proc/sys/fs/inotify/max_queued_events 2>/dev/null || echo 16384)
N=$(( limit / 2 + 2000 ))
kill -STOP "$AGENT_PID"
core_flood "$T/logs" "$N"
python3 - "$T/logs" <<'PY'
import os, sys
d = sys.argv[1]
for k in range(1, 21):   # created during the overflow: only a rescan can find them
    with open(os.path.join(d, f"new{k:02d}.log"), "w") as f:
        f.write("".join(f"new{k:02d} {i} z\n" for i in range(1, 51)))
PY
kill -CONT "$AGENT_PID"
wait_events "$T/out/out.ndjson" $(( 2 * N + 20 * 50 )) 90 ||
    fail "only $(count_events "$T/out/out.ndjson") of $(( 2 * N + 1000 )) events after the overflow"
grep -q "overflow" "$T/agent.log" || echo "note: no overflow logged (queue limit not reached?)"
stop_agent
seq_check "$T/out/out.ndjson" 1 $N --tag a || fail "a.log"
seq_check "$T/out/out.ndjson" 1 $N --tag b || fail "b.log"
for k in $(seq -w 1 20); do
    seq_check "$T/out/out.ndjson" 1 50 --tag "new$k" >/dev/null || fail "new$k.log (created during the overflow) not read exactly once"
done
echo PASS
