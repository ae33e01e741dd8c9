#!/usr/bin/env bash
# journal.sh - what the registry journal (issue 17 section 2) costs and what it buys, with the
# journal on and off in one invocation.
#
#   bench/journal.sh [--rate N] [--seconds S] [--reps R] [--kills K] [--no-kills]
#                    [--interval DURATION]   (registry_journal_interval of the "on" runs, 20ms)
#   env: LOGFERRY (default build/logferry), BUILD_DIR (default build; torture_writer is there)
#
# 1. Cost: the nginx_combined path (parser = nginx_combined, file output) tailing a log that a
#    writer appends to at RATE lines/s (default 100,000) for S seconds (default 20; lines from
#    gen_nginx.py, 1,000 every 10 ms). Runs alternate off, on, off, on... (R each, default 3)
#    so that load drifting on a shared machine hits both alike. For each run: the agent's
#    CPU-seconds (utime + stime from /proc when the output holds every line) per million
#    lines and its peak RSS (VmHWM), and the lf-journal thread's own CPU (its share of the
#    agent's: a figure the load of a shared machine does not drown). Reported: medians, and
#    the journal's share = (median on - median off) / median off. Target (issue 17): <= 2 %.
# 2. What it buys: tests/integration/journal_kill9_dups.sh (two files at 15,000 lines/s each,
#    K kill -9, default 20) with the journal on and then off; duplicates per kill per file.
#    Target: <= 2,048 per file per kill (before the journal: ~34,000 per kill at 30,000/s).
# Results go to bench/results/journal-<UTC time>.txt and stdout. Do not run it alongside
# other benchmarks or tests: CPU time is shared.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
RATE=100000 SECS=20 REPS=3 KILLS=20 DO_KILLS=1 INTERVAL=20ms
while [ $# -gt 0 ]; do
    case $1 in
    --rate) RATE=$2; shift ;;
    --seconds) SECS=$2; shift ;;
    --reps) REPS=$2; shift ;;
    --kills) KILLS=$2; shift ;;
    --no-kills) DO_KILLS=0 ;;
    --interval) INTERVAL=$2; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "journal.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
LF=${LOGFERRY:-$BUILD_DIR/logferry}
[ -x "$LF" ] || { echo "journal.sh: no logferry at $LF (build first)" >&2; exit 1; }
WORK=$HERE/work/journal
rm -rf "$WORK" && mkdir -p "$WORK" "$HERE/results"
RES=$HERE/results/journal-$(date -u +%Y%m%dT%H%M%SZ).txt
N=$(( RATE * SECS ))
python3 "$HERE/gen_nginx.py" --lines "$N" --out "$WORK/input.log" >/dev/null || exit 1

{
echo "# bench/journal.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"
echo "# $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); rate=$RATE lines/s seconds=$SECS reps=$REPS registry_journal_interval=$INTERVAL"
} | tee "$RES"

python3 - "$LF" "$WORK" "$RATE" "$SECS" "$REPS" "$INTERVAL" <<'PY' | tee -a "$RES"
import os, subprocess, sys, time, statistics
lf, work, rate, secs, reps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
interval = sys.argv[6]
hz = os.sysconf("SC_CLK_TCK")
with open(os.path.join(work, "input.log"), "rb") as f:
    lines = f.read().splitlines(keepends=True)
per_tick = rate // 100
chunks = [b"".join(lines[i:i + per_tick]) for i in range(0, len(lines), per_tick)]

