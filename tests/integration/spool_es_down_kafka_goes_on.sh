#!/bin/bash
# labels: spool;es;kafka;no-asan
# timeout: 600
# processors: 2
# (not under ASan: its spool paths run there in spool_corruption_restart and
# spool_full_policies; this one is three processes at full rate for ~3 minutes)
#   spool_es_down_kafka_goes_on: a writer appends SPOOL_RATE (default 4,000 in CI; the issue's
#   scale, about 7 minutes here: SPOOL_RATE=20000 SPOOL_OUTAGE=20) numbered lines/s
#   to app.log, renamed to app.log.K every 2 s, and renamed files older than 3 s are deleted,
#   while the agent ships to Kafka (librdkafka's mock cluster) and Elasticsearch (stand-in).
#   Elasticsearch goes down for SPOOL_OUTAGE seconds (default 12): its batches go to its disk
#   spool, Kafka goes on. The agent is killed with SIGKILL in the middle of the outage and
#   again while the spool drains after Elasticsearch is back, and restarted each time; the
#   writer stops when Elasticsearch is back (the Python stand-in indexes a few thousand
#   documents a second on a busy machine: the drain of ~500,000 lines takes minutes).
#   Asserted: Elasticsearch ends with every line exactly once (ids are deterministic), Kafka
#   with every line (a kill re-sends what was in flight); the spool's disk use, sampled every
#   second, stays under its size; Kafka's rate during the outage is at least half its rate
#   before it (a loose floor against a Kafka held back by Elasticsearch; the figure is
#   printed, and bench-like precision is not asked of a shared machine). Without the spool
#   Kafka stops with Elasticsearch, and the rotated files deleted meanwhile lose their lines.
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/es_lib.sh"
. "$(dirname "$0")/kafka/mock.sh"
. "$(dirname "$0")/../tools/torture_lib.bash"
lf_setup
RATE=${SPOOL_RATE:-4000}
OUTAGE=${SPOOL_OUTAGE:-12}
SPOOL_MIB=512
mk_start 1 logs:16
# the mock cluster keeps about 5 MB a partition (its low watermark moves up): 16 partitions,
# read as they fill
kcat -C -u -b "$BOOT" -t logs -o beginning -q -f '%s\n' >"$T/kafka.ndjson" 2>"$T/kcat.err" &
LF_BG_PIDS="${LF_BG_PIDS:-} $!"
es_start; port=$ES_PORT
cat >"$T/agent.conf" <<CONF
[agent]
name = spool-test
data_dir = $T/data
registry_flush = 200ms
shutdown_timeout = 5s
[input app]
paths = $T/logs/app.log*
start_at = beginning
close_renamed = 1s
[output kafka]
brokers = $BOOT
topic = logs
[output elasticsearch]
hosts = http://127.0.0.1:$port
index = logs-%Y.%m.%d
backoff_init = 20ms
backoff_max = 500ms
flush_interval = 100ms
bulk_max_events = 2000
connect_timeout = 1s
timeout = 10s
spool = ${SPOOL_MIB}MiB
CONF
now_s() { date +%s.%N; }
rate_between() { python3 -c "import sys; a,b,t0,t1=map(float,sys.argv[1:]); print(int((b-a)/(t1-t0)))" "$@"; }
# the background chores: delete rotated files older than 3 s; sample the spool's disk use
( while sleep 1; do
      find "$T/logs" -name 'app.log.*' -not -newermt '-3 seconds' -delete 2>/dev/null
      du -sk "$T/data/spool/elasticsearch" 2>/dev/null | cut -f1 >>"$T/du.txt"
  done ) &
LF_BG_PIDS="${LF_BG_PIDS:-} $!"
start_agent "$T/agent.conf"
DUR=$(( (8 + OUTAGE + 2) * 1000 ))
"$(tt_writer_path)" -f "$T/logs/app.log" -r "$RATE" -d "$DUR" -R rename -i 2000 -t line \
    >"$T/writer.out" 2>&1 &
W=$!
LF_BG_PIDS="$LF_BG_PIDS $W"
sleep 3
k0=$(mk_total logs); t0=$(now_s)
sleep 5
k1=$(mk_total logs); t1=$(now_s)
normal=$(rate_between "$k0" "$k1" "$t0" "$t1")
echo "Kafka before the outage: $normal lines/s"
es_stop
echo "Elasticsearch down"
sleep 3
k2=$(mk_total logs); t2=$(now_s)
sleep $(( OUTAGE / 2 - 4 ))
k3=$(mk_total logs); t3=$(now_s)
during=$(rate_between "$k2" "$k3" "$t2" "$t3")
echo "Kafka during the outage: $during lines/s ($(( during * 100 / (normal > 0 ? normal : 1) )) % of before)"
wait_for "ls $T/data/spool/elasticsearch/*.seg" 5 || fail "nothing was spooled for Elasticsearch"
kill9_agent
echo "killed -9 in the outage"
start_agent "$T/agent.conf"
sleep $(( OUTAGE / 2 ))
es_start --port "$port"
echo "Elasticsearch up"
wait_for "[ \$(es_stat created) -ge 1 ]" 30 || fail "nothing indexed after Elasticsearch came back"
sleep 2
kill9_agent
echo "killed -9 in the drain ($(es_stat created) documents so far)"
start_agent "$T/agent.conf"
wait "$W"
written=$(tt_kv "$(cat "$T/writer.out")" written)
echo "writer: $(cat "$T/writer.out")"
[ -n "$written" ] || fail "writer did not report"
# (the stand-in's counters restart with it: count what it stored)
wait_for "[ \$(count_events $T/es/store.ndjson) -ge $written ]" 900 ||
    fail "Elasticsearch has $(count_events "$T/es/store.ndjson") of $written"
wait_for "[ \$(mk_total logs) -ge $written ]" 60 || fail "Kafka has $(mk_total logs) of $written"
wait_for "[ \$(count_events $T/kafka.ndjson) -ge \$(mk_total logs) ]" 60 || fail "kcat read $(count_events "$T/kafka.ndjson") of $(mk_total logs)"
sleep 2
stop_agent
maxdu=$(sort -n "$T/du.txt" | tail -n 1)
echo "spool disk use: at most $((maxdu / 1024)) MiB of $SPOOL_MIB MiB; $(ls "$T/data/spool/elasticsearch" | wc -l) segment(s) left"
[ "$maxdu" -lt $((SPOOL_MIB * 1024)) ] || fail "the spool used $maxdu KiB, over its size"
echo "Kafka: $(mk_total logs) messages for $written lines"
seq_check "$T/es/store.ndjson" 1 "$written" || fail "Elasticsearch: lines lost or duplicated"
seq_check "$T/kafka.ndjson" 1 "$written" --allow-dups || fail "Kafka: lines lost"
[ "$during" -ge $(( normal / 2 )) ] || fail "Kafka fell to $during lines/s during the outage (from $normal)"
echo "PASS spool_es_down_kafka_goes_on (Kafka during the outage: $during lines/s, before: $normal)"
