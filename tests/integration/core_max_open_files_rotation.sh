#!/bin/bash
# labels: core;root
# timeout: 180
# core_max_open_files_rotation (issue 12, defect 2): at max_open_files, a file that waits for
# a descriptor and is rotated meanwhile is still read to its end.
#
# max_open_files = 1. The output's disk is full, so a.log (read first) stays busy and holds
# the only descriptor while b.log waits. b.log (lines b 1..100) is renamed to b.log.1, which
# *.log does not match, and a new b.log gets b 101..120. Then space returns. Every line of
# a.log, b.log.1 and b.log must arrive. Before the fix the waiting file was refused at the cap
# and forgotten: b.log.1 was never read (100 of 120 lost).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
. "$(dirname "$0")/core/alo.sh"
alo_need_root
lf_setup
alo_mount "$T/out" 2m
OUT=$T/out/out.ndjson
alo_conf "$T/agent.conf" "$OUT" "max_open_files = 1
queue_max_events = 100" "close_renamed = 1s"
gen_lines "$T/logs/a.log" 1 3000 a
gen_lines "$T/logs/b.log" 1 100 b
alo_fill "$T/out"
core_start "$T/agent.conf"
wait_for "grep -q 'write to .* failed' '$T/agent.log'" 30 || fail "output never stalled"
wait_for "grep -q 'max_open_files (1) reached' '$T/agent.log'" 30 || fail "b.log never waited for a slot"
mv "$T/logs/b.log" "$T/logs/b.log.1"
gen_lines "$T/logs/b.log" 101 120 b
sleep 1
alo_unfill "$T/out"
wait_events "$OUT" 3120 60
sleep 1
stop_agent
ra=$(alo_check "$OUT" 1 3000 a); rb=$(alo_check "$OUT" 1 120 b)
echo "a.log: $ra"; echo "b.log + b.log.1: $rb"
alo_check "$OUT" 1 3000 a >/dev/null && alo_check "$OUT" 1 120 b >/dev/null ||
    fail "lines of a file rotated while it waited for a descriptor (max_open_files) were lost"
echo PASS