def run(mode, k):
    d = os.path.join(work, f"{mode}-{k}")
    os.makedirs(os.path.join(d, "data"))
    log, out = os.path.join(d, "access.log"), os.path.join(d, "out.json")
    open(log, "wb").close()
    conf = os.path.join(d, "agent.conf")
    with open(conf, "w") as c:
        c.write(f"[agent]\ndata_dir = {d}/data\nregistry_journal = {mode}\n"
                f"registry_journal_interval = {interval}\n\n"
                f"[input nginx]\npaths = {log}\nstart_at = beginning\nparser = nginx_combined\n\n"
                f"[output file]\npath = {out}\n")
    p = subprocess.Popen([lf, "-c", conf], stderr=open(os.path.join(d, "agent.log"), "w"))
    time.sleep(0.5)
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    t0 = time.monotonic()
    for i, ch in enumerate(chunks):
        os.write(fd, ch)
        delay = t0 + (i + 1) / 100 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    os.close(fd)
    wrote = time.monotonic() - t0
    n, pos, deadline = 0, 0, time.monotonic() + 120
    while n < len(lines) and time.monotonic() < deadline:
        try:
            with open(out, "rb") as o:
                o.seek(pos)
                b = o.read()
            n += b.count(b"\n")
            pos += len(b)
        except FileNotFoundError:
            pass
        time.sleep(0.2)
    def ticks(path):
        st = open(path).read().rsplit(")", 1)[1].split()
        return int(st[11]) + int(st[12])
    cpu = ticks(f"/proc/{p.pid}/stat") / hz
    threads = {}  # CPU-s per thread name: where a difference between on and off comes from
    for tid in os.listdir(f"/proc/{p.pid}/task"):
        try:
            name = open(f"/proc/{p.pid}/task/{tid}/comm").read().strip()
            threads[name] = threads.get(name, 0) + ticks(f"/proc/{p.pid}/task/{tid}/stat") / hz
        except OSError:
            pass
    jcpu = threads.get("lf-journal", 0.0)  # the tail thread's part (serializing) is not split out
    hwm = next(int(l.split()[1]) for l in open(f"/proc/{p.pid}/status") if l.startswith("VmHWM"))
    p.terminate()
    p.wait(timeout=30)
    if n < len(lines):
        sys.exit(f"{mode}-{k}: only {n} of {len(lines)} lines arrived")
    return cpu, hwm, wrote, jcpu, threads

res = {"off": [], "on": []}
jshare = []
for k in range(reps):
    for mode in ("off", "on"):
        cpu, hwm, wrote, jcpu, threads = run(mode, k)
        res[mode].append((cpu, hwm))
        if mode == "on":
            jshare.append(jcpu / cpu * 100)
        print(f"run {k + 1} journal {mode:3}: {cpu:.2f} CPU-s for {len(lines):,} lines "
              f"({cpu * 1e6 / len(lines):.3f} CPU-s/M), peak RSS {hwm / 1024:.1f} MiB, "
              f"written in {wrote:.1f} s; threads: " +
              " ".join(f"{n}={c:.2f}" for n, c in sorted(threads.items()) if c >= 0.01),
              flush=True)
med = {m: statistics.median(c for c, _ in v) for m, v in res.items()}
rss = {m: statistics.median(h for _, h in v) / 1024 for m, v in res.items()}
share = (med["on"] - med["off"]) / med["off"] * 100
for m in ("off", "on"):
    print(f"median journal {m:3}: {med[m] * 1e6 / len(lines):.3f} CPU-s/M, peak RSS {rss[m]:.1f} MiB")
print(f"journal CPU share at {rate:,} lines/s (nginx_combined), medians on vs off: {share:+.2f} % "
      f"(target <= 2 %: {'PASS' if share <= 2 else 'MISS'}; the spread of the runs above says how "
      f"much of it is noise)")
print(f"lf-journal thread's own CPU, share of the agent's (median of the 'on' runs): "
      f"{statistics.median(jshare):.2f} %")
PY

if [ "$DO_KILLS" = 1 ]; then
    for mode in on off; do
        extra=""
        extra="registry_journal_interval = $INTERVAL"
        [ "$mode" = off ] && extra="registry_journal = false"
        fig=$(LOGFERRY=$LF BUILD_DIR=$BUILD_DIR SRC_DIR=$ROOT JOURNAL_KILLS=$KILLS \
              JOURNAL_EXTRA_AGENT="$extra" TORTURE_FIGURES=/dev/null \
              bash "$ROOT/tests/integration/journal_kill9_dups.sh" 2>&1 | grep '^TORTURE-FIGURES')
        dpk=$(echo "$fig" | tr ' ' '\n' | sed -n 's/^dups_per_kill_per_file=//p')
        echo "kill -9 x$KILLS at 30,000 lines/s, journal $mode: ${fig#TORTURE-FIGURES }" | tee -a "$RES"
        [ "$mode" = on ] && echo "duplicates per kill per file with the journal: ${dpk:-?} (target <= 2,048: $([ "${dpk:-999999}" -le 2048 ] && echo PASS || echo MISS))" | tee -a "$RES"
    done
fi
echo "results: $RES"
