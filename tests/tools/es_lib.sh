# es_lib.sh - helpers for tests/integration/es_*.sh; source after tests/integration/lib.sh.
# (Kept out of tests/integration/ so CMake does not register it as a test.)
#
#   es_start [--port N] [stand-in args]   starts tests/tools/es_standin.py storing created
#                                        documents in $T/es/store.ndjson (+ .ids); sets
#                                        ES_PORT, ES_PID
#   es_stop                              kill -9 the stand-in (its .ids file keeps the _ids)
#   es_stat KEY                          a counter of GET /_standin/stats
#   es_config JSON                       POST /_standin/config (change behaviour at run time)
#   es_conf FILE [extra output lines]    writes an agent.conf: [input app] over $T/logs/*.log,
#                                        [output elasticsearch] to ES_PORT
: "${SRC_DIR:?SRC_DIR must point at the source tree}"
ES_STANDIN="$SRC_DIR/tests/tools/es_standin.py"
ES_PORT=
ES_PID=
es_start() {
    local port=0
    if [ "${1:-}" = --port ]; then port=$2; shift 2; fi
    mkdir -p "$T/es"
    rm -f "$T/es/port"
    python3 "$ES_STANDIN" --port "$port" --port-file "$T/es/port" --store "$T/es/store.ndjson" \
        "$@" >>"$T/es/standin.log" 2>&1 &
    ES_PID=$!
    LF_BG_PIDS="${LF_BG_PIDS:-} $ES_PID"
    wait_for "[ -s $T/es/port ]" 10 || fail "stand-in did not start"
    ES_PORT=$(cat "$T/es/port")
}
es_stop() {
    [ -n "$ES_PID" ] || return 0
    kill -9 "$ES_PID" 2>/dev/null
    wait "$ES_PID" 2>/dev/null
    ES_PID=
}
es_stat() {
    curl -sf "http://127.0.0.1:$ES_PORT/_standin/stats" |
        python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"
}
es_config() {
    curl -sf -X POST -d "$1" "http://127.0.0.1:$ES_PORT/_standin/config" >/dev/null ||
        fail "stand-in config $1 refused"
}
es_conf() {
    local f=$1; shift
    {
        cat <<CONF
[agent]
name = es-test
data_dir = $T/data
registry_flush = 200ms
shutdown_timeout = 5s
[input app]
paths = $T/logs/*.log
start_at = beginning
[output elasticsearch]
hosts = ${ES_HOSTS:-http://127.0.0.1:$ES_PORT}
index = logs-%Y.%m.%d
backoff_init = 20ms
backoff_max = 300ms
flush_interval = 100ms
connect_timeout = 2s
timeout = 10s
CONF
        for l in "$@"; do echo "$l"; done
    } >"$f"
}
