#!/bin/bash
# labels: core
# timeout: 120
# The log directory does not exist when the agent starts (the application creates it later),
# and later it is deleted and created again. Proves the agent finds the files once the
# directory appears (rescan) and then WATCHES the directory with inotify - checked in
# /proc/PID/fdinfo of its inotify descriptor, not by timing - so appends are not left to the
# periodic rescan; and that every line arrives exactly once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
CORE_RESCAN=1s core_conf "$T/agent.conf"
sed -i "s#^paths = .*#paths = $T/logs/later/*.log#" "$T/agent.conf"
core_start "$T/agent.conf"
watched() {  # is there an inotify watch on the inode of directory $1?
    local ino; ino=$(printf '%x' "$(stat -c %i "$1")") || return 1
    grep -h "^inotify wd:" /proc/$AGENT_PID/fdinfo/* 2>/dev/null | grep -q " ino:$ino "
}
for round in 1 2; do
    mkdir -p "$T/logs/later"
    gen_lines "$T/logs/later/app.log" 1 100 "r$round"
    wait_for "grep -q 'reading $T/logs/later/app.log' '$T/agent.log'" 30 || fail "round $round: file in the new directory not found"
    wait_for "watched '$T/logs/later'" 30 || fail "round $round: the directory created after the start is not watched by inotify"
    gen_lines "$T/logs/later/app.log" 101 200 "r$round"
    wait_events "$T/out/out.ndjson" $(( round * 200 )) 30 || fail "round $round: lines missing"
    [ $round = 1 ] && { rm -rf "$T/logs/later"; sleep 1.5; }
done
stop_agent
seq_check "$T/out/out.ndjson" 1 200 --tag r1 || fail "round 1 lines"
seq_check "$T/out/out.ndjson" 1 200 --tag r2 || fail "round 2 lines"
echo PASS
