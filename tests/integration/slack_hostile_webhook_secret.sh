#!/bin/bash
# labels: slack;hostile
# timeout: 120
#   slack_query_token_never_printed (issue 21 item 5): webhook_url = http://host:port?token=X
#     (no path: the shape that was printed whole) is named only as http://127.0.0.1:PORT/… in
#     the log, /status, /healthz, /metrics and the status page, through a 302 to another host
#     (not followed) and a 200 with a 5 MB body; the alert counts still add up and the file
#     output gets every numbered line exactly once; peak RSS stays within README's bound
#     (queue_max_bytes 16 MiB + 48 MiB: there is no Elasticsearch output).
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/slack_lib.sh"
lf_setup
SECRET="slackSECRETqueryTOKEN42"
python3 "$SRC_DIR/tests/tools/slack_hostile.py" --port-file "$T/port" --record "$T/slack.jsonl" \
    --plan "302,big,302,big" >/dev/null 2>&1 &
LF_BG_PIDS="$!"
wait_for "[ -s $T/port ]" 10 || fail "stand-in did not start"
HTTP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$T/agent.conf" <<CONF
[agent]
name = was-1
data_dir = $T/data
shutdown_timeout = 8s
http_listen = 127.0.0.1:$HTTP_PORT
$(slack_conf_web)
[output file]
path = $T/out/events.ndjson
[output slack]
webhook_url = http://127.0.0.1:$(cat "$T/port")?token=$SECRET
window = 60s
min_interval = 100ms
CONF
: >"$T/logs/access.log"
start_agent "$T/agent.conf"
wait_for "grep -q 'reading $T/logs/access.log' $T/agent.log" 10 || fail "agent did not open the log"
N=400
for i in $(seq 1 $N); do
    printf '10.1.2.3 - - [26/Nov/2026:05:00:00 +0000] "GET /line-%d HTTP/1.1" %s 12 "-" "curl"\n' \
        "$i" $([ $((i % 4)) = 0 ] && echo 503 || echo 200)
done >>"$T/logs/access.log"
wait_for "[ \$(count_events $T/out/events.ndjson) -ge $N ]" 20 || fail "file output incomplete"
# 302, big, 302, big, then ok: the 100 matching lines are delivered once the webhook says ok
wait_for "grep -c '\"status\": 200' $T/slack.jsonl | grep -qv '^[01]$'" 60 || fail "no alert delivered"
for path in /status /healthz /metrics /; do
    curl -s "http://127.0.0.1:$HTTP_PORT$path" >"$T/http$(echo "$path" | tr / _).out"
done
hwm_kib=$(awk '/^VmHWM/ {print $2}' /proc/$AGENT_PID/status)
stop_agent
python3 - "$T/out/events.ndjson" $N <<'PY' || fail "file output lost or duplicated lines"
import json, re, sys, collections
c = collections.Counter()
for l in open(sys.argv[1]):
    m = re.search(r"/line-(\d+) ", json.loads(l)["message"])
    c[int(m.group(1))] += 1
n = int(sys.argv[2])
missing = [i for i in range(1, n + 1) if c[i] == 0]
dups = sum(v - 1 for v in c.values() if v > 1)
print(f"file output: {n - len(missing)} of {n}, {len(missing)} missing, {dups} duplicated")
sys.exit(1 if missing or dups else 0)
PY
python3 - "$T/slack.jsonl" <<'PY' || fail "alert counts do not add up to the 100 matching lines"
import json, re, sys
r = [json.loads(l) for l in open(sys.argv[1])]
total = sum(int(re.match(r"(\d+)×", json.loads(x["body"])["text"]).group(1))
            for x in r if x["status"] == 200 and x["body"])
print(f"{len(r)} requests, statuses {[x['status'] for x in r]}, lines covered {total}")
sys.exit(0 if total == 100 else 1)
PY
echo "token in: log $(grep -c "$SECRET" "$T/agent.log") lines, $(for f in "$T"/http_*.out; do
    printf '%s %s, ' "$(basename "$f" .out)" "$(grep -c "$SECRET" "$f")"; done)"
grep -l "$SECRET" "$T/agent.log" "$T"/http_*.out && fail "the webhook token was printed"
grep -q "http://127.0.0.1:[0-9]*/…" "$T/agent.log" || fail "webhook not named by its masked form"
grep -q "answered HTTP 302" "$T/agent.log" || fail "the redirect was not reported as a failure to retry"
echo "peak RSS $hwm_kib KiB"
[ "$hwm_kib" -le $(((16 + 48) * 1024)) ] || fail "peak RSS $hwm_kib KiB over the bound"
echo "PASS slack_hostile_webhook_secret"
