#!/bin/bash
# labels: core
# timeout: 240
# logrotate-style numbered rotation with a glob that also matches the rotated files
# (paths = app.log*): at each rotation app.log.2 -> app.log.3, app.log.1 -> app.log.2,
# app.log -> app.log.1, and a new app.log, while a writer keeps appending. Proves a rename
# into a name the glob matches is recognised as the same file (by inode) and not read again
# as a new one: every number exactly once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
core_conf "$T/agent.conf"
sed -i "s#^paths = .*#paths = $T/logs/app.log*#" "$T/agent.conf"
: >"$T/logs/app.log"
core_start "$T/agent.conf"
wait_for "grep -q 'reading $T/logs/app.log' '$T/agent.log'" 30 || fail "agent did not open app.log"
N=8000
python3 - "$T/logs" "$N" <<'PY'
import os, sys, time
d, n = sys.argv[1], int(sys.argv[2])
p = lambda k: os.path.join(d, "app.log" + (f".{k}" if k else ""))
f = open(p(0), "a")
for i in range(1, n + 1):
    f.write(f"line {i} lorem ipsum dolor sit amet\n")
    if i % 100 == 0:
        f.flush(); time.sleep(0.002)
    if i % 1000 == 0 and i < n:
        f.close()
        for k in (3, 2, 1):
            if os.path.exists(p(k - 1)):
                os.rename(p(k - 1), p(k))   # app.log.3 is overwritten: by then it was read
        f = open(p(0), "a")
f.close()
PY
wait_events "$T/out/out.ndjson" "$N" 90 || fail "only $(count_events "$T/out/out.ndjson") of $N events"
sleep 1
stop_agent
seq_check "$T/out/out.ndjson" 1 "$N" || fail "numbers missing or read twice across numbered rotations"
echo PASS
