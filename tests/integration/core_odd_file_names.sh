#!/bin/bash
# labels: core
# timeout: 120
# File names are hostile input too: spaces, quotes, backslashes, UTF-8, invalid UTF-8, a
# newline, a leading dash. Proves each file is tailed, log.file.path is valid JSON naming it
# (invalid UTF-8 repaired), the registry round-trips such paths (exactly once across a
# restart).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
core_conf "$T/agent.conf"
python3 - "$T/logs" <<'PY'
import os, sys
d = os.fsencode(sys.argv[1])
names = [b"sp ace.log", b'quo"te.log', b"back\\slash.log", "\u00e9t\u00e9.log".encode(),
         b"bad\xff\xfe.log", b"new\nline.log", b"-dash.log", b"semi;colon #hash.log"]
for k, n in enumerate(names):
    with open(os.path.join(d, n), "wb") as f:
        f.write(b"".join(b"f%d %d x\n" % (k, i) for i in range(1, 51)))
PY
core_start "$T/agent.conf"
wait_events "$T/out/out.ndjson" 400 60 || fail "only $(count_events "$T/out/out.ndjson") of 400 events"
stop_agent
python3 - "$T/logs" <<'PY'
import os, sys
d = os.fsencode(sys.argv[1])
for n in os.listdir(d):
    with open(os.path.join(d, n), "ab") as f:
        k = int(open(os.path.join(d, n), "rb").readline().split()[0][1:])
        f.write(b"".join(b"f%d %d x\n" % (k, i) for i in range(51, 101)))
PY
core_start "$T/agent.conf"
wait_events "$T/out/out.ndjson" 800 60 || fail "only $(count_events "$T/out/out.ndjson") of 800 events after restart"
stop_agent
for k in 0 1 2 3 4 5 6 7; do
    seq_check "$T/out/out.ndjson" 1 100 --tag "f$k" >/dev/null || fail "file #$k: lines missing or duplicated (registry did not round-trip its name?)"
done
python3 - "$T/out/out.ndjson" "$T/logs" <<'PY' || fail "log.file.path wrong"
import json, os, sys
names = set()
for raw in open(sys.argv[1], "rb"):
    ev = json.loads(raw.decode("utf-8"))
    names.add(ev["log"]["file"]["path"])
want = {os.path.join(sys.argv[2], os.fsdecode(n)).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        for n in os.listdir(os.fsencode(sys.argv[2]))}
norm = lambda s: s.replace("\ufffd\ufffd", "\ufffd")
assert {norm(n) for n in names} == {norm(n) for n in want}, (names, want)
PY
echo PASS
