#!/usr/bin/env bash
# labels: torture
# timeout: 300
# torture_hostile: hostile files never crash the agent and never make invalid JSON.
#
# One agent tails logs/*.log and many/*.log holding: 2 MB of random binary, lines with NULs,
# invalid UTF-8 (stray continuation bytes, overlong, surrogates), CRLF and CR-only line ends, a
# 20 MB line, an unreadable file (chmod 000; when run as root the agent runs as nobody via
# setpriv so the permission is real), a symlink loop, a dangling symlink, a file that is
# replaced by a FIFO and another replaced by a directory while the agent runs, and 2,000
# files matching one glob (more than max_open_files' default of 1,024).
# Asserted: the agent stays up and exits 0 on SIGTERM; every output line is valid JSON; the
# lines around the hostile ones all arrive (numbered: many 1..2000, fifo/dirf 1..10, nul/utf
# 1..100, crlf 1..50, the line after the 20 MB one, a sentinel written last); the 20 MB line
# becomes one event truncated to max_line_bytes and flagged "truncated"; NULs and invalid
# UTF-8 come out escaped / as U+FFFD; nothing is read from the unreadable file and the log
# names it; peak RSS stays under 128 MiB (the 20 MB line must not be held whole).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tools/torture_lib.bash"
lf_setup
chmod 755 "$T"
mkdir -p "$T/many"
AS_USER=()
UNREADABLE_CHECK=1
if [ "$(id -u)" = 0 ]; then
    # Root reads anything: run the agent as nobody so chmod 000 means something. Where nobody
    # cannot even start the binary (a chroot whose / is 0700, as fresh-check makes), run as
    # root and skip only the unreadable-file check.
    if setpriv --reuid=65534 --regid=65534 --clear-groups -- "$LOGFERRY" --version >/dev/null 2>&1; then
        chown 65534:65534 "$T/data" "$T/out"
        AS_USER=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
    else
        echo "NOTE: uid 65534 cannot run $LOGFERRY here; running as root, unreadable-file check skipped"
        UNREADABLE_CHECK=0
    fi
fi

python3 - "$T" <<'PY'
import os, random, sys
t = sys.argv[1]
r = random.Random(8)
with open(f"{t}/logs/binary.log", "wb") as f:
    f.write(bytes(r.randrange(256) for _ in range(2 << 20)))
    f.write(b"\n")
with open(f"{t}/logs/nul.log", "wb") as f:
    for i in range(1, 101):
        f.write(b"nul %d a\x00b\x00\x00c\n" % i)
with open(f"{t}/logs/utf8.log", "wb") as f:
    for i in range(1, 101):
        f.write(b"utf %d \xff\xfe \xc3\x28 \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 caf\xc3\xa9 \x1b[31m\n" % i)
with open(f"{t}/logs/cr.log", "wb") as f:
    for i in range(1, 51):
        f.write(b"crlf %d lorem ipsum dolor sit amet\r\n" % i)
    for i in range(51, 101):
        f.write(b"cronly %d\r" % i)
    f.write(b"\n")
with open(f"{t}/logs/huge.log", "wb") as f:
    f.write(b"huge 1 " + b"h" * (20 << 20) + b"\n")
    f.write(b"huge 2 lorem ipsum dolor sit amet\n")
with open(f"{t}/logs/secret.log", "wb") as f:
    f.write(b"secret 1 lorem ipsum dolor sit amet\n")
os.chmod(f"{t}/logs/secret.log", 0)
os.symlink(f"{t}/logs/loop2.log", f"{t}/logs/loop1.log")
os.symlink(f"{t}/logs/loop1.log", f"{t}/logs/loop2.log")
os.symlink(f"{t}/logs/nowhere", f"{t}/logs/dangling.log")
for name, tag in (("fifo.log", "fifo"), ("dir.log", "dirf")):
    with open(f"{t}/logs/{name}", "w") as f:
        for i in range(1, 11):
            f.write(f"{tag} {i} lorem ipsum dolor sit amet\n")
for i in range(1, 2001):
    with open(f"{t}/many/f{i:04d}.log", "w") as f:
        f.write(f"many {i} lorem ipsum dolor sit amet\n")
PY

# Without the privilege drop root could read secret.log: it would prove nothing, so it goes.
[ "$UNREADABLE_CHECK" = 1 ] || rm -f "$T/logs/secret.log"

# More files than max_open_files (1,024), with the default close_inactive: idle files must
# give up their descriptors to the waiting ones.
tt_conf "$T/agent.conf" "$T/logs/*.log, $T/many/*.log"
"${AS_USER[@]}" "$LOGFERRY" -c "$T/agent.conf" >>"$T/agent.log" 2>&1 &
AGENT_PID=$!

