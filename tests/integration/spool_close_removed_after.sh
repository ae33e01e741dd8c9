#!/bin/bash
# labels: spool;es
# timeout: 120
#   close_removed_after_frees_deleted_file: Elasticsearch is down and its output has no spool
#   (spool = 0), so reading stops once the in-flight budget is spent, with most of app.log
#   unread. app.log is deleted: after close_removed_after (2 s) the agent closes it, logs an
#   error with the bytes given up and counts them, and the deleted file's space is freed (no
#   descriptor of the agent points at it any more). The agent goes on: once Elasticsearch is
#   back, every line of a new file arrives exactly once, and the lines of app.log that were
#   read before the deletion arrive too.
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/es_lib.sh"
lf_setup
es_start; port=$ES_PORT; es_stop
es_conf "$T/agent.conf" "bulk_max_events = 500" "spool = 0"
sed -i 's/^\[input app\]/queue_max_events = 2000\nqueue_max_bytes = 1MiB\n&/' "$T/agent.conf"
sed -i '/^start_at = beginning/a close_removed_after = 2s' "$T/agent.conf"
gen_lines "$T/logs/app.log" 1 50000
start_agent "$T/agent.conf"
wait_for "grep -q '_bulk to .* failed' $T/agent.log" 20 || fail "the outage was not seen"
wait_for "ls -l /proc/$AGENT_PID/fd | grep -q app.log" 10 || fail "app.log not opened"
rm "$T/logs/app.log"
wait_for "grep -q 'close_removed_after' $T/agent.log" 20 || fail "the deleted file was not closed"
line=$(grep 'bytes unread after close_removed_after' "$T/agent.log" | head -n 1)
echo "$line"
echo "$line" | grep -q ERROR || fail "not logged as an error"
lost=$(echo "$line" | sed -n 's/.* with \([0-9]*\) bytes unread.*/\1/p')
[ -n "$lost" ] && [ "$lost" -gt 0 ] || fail "no byte count given"
ls -l "/proc/$AGENT_PID/fd" | grep -q 'app.log (deleted)' && fail "the deleted file is still open"
gen_lines "$T/logs/new.log" 1 3000 new
es_start --port "$port"
wait_for "[ \$(es_stat created) -ge 3000 ]" 60 || fail "only $(es_stat created) indexed after the server came back"
wait_for "python3 - $T/es/store.ndjson <<'PY'
import sys, json
n = sum(1 for l in open(sys.argv[1]) if json.loads(l).get('message', '').startswith('new '))
sys.exit(0 if n >= 3000 else 1)
PY" 60 || fail "new.log not delivered"
stop_agent
seq_check "$T/es/store.ndjson" 1 3000 --tag new || fail "new.log: lost or duplicated"
# app.log: what was read before the deletion arrives; what was given up is what the log said
python3 - "$T/es/store.ndjson" "$lost" <<'PY' || fail "app.log lines read before the deletion are missing"
import json, re, sys
got = set()
for l in open(sys.argv[1]):
    m = re.match(r"line (\d+) ", json.loads(l).get("message", ""))
    if m:
        got.add(int(m.group(1)))
last = max(got) if got else 0
holes = [i for i in range(1, last + 1) if i not in got]
per_line = len("line 25000 lorem ipsum dolor sit amet\n")
print(f"app.log: lines 1..{last} delivered, {len(holes)} holes; {50000 - last} lines given up "
      f"(~{(50000 - last) * per_line} bytes; the log said {sys.argv[2]})")
sys.exit(1 if holes or last == 0 else 0)
PY
echo "PASS spool_close_removed_after"
