#!/usr/bin/env bash
# labels: torture
# timeout: 300
# torture_copytruncate_small (issue 12): copytruncate of many small files (under 1 KiB, so
# their fingerprint is still short), each rewritten larger than the old offset between two
# reads of the agent, glob *.log.
#
# TORTURE_FILES (default 200) files, TORTURE_ROUNDS (default 16) rounds. Each round waits until
# everything written so far has arrived (so logrotate's own copytruncate window, lines written
# between the copy and the truncation, plays no part), then, with the agent frozen (SIGSTOP) —
# or, every fourth round, stopped (SIGTERM) and started again afterwards — copies each file to
# f.log.R (not matched by the glob), truncates it and writes 8 new lines, longer than the
# round before, so the new size is past the old offset and only the first bytes tell (2 lines
# are appended and shipped first in each round, so a registry save grows the fingerprint).
# rescan_interval is 1h: the first-bytes check of the periodic rescan is not what saves it. Every
# number must arrive (lost = 0; the head of a rewrite must never be skipped); duplicates are
# reported.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tools/torture_lib.bash"
lf_setup
FILES=${TORTURE_FILES:-200}
ROUNDS=${TORTURE_ROUNDS:-16}
tt_conf "$T/agent.conf" "$T/logs/*.log"
rewrite() { # ROUND FIRST MODE(a|w) LINES -> prints the next number
    python3 - "$T/logs" "$FILES" "$@" <<'PY'
import shutil, sys
d, files, rnd, n, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
lines = int(sys.argv[6])
for f in range(files):
    p = f"{d}/f{f}.log"
    if mode == "w":
        shutil.copyfile(p, f"{p}.{rnd}")
    with open(p, mode) as fh:
        for _ in range(lines):
            fh.write(f"cts {n} " + "x" * (2 * rnd) + "\n")
            n += 1
print(n)
PY
}
# inotify does the work: the periodic rescan (whose first-bytes check would catch a rewrite
# after up to rescan_interval) is out of the way, as in the core tests
sed -i 's/^rescan_interval = .*/rescan_interval = 1h/' "$T/agent.conf"
n=$(rewrite 0 1 a 5)
start_agent "$T/agent.conf"
stops=0 freezes=0
for r in $(seq 1 "$ROUNDS"); do
    n=$(rewrite "$r" "$n" a 2)  # appended, read, then (registry save) the fingerprint grows
    wait_for "[ \$(count_events '$TT_OUT') -ge $((n - 1)) ]" 60 || true
    sleep 0.3
    if [ $((r % 4)) = 0 ]; then
        stop_agent; stops=$((stops + 1))
        n=$(rewrite "$r" "$n" w 8)
        start_agent "$T/agent.conf"
    else
        kill -STOP "$AGENT_PID"; freezes=$((freezes + 1))
        n=$(rewrite "$r" "$n" w 8)
        kill -CONT "$AGENT_PID"
    fi
done
tt_finish copytruncate_small cts "$((n - 1))" files="$FILES" rounds="$ROUNDS" freezes="$freezes" restarts="$stops"