have() { python3 - "$TT_OUT" "$1" "$2" <<'PY'
import json, re, sys
pat, want = re.compile(sys.argv[2]), int(sys.argv[3])
n = 0
try:
    for raw in open(sys.argv[1], "rb"):
        try:
            if pat.match(json.loads(raw).get("message", "")): n += 1
        except Exception:
            pass
except OSError:
    pass
sys.exit(0 if n >= want else 1)
PY
}
wait_for "have '^many \\d+ ' 2000" 90 || fail "not all 2,000 files of the glob were shipped"
wait_for "have '^(fifo|dirf) \\d+ ' 20" 30 || fail "fifo.log / dir.log lines not shipped"
# Replace two live files by a FIFO and a directory, and write more hostile bytes while running.
rm -f "$T/logs/fifo.log" && mkfifo "$T/logs/fifo.log"
rm -f "$T/logs/dir.log" && mkdir "$T/logs/dir.log"
head -c 1048576 /dev/urandom >"$T/logs/random-live.log"
printf 'late 1 lorem ipsum dolor sit amet\n' >"$T/logs/late.log"
wait_for "have '^late 1 ' 1" 30 || fail "a file created after the FIFO/directory swap was not shipped"
printf 'sentinel 1 lorem ipsum dolor sit amet\n' >>"$T/logs/zz.log"
wait_for "have '^sentinel 1 ' 1" 30 || fail "sentinel not shipped: the agent is stuck"
tt_wait_stable "$TT_OUT" 20 2 >/dev/null
kill -0 "$AGENT_PID" 2>/dev/null || fail "the agent died"
hwm=$(tt_hwm "$AGENT_PID")
stop_agent

verdict=$(python3 - "$TT_OUT" <<'PY'
import json, re, sys, collections
bad, cnt, notes = 0, collections.Counter(), []
huge = None
for n, raw in enumerate(open(sys.argv[1], "rb"), 1):
    try:
        ev = json.loads(raw)
    except Exception as e:
        bad += 1
        notes.append(f"line {n}: invalid JSON ({e}): {raw[:80]!r}")
        continue
    m = ev.get("message", "")
    w = m.split(" ", 1)[0]
    cnt[w] += 1
    if w == "huge" and m.startswith("huge 1 "):
        huge = (len(m.encode()), ev.get("log", {}).get("flags", []))
    if w == "nul" and "\x00" not in m:
        notes.append(f"nul line lost its NULs: {m[:40]!r}")
    if w == "utf" and "\ufffd" not in m:
        notes.append(f"invalid UTF-8 not replaced by U+FFFD: {m[:40]!r}")
    if w == "secret":
        notes.append("read the unreadable file!")
fails = list(notes)
for w, want in (("many", 2000), ("fifo", 10), ("dirf", 10), ("nul", 100), ("utf", 100),
                ("crlf", 50), ("late", 1), ("sentinel", 1)):
    if cnt[w] < want:
        fails.append(f"{w}: {cnt[w]} of {want} lines")
if cnt["huge"] < 2:
    fails.append(f"huge: {cnt['huge']} of 2 events (the 20 MB line and the one after it)")
if huge is None:
    fails.append("no event for the 20 MB line")
else:
    if huge[0] > (1 << 20) + 64:
        fails.append(f"the 20 MB line came out as {huge[0]} bytes (max_line_bytes is 1 MiB)")
    if "truncated" not in huge[1]:
        fails.append(f"the 20 MB line is not flagged truncated (log.flags={huge[1]})")
if bad:
    fails.append(f"{bad} invalid JSON lines")
print(f"events={sum(cnt.values())} invalid_json={bad} huge_event_bytes={huge[0] if huge else 0}")
for f in fails:
    print("FAIL: " + f)
PY
)
echo "$verdict"
echo "--- warnings the agent gave ---"
grep -iE "warn|error" "$T/agent.log" | cut -d' ' -f2- | sed "s|$T|T|g" | sort | uniq -c | sort -rn | head -n 25
for name in secret.log fifo.log dir.log loop1.log dangling.log; do
    if grep -q "$name" "$T/agent.log"; then echo "log names $name: yes"; else echo "log names $name: no"; fi
done
tt_figures hostile files=2011 "$(echo "$verdict" | head -n 1)" peak_rss_kib="$hwm"
if echo "$verdict" | grep -q '^FAIL'; then fail "$(echo "$verdict" | grep '^FAIL' | tr '\n' ' ')"; fi
[ "$UNREADABLE_CHECK" = 0 ] || grep -q "secret.log" "$T/agent.log" || fail "no warning names the unreadable secret.log"
# Under ASan the shadow memory makes RSS meaningless: the bound is checked on normal builds.
if ldd "$LOGFERRY" 2>/dev/null | grep -q libasan; then
    echo "peak RSS ${hwm} KiB (ASan build: not checked)"
else
    [ "$hwm" -lt $((128 * 1024)) ] || fail "peak RSS ${hwm} KiB >= 128 MiB with a 20 MB line and 2,000 files"
fi
echo "PASS torture_hostile"
