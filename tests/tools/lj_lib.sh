# lj_lib.sh - helpers for tests/integration/logstash_*.sh; source after tests/integration/lib.sh.
# (Kept out of tests/integration/ so CMake does not register it as a test.)
#
#   lj_start NAME [--port N] [stand-in args]   starts $BUILD_DIR/lj_standin as server NAME,
#                                             storing ACKed events in $T/lj/NAME.ndjson; sets
#                                             LJ_PORT_<NAME> and LJ_PID_<NAME>
#   lj_stop NAME                              kill -9 the stand-in
#   lj_stat NAME KEY                          a counter of its stats file (windows, events...)
#   lj_count NAME                             events in its store
#   lj_conf FILE HOSTS [extra output lines]   writes an agent.conf: [input app] over
#                                             $T/logs/*.log, [output logstash] to HOSTS
#                                             (timeout = $LJ_TIMEOUT, default 3s)
#   lj_certs                                  makes $T/pki: ca.pem, server.pem/key (CN and
#                                             SAN 127.0.0.1 and localhost), client.pem/key,
#                                             other-ca.pem, expired.pem/key (all openssl)
: "${BUILD_DIR:?BUILD_DIR must point at the build directory}"
lj_start() {
    local name=$1 port=0; shift
    if [ "${1:-}" = --port ]; then port=$2; shift 2; fi
    mkdir -p "$T/lj"
    rm -f "$T/lj/$name.port"
    "$BUILD_DIR/lj_standin" --port "$port" --port-file "$T/lj/$name.port" \
        --store "$T/lj/$name.ndjson" --stats "$T/lj/$name.stats" "$@" \
        >>"$T/lj/$name.log" 2>&1 &
    local pid=$!
    eval "LJ_PID_$name=$pid"
    LF_BG_PIDS="${LF_BG_PIDS:-} $pid"
    wait_for "[ -s $T/lj/$name.port ]" 10 || fail "stand-in $name did not start"
    eval "LJ_PORT_$name=$(cat "$T/lj/$name.port")"
}
lj_stop() {
    local pid
    eval "pid=\${LJ_PID_$1:-}"
    [ -n "$pid" ] || return 0
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    eval "LJ_PID_$1="
}
lj_stat() {
    python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" \
        "$T/lj/$1.stats" "$2" 2>/dev/null || echo 0
}
lj_count() {
    count_events "$T/lj/$1.ndjson"
}
lj_conf() {
    local f=$1 hosts=$2; shift 2
    {
        cat <<CONF
[agent]
name = lj-test
data_dir = $T/data
registry_flush = 200ms
shutdown_timeout = 5s
[input app]
paths = $T/logs/*.log
start_at = beginning
[output logstash]
hosts = $hosts
timeout = ${LJ_TIMEOUT:-3s}
backoff_init = 100ms
backoff_max = 500ms
CONF
        for l in "$@"; do echo "$l"; done
    } >"$f"
}
lj_certs() {
    local d=$T/pki
    mkdir -p "$d"
    (
        cd "$d" || exit 1
        q() { "$@" >/dev/null 2>&1 || { echo "openssl failed: $*" >&2; exit 1; }; }
        q openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
            -subj "/CN=lj test CA"
        q openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem \
            -days 2 -subj "/CN=some other CA"
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >server.ext
        q openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
            -subj "/CN=localhost"
        q openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
            -out server.pem -days 2 -extfile server.ext
        printf 'subjectAltName=DNS:elsewhere.example\n' >wrong.ext
        q openssl req -newkey rsa:2048 -nodes -keyout wrong.key -out wrong.csr \
            -subj "/CN=elsewhere.example"
        q openssl x509 -req -in wrong.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
            -out wrong.pem -days 2 -extfile wrong.ext
        q openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr \
            -subj "/CN=lj client"
        q openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
            -out client.pem -days 2
        # expired: -days -1 puts notAfter a day before notBefore (now), which OpenSSL
        # reports as "certificate has expired".
        q openssl req -newkey rsa:2048 -nodes -keyout expired.key -out expired.csr \
            -subj "/CN=localhost"
        openssl x509 -req -in expired.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
            -out expired.pem -extfile server.ext -days -1 >/dev/null 2>&1
    ) || fail "could not make test certificates"
}
