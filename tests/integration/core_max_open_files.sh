#!/bin/bash
# labels: core
# timeout: 240
# The cap on open descriptors: 60 files with max_open_files = 16 and close_inactive = 1s.
# Proves the agent never holds more than 16 log files open, and that files that had to wait
# for a free descriptor are still read in full once inactive files are closed: every line of
# every file exactly once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
CORE_RESCAN=1s core_conf "$T/agent.conf" "max_open_files = 16" "close_inactive = 1s"
NF=60
for f in $(seq -w 1 $NF); do gen_lines "$T/logs/f$f.log" 1 50 "f$f"; done
core_start "$T/agent.conf"
maxopen=0
for _ in $(seq 1 600); do
    n=$(ls -l /proc/$AGENT_PID/fd 2>/dev/null | grep -c "$T/logs/f")
    [ "$n" -gt "$maxopen" ] && maxopen=$n
    [ "$(count_events "$T/out/out.ndjson")" -ge $((NF * 50)) ] && break
    sleep 0.1
done
echo "most log files open at once: $maxopen"
[ "$maxopen" -le 16 ] || fail "$maxopen files open with max_open_files = 16"
wait_events "$T/out/out.ndjson" $((NF * 50)) 60 || fail "only $(count_events "$T/out/out.ndjson") of $((NF * 50)) events"
stop_agent
for f in $(seq -w 1 $NF); do
    seq_check "$T/out/out.ndjson" 1 50 --tag "f$f" >/dev/null || fail "file f$f: lines missing or duplicated"
done
echo PASS
