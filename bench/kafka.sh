#!/bin/bash
# bench/kafka.sh - nginx access lines into Kafka: logferry beside syslog-ng's kafka-c() and
# rsyslog's omkafka, each into a fresh mock Kafka cluster (tests/tools/mock_kafka: librdkafka's
# mock broker, 1 broker, topic "bench" with 4 partitions), on the same input, in the same run.
#
#   bench/kafka.sh [N] [which...]        N lines (default 1000000); which: logferry syslog-ng
#                                        rsyslog (default: all that are installed), or
#                                        output: the Kafka output alone (bench/kafka/out_bench.c,
#                                        raw lines, no tail), built here against liblfoutputs.a + liblfbase.a
#   BUILD_DIR=build  LF_KAFKA_EXTRA="kafka.linger.ms = 50" (more [output kafka] lines)
#   RSYSLOG_ROOT=/path (an rsyslog tree from `apt-get download rsyslog
#   rsyslog-kafka` + `dpkg -x`, when rsyslog cannot be installed beside syslog-ng)
#
# "Delivered" means acknowledged by the broker: the mock keeps only its newest few MiB per
# partition, so we count with the partitions' high watermarks (sum = messages the broker
# accepted), polled every 100 ms, not by consuming. For each shipper: wall time from start
# until the watermarks reach N, events/s, CPU-seconds per million lines (utime+stime of the
# shipper's process from /proc at that moment), and peak RSS (VmHWM). The mock broker's own
# CPU is not counted. Self-contained: it generates its input with bench/kafka/gen_nginx.py.
#
# Parsing: logferry uses `parser = nginx_combined` when this build has it, raw lines otherwise
# (the line says which); syslog-ng uses apache-accesslog-parser(), rsyslog mmnormalize
# (liblognorm) with a combined-log rule; all three send one JSON object per line.
set -u
cd "$(dirname "$0")/.."
SRC=$PWD
N=${1:-1000000}
shift || true
WHICH=${*:-logferry syslog-ng rsyslog}
BUILD_DIR=${BUILD_DIR:-$SRC/build}
LF=$BUILD_DIR/logferry
MOCK=$BUILD_DIR/mock_kafka
[ -x "$LF" ] && [ -x "$MOCK" ] || { echo "build first: cmake --build $BUILD_DIR (needs logferry and mock_kafka)"; exit 1; }
W=$(mktemp -d /tmp/lfbench-kafka.XXXXXX)
INPUT=/tmp/lfbench-nginx-$N.log
MOCK_PID= SHIP_PID=
cleanup() {
    [ -n "$SHIP_PID" ] && kill -9 "$SHIP_PID" 2>/dev/null
    [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
trap "echo bench/kafka.sh: interrupted by a signal >&2; exit 1" TERM INT HUP PIPE
[ -s "$INPUT" ] || python3 bench/kafka/gen_nginx.py "$N" "$INPUT"
CLK=$(getconf CLK_TCK)

mock_start() {
    rm -f "$W/ctl" "$W/boot" "$W/mock.out"
    mkfifo "$W/ctl"
    "$MOCK" -b 1 -t bench:4 -o "$W/boot" -c "$W/ctl" >"$W/mock.out" 2>&1 &
    MOCK_PID=$!
    for _ in $(seq 100); do [ -s "$W/boot" ] && break; sleep 0.05; done
    BOOT=$(cat "$W/boot")
}
mock_stop() { echo quit >"$W/ctl"; wait "$MOCK_PID" 2>/dev/null; MOCK_PID=; }
delivered() {
    rm -f "$W/wm"
    echo "wm bench $W/wm" >"$W/ctl"
    for _ in $(seq 100); do [ -s "$W/wm" ] && break; sleep 0.01; done
    awk '/^total/ {print $2}' "$W/wm" 2>/dev/null
}
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# measure NAME CMD...: runs CMD (a foreground shipper), waits for N acknowledged messages.
measure() {
    local name=$1; shift
    mock_start
    local t0; t0=$(now_ms)
    "$@" >"$W/$name.log" 2>&1 &
    SHIP_PID=$!
    local got=0 last=-1 last_change=$t0 deadline=$(( t0 + 600000 ))
    while [ "$(now_ms)" -lt $deadline ]; do
        got=$(delivered); got=${got:-0}
        [ "$got" -ge "$N" ] && break
        if [ "$got" != "$last" ]; then
            last=$got last_change=$(now_ms)
        elif [ $(( $(now_ms) - last_change )) -gt 15000 ]; then
            NOTE="$NOTE STALLED: no progress for 15 s (lines dropped?)"
            break
        fi
        kill -0 "$SHIP_PID" 2>/dev/null || { echo "$name died:"; tail -5 "$W/$name.log"; break; }
        sleep 0.1
    done
    local t1; t1=$(now_ms)
    local cpu rss
    cpu=$(awk -v c="$CLK" '{print ($14 + $15) / c}' "/proc/$SHIP_PID/stat" 2>/dev/null)
    rss=$(awk '/VmHWM/ {print $2}' "/proc/$SHIP_PID/status" 2>/dev/null)
    kill -TERM "$SHIP_PID" 2>/dev/null
    wait "$SHIP_PID" 2>/dev/null
    SHIP_PID=
    mock_stop
    local secs; secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print (b - a) / 1000}')
    awk -v n="$name" -v g="$got" -v N="$N" -v s="$secs" -v c="${cpu:-0}" -v r="${rss:-0}" -v note="$NOTE" 'BEGIN {
        printf "%-10s %9d/%d acked  %7.2f s  %9.0f events/s  %6.2f CPU-s/M  peak RSS %6.1f MiB  %s\n",
               n, g, N, s, g / s, c / (N / 1e6), r / 1024, note }'
}

