#!/bin/bash
# labels: slack
# timeout: 200
# file_output_unaffected_while_slack_fails: the webhook answers 500 for 50 s. Meanwhile the
#   agent tails 20,000 numbered application lines and 300 nginx 5xx lines; the file output
#   ships every one of them exactly once while Slack is still failing (send() acks at once,
#   the Slack thread retries on its own), and once Slack recovers the messages' N× add up to
#   exactly the 300 5xx lines (nothing lost, nothing double-counted across the retries).
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/slack_lib.sh"
lf_setup
slack_standin "" --plan "500@50"
cat >"$T/agent.conf" <<CONF
$(slack_conf_agent)
[input app]
paths = $T/logs/app.log
$(slack_conf_web)
[output file]
path = $T/out/events.ndjson
[output slack]
webhook_url = $(slack_url)
window = 2s
CONF
: >"$T/logs/app.log"
: >"$T/logs/access.log"
start_agent "$T/agent.conf"
wait_for "grep -q 'reading $T/logs/access.log' $T/agent.log" 10 || fail "agent did not open the logs"
python3 - "$T/logs" <<'PY'
import sys, time
d = sys.argv[1]
with open(d + "/app.log", "a") as app, open(d + "/access.log", "a") as web:
    for burst in range(10):
        for k in range(2000):
            i = burst * 2000 + k + 1
            app.write(f"line {i} lorem ipsum dolor sit amet\n")
        for k in range(30):
            j = burst * 30 + k
            web.write(f'10.0.0.{j % 250} - - [26/Nov/2026:05:00:{burst:02d} +0000] '
                      f'"POST /api/pay{j % 3} HTTP/1.1" {500 + j % 4} 0 "-" "x"\n')
        app.flush(); web.flush()
        time.sleep(0.5)
PY
wait_for "[ \$(count_events $T/out/events.ndjson) -ge 20300 ]" 30 || fail "file output stalled while Slack fails"
python3 "$STANDIN" --report "$T/slack.jsonl" >"$T/r1.json"
python3 - "$T/r1.json" <<'PY' || fail "Slack was expected to be still failing"
import json, sys
r = json.load(open(sys.argv[1]))
print("while failing:", r["requests"], "requests, statuses", r["failed"])
assert r["delivered"] == 0 and r["requests"] >= 1 and set(r["failed"]) == {500}, r
PY
seq_check "$T/out/events.ndjson" 1 20000 || fail "application lines lost or duplicated"
wait_for "python3 $STANDIN --report $T/slack.jsonl | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)[\"sum\"] < 300)'" 100 \
    || fail "alerts not delivered after Slack recovered"
stop_agent
python3 "$STANDIN" --report "$T/slack.jsonl" >"$T/r2.json"
python3 - "$T/r2.json" <<'PY' || fail "alert counts after recovery"
import json, sys
r = json.load(open(sys.argv[1]))
print("after recovery:", r["delivered"], "messages, sum", r["sum"], "failed", len(r["failed"]))
for t in r["texts"]: print("  ", t[:140])
assert r["sum"] == 300 and not r["violations"], r
PY
grep -q "SECRETxTOKEN" "$T/agent.log" && fail "secret printed"
echo PASS
