#!/bin/bash
# labels: es
# timeout: 150
# Commits made during a drain survive a SIGKILL sent during it (issue 21 item 2: a
# supervisor's SIGKILL when TimeoutStopSec runs out). Two Elasticsearch stand-ins:
#   "main" gets every event; "other" only the lines of other.log (when = message =~ "^other ").
# Both hold their _bulk requests. SIGTERM (shutdown_timeout = 60s), then "main" answers: every
# batch of app.log is now acknowledged by all outputs, while other.log's stay unanswered and
# the drain goes on. The registry must get app.log's offset during the drain (registry_flush
# 200ms), so after SIGKILL and a restart app.log's 1,000 lines are not shipped again (file
# output: every number exactly once; before: 1,000 duplicates); other.log's lines were never
# acknowledged and arrive at least once.
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/es_lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
es_start --hold
mkdir -p "$T/es2"
python3 "$ES_STANDIN" --port 0 --port-file "$T/es2/port" --store "$T/es2/store.ndjson" --hold \
    >>"$T/es2/standin.log" 2>&1 &
LF_BG_PIDS="${LF_BG_PIDS:-} $!"
wait_for "[ -s $T/es2/port ]" 10 || fail "second stand-in did not start"
ES2=http://127.0.0.1:$(cat "$T/es2/port")
es2_stat() { curl -sf "$ES2/_standin/stats" | python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
cat >"$T/agent.conf" <<CONF
[agent]
data_dir = $T/data
shutdown_timeout = 60s
registry_flush = 200ms
rescan_interval = 1h
[input app]
paths = $T/logs/*.log
start_at = beginning
[output file]
path = $T/out/events.ndjson
[output elasticsearch main]
hosts = http://127.0.0.1:$ES_PORT
index = logs-%Y.%m.%d
flush_interval = 100ms
timeout = 60s
[output elasticsearch other]
hosts = $ES2
index = other-%Y.%m.%d
flush_interval = 100ms
timeout = 60s
when = message =~ "^other "
CONF
gen_lines "$T/logs/app.log" 1 1000
gen_lines "$T/logs/other.log" 1 10 other
start_agent "$T/agent.conf"
wait_for "[ \$(count_events $T/out/events.ndjson) -ge 1010 ]" 20 || fail "file output did not get every line"
wait_for "[ \$(es_stat held) -ge 1 ] && [ \$(es2_stat held) -ge 1 ]" 20 || fail "no _bulk request open at both stand-ins"
kill -TERM "$AGENT_PID"
es_config '{"hold": false}'
wait_for "[ \$(es_stat created) -ge 1010 ]" 20 || fail "main did not index the held request"
size=$(stat -c %s "$T/logs/app.log")
# the registry is written every registry_flush (200 ms) during the drain; 10 s is generous
wait_for "[ \"\$(reg_offset $T/logs/app.log)\" = $size ]" 10 || echo "registry not at app.log's end 10 s after its acknowledgement"
kill -0 "$AGENT_PID" 2>/dev/null || fail "agent should still be draining (other.log unacknowledged, shutdown_timeout 60s)"
kill9_agent
curl -sf -X POST -d '{"hold": false}' "$ES2/_standin/config" >/dev/null || fail "stand-in config refused"
start_agent "$T/agent.conf"
wait_for "[ \$(es2_stat created) -ge 10 ]" 20 || fail "other.log's lines not delivered after the restart"
gen_lines "$T/logs/app.log" 1001 1100
wait_for "[ \$(es_stat created) -ge 1110 ]" 20 || fail "main did not get the new lines"
stop_agent
seq_check "$T/out/events.ndjson" 1 1100 || fail "app.log lines acknowledged during the drain were shipped again (or lost)"
seq_check "$T/out/events.ndjson" 1 10 --tag other --allow-dups || fail "other.log lines lost"
seq_check "$T/es2/store.ndjson" 1 10 --tag other || fail "other stand-in lost or duplicated lines"
echo PASS
