#!/bin/bash
# labels: core
# timeout: 120
# core_two_rotations_while_stopped (issue 12, documented limit made a guarantee): two rename
# rotations (logrotate's numbered shift) while the agent is stopped, glob *.log.
#
# Lines 1..400 are shipped; the agent stops; app.log gets 401..500 and becomes app.log.1; a
# new app.log gets 501..700; then app.log.1 -> app.log.2, app.log -> app.log.1, and a new
# app.log gets 701..1000. The registry knows only the first generation (now app.log.2); the
# middle one (app.log.1, 501..700) was born after the registry's last save and its name
# extends a tailed name, so it is read from its start. An older rotated file from before the
# last save (app.log.3, lines that were shipped long ago) must not be read again. Before:
# 200 of 1,000 lost (the middle generation).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
. "$(dirname "$0")/core/alo.sh"
lf_setup
OUT=$T/out/out.ndjson
alo_conf "$T/agent.conf" "$OUT" "" "close_renamed = 1s"
gen_lines "$T/logs/app.log.3" 1 50 old     # an old generation, present before the last save
gen_lines "$T/logs/app.log" 1 400
core_start "$T/agent.conf"
wait_events "$OUT" 400 30 || fail "first lines not shipped"
stop_agent
sleep 0.1
gen_lines "$T/logs/app.log" 401 500
mv "$T/logs/app.log" "$T/logs/app.log.1"
gen_lines "$T/logs/app.log" 501 700
mv "$T/logs/app.log.1" "$T/logs/app.log.2"
mv "$T/logs/app.log" "$T/logs/app.log.1"
gen_lines "$T/logs/app.log" 701 1000
core_start "$T/agent.conf"
wait_events "$OUT" 1000 30
sleep 1.5
stop_agent
res=$(alo_check "$OUT" 1 1000)
echo "$res"
grep -q '"old 1 ' "$OUT" && fail "an old rotated generation (from before the last registry save) was read"
seq_check "$OUT" 1 1000 || fail "the middle generation of two rotations while stopped was lost"
echo PASS
