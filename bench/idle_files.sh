#!/usr/bin/env bash
# idle_files.sh - what idle tracked files cost the tail loop (issue 13 item 4): a wake-up
# should cost what is active, not what is tracked.
#
#   bench/idle_files.sh [--seconds S] [--rate N] [--idle N] [--many N]
#   env: LOGFERRY=/path/to/logferry (default build/logferry)
#        BEFORE=/path/to/an older logferry (adds its figures, same invocation, for comparison)
#        TORTURE_WRITER=/path/to/torture_writer (default build/torture_writer)
#
# Three cases per binary, one after the other (never in parallel), each with a fresh
# data_dir, output file (the file output) and glob DIR/*.log, max_open_files above the count:
#   busy alone   one file written at RATE lines/s (default 100,000) for S seconds (default
#                10): CPU-seconds of the agent (utime+stime, all threads, /proc/PID/stat)
#                from the writer's start until every line is in the output; per million lines.
#   busy + idle  the same beside IDLE (default 5,000) idle files (one line each, opened and
#                shipped before the writer starts). Target: at most 1.1x the CPU per line of
#                the busy file alone (ratio of the two, same binary, same invocation).
#   many idle    MANY (default 10,000) idle files, nothing written: CPU-seconds over S
#                seconds once they are all shipped. Target: under 0.1 CPU-s per 10 s.
# Wake-ups/s: the tail thread's voluntary context switches (each is a sleep that ended; from
# /proc/PID/task/PID/status) over the measured window, divided by its length.
# The machine's load is printed (uptime): on a shared machine report ratios and CPU-seconds.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
SECS=10 RATE=100000 IDLE=5000 MANY=10000
while [ $# -gt 0 ]; do
    case $1 in
    --seconds) SECS=$2; shift ;;
    --rate) RATE=$2; shift ;;
    --idle) IDLE=$2; shift ;;
    --many) MANY=$2; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "idle_files.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
LOGFERRY=${LOGFERRY:-$ROOT/build/logferry}
TW=${TORTURE_WRITER:-$ROOT/build/torture_writer}
for b in "$LOGFERRY" "$TW" ${BEFORE:+"$BEFORE"}; do
    [ -x "$b" ] || { echo "idle_files.sh: $b is not an executable (build first)" >&2; exit 2; }
done
W=$(mktemp -d /tmp/lf-idle.XXXXXX)
AGENT=
cleanup() { [ -n "$AGENT" ] && kill -9 "$AGENT" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
cpu_ticks() { awk '{ sub(/.*\) /, ""); split($0, f, " "); print f[12] + f[13] }' "/proc/$1/stat"; }
switches() { awk '/^voluntary_ctxt_switches/ { n += $2 } END { print n + 0 }' "/proc/$1/task/$1/status"; }
lines() { [ -f "$1" ] && wc -l <"$1" | tr -d ' ' || echo 0; }
wait_lines() { # FILE N SECS
    local end=$(( $(now_ms) + $3 * 1000 ))
    while [ "$(lines "$1")" -lt "$2" ]; do
        [ "$(now_ms)" -lt "$end" ] || return 1
        sleep 0.1
    done
}
CLK=$(getconf CLK_TCK)

# start BIN NIDLE: fresh dirs, NIDLE idle files, agent started, every idle line shipped.
start() {
    rm -rf "$W/run"; mkdir -p "$W/run/logs" "$W/run/data"
    python3 - "$W/run/logs" "$2" <<'PY'
import sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    with open(f"{d}/idle{i}.log", "w") as f:
        f.write(f"idle {i} nothing more will be written here\n")
PY
    cat >"$W/run/agent.conf" <<EOF
[agent]
data_dir = $W/run/data
max_open_files = $(( $2 + 100 ))

[input t]
paths = $W/run/logs/*.log

[output file]
path = $W/run/out.ndjson
EOF
    "$1" -c "$W/run/agent.conf" >"$W/run/agent.log" 2>&1 &
    AGENT=$!
    wait_lines "$W/run/out.ndjson" "$2" 120 || { echo "agent did not ship the idle files" >&2; exit 1; }
    sleep 2 # the first registry writes and rescans settle
}
stop() { kill -TERM "$AGENT"; wait "$AGENT" 2>/dev/null; AGENT=; }

# busy BIN NIDLE -> "cpu_s wakes_per_s"
busy() {
    start "$1" "$2"
    local n=$(( RATE * SECS )) c0 s0 t0 c1 s1 t1
    c0=$(cpu_ticks "$AGENT"); s0=$(switches "$AGENT"); t0=$(now_ms)
    "$TW" -f "$W/run/logs/busy.log" -r "$RATE" -n "$n" -t busy -R none >/dev/null 2>&1
    wait_lines "$W/run/out.ndjson" $(( n + $2 )) 300 || echo "  (not all lines arrived)" >&2
    c1=$(cpu_ticks "$AGENT"); s1=$(switches "$AGENT"); t1=$(now_ms)
    stop
    awk -v c=$(( c1 - c0 )) -v k="$CLK" -v s=$(( s1 - s0 )) -v t=$(( t1 - t0 )) \
        'BEGIN { printf "%.2f %.0f\n", c / k, s * 1000 / t }'
}

# idle BIN NIDLE -> "cpu_s_per_SECS wakes_per_s"
idle() {
    start "$1" "$2"
    local c0 s0 t0 c1 s1 t1
    c0=$(cpu_ticks "$AGENT"); s0=$(switches "$AGENT"); t0=$(now_ms)
    sleep "$SECS"
    c1=$(cpu_ticks "$AGENT"); s1=$(switches "$AGENT"); t1=$(now_ms)
    stop
    awk -v c=$(( c1 - c0 )) -v k="$CLK" -v s=$(( s1 - s0 )) -v t=$(( t1 - t0 )) \
        'BEGIN { printf "%.2f %.1f\n", c / k, s * 1000 / t }'
}

echo "idle_files: ${SECS}s at ${RATE} lines/s; ${IDLE} idle beside the busy file; ${MANY} idle alone"
echo "load before: $(uptime)"
for bin in "$LOGFERRY" ${BEFORE:+"$BEFORE"}; do
    read -r a_cpu a_wk < <(busy "$bin" 0)
    read -r b_cpu b_wk < <(busy "$bin" "$IDLE")
    read -r i_cpu i_wk < <(idle "$bin" "$MANY")
    n=$(( RATE * SECS ))
    awk -v bin="$bin" -v n="$n" -v a="$a_cpu" -v aw="$a_wk" -v b="$b_cpu" -v bw="$b_wk" \
        -v i="$i_cpu" -v iw="$i_wk" -v idle="$IDLE" -v many="$MANY" -v secs="$SECS" 'BEGIN {
        printf "%s\n", bin
        printf "  busy alone:            %.2f CPU-s, %.2f CPU-s per M lines, %s wake-ups/s\n", a, a * 1e6 / n, aw
        printf "  busy + %5d idle:      %.2f CPU-s, %.2f CPU-s per M lines, %s wake-ups/s\n", idle, b, b * 1e6 / n, bw
        r = a > 0 ? b / a : 0
        printf "  ratio (target <= 1.10): %.2f  %s\n", r, r <= 1.10 ? "PASS" : "MISS"
        printf "  %5d idle, %ds:       %.2f CPU-s (%.3f per 10 s; target < 0.1: %s), %s wake-ups/s\n",
            many, secs, i, i * 10 / secs, i * 10 / secs < 0.1 ? "PASS" : "MISS", iw
    }'
done
echo "load after: $(uptime)"
