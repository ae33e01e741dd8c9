#!/bin/bash
# labels: core
# timeout: 120
# Files rolled by date into a new directory each month (logback's
# /var/log/application-logs/%d{yyyyMM}/%d{yyyy-MM-dd}.log, issue 19), tailed with one glob
# across the dated directories and `exclude` leaving the .error.log duplicate out. The
# rescan is an hour away, so only inotify can find the new month: the directory created
# while the agent runs must be watched and its files read at once. Every numbered line of
# the .log files must arrive exactly once, and none of the .error.log ones.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
core_conf "$T/agent.conf" "" "exclude = *.error.log"
sed -i "s#^paths = .*#paths = $T/logs/application-logs/*/*.log#" "$T/agent.conf"
mkdir -p "$T/logs/application-logs/202611"
gen_lines "$T/logs/application-logs/202611/2026-11-30.log" 1 100 nov
gen_lines "$T/logs/application-logs/202611/2026-11-30.error.log" 1 10 err
start_agent "$T/agent.conf"
wait_events "$T/out/out.ndjson" 100 30 || fail "the existing month was not read"
for m in 202612 202701; do
    mkdir "$T/logs/application-logs/$m"
    gen_lines "$T/logs/application-logs/$m/${m:0:4}-${m:4:2}-01.log" 1 100 "m$m"
    gen_lines "$T/logs/application-logs/$m/${m:0:4}-${m:4:2}-01.error.log" 1 10 err
    gen_lines "$T/logs/application-logs/$m/${m:0:4}-${m:4:2}-01.log" 101 200 "m$m"
done
wait_events "$T/out/out.ndjson" 500 30 || fail "files of the months created while running: $(lines_of "$T/out/out.ndjson") of 500 events (the new directories were left to the rescan)"
stop_agent
seq_check "$T/out/out.ndjson" 1 100 --tag nov || fail "nov lines"
seq_check "$T/out/out.ndjson" 1 200 --tag m202612 || fail "202612 lines"
seq_check "$T/out/out.ndjson" 1 200 --tag m202701 || fail "202701 lines"
! grep -q '"message":"err ' "$T/out/out.ndjson" || fail "an .error.log line was shipped despite exclude"
echo PASS