run_logferry() {
    local parser="" conf=$W/lf.conf
    NOTE="(raw lines: no nginx_combined parser in this build)"
    cat >"$W/probe.conf" <<CONF
[agent]
data_dir = $W/lf-probe
[input nginx]
paths = $INPUT
parser = nginx_combined
[output kafka]
brokers = 127.0.0.1:9
topic = bench
CONF
    if "$LF" check -c "$W/probe.conf" >/dev/null 2>&1; then
        parser="parser = nginx_combined"
        NOTE="(parser = nginx_combined)"
    fi
    rm -rf "$W/lf-data"
    cat >"$conf" <<CONF
[agent]
name = bench
data_dir = $W/lf-data
shutdown_timeout = 5s

[input nginx]
paths = $INPUT
start_at = beginning
$parser

[output kafka]
brokers = @BOOT@
topic = bench
${LF_KAFKA_EXTRA:-}
CONF
    lf_cmd() { sed "s#@BOOT@#$BOOT#" "$conf" >"$conf.run" && exec "$LF" -c "$conf.run"; }
    measure logferry lf_cmd
}

run_syslog_ng() {
    command -v syslog-ng >/dev/null || { echo "syslog-ng: not installed (syslog-ng-core syslog-ng-mod-rdkafka syslog-ng-scl)"; return; }
    # Without flags(flow-control) syslog-ng drops what overflows the destination's
    # log-fifo-size (seen: 42% of 100,000 lines "dropped" in syslog-ng-ctl stats), so the
    # comparison is against its no-loss setting.
    NOTE="(apache-accesslog-parser, kafka-c, flow-control)"
    sng_cmd() {
        cat >"$W/sng.conf" <<CONF
@version: 3.38
@include "scl.conf"
options { threaded(yes); stats-freq(0); use-dns(no); keep-hostname(yes); log-msg-size(65536); };
source s_nginx { file("$INPUT" flags(no-parse) follow-freq(1) log-fetch-limit(10000) log-iw-size(100000)); };
parser p_nginx { apache-accesslog-parser(prefix(".nginx.")); };
destination d_kafka { kafka-c(bootstrap-servers("$BOOT") topic("bench")
    config("linger.ms" => "10") message("\$(format-json --scope nv-pairs --key .nginx.* MESSAGE=\$MESSAGE)")); };
log { source(s_nginx); parser(p_nginx); destination(d_kafka); flags(flow-control); };
CONF
        exec syslog-ng -F -f "$W/sng.conf" --persist-file="$W/sng.persist" \
            --pidfile="$W/sng.pid" --control="$W/sng.ctl" --no-caps
    }
    rm -f "$W/sng.persist"
    measure syslog-ng sng_cmd
}

run_rsyslog() {
    local rs=rsyslogd moddir=""
    if [ -n "${RSYSLOG_ROOT:-}" ]; then
        rs=$RSYSLOG_ROOT/usr/sbin/rsyslogd
        moddir=$RSYSLOG_ROOT/usr/lib/x86_64-linux-gnu/rsyslog
    fi
    command -v "$rs" >/dev/null || { echo "rsyslog: not installed (rsyslog rsyslog-kafka, or RSYSLOG_ROOT)"; return; }
    NOTE="(mmnormalize/liblognorm, omkafka)"
    rs_cmd() {
        mkdir -p "$W/rs-work"
        cat >"$W/rs.conf" <<'CONF'
global(workDirectory="@W@/rs-work" maxMessageSize="64k")
module(load="imfile" mode="inotify")
module(load="mmnormalize")
module(load="omkafka")
template(name="json" type="list") { property(name="$!all-json") }
input(type="imfile" file="@INPUT@" tag="nginx" ruleset="r" freshStartTail="off")
ruleset(name="r" queue.type="LinkedList" queue.size="100000" queue.dequeueBatchSize="1024") {
  action(type="mmnormalize" rule=["rule=:%clientip:word% %ident:word% %auth:word% [%timestamp:char-to:]%] \"%verb:word% %request:word% HTTP/%httpversion:char-to:\"%\" %status:number% %bytes:number% \"%referrer:char-to:\"%\" \"%agent:char-to:\"%\""])
  action(type="omkafka" broker=["@BOOT@"] topic="bench" template="json"
         confParam=["linger.ms=10"])
}
CONF
        sed -i "s#@W@#$W#; s#@INPUT@#$INPUT#; s#@BOOT@#$BOOT#" "$W/rs.conf"
        if [ -n "$moddir" ]; then
            exec "$rs" -n -f "$W/rs.conf" -i "$W/rs.pid" -M "$moddir"
        else
            exec "$rs" -n -f "$W/rs.conf" -i "$W/rs.pid"
        fi
    }
    rm -rf "$W/rs-work"
    measure rsyslog rs_cmd
}

run_output_only() {
    local libs
    libs=$(pkg-config --libs rdkafka libpcre2-8 libcurl jansson inih libdeflate zlib openssl) || return
    cc -O2 -D_GNU_SOURCE -I"$SRC" -o "$W/out_bench" bench/kafka/out_bench.c \
        "$BUILD_DIR/liblfoutputs.a" "$BUILD_DIR/liblfbase.a" $libs -linotifytools -lpthread -lm || return
    mock_start
    "$W/out_bench" "$BOOT" bench "$N" "$INPUT"
    mock_stop
}

echo "bench/kafka.sh: $N nginx lines ($(du -h "$INPUT" | cut -f1)), $(nproc) CPUs, $(date -u +%FT%TZ)"
for w in $WHICH; do
    case $w in
    logferry) run_logferry ;;
    syslog-ng) run_syslog_ng ;;
    rsyslog) run_rsyslog ;;
    output) run_output_only ;;
    *) echo "unknown shipper $w" ;;
    esac
done
