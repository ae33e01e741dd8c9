#!/bin/bash
# labels: core;root
# timeout: 180
# core_file_output_torn_record (issue 12, defect 5): the file output never glues an event to
# a torn record.
#
# Part 1, a run killed in the middle of a write: the output file ends with half a record (no
# newline), as a kill -9 during a large writev leaves it. The next run must end that line
# first: the torn piece stays one invalid line, every event after it is a valid line, and
# every number arrives. Before the fix the first event was appended to the torn piece, so an
# acknowledged event sat inside invalid JSON (lost to any reader).
# Part 2, ENOSPC in the middle of a batch: the output file is on a small tmpfs that fills up
# while a batch is written (a short write), the agent is killed -9 while it retries, space
# returns and it starts again. Every line of the output must be valid JSON and every number
# present: the partial batch was not acknowledged, and was not left torn in the file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
. "$(dirname "$0")/core/alo.sh"
alo_need_root
lf_setup
OUT=$T/out/out.ndjson
alo_conf "$T/agent.conf" "$OUT"
printf '{"message":"line 0 lorem ipsum dolor sit amet"}\n{"message":"torn rec' >"$OUT"
gen_lines "$T/logs/app.log" 1 200
core_start "$T/agent.conf"
wait_events "$OUT" 201 30
sleep 0.5
stop_agent
torn=$(grep -cx '{"message":"torn rec' "$OUT")
grep -vx '{"message":"torn rec' "$OUT" >"$T/part1.ndjson"
res=$(alo_check "$T/part1.ndjson" 1 200)
echo "part 1: torn line kept on its own: $torn; the rest: $res"
[ "$torn" = 1 ] || fail "part 1: the torn record was not ended on its own line (an event was glued to it)"
alo_check "$T/part1.ndjson" 1 200 >/dev/null || fail "part 1: events lost or invalid after a torn record"
grep -q 'ends with an unfinished record' "$T/agent.log" || fail "part 1: the repair was not logged"

# ---- part 2 ----
kill9_agent
mkdir -p "$T/p2/logs" "$T/p2/data"
alo_mount "$T/p2/out" 4m
OUT2=$T/p2/out/out.ndjson
ALO_GLOB="$T/p2/logs/*.log" ALO_DATA="$T/p2/data" alo_conf "$T/p2/agent.conf" "$OUT2"
# leave about 300 KiB free, then write 3,000 lines (about 1 MiB of JSON) in one go: the
# batch does not fit, its write is cut short by ENOSPC
head -c $((4096 * 1024 - 300 * 1024)) /dev/zero >"$T/p2/out/.filler"
gen_lines "$T/p2/logs/app.log" 1 3000 big
core_start "$T/p2/agent.conf"
wait_for "grep -q 'write to .*p2.* failed' '$T/agent.log'" 30 || fail "part 2: the output never ran out of space"
sleep 0.5
kill9_agent
alo_unfill "$T/p2/out"
core_start "$T/p2/agent.conf"
wait_events "$OUT2" 3000 60
sleep 1
stop_agent
res=$(alo_check "$OUT2" 1 3000 big)
echo "part 2: $res"
alo_check "$OUT2" 1 3000 big >/dev/null || fail "part 2: a short write (ENOSPC) left a torn record or lost lines"
echo PASS
