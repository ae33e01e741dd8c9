#!/bin/bash
# labels: core
# timeout: 240
# copytruncate rotation (logrotate's copytruncate): the writer pauses, the file is copied to
# app.log.1 and truncated to 0 in place, the writer continues in the same file. Done three
# times. Proves a size below the saved offset is seen as a truncation and the file is read
# again from offset 0: every number exactly once. (The loss window of copytruncate under
# concurrent writes - lines written between the copy and the truncate - is inherent to
# copytruncate and belongs to the torture suite, so the writer is paused here.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
core_conf "$T/agent.conf"
gen_lines "$T/logs/app.log" 1 1000
core_start "$T/agent.conf"
total=1000
wait_events "$T/out/out.ndjson" $total 60 || fail "first 1000 lines did not arrive"
for round in 1 2 3; do
    cp "$T/logs/app.log" "$T/logs/app.log.1"
    truncate -s 0 "$T/logs/app.log"
    # the writer waits until the agent has seen the truncation before writing on
    wait_for "[ \$(grep -c 'was truncated' '$T/agent.log') -ge $round ]" 60 ||
        fail "round $round: truncation not noticed"
    a=$((total + 1)); b=$((total + 700 + round * 100))
    gen_lines "$T/logs/app.log" $a $b
    total=$b
    wait_events "$T/out/out.ndjson" $total 60 || fail "round $round: lines after truncation missing"
done
stop_agent
seq_check "$T/out/out.ndjson" 1 $total || fail "numbers missing or duplicated around copytruncate"
size=$(stat -c %s "$T/logs/app.log")
[ "$(reg_offset "$T/logs/app.log")" = "$size" ] || fail "registry offset $(reg_offset "$T/logs/app.log") != size $size"
echo PASS
