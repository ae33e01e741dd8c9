#!/bin/bash
# labels: ops
# timeout: 60
# Threads carry names for top -H, ps -L and gdb: the watcher is lf-watch and each output's
# thread lf-out-NAME (cut to the kernel's 15 bytes); the main (tail) thread keeps the
# process name, so pkill/systemd matching on "logferry" is unchanged.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
core_conf "$T/agent.conf"
gen_lines "$T/logs/app.log" 1 100 n
core_start "$T/agent.conf"
wait_events "$T/out/out.ndjson" 100 30 || fail "lines not shipped"
names=$(cat /proc/"$AGENT_PID"/task/*/comm | sort | tr '\n' ' ')
echo "threads: $names"
[ "$(cat /proc/"$AGENT_PID"/comm)" = logferry ] || fail "process name changed: $(cat /proc/"$AGENT_PID"/comm)"
grep -qw lf-watch <<<"$names" || fail "no lf-watch thread"
grep -qw lf-out-file <<<"$names" || fail "no lf-out-file thread"
echo PASS
