#!/bin/bash
# labels: core
# timeout: 240
# 200 files at once: 100 lines in each of 200 files exist at start, then 100 more lines are
# appended to every file while the agent runs (inotify on one directory, 200 descriptors).
# Proves every line of every file arrives exactly once, with the right log.file.path.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
core_conf "$T/agent.conf"
NF=200
gen_many() {
    python3 - "$T/logs" "$NF" "$1" "$2" <<'PY'
import os, sys
d, nf, a, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for f in range(nf):
    with open(os.path.join(d, f"f{f:03d}.log"), "a") as fh:
        fh.write("".join(f"f{f:03d} {i} lorem ipsum\n" for i in range(a, b + 1)))
PY
}
gen_many 1 100
core_start "$T/agent.conf"
wait_events "$T/out/out.ndjson" $((NF * 100)) 90 || fail "initial lines missing: $(count_events "$T/out/out.ndjson")"
gen_many 101 200
wait_events "$T/out/out.ndjson" $((NF * 200)) 90 || fail "appended lines missing: $(count_events "$T/out/out.ndjson")"
[ "$(ls -l /proc/$AGENT_PID/fd | grep -c "$T/logs/f")" = $NF ] || fail "expected $NF open log files"
stop_agent
python3 - "$T/out/out.ndjson" "$T/logs" "$NF" <<'PY' || fail "per-file exactly-once check failed"
import collections, json, os, sys
out, d, nf = sys.argv[1], sys.argv[2], int(sys.argv[3])
cnt = collections.Counter()
for raw in open(out, "rb"):
    ev = json.loads(raw)
    tag, num, _ = ev["message"].split(" ", 2)
    path = ev["log"]["file"]["path"]
    if path != os.path.join(d, tag + ".log"):
        print("wrong log.file.path", path, "for", ev["message"]); sys.exit(1)
    cnt[(tag, int(num))] += 1
bad = [(k, c) for k, c in cnt.items() if c != 1]
missing = [(f"f{f:03d}", i) for f in range(nf) for i in range(1, 201) if cnt[(f"f{f:03d}", i)] == 0]
print(f"{len(cnt)} distinct lines, {len(missing)} missing, {len(bad)} duplicated")
sys.exit(1 if bad or missing else 0)
PY
echo PASS
