#!/bin/bash
# labels: core
# timeout: 120
# core_copytruncate_small_rewrite (issue 12, defect 3): a file under 1 KiB truncated and
# rewritten larger than the old offset between two reads is read again from its start.
#
# app.log gets 5 short lines (about 50 bytes) that are shipped; the agent is frozen (SIGSTOP,
# so both happen between two of its reads), app.log is truncated and rewritten with 15 other
# lines (more than the old offset), and it is thawed. The size never went below the offset, so
# only the first bytes tell. Rounds repeat it 5 times with a registry save in between. Every
# line must arrive; the rewrite's head must not be skipped. Before the fix the registry save
# replaced the short fingerprint by the new content's without checking it, and the read went
# on at the old offset: the new head was lost (and a line cut in two was shipped).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
. "$(dirname "$0")/core/alo.sh"
lf_setup
OUT=$T/out/out.ndjson
alo_conf "$T/agent.conf" "$OUT"
short() { python3 -c "
import sys
with open(sys.argv[1], sys.argv[4]) as f:
    for i in range(int(sys.argv[2]), int(sys.argv[3]) + 1): f.write(f'line {i} ' + 'x' * int(sys.argv[5]) + '\n')" "$@"; }
short "$T/logs/app.log" 1 5 a 1
core_start "$T/agent.conf"
wait_events "$OUT" 5 30 || fail "first lines not shipped"
n=5
for round in 1 2 3 4 5; do
    sleep 0.3                                  # a registry save (registry_flush = 100ms)
    kill -STOP "$AGENT_PID"
    short "$T/logs/app.log" $((n + 1)) $((n + 15)) w $((round * 3)) # truncate, rewrite larger
    kill -CONT "$AGENT_PID"
    n=$((n + 15))
    wait_events "$OUT" $n 10 || true
done
sleep 1
stop_agent
res=$(alo_check "$OUT" 1 $n)
echo "$res"
alo_check "$OUT" 1 $n >/dev/null || fail "the head of a small file rewritten past the old offset was skipped"
echo PASS
