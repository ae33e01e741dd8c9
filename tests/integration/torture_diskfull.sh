#!/usr/bin/env bash
# labels: torture;root
# timeout: 240
# torture_diskfull: a full disk pauses, never loses; commits resume when space returns.
#
# Needs root (it mounts small tmpfs filesystems); exits 77 with a message otherwise.
# Part 1, data_dir full: data_dir is a 64 KiB tmpfs, filled to the last byte while lines are
# being shipped. Asserted: the agent keeps running and shipping, says clearly in its log that
# it cannot write the registry (no space), and once space returns the registry is committed
# up to the end of the file again; after a kill -9 and a restart nothing is lost and nothing
# is sent twice (the commit really happened).
# Part 2, the file output's disk full: the output file lives on a tmpfs that is filled, then
# 300,000 lines (TORTURE_BACKLOG) are written with queue_max_bytes = 1MiB. Asserted: the agent
# keeps running, logs the write failure, does not commit what it could not write (the
# registry offset stays behind the end of the input), peak RSS stays under 32 MiB (reading
# paused: memory bounded by the queue, not the backlog), and when space returns every line
# arrives exactly once with every output line valid JSON (no torn line).
# Figures: time from freeing space to the registry commit / to shipping again / to the last
# line of the backlog delivered; peak RSS.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tools/torture_lib.bash"
[ "$(id -u)" = 0 ] || { echo "SKIP torture_diskfull: needs root to mount tmpfs"; exit 77; }
lf_setup
MOUNTS=()
tt_umount_all() {
    for m in "${MOUNTS[@]}"; do umount -l "$m" 2>/dev/null; done
    lf_cleanup
}
trap tt_umount_all EXIT
mount_small() { # DIR SIZE
    mkdir -p "$1"
    mount -t tmpfs -o "size=$2" tmpfs "$1" || fail "cannot mount a $2 tmpfs on $1"
    MOUNTS+=("$1")
}
fill() { dd if=/dev/zero of="$1/filler" bs=1k >/dev/null 2>&1; sync; } # stops at ENOSPC
# Largest "offset" anywhere in registry.json (format-agnostic), or -1.
reg_offset() {
    python3 - "$T/data/registry.json" <<'PY'
import json, sys
def walk(x, acc):
    if isinstance(x, dict):
        for k, v in x.items():
            if k == "offset" and isinstance(v, int): acc.append(v)
            else: walk(v, acc)
    elif isinstance(x, list):
        for v in x: walk(v, acc)
try:
    acc = []; walk(json.load(open(sys.argv[1])), acc); print(max(acc) if acc else -1)
except Exception:
    print(-1)
PY
}

# ---- part 1: data_dir on a full filesystem ----
mount_small "$T/data" 64k
tt_conf "$T/agent.conf" "$T/logs/app.log"
gen_lines "$T/logs/app.log" 1 2000 disk
start_agent "$T/agent.conf"
wait_for "[ \$(count_events '$TT_OUT') -ge 2000 ]" 30 || fail "first 2000 lines not shipped"
wait_for "[ \$(reg_offset) -eq \$(stat -c %s '$T/logs/app.log') ]" 10 || fail "registry never committed the first 2000 lines"
fill "$T/data"
gen_lines "$T/logs/app.log" 2001 4000 disk
wait_for "[ \$(count_events '$TT_OUT') -ge 4000 ]" 30 || fail "the agent stopped shipping while data_dir was full"
sleep 1.5 # several registry_flush periods on the full disk
kill -0 "$AGENT_PID" 2>/dev/null || fail "the agent died when data_dir filled up"
grep -iE "no space|ENOSPC|disk.*full|full.*disk" "$T/agent.log" >/dev/null \
    || fail "the agent did not say that data_dir is full (no 'No space left on device' in its log)"
