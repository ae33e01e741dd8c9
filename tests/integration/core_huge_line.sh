#!/bin/bash
# labels: core
# timeout: 180
# A huge line: normal lines, a 5 MiB line, normal lines, with max_line_bytes = 1MiB, written
# both in one go and in slow pieces (so the over-long line spans many reads). The big line
# is "big" + 2-byte characters, so the cut at 1 MiB falls inside a character. Proves: the
# event is cut at a UTF-8 boundary (no U+FFFD, <= 1 MiB), flagged log.flags: ["truncated"],
# the rest of the line is skipped, following lines are intact, offsets are exact.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
core_conf "$T/agent.conf" "" "max_line_bytes = 1MiB"
: >"$T/logs/app.log"
core_start "$T/agent.conf"
wait_for "grep -q 'reading $T/logs/app.log' '$T/agent.log'" 30 || fail "agent did not open app.log"
python3 - "$T/logs/app.log" <<'PY'
import os, sys, time
path = sys.argv[1]
big = ("big" + "é" * (5 * 1024 * 1024 // 2)).encode()
with open(path, "ab") as f:
    f.write(b"".join(b"line %d normal\n" % i for i in range(1, 11)))
    f.write(big + b"\n")
    f.write(b"".join(b"line %d normal\n" % i for i in range(11, 21)))
    f.flush()
    time.sleep(1)
    # the same again, the big line in 64 KiB pieces with pauses
    f.write(b"".join(b"line %d normal\n" % i for i in range(21, 31)))
    f.flush()
    for k in range(0, len(big), 65536):
        f.write(big[k:k + 65536]); f.flush()
        if k % (1 << 20) == 0:
            time.sleep(0.05)
    f.write(b"\n")
    f.write(b"".join(b"line %d normal\n" % i for i in range(31, 41)))
PY
wait_events "$T/out/out.ndjson" 42 60 || fail "only $(count_events "$T/out/out.ndjson") of 42 events"
stop_agent
seq_check "$T/out/out.ndjson" 1 40 || fail "normal lines around the huge line damaged"
python3 - "$T/out/out.ndjson" "$T/logs/app.log" <<'PY' || fail "huge line not cut/flagged correctly"
import json, sys
data = open(sys.argv[2], "rb").read()
bigs = 0
for raw in open(sys.argv[1], "rb"):
    ev = json.loads(raw.decode("utf-8"))
    m, off = ev["message"], ev["log"]["offset"]
    if m.startswith("big"):
        bigs += 1
        b = m.encode()
        assert ev["log"].get("flags") == ["truncated"], ev["log"]
        assert "\ufffd" not in m, "cut inside a character"
        assert 1024 * 1024 - 3 <= len(b) <= 1024 * 1024, len(b)
        assert data[off:off + 3] == b"big", off
    else:
        assert "flags" not in ev["log"], m
        assert data[off:off + len(m) + 1] == (m + "\n").encode(), (off, m)
assert bigs == 2, bigs
PY
size=$(stat -c %s "$T/logs/app.log")
[ "$(reg_offset "$T/logs/app.log")" = "$size" ] || fail "registry offset $(reg_offset "$T/logs/app.log") != size $size"
echo PASS
