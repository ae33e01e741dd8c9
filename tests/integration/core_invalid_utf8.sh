#!/bin/bash
# labels: core
# timeout: 120
# Hostile bytes: invalid UTF-8 (stray continuation bytes, overlongs, surrogates, code points
# above U+10FFFF, truncated sequences), NUL, every control character, DEL, quotes and
# backslashes, and valid 2/3/4-byte characters. Proves every output line is valid JSON in
# valid UTF-8, invalid sequences become U+FFFD, NUL and controls survive as escapes, valid
# characters are kept, and each event's message is the line with invalid bytes replaced.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
core_conf "$T/agent.conf"
python3 - "$T/logs/app.log" <<'PY'
import sys
lines = [
    b"line 1 stray \x80\xbf continuation",
    b"line 2 overlong \xc0\xaf \xe0\x80\xaf \xf0\x80\x80\xaf",
    b"line 3 surrogate \xed\xa0\x80 above \xf4\x90\x80\x80 \xf5\x80\x80\x80",
    b"line 4 truncated \xe2\x82 and \xf0\x9f\x98",
    b"line 5 nul \x00 in the middle",
    b"line 6 controls " + bytes(range(1, 10)) + bytes(range(11, 32)) + b" del \x7f",
    b'line 7 quote " backslash \\ slash /',
    b"line 8 valid \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
    b"line 9 lone \xff\xfe bytes",
]
with open(sys.argv[1], "wb") as f:
    f.write(b"\n".join(lines) + b"\n")
PY
core_start "$T/agent.conf"
wait_events "$T/out/out.ndjson" 9 60 || fail "only $(count_events "$T/out/out.ndjson") of 9 events"
stop_agent
seq_check "$T/out/out.ndjson" 1 9 || fail "lines missing"
python3 - "$T/out/out.ndjson" "$T/logs/app.log" <<'PY' || fail "hostile bytes not made safe"
import json, sys
src = open(sys.argv[2], "rb").read().split(b"\n")
for raw in open(sys.argv[1], "rb"):
    text = raw.decode("utf-8")            # strict: the output must be valid UTF-8
    assert all(c >= " " for c in text.rstrip("\n")), "raw control character in the output"
    ev = json.loads(text)
    m = ev["message"]
    n = int(m.split()[1])
    want = src[n - 1].decode("utf-8", "replace")
    # Python's decoder and ours may differ in how many U+FFFD a bad sequence yields; compare
    # with runs of U+FFFD collapsed, and require one where the source was invalid.
    import re
    norm = lambda s: re.sub("\ufffd+", "\ufffd", s)
    assert norm(m) == norm(want), (m, want)
    if n in (1, 2, 3, 4, 9):
        assert "\ufffd" in m, m
    if n == 5:
        assert "\x00" in m, "NUL lost"
    if n == 6:
        assert "\x01" in m and "\x1f" in m and "\x7f" in m, "control characters lost"
    if n == 8:
        assert "é € 😀" in m and "\ufffd" not in m, m
PY
echo PASS
