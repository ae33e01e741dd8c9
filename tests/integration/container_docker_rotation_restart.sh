#!/bin/bash
# labels: core;parsers
# timeout: 240
# Docker json-file input through the real binary: a writer appends numbered lines the way
# the json-file driver stores a container's stdout/stderr (every 7th line on stderr, every
# 250th split into three pieces whose `log` has no "\n" until the last, as the driver splits
# lines over 16 KiB) and rotates by size the driver's way (ID-json.log -> ID-json.log.1 ->
# ID-json.log.2). The agent is stopped (SIGTERM) and restarted in the middle while lines keep
# coming. Proves: every number arrives exactly once (rejoined pieces as one event), across
# rotation and restart; the registry holds the container file's own byte offsets (equal to
# its size at the end); container.id comes from the path; stream says stdout/stderr.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/container/common.sh"
lf_setup
ID=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
D=$T/docker/containers/$ID
mkdir -p "$D"
container_conf "$T/agent.conf" "$T/docker/containers/*/*-json.log" "format = docker
close_renamed = 2s"
: >"$D/$ID-json.log"

# write FROM TO ROTATE_AT...: appends numbered lines as the driver would, rotating (shift
# .1 -> .2, current -> .1, new current) after each line number listed.
write() {
    python3 - "$D/$ID-json.log" "$@" <<'PY'
import json, os, sys, time
path, a, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rot = {int(x) for x in sys.argv[4:]}
def obj(text, stream, i):
    t = "2026-12-06T10:%02d:%02d.%09dZ" % (i // 3600 % 60, i // 60 % 60, i)
    return json.dumps({"log": text, "stream": stream, "time": t}, separators=(",", ":")) + "\n"
f = open(path, "a")
for i in range(a, b + 1):
    stream = "stderr" if i % 7 == 0 else "stdout"
    text = "line %d lorem ipsum dolor sit amet <&> \"q\"" % i
    if i % 250 == 0:
        f.write(obj(text + " piece-1 ", stream, i))
        f.write(obj("x" * 300 + " piece-2 ", stream, i))
        f.write(obj("end-of-%d\n" % i, stream, i))
    else:
        f.write(obj(text + "\n", stream, i))
    if i % 100 == 0:
        f.flush()
        time.sleep(0.003)
    if i in rot:
        f.close()
        if os.path.exists(path + ".1"):
            os.replace(path + ".1", path + ".2")
        os.rename(path, path + ".1")
        f = open(path, "a")
f.close()
PY
}
start_agent "$T/agent.conf"
wait_for "grep -q 'reading $D/$ID-json.log' '$T/agent.log'" 30 || fail "agent did not open the json-file log"
write 1 3000 1500
wait_events() { wait_for "[ \$(count_events '$1') -ge $2 ]" "$3"; }
wait_events "$T/out/out.ndjson" 3000 90 || fail "only $(count_events "$T/out/out.ndjson") of 3000 events before the restart"
stop_agent
write 3001 4000
start_agent "$T/agent.conf"
wait_events "$T/out/out.ndjson" 4000 90 || fail "only $(count_events "$T/out/out.ndjson") of 4000 events after the restart"
write 4001 6000 4800 5600
wait_events "$T/out/out.ndjson" 6000 90 || fail "only $(count_events "$T/out/out.ndjson") of 6000 events"
stop_agent
seq_check "$T/out/out.ndjson" 1 6000 || fail "numbered lines lost or duplicated across rotation and restart"
python3 - "$T/out/out.ndjson" "$ID" "$T/data/registry.json" "$D/$ID-json.log" <<'PY' || fail "fields or offsets wrong"
import json, os, re, sys
out, cid, reg, cur = sys.argv[1:5]
bad = 0
for raw in open(out, "rb"):
    ev = json.loads(raw)
    m = re.match(r"line (\d+) ", ev["message"])
    i = int(m.group(1))
    stream = ev.get("stream")
    want = "stderr" if i % 7 == 0 else "stdout"
    cid_got = (ev.get("container") or {}).get("id")
    if stream != want or cid_got != cid or "container_format_failure" in ev.get("tags", []):
        print("event %d: stream %r container.id %r tags %r" % (i, stream, cid_got, ev.get("tags"))); bad += 1
    if i % 250 == 0 and not ev["message"].endswith("piece-2 end-of-%d" % i):
        print("event %d: pieces not rejoined: %r" % (i, ev["message"][-60:])); bad += 1
    if i % 250 != 0 and ev["message"] != 'line %d lorem ipsum dolor sit amet <&> "q"' % i:
        print("event %d: message %r" % (i, ev["message"])); bad += 1
    if bad > 10: break
r = json.load(open(reg))
offs = {e["path"]: e["offset"] for e in r.get("files", [])}
if offs.get(cur) != os.path.getsize(cur):
    print("registry offset of %s: %r, file size %d" % (cur, offs.get(cur), os.path.getsize(cur))); bad += 1
print("checked fields of every event; registry offset", offs.get(cur))
sys.exit(1 if bad else 0)
PY
echo PASS