echo "agent log on the full data_dir: $(grep -iE -m1 "no space|ENOSPC|disk.*full" "$T/agent.log")"
rm -f "$T/data/filler"
t0=$(tt_now_ms)
size=$(stat -c %s "$T/logs/app.log")
wait_for "[ \$(reg_offset) -eq $size ]" 15 || fail "registry not committed again within 15 s of space returning (offset $(reg_offset), want $size)"
commit_ms=$(( $(tt_now_ms) - t0 ))
kill9_agent
gen_lines "$T/logs/app.log" 4001 5000 disk
start_agent "$T/agent.conf"
wait_for "[ \$(count_events '$TT_OUT') -ge 5000 ]" 30 || true
tt_wait_stable "$TT_OUT" 10 1 >/dev/null
stop_agent
res=$(tt_analyze "$TT_OUT" disk 1 5000)
echo "data_dir full: commit resumed ${commit_ms} ms after space returned; $res"
tt_figures diskfull_data_dir written=5000 lost="$(tt_kv "$res" missing)" \
    duplicated="$(tt_kv "$res" dups)" commit_resumed_ms="$commit_ms"
seq_check "$TT_OUT" 1 5000 --tag disk || fail "lines lost or duplicated around the full data_dir"

# ---- part 2: the file output's filesystem full, with a backlog far beyond the queue ----
# queue_max_bytes = 1MiB while 300,000 lines (~60 MB of events) pile up: reading must pause,
# so peak RSS stays bounded (< 32 MiB, checked on non-ASan builds).
BACKLOG=${TORTURE_BACKLOG:-300000}
umount "$T/data" && MOUNTS=()
rm -rf "$T/data" "$T/logs" "$T/out" && mkdir -p "$T/data" "$T/logs" "$T/out"
mount_small "$T/outfs" 192m
tt_conf "$T/agent.conf" "$T/logs/app.log" "queue_max_bytes = 1MiB"
sed -i "s|^path = .*|path = $T/outfs/events.ndjson|" "$T/agent.conf"
TT_OUT=$T/outfs/events.ndjson
gen_lines "$T/logs/app.log" 1 200 outfull
start_agent "$T/agent.conf"
wait_for "[ \$(count_events '$TT_OUT') -ge 200 ]" 30 || fail "first 200 lines not shipped"
fill "$T/outfs"
gen_lines "$T/logs/app.log" 201 "$BACKLOG" outfull
sleep 3
kill -0 "$AGENT_PID" 2>/dev/null || fail "the agent died when its output's disk filled up"
hwm=$(tt_hwm "$AGENT_PID")
grep -iE "no space|ENOSPC|disk.*full" "$T/agent.log" >/dev/null \
    || fail "the agent did not log the output's write failure (no 'No space left on device')"
off=$(reg_offset) size=$(stat -c %s "$T/logs/app.log")
[ "$off" -lt "$size" ] || fail "registry committed offset $off = end of input although the output could not write"
rm -f "$T/outfs/filler"
t0=$(tt_now_ms)
first_ms=
wait_for "[ \$(stat -c %s '$TT_OUT') -gt 0 ] && [ \$(count_events '$TT_OUT') -gt 200 ]" 30 \
    && first_ms=$(( $(tt_now_ms) - t0 ))
wait_for "[ \$(count_events '$TT_OUT') -ge $BACKLOG ]" 90 || fail "backlog not delivered within 90 s of space returning"
deliver_ms=$(( $(tt_now_ms) - t0 ))
tt_wait_stable "$TT_OUT" 10 1 >/dev/null
h2=$(tt_hwm "$AGENT_PID"); [ "$h2" -gt "$hwm" ] && hwm=$h2
stop_agent
res=$(tt_analyze "$TT_OUT" outfull 1 "$BACKLOG")
echo "output disk full: shipping resumed ${first_ms:-?} ms and the ${BACKLOG}-line backlog was delivered ${deliver_ms} ms after space returned; peak RSS ${hwm} KiB; $res"
tt_figures diskfull_output written="$BACKLOG" lost="$(tt_kv "$res" missing)" \
    duplicated="$(tt_kv "$res" dups)" garbled="$(tt_kv "$res" garbled)" \
    resume_ms="${first_ms:-}" backlog_delivered_ms="$deliver_ms" peak_rss_kib="$hwm" queue_max_bytes=1MiB
seq_check "$TT_OUT" 1 "$BACKLOG" --tag outfull || fail "lines lost, duplicated or torn around the full output disk"
if ldd "$LOGFERRY" 2>/dev/null | grep -q libasan; then
    echo "peak RSS ${hwm} KiB (ASan build: not checked)"
else
    [ "$hwm" -lt $((32 * 1024)) ] || fail "peak RSS ${hwm} KiB >= 32 MiB with queue_max_bytes = 1MiB: reading did not pause"
fi
echo "PASS torture_diskfull"
