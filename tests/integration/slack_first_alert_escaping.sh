#!/bin/bash
# labels: slack
# timeout: 120
# The Slack output inside the running agent, against the webhook stand-in:
#   first_alert_reaches_webhook: one HTTP 500 line in a tailed nginx log is posted as
#     "1× HTTP 500 on was-1 ..." with service, client, method, path and the line;
#   hostile_content_is_inert: <!channel>, <@U123>, <https://x|y> in the path and the user
#     agent arrive escaped (&lt;...&gt;) in every text of the message, never raw;
#   window_summary_at_shutdown: later lines of the group are posted as one summary when the
#     agent stops, and the N× of all messages add up to the 5xx lines written;
#   secret_never_printed: the webhook URL (given through ${SLACK_WEBHOOK_URL}) is absent from
#     the agent's output; the file output ships every line.
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/slack_lib.sh"
lf_setup
slack_standin
export SLACK_WEBHOOK_URL="$(slack_url)"
cat >"$T/agent.conf" <<CONF
$(slack_conf_agent)
$(slack_conf_web)
fields.service.name = shop
[output file]
path = $T/out/events.ndjson
[output slack]
webhook_url = \${SLACK_WEBHOOK_URL}
window = 60s
CONF
: >"$T/logs/access.log"
start_agent "$T/agent.conf"
wait_for "grep -q 'reading $T/logs/access.log' $T/agent.log" 10 || fail "agent did not open the log"
hostile='10.1.2.3 - - [26/Nov/2026:05:00:00 +0000] "GET /api/<!channel>/<https://x|y> HTTP/1.1" 500 12 "-" "<@U123> <!here> <https://evil|click>"'
printf '%s\n' "$hostile" >>"$T/logs/access.log"
wait_for "[ -f $T/slack.jsonl ] && [ \$(wc -l <$T/slack.jsonl) -ge 1 ]" 20 || fail "first alert not posted"
python3 - "$T/slack.jsonl" <<'PY' || fail "first alert content"
import json, sys
r = json.loads(open(sys.argv[1]).readline())
assert r["status"] == 200, r
body = json.loads(r["body"])
texts = [body["text"]]
for b in body["blocks"]:
    if "text" in b: texts.append(b["text"]["text"])
    texts += [f["text"] for f in b.get("fields", [])] + [e["text"] for e in b.get("elements", [])]
alltext = "\n".join(texts)
assert body["text"].startswith("1× HTTP 500 on was-1: GET /api/&lt;!channel&gt;/&lt;https://x|y&gt; from 10.1.2.3 (service shop"), body["text"]
for bad in ["<!channel>", "<@U123>", "<https://x|y>", "<!here>", "<https://evil|click>"]:
    assert bad not in alltext, (bad, alltext)
assert "<" not in alltext and ">" not in alltext, alltext
for want in ["*Service*\nshop", "*Client*\n10.1.2.3", "*Method*\nGET", "*Status*\n500",
             "&lt;@U123&gt; &lt;!here&gt; &lt;https://evil|click&gt;", "```10.1.2.3 - - "]:
    assert want in alltext, (want, alltext)
print("first alert ok:", body["text"])
PY
# three more 5xx of the same group and two 200s: folded until the window ends (at stop)
for i in 1 2 3; do
    printf '10.1.2.3 - - [26/Nov/2026:05:00:0%d +0000] "GET /api/<!channel>/<https://x|y> HTTP/1.1" 503 12 "-" "curl"\n' "$i" >>"$T/logs/access.log"
done
printf '10.1.2.3 - - [26/Nov/2026:05:00:05 +0000] "GET /ok HTTP/1.1" 200 12 "-" "curl"\n%.0s' 1 2 >>"$T/logs/access.log"
wait_for "[ \$(count_events $T/out/events.ndjson) -ge 6 ]" 20 || fail "file output did not ship 6 events"
sleep 0.5
[ "$(python3 "$STANDIN" --report "$T/slack.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')" = 1 ] \
    || fail "lines within the window were posted before the window ended"
stop_agent
python3 "$STANDIN" --report "$T/slack.jsonl" >"$T/report.json"
cat "$T/report.json"
python3 - "$T/report.json" <<'PY' || fail "counts"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["sum"] == 4 and r["delivered"] == 2 and not r["failed"] and not r["violations"], r
assert r["texts"][1].startswith("3× HTTP 503 on was-1 in the last 60 s"), r["texts"][1]
PY
[ "$(count_events "$T/out/events.ndjson")" = 6 ] || fail "file output has $(count_events "$T/out/events.ndjson") events, want 6"
if grep -q "SECRETxTOKEN" "$T/agent.log"; then fail "webhook secret printed in the agent's output"; fi
echo "PASS"
