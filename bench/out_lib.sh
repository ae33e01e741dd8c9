# out_lib.sh - what bench/es.sh and bench/logstash.sh share: LINES nginx access-log lines
# (bench/gen_nginx.py, the same input as bench/run.sh) tailed by logferry (parser =
# nginx_combined) and shipped to a sink; one agent run per output configuration, with the
# file output on the same input as the baseline of the ratios (so a busy machine shows in
# both); medians of the repetitions. Source it with the script's arguments,
#   . "$(dirname "$0")/out_lib.sh" "$@"; shift $(( $# > 3 ? 3 : $# ))
# which sets B (BUILD_DIR, default build), N (LINES, 1000000) and REPS (3); what follows
# them is the script's extra output lines.
#
#   ob_setup TAG BINARY...        checks $B/BINARY exist, makes the work dir $W (removed on
#                                 exit with the agent and sink), writes $W/logs/access.log
#   ob_run NAME COUNT_FN BIN_DIR OUTPUT_LINE...
#                                 one run of BIN_DIR/logferry from a clean data_dir, until
#                                 COUNT_FN says N arrived; appends "NAME events/s CPU-s/M
#                                 RSS-MiB" (CPU: utime+stime of the agent only) to $W/results
#   ob_run_file                   the baseline: the file output, as ob_run "file"
#   ob_sink CMD...                (re)starts the sink CMD... with --port-file $W/port-like
#                                 arguments given by the caller; waits for $W/port
#   ob_report [TARGETS_PY]        the median table against "file"; TARGETS_PY: a Python dict
#                                 {"name": (events_per_s, cpu_per_M or None)} to check
B=${1:-build}
N=${2:-1000000}
REPS=${3:-3}
SINK= AGENT=
ob_setup() {
    local tag=$1; shift
    for x in logferry "$@"; do
        [ -x "$B/$x" ] || { echo "build first: cmake --build $B (missing $B/$x)" >&2; exit 1; }
    done
    W=$(mktemp -d "/tmp/lfbench-$tag.XXXXXX")
    trap ob_cleanup EXIT
    mkdir -p "$W/logs"
    : >"$W/results"
    python3 "$(dirname "${BASH_SOURCE[0]}")/gen_nginx.py" --lines "$N" --out "$W/logs/access.log" >/dev/null
}
ob_cleanup() {
    [ -n "$AGENT" ] && kill -9 "$AGENT" 2>/dev/null
    [ -n "$SINK" ] && kill -9 "$SINK" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$W"
}
ob_sink() {
    [ -n "$SINK" ] && { kill -9 "$SINK" 2>/dev/null; wait "$SINK" 2>/dev/null || true; }
    rm -f "$W/port"
    "$@" 2>"$W/sink.log" & SINK=$!
    for _ in $(seq 100); do [ -s "$W/port" ] && break; sleep 0.05; done
}
ob_run() {
    local name=$1 count=$2 bin=$3; shift 3
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
    "$bin/logferry" -c "$W/agent.conf" 2>"$W/agent.log" & AGENT=$!
    limit=$(( $(date +%s) + 300 ))
    while [ "$($count)" -lt "$N" ]; do
        kill -0 "$AGENT" 2>/dev/null || { echo "agent died:" >&2; tail "$W/agent.log" >&2; exit 1; }
        [ "$(date +%s)" -lt "$limit" ] || { echo "gave up after 300 s: $($count) of $N" >&2; tail "$W/agent.log" >&2; exit 1; }
        sleep 0.02
    done
    t1=$(date +%s%N)
    read -r ut stt < <(awk '{print $14, $15}' "/proc/$AGENT/stat")
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$AGENT/status")
    kill -TERM "$AGENT"; wait "$AGENT" || true; AGENT=
    awk -v name="$name" -v n="$N" -v ns=$((t1 - t0)) -v cpu=$((ut + stt)) \
        -v tck="$(getconf CLK_TCK)" -v hwm="$hwm" 'BEGIN {
        printf "%s %.0f %.3f %.1f\n", name, n / (ns / 1e9), cpu / tck * 1e6 / n, hwm / 1024 }' >>"$W/results"
}
ob_file_count() { [ -f "$W/out.ndjson" ] && wc -l <"$W/out.ndjson" || echo 0; }
ob_run_file() { ob_run file ob_file_count "$B" "[output file]" "path = $W/out.ndjson"; }
ob_report() {
    local targets=${1:-}
    python3 - "$W/results" "${targets:-"{}"}" <<'PY'
import ast, sys, statistics, collections
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
for name, (eps, cpu) in ast.literal_eval(sys.argv[2]).items():
    if name in rows:
        e = statistics.median(r[0] for r in rows[name]); c = statistics.median(r[1] for r in rows[name])
        ok = e >= eps and (cpu is None or c <= cpu)
        print(f"target {name}: >= {eps:,} events/s" + (f", <= {cpu} CPU-s/M" if cpu else "") + f": {'PASS' if ok else 'MISS'}")
PY
}
