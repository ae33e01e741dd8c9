#!/bin/bash
# es.sh - Elasticsearch output throughput: LINES nginx access-log lines tailed by logferry
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
python3 - "$W/logs/access.log" "$N" <<'PY'
import random, sys
random.seed(42)
paths = ["/", "/index.html", "/api/v1/orders", "/api/v1/orders/%d", "/static/app.%d.js",
         "/login", "/search?q=shoes&page=%d", "/health", "/api/v1/users/%d/cart"]
agents = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0 Safari/537.36",
          "curl/7.88.1", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"]
st = [200] * 90 + [301, 304, 404, 404, 500, 502, 503, 200, 200, 201]
with open(sys.argv[1], "w") as f:
    n = int(sys.argv[2])
    out = []
    for i in range(n):
        p = random.choice(paths)
        if "%d" in p: p = p % random.randint(1, 99999)
        out.append('10.%d.%d.%d - - [26/Nov/2026:05:%02d:%02d +0000] "GET %s HTTP/1.1" %d %d "-" "%s" %d.%03d\n' % (
            random.randint(0, 255), random.randint(0, 255), random.randint(1, 254), (i // 60000) % 60,
            (i // 1000) % 60, p, random.choice(st), random.randint(100, 50000), random.choice(agents),
            0, random.randint(1, 999)))
        if len(out) == 10000:
            f.write("".join(out)); out = []
    f.write("".join(out))
PY
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
