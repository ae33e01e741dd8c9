#!/bin/bash
# labels: core
# timeout: 180
# Appends that split lines across writes: a writer emits numbered lines in random pieces
# (a line's head, a pause, its tail; sometimes several lines and a head in one write). Proves
# a partial last line is held until its newline arrives and never shipped as two events, that
# every line arrives exactly once with the exact text, and that appends are picked up through
# inotify (rescan_interval is one hour, so the safety-net rescan never runs).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
core_conf "$T/agent.conf"
: >"$T/logs/app.log"
core_start "$T/agent.conf"
wait_for "grep -q 'reading $T/logs/app.log' '$T/agent.log'" 30 || fail "agent did not open app.log"

N=3000
python3 - "$T/logs/app.log" "$N" <<'PY'
import os, random, sys, time
path, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(42)
fd = os.open(path, os.O_WRONLY | os.O_APPEND)
pending = b""
for i in range(1, n + 1):
    pending += f"line {i} lorem ipsum dolor sit amet\n".encode()
    if rnd.random() < 0.3 or i == n:
        # write everything but a random-length tail, which goes out with a later write
        cut = len(pending) if i == n else rnd.randrange(1, len(pending))
        os.write(fd, pending[:cut])
        pending = pending[cut:]
        if rnd.random() < 0.1:
            time.sleep(0.02)  # let the agent see (and hold) the partial line
if pending:
    os.write(fd, pending)
os.close(fd)
PY
wait_events "$T/out/out.ndjson" "$N" 90 || fail "only $(count_events "$T/out/out.ndjson") of $N events arrived"
stop_agent
seq_check "$T/out/out.ndjson" 1 "$N" || fail "numbered lines missing or duplicated"
python3 - "$T/out/out.ndjson" "$T/logs/app.log" <<'PY' || fail "an event is not exactly one whole line"
import json, re, sys
pat = re.compile(r"^line \d+ lorem ipsum dolor sit amet$")
data = open(sys.argv[2], "rb").read()
for raw in open(sys.argv[1], "rb"):
    ev = json.loads(raw)
    m, off = ev["message"], ev["log"]["offset"]
    if not pat.match(m):
        print("fragment shipped as an event:", repr(m)); sys.exit(1)
    if data[off:off + len(m) + 1] != (m + "\n").encode():
        print("log.offset", off, "does not point at", repr(m)); sys.exit(1)
PY
size=$(stat -c %s "$T/logs/app.log")
[ "$(reg_offset "$T/logs/app.log")" = "$size" ] || fail "registry offset $(reg_offset "$T/logs/app.log") != file size $size"
echo "PASS"
