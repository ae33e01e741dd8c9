#!/bin/bash
# labels: core
# timeout: 120
# core_rotation_unapplied_before_crash (issue 12, the last known loss): a file created by a
# live rotation, born before the registry's last write but not yet registered (the agent had
# not applied its inotify events), then rotated again while the agent is stopped, is read.
#
# Lines 1..300 are shipped and committed. The agent is frozen (SIGSTOP: its inotify events
# queue up unapplied, exactly as under load); app.log becomes app.log.1 and a new app.log
# (generation B) gets 301..500. The registry file is then rewritten with the same content
# (what a save after B's birth that did not know B yet leaves on disk: a newer registry
# file). kill -9. While stopped: app.log.1 -> app.log.2, app.log (B) -> app.log.1, a new
# app.log gets 501..700. At the restart B is neither a registry entry nor born after the
# registry file's mtime. Before the fix (the sibling rule used that mtime): 200 of 700 lost.
# Now the rule uses the registry's caught_up_ms, the moment up to which every file born had
# been registered, which is older than B.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
. "$(dirname "$0")/core/alo.sh"
lf_setup
OUT=$T/out/out.ndjson
alo_conf "$T/agent.conf" "$OUT" "" "close_renamed = 1s"
gen_lines "$T/logs/app.log" 1 300
core_start "$T/agent.conf"
wait_events "$OUT" 300 30 || fail "first lines not shipped"
sleep 1 # commits saved (registry_flush 100ms), and the fences that follow them
kill -STOP "$AGENT_PID"
mv "$T/logs/app.log" "$T/logs/app.log.1"
gen_lines "$T/logs/app.log" 301 500
sleep 0.05
cp -p "$T/data/registry.json" "$T/data/registry.json.tmp2"
mv "$T/data/registry.json.tmp2" "$T/data/registry.json"
touch "$T/data/registry.json" # a registry written after B's birth, without B
kill9_agent
mv "$T/logs/app.log.1" "$T/logs/app.log.2"
mv "$T/logs/app.log" "$T/logs/app.log.1"
gen_lines "$T/logs/app.log" 501 700
core_start "$T/agent.conf"
wait_events "$OUT" 700 30
sleep 1.5
stop_agent
res=$(alo_check "$OUT" 1 700)
echo "$res"
seq_check "$OUT" 1 700 --allow-dups || fail "a generation born before the registry's last write but never registered was lost"
echo PASS
