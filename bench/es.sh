#!/bin/bash
# es.sh - Elasticsearch output throughput: LINES nginx access-log lines (bench/gen_nginx.py,
# the same input as bench/run.sh) tailed by logferry
# (parser = nginx_combined), shipped with the elasticsearch output to tests/tools/bulk_sink
# (a keep-alive HTTP/1.1 _bulk endpoint that only counts and answers "errors":false), so the
# figures are logferry's: events/s from start until the sink has counted every document,
# CPU-seconds per million events (utime+stime of the agent), and its peak RSS (VmHWM).
#
#   bench/es.sh [BUILD_DIR] [LINES] ["extra output line" ...]
#   e.g. bench/es.sh build 1000000
#        bench/es.sh build 1000000 "compression = gzip" "workers = 4"
# Defaults: build, 1000000. Run it on a quiet machine; the lead records the figures.
set -eu
B=${1:-build}
N=${2:-1000000}
shift $(( $# > 2 ? 2 : $# ))
for x in logferry bulk_sink; do
    [ -x "$B/$x" ] || { echo "build first: cmake --build $B (missing $B/$x)" >&2; exit 1; }
done
W=$(mktemp -d /tmp/lfbench-es.XXXXXX)
SINK= AGENT=
cleanup() {
    [ -n "$AGENT" ] && kill -9 "$AGENT" 2>/dev/null
    [ -n "$SINK" ] && kill -9 "$SINK" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W/logs" "$W/data"
python3 "$(dirname "$0")/gen_nginx.py" --lines "$N" --out "$W/logs/access.log" >/dev/null
"$B/bulk_sink" -f "$W/port" & SINK=$!
for _ in $(seq 100); do [ -s "$W/port" ] && break; sleep 0.05; done
PORT=$(cat "$W/port")
{
    cat <<CONF
[agent]
data_dir = $W/data
[input nginx]
paths = $W/logs/access.log
start_at = beginning
parser = nginx_combined
[output elasticsearch]
hosts = http://127.0.0.1:$PORT
index = logs-%Y.%m.%d
CONF
    for l in "$@"; do echo "$l"; done
} >"$W/agent.conf"
count() { curl -sf "http://127.0.0.1:$PORT/_sink/stats" | sed 's/.*"docs":\([0-9]*\).*/\1/'; }
t0=$(date +%s%N)
"$B/logferry" -c "$W/agent.conf" 2>"$W/agent.log" & AGENT=$!
limit=$(( $(date +%s) + 300 ))
while [ "$(count)" -lt "$N" ]; do
    kill -0 "$AGENT" 2>/dev/null || { echo "agent died:" >&2; tail "$W/agent.log" >&2; exit 1; }
    [ "$(date +%s)" -lt "$limit" ] || { echo "gave up after 300 s: the sink counted $(count) of $N" >&2; tail "$W/agent.log" >&2; exit 1; }
    sleep 0.02
done
t1=$(date +%s%N)
read -r ut stt < <(awk '{print $14, $15}' "/proc/$AGENT/stat")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$AGENT/status")
tck=$(getconf CLK_TCK)
kill -TERM "$AGENT"; wait "$AGENT" || true; AGENT=
awk -v n="$N" -v ns=$((t1 - t0)) -v cpu=$((ut + stt)) -v tck="$tck" -v hwm="$hwm" -v extra="$*" 'BEGIN {
    s = ns / 1e9; c = cpu / tck;
    printf "elasticsearch output%s: %d events in %.2f s = %.0f events/s, %.2f CPU-s per million, peak RSS %.1f MiB\n",
        (extra != "" ? " (" extra ")" : ""), n, s, n / s, c * 1e6 / n, hwm / 1024 }'
