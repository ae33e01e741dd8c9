#!/bin/bash
# labels: core
# timeout: 180
# core_overflow_rotations (issue 12): renames that an inotify overflow dropped are still
# followed, glob *.log (rotated names not matched).
#
# c.log is closed for inactivity (close_inactive = 1s); e.log is open. With the agent frozen
# (SIGSTOP) the kernel queue is overflowed (appends alternating between two files), and
# meanwhile: c.log gets lines 1..100 and is renamed to c.log.1 (no new c.log); e.log gets
# 1..100 and becomes e.log.1, a new e.log gets 101..200 and becomes e.log.2, a third e.log
# gets 201..300. None of those renames reaches the agent. Before: c.log's tracked file kept
# its vanished path and was never looked at again (100 lost), and e.log.2 (created and
# rotated while events were dropped) was known to nothing (100 lost). Now the rescan after
# the overflow follows the closed file by identity and reads the siblings born since the
# registry's caught_up_ms.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
. "$(dirname "$0")/core/alo.sh"
lf_setup
OUT=$T/out/out.ndjson
alo_conf "$T/agent.conf" "$OUT" "" "close_inactive = 1s
close_renamed = 1s"
: >"$T/logs/a.log"; : >"$T/logs/b.log"
gen_lines "$T/logs/c.log" 1 1 c0
gen_lines "$T/logs/e.log" 1 1 e0
core_start "$T/agent.conf"
wait_events "$OUT" 2 30 || fail "first lines not shipped"
wait_for "grep -q 'closed $T/logs/c.log (inactive)' '$T/agent.log'" 30 || fail "c.log not closed as inactive"
sleep 1 # a fence after the last commits
limit=$(cat /proc/sys/fs/inotify/max_queued_events 2>/dev/null || echo 16384)
N=$(( limit / 2 + 2000 ))
kill -STOP "$AGENT_PID"
core_flood "$T/logs" "$N"
gen_lines "$T/logs/c.log" 1 100
mv "$T/logs/c.log" "$T/logs/c.log.1"
gen_lines "$T/logs/e.log" 1 100 e
mv "$T/logs/e.log" "$T/logs/e.log.1"
gen_lines "$T/logs/e.log" 101 200 e
mv "$T/logs/e.log" "$T/logs/e.log.2"
gen_lines "$T/logs/e.log" 201 300 e
kill -CONT "$AGENT_PID"
wait_events "$OUT" $(( 2 * N + 402 )) 90
sleep 2
grep -q "overflow" "$T/agent.log" || echo "note: no overflow logged (queue limit not reached?)"
stop_agent
alo_check "$OUT" 1 100
alo_check "$OUT" 1 300 e
seq_check "$OUT" 1 100 --allow-dups || fail "c.log, closed and renamed while events were dropped, was not followed"
seq_check "$OUT" 1 300 --tag e --allow-dups || fail "a generation created and rotated while events were dropped was lost"
seq_check "$OUT" 1 $N --tag a >/dev/null || fail "a.log"
echo PASS
