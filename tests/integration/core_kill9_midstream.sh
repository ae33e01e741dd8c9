#!/bin/bash
# labels: core
# timeout: 240
# kill -9 in mid-stream: a writer appends numbered lines steadily; the agent is killed with
# SIGKILL twice while lines are flowing, and restarted each time. Proves at-least-once:
# every number is present after the last restart. Duplicates (lines shipped but not yet
# committed in the registry when the agent died) are counted, printed, and must stay bounded
# (below 20000 here: at most what one registry_flush period and the queue hold).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
core_conf "$T/agent.conf" "queue_max_events = 8192"
: >"$T/logs/app.log"
N=60000
python3 - "$T/logs/app.log" "$N" <<'PY' &
import sys, time
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "a") as f:
    for i in range(1, n + 1):
        f.write(f"line {i} lorem ipsum dolor sit amet\n")
        if i % 200 == 0:
            f.flush(); time.sleep(0.01)
PY
WRITER=$!
LF_BG_PIDS=$WRITER
core_start "$T/agent.conf"
for k in 1 2; do
    wait_events "$T/out/out.ndjson" $((k * 12000)) 90 || fail "agent not shipping before kill $k"
    kill9_agent
    echo "killed at $(count_events "$T/out/out.ndjson") events"
    core_start "$T/agent.conf"
done
wait "$WRITER" || fail "writer failed"
LF_BG_PIDS=
wait_for "python3 -c 'import sys; sys.exit(0 if any(\"line $N lorem\" in l for l in open(\"$T/out/out.ndjson\")) else 1)'" 90 ||
    fail "last line never arrived"
stop_agent
seq_check "$T/out/out.ndjson" 1 $N --allow-dups || fail "lines lost across kill -9"
dups=$(( $(count_events "$T/out/out.ndjson") - N ))
echo "duplicates after two kill -9: $dups"
[ "$dups" -lt 20000 ] || fail "$dups duplicates: not bounded by what was in flight"
echo PASS
