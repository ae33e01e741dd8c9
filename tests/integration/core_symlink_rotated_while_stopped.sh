#!/bin/bash
# labels: core
# timeout: 120
# core_symlink_rotated_while_stopped (issue 12, defect 4): a symlinked log (Kubernetes'
# /var/log/containers/NAME.log -> /var/log/pods/.../0.log) whose target is rotated while the
# agent is stopped has its rotated generation drained on restart.
#
# logs/app.log -> ../pods/p1/0.log, glob logs/*.log. Lines 1..700 are shipped; the agent
# stops; 701..1000 are appended to 0.log, which is then renamed to 0.log.20261206-1 in the
# target's directory, and a new 0.log gets 1001..1100. The registry knows the old 0.log by
# inode under the symlink's path: it must be found in the target's directory. Before the fix
# it was looked for next to the symlink only: 300 of 1,100 lost (with a plain file: 0).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
. "$(dirname "$0")/core/alo.sh"
lf_setup
OUT=$T/out/out.ndjson
mkdir -p "$T/pods/p1"
ln -s ../pods/p1/0.log "$T/logs/app.log"
alo_conf "$T/agent.conf" "$OUT" "" "close_renamed = 1s"
gen_lines "$T/pods/p1/0.log" 1 700
core_start "$T/agent.conf"
wait_events "$OUT" 700 30 || fail "first lines not shipped"
stop_agent
gen_lines "$T/pods/p1/0.log" 701 1000
mv "$T/pods/p1/0.log" "$T/pods/p1/0.log.20261206-1"
gen_lines "$T/pods/p1/0.log" 1001 1100
core_start "$T/agent.conf"
wait_events "$OUT" 1100 30
sleep 1
stop_agent
res=$(alo_check "$OUT" 1 1100)
echo "$res"
seq_check "$OUT" 1 1100 || fail "the rotated generation of a symlinked log's target was lost across a restart"
echo PASS
