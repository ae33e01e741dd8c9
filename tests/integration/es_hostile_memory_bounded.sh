#!/bin/bash
# labels: es;hostile
# timeout: 300
#   es_hostile_server_cannot_grow_memory (issue 21 item 3): with workers = 16, a _bulk
#     endpoint answers gzip bombs (200 KiB inflating to 200 MiB), the same bomb as deflate and
#     as gzip twice, endless chunked bodies, 4 MiB of tiny JSON values, garbage, partial
#     answers, redirects to another host and a storm of 401s, then behaves. Every line is
#     then indexed exactly once; peak RSS (VmHWM) stays within README's bound,
#     queue_max_bytes + 48 MiB + workers x (2 x bulk_max_bytes + 16 KiB + 1 KiB x
#     bulk_max_events), and so does RSS once the server behaves; the refusals are counted
#     (responses_refused); the API key appears in no log line, /status, /healthz or the
#     status page.
# Env: LF_HOSTILE_PLAN overrides the plan (to measure one kind alone).
. "$(dirname "$0")/lib.sh"
lf_setup
N=20000
SECRET="hostileSECRETapikey0123456789"
PLAN=${LF_HOSTILE_PLAN:-gzip_bomb:64,deflate:16,double_gzip:16,chunked:16,values:8,garbage:16,partial:16,redirect:16,unauthorized:48,ok}
python3 "$SRC_DIR/tests/tools/es_hostile.py" --port-file "$T/es.port" --store "$T/store.ndjson" \
    --plan "$PLAN" >"$T/es.log" 2>&1 &
ES_PID=$!
LF_BG_PIDS="$ES_PID"
wait_for "[ -s $T/es.port ]" 60 || fail "hostile stand-in did not start"
PORT=$(cat "$T/es.port")
HTTP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$T/agent.conf" <<CONF
[agent]
name = hostile
data_dir = $T/data
registry_flush = 200ms
shutdown_timeout = 5s
http_listen = 127.0.0.1:$HTTP_PORT
[input app]
paths = $T/logs/*.log
start_at = beginning
[output elasticsearch]
hosts = http://127.0.0.1:$PORT
api_key = $SECRET
index = logs-%Y.%m.%d
workers = 16
bulk_max_events = 200
bulk_max_bytes = 1MiB
backoff_init = 20ms
backoff_max = 200ms
flush_interval = 100ms
timeout = 5s
CONF
gen_lines "$T/logs/app.log" 1 $N
start_agent "$T/agent.conf"
created() { curl -sf "http://127.0.0.1:$PORT/_hostile/stats" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["created"])'; }
wait_for "[ \$(created) -ge $N ]" 240 || fail "only $(created) of $N indexed"
sleep 1
hwm_kib=$(awk '/^VmHWM/ {print $2}' /proc/$AGENT_PID/status)
rss_kib=$(awk '/^VmRSS/ {print $2}' /proc/$AGENT_PID/status)
for path in /status /healthz /metrics /; do
    curl -s "http://127.0.0.1:$HTTP_PORT$path" >"$T/http$(echo "$path" | tr / _).out"
done
refused=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["outputs"][0]["responses_refused"])' "$T/http_status.out")
stop_agent
echo "by kind: $(curl -sf "http://127.0.0.1:$PORT/_hostile/stats")"
seq_check "$T/store.ndjson" 1 $N || fail "lines lost or duplicated"
# README: queue_max_bytes (16 MiB) + 48 MiB + 16 x (2 x 1 MiB + 16 KiB + 1 KiB x 200)
bound_kib=$(( 16 * 1024 + 48 * 1024 + 16 * (2 * 1024 + 16 + 200) ))
echo "peak RSS ${hwm_kib} KiB, RSS after ${rss_kib} KiB, bound ${bound_kib} KiB, responses_refused $refused"
[ "$hwm_kib" -le "$bound_kib" ] || fail "peak RSS $hwm_kib KiB over the bound $bound_kib KiB"
[ "$rss_kib" -le "$bound_kib" ] || fail "RSS $rss_kib KiB over the bound once the server behaves"
if [ -z "${LF_HOSTILE_PLAN:-}" ]; then
    [ "$refused" -ge 64 ] || fail "responses_refused = $refused: the bombs were not refused"
fi
grep -rl "$SECRET" "$T/agent.log" "$T"/http_*.out && fail "the API key was printed"
grep -q "responses_refused" "$T/http_metrics.out" || fail "responses_refused not in /metrics"
echo "PASS es_hostile_memory_bounded"
