#!/bin/bash
# logstash.sh - Logstash output throughput (issue 15): LINES nginx access-log lines
# (bench/gen_nginx.py, the same input as bench/run.sh) tailed by logferry (parser =
# nginx_combined) and shipped with the logstash output to tests/tools/lj_standin on loopback
# (a Lumberjack v2 server that parses every frame, inflates compressed ones, and ACKs each
# window; it stores nothing). In the same invocation, the file output on the same input is
# the baseline the ratios are taken against, so a busy machine shows in both.
# Per run: events/s from start until the sink has counted every event, CPU-seconds per
# million events (utime+stime of the agent, not the sink), peak RSS (VmHWM); median of REPS.
#
#   bench/logstash.sh [BUILD_DIR] [LINES] [REPS] ["extra output line" ...]
#   e.g. bench/logstash.sh build 1000000 3
#        bench/logstash.sh build 1000000 3 "window = 4096"
# Defaults: build, 1000000, 3. Don't run it beside other benchmarks or tests.
set -eu
B=${1:-build}
N=${2:-1000000}
REPS=${3:-3}
shift $(( $# > 3 ? 3 : $# ))
for x in logferry lj_standin; do
    [ -x "$B/$x" ] || { echo "build first: cmake --build $B (missing $B/$x)" >&2; exit 1; }
done
W=$(mktemp -d /tmp/lfbench-lj.XXXXXX)
SINK= AGENT=
cleanup() {
    [ -n "$AGENT" ] && kill -9 "$AGENT" 2>/dev/null
    [ -n "$SINK" ] && kill -9 "$SINK" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W/logs"
python3 "$(dirname "$0")/gen_nginx.py" --lines "$N" --out "$W/logs/access.log" >/dev/null

# run NAME COUNT_CMD OUTPUT_SECTION...: one agent run from a clean data_dir; prints
# "NAME events/s cpu_per_M rss_mib".
run() {
    local name=$1 count=$2; shift 2
    rm -rf "$W/data" "$W/out.ndjson"; mkdir -p "$W/data"
    {
        cat <<CONF
[agent]
data_dir = $W/data
[input nginx]
paths = $W/logs/access.log
start_at = beginning
parser = nginx_combined
CONF
        for l in "$@"; do echo "$l"; done
    } >"$W/agent.conf"
    local t0 t1 ut stt hwm limit
    t0=$(date +%s%N)
    "$B/logferry" -c "$W/agent.conf" 2>"$W/agent.log" & AGENT=$!
    limit=$(( $(date +%s) + 300 ))
    while [ "$($count)" -lt "$N" ]; do
        kill -0 "$AGENT" 2>/dev/null || { echo "agent died:" >&2; tail "$W/agent.log" >&2; exit 1; }
        [ "$(date +%s)" -lt "$limit" ] || { echo "gave up after 300 s: $($count) of $N" >&2; exit 1; }
        sleep 0.02
    done
    t1=$(date +%s%N)
    read -r ut stt < <(awk '{print $14, $15}' "/proc/$AGENT/stat")
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$AGENT/status")
    kill -TERM "$AGENT"; wait "$AGENT" || true; AGENT=
    awk -v name="$name" -v n="$N" -v ns=$((t1 - t0)) -v cpu=$((ut + stt)) \
        -v tck="$(getconf CLK_TCK)" -v hwm="$hwm" 'BEGIN {
        printf "%s %.0f %.3f %.1f\n", name, n / (ns / 1e9), cpu / tck * 1e6 / n, hwm / 1024 }'
}
file_count() { [ -f "$W/out.ndjson" ] && wc -l <"$W/out.ndjson" || echo 0; }
sink_count() { sed -n 's/.*"events":\([0-9]*\).*/\1/p' "$W/sink.stats" 2>/dev/null || echo 0; }
sink_start() {
    [ -n "$SINK" ] && { kill -9 "$SINK" 2>/dev/null; wait "$SINK" 2>/dev/null || true; }
    rm -f "$W/port" "$W/sink.stats"
    "$B/lj_standin" --port-file "$W/port" --stats "$W/sink.stats" 2>"$W/sink.log" & SINK=$!
    for _ in $(seq 100); do [ -s "$W/port" ] && break; sleep 0.05; done
}
: >"$W/results"
for rep in $(seq "$REPS"); do
    run file file_count "[output file]" "path = $W/out.ndjson" >>"$W/results"
    for level in 0 3; do
        sink_start
        run "logstash_level$level" sink_count "[output logstash]" \
            "hosts = 127.0.0.1:$(cat "$W/port")" "compression_level = $level" "$@" >>"$W/results"
    done
done
echo "# $N nginx lines, $REPS repetitions, median (min-max); logferry $("$B/logferry" --version 2>/dev/null | head -1); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# extra output lines: ${*:-none}"
python3 - "$W/results" <<'PY'
import sys, statistics, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    name, eps, cpu, rss = line.split()
    rows[name].append((float(eps), float(cpu), float(rss)))
base = statistics.median(r[0] for r in rows["file"])
base_cpu = statistics.median(r[1] for r in rows["file"])
print(f"{'run':<18} {'events/s':>10} {'(min-max)':>21} {'CPU-s/M':>8} {'peak RSS MiB':>12} {'x file events/s':>15} {'x file CPU':>10}")
for name, rs in rows.items():
    e = statistics.median(r[0] for r in rs); c = statistics.median(r[1] for r in rs)
    m = statistics.median(r[2] for r in rs)
    lo = min(r[0] for r in rs); hi = max(r[0] for r in rs)
    print(f"{name:<18} {e:>10,.0f} {f'({lo:,.0f}-{hi:,.0f})':>21} {c:>8.2f} {m:>12.1f} {e / base:>15.2f} {c / base_cpu:>10.2f}")
targets = {"logstash_level0": (700000, 1.3), "logstash_level3": (250000, None)}
for name, (eps, cpu) in targets.items():
    if name in rows:
        e = statistics.median(r[0] for r in rows[name]); c = statistics.median(r[1] for r in rows[name])
        ok = e >= eps and (cpu is None or c <= cpu)
        print(f"target {name}: >= {eps:,} events/s" + (f", <= {cpu} CPU-s/M" if cpu else "") + f": {'PASS' if ok else 'MISS'}")
PY
