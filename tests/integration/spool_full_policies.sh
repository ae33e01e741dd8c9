#!/bin/bash
# labels: spool;es
# timeout: 300
#   spool_full_block_pauses_reading / spool_full_drop_oldest_drops_counted /
#   spool_write_fails_on_full_tmpfs: Elasticsearch is down while 20,000 lines (about 9 MiB of
#   events) are written, next to a file output that works.
#   block (spool = 1MiB): the spool never holds more than its size, reading pauses (the file
#     output has not got every line during the outage), and once Elasticsearch is back both
#     outputs have every line exactly once.
#   drop_oldest (spool = 4MiB): reading goes on (the file output gets every line during the outage), the
#     dropped events are counted in /metrics and logged, and Elasticsearch ends with every line
#     but exactly those (none twice).
#   data_dir on a full tmpfs (root only; skipped otherwise): the spool write fails, is
#     counted, the batches stay in memory (reading pauses), and once Elasticsearch is back
#     every line arrives exactly once.
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/es_lib.sh"
lf_setup
es_start; port=$ES_PORT; es_stop
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
metric() { curl -sf "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" 'index($0, m "{output=\"elasticsearch\"") == 1 {print $2}'; }
conf() { # conf SPOOL_FULL SPOOL DATA_DIR
    es_conf "$T/agent.conf" "bulk_max_events = 500" "spool = $2" "spool_full = $1"
    sed -i "s|^data_dir = .*|data_dir = $3|; s/^\[input app\]/http_listen = 127.0.0.1:$PORT\nqueue_max_events = 4000\nqueue_max_bytes = 2MiB\n&/" "$T/agent.conf"
    printf '[output file]\npath = %s\n' "$T/out/file.ndjson" >>"$T/agent.conf"
}
reset() { rm -rf "$T/logs"/* "$T/out"/* "$T/es" "$T/data"; mkdir -p "$T/data"; }

# block
conf block 1MiB "$T/data"
gen_lines "$T/logs/app.log" 1 20000
start_agent "$T/agent.conf"
wait_for "[ -n \"\$(metric logferry_output_spool_bytes)\" ] && [ \$(metric logferry_output_spool_bytes) -gt 0 ]" 30 || fail "block: nothing spooled"
sleep 4
du=$(du -sk "$T/data/spool/elasticsearch" | cut -f1)
got=$(count_events "$T/out/file.ndjson")
echo "block: spool ${du} KiB on disk (spool = 1MiB), file output has $got of 20000 during the outage"
[ "$du" -le 1024 ] || fail "block: the spool holds $du KiB, more than its size"
[ "$got" -lt 20000 ] || fail "block: reading did not pause"
es_start --port "$port"
wait_for "[ \$(es_stat created) -ge 20000 ]" 90 || fail "block: only $(es_stat created) indexed"
wait_for "[ \$(count_events $T/out/file.ndjson) -ge 20000 ]" 30 || fail "block: file output short"
stop_agent
seq_check "$T/es/store.ndjson" 1 20000 || fail "block: Elasticsearch lost or duplicated lines"
seq_check "$T/out/file.ndjson" 1 20000 || fail "block: file output lost or duplicated lines"
es_stop

# drop_oldest
reset
conf drop_oldest 4MiB "$T/data"
gen_lines "$T/logs/app.log" 1 20000
start_agent "$T/agent.conf"
wait_for "[ \$(count_events $T/out/file.ndjson) -ge 20000 ]" 60 ||
    fail "drop_oldest: reading did not go on ($(count_events "$T/out/file.ndjson") of 20000)"
wait_for "[ -n \"\$(metric logferry_output_spool_events_dropped_total)\" ] && [ \$(metric logferry_output_spool_events_dropped_total) -gt 0 ]" 30 ||
    fail "drop_oldest: no drop counted"
dropped=$(metric logferry_output_spool_events_dropped_total)
grep -q "spool_full = drop_oldest): dropped" "$T/agent.log" || fail "drop_oldest: the drop was not logged"
es_start --port "$port"
dropped=$(metric logferry_output_spool_events_dropped_total)
wait_for "[ \$(es_stat created) -ge $((20000 - dropped)) ]" 90 || fail "drop_oldest: only $(es_stat created) indexed of $((20000 - dropped))"
sleep 1
stop_agent
python3 - "$T/es/store.ndjson" "$dropped" <<'PY' || fail "drop_oldest: Elasticsearch is not every line but the dropped ones"
import collections, json, re, sys
cnt = collections.Counter()
for l in open(sys.argv[1]):
    m = re.match(r"line (\d+) ", json.loads(l).get("message", ""))
    if m:
        cnt[int(m.group(1))] += 1
missing = [i for i in range(1, 20001) if not cnt[i]]
dups = sum(c - 1 for c in cnt.values() if c > 1)
print(f"drop_oldest: {int(sys.argv[2])} events counted as dropped, {len(missing)} lines missing, {dups} duplicates")
sys.exit(0 if len(missing) == int(sys.argv[2]) and dups == 0 else 1)
PY
seq_check "$T/out/file.ndjson" 1 20000 || fail "drop_oldest: file output lost or duplicated lines"
es_stop

# data_dir on a full tmpfs
reset
mkdir -p "$T/small"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=512k tmpfs "$T/small" 2>/dev/null; then
    echo "PASS spool_full_policies (block, drop_oldest; full tmpfs skipped: needs root and mount)"
    exit 0
fi
small_cleanup() {
    [ -n "${AGENT_PID:-}" ] && kill -9 "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
    AGENT_PID=
    umount "$T/small" 2>/dev/null
    lf_cleanup
}
trap small_cleanup EXIT
conf block 64MiB "$T/small"
gen_lines "$T/logs/app.log" 1 20000
start_agent "$T/agent.conf"
wait_for "[ -n \"\$(metric logferry_output_spool_write_errors_total)\" ] && [ \$(metric logferry_output_spool_write_errors_total) -gt 0 ]" 30 ||
    fail "tmpfs: no spool write error counted"
grep -q "spool elasticsearch: cannot write" "$T/agent.log" || fail "tmpfs: the write error was not logged"
kill -0 "$AGENT_PID" || fail "tmpfs: the agent died"
es_start --port "$port"
wait_for "[ \$(es_stat created) -ge 20000 ]" 90 || fail "tmpfs: only $(es_stat created) indexed"
wait_for "[ \$(count_events $T/out/file.ndjson) -ge 20000 ]" 30 || fail "tmpfs: file output short"
stop_agent
seq_check "$T/es/store.ndjson" 1 20000 || fail "tmpfs: Elasticsearch lost or duplicated lines"
seq_check "$T/out/file.ndjson" 1 20000 || fail "tmpfs: file output lost or duplicated lines"
echo "PASS spool_full_policies"
