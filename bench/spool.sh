#!/bin/bash
# spool.sh - the disk spool's cost (issue 17): events written to an output's spool in groups
# (one fdatasync each), read back and acknowledged, against the same batches built and freed
# without a spool, in the same invocation (tests/tools/spool_bench.c). Run on tmpfs (the
# spool's CPU cost) and in DIR (default: a directory under /var/tmp, i.e. the disk data_dir
# would be on). Median of REPS. Targets: >= 1,000,000 events/s through the spool and
# <= 0.5 CPU-s per million events over the path without it.
#
#   bench/spool.sh [BUILD_DIR] [EVENTS] [REPS] [DIR]     (defaults: build 2000000 3 /var/tmp)
set -eu
B=${1:-build}
N=${2:-2000000}
REPS=${3:-3}
D=${4:-/var/tmp}
[ -x "$B/spool_bench" ] || { echo "build first: $B/spool_bench missing" >&2; exit 1; }
run_case() {
    local where=$1 label=$2 i out
    for i in $(seq 1 "$REPS"); do
        local w; w=$(mktemp -d "$where/lfbench-spool.XXXXXX")
        out=$("$B/spool_bench" -d "$w" -n "$N")
        rm -rf "$w"
        echo "$label $out"
    done
}
{ run_case /dev/shm tmpfs; run_case "$D" disk; } | python3 -c '
import sys, statistics
rows = {}
for line in sys.stdin:
    label, *kv = line.split()
    d = dict(x.split("=") for x in kv)
    rows.setdefault(label, []).append(d)
print("| where | events | events/s (median) | extra CPU-s per million (median) | peak disk MiB | peak RSS MiB | target |")
print("|---|---:|---:|---:|---:|---:|---|")
for label, rs in rows.items():
    eps = statistics.median(float(r["spool_events_per_s"]) for r in rs)
    cpu = statistics.median(float(r["extra_cpu_s_per_million"]) for r in rs)
    disk = max(int(r["peak_disk_bytes"]) for r in rs) / 2**20
    rss = max(int(r["peak_rss_kib"]) for r in rs) / 1024
    verdict = "PASS" if eps >= 1e6 and cpu <= 0.5 else "MISS"
    n = rs[0]["events"]
    print(f"| {label} | {n} | {eps:,.0f} | {cpu:.3f} | {disk:.0f} | {rss:.0f} | "
          f"{verdict} (>= 1,000,000/s, <= 0.5 CPU-s/M) |")
'
