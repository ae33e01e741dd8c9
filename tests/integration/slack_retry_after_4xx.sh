#!/bin/bash
# labels: slack
# timeout: 120
#   retry_after_honoured: the stand-in answers the first message 429 with Retry-After: 3;
#     the agent posts again no sooner than 3 s later, and that message also carries the
#     lines that matched meanwhile (N× adds up);
#   refused_4xx_logged_with_answer: a webhook answering 404 no_service is logged with Slack's
#     answer and the masked webhook, never the secret; the undelivered count is reported at
#     shutdown instead of vanishing.
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/slack_lib.sh"
lf_setup
run_phase() { # plan -> starts stand-in + agent
    rm -f "$T/slack.jsonl"
    slack_standin "" --plan "$1"
    rm -rf "$T/data"/* "$T/logs"/* "$T/out"/*
    cat >"$T/agent.conf" <<CONF
$(slack_conf_agent)
shutdown_timeout = 8s
$(slack_conf_web)
[output file]
path = $T/out/events.ndjson
[output slack]
webhook_url = $(slack_url)
window = 60s
CONF
    : >"$T/logs/access.log"
    : >"$T/agent.log"
    start_agent "$T/agent.conf"
    wait_for "grep -q 'reading $T/logs/access.log' $T/agent.log" 10 || fail "agent did not open the log"
}
line() { printf '10.1.2.3 - - [26/Nov/2026:05:00:00 +0000] "GET %s HTTP/1.1" %s 12 "-" "curl"\n' "$1" "$2" >>"$T/logs/access.log"; }

# --- 429 with Retry-After
run_phase "429:3"
line /a 500
wait_for "[ -f $T/slack.jsonl ] && [ \$(wc -l <$T/slack.jsonl) -ge 1 ]" 20 || fail "first attempt not posted"
line /b 502
line /c 503
wait_for "[ \$(wc -l <$T/slack.jsonl) -ge 2 ]" 20 || fail "no retry after the 429"
python3 - "$T/slack.jsonl" <<'PY' || fail "Retry-After not honoured"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
gap = (r[1]["mono_ns"] - r[0]["mono_ns"]) / 1e9
print(f"429 then retry after {gap:.2f} s: {json.loads(r[1]['body'])['text'][:100]}")
assert r[0]["status"] == 429 and r[1]["status"] == 200, r
assert gap >= 2.95, gap
assert json.loads(r[1]["body"])["text"].startswith("3× "), r[1]["body"][:200]
PY
grep -q "answered 429 (rate limited), Retry-After 3 s" "$T/agent.log" || fail "429 not logged"
stop_agent
grep -q "SECRETxTOKEN" "$T/agent.log" && fail "secret printed"

# --- 404 no_service
run_phase "404*100"
line /a 500
wait_for "grep -q 'no_service' $T/agent.log" 20 || fail "4xx answer not logged"
grep -q 'refused the message: HTTP 404 no_service' "$T/agent.log" || fail "4xx log lacks Slack's answer"
grep -q 'http://127.0.0.1:[0-9]*/…xxQ7\|http://127.0.0.1:[0-9]*/…' "$T/agent.log" || fail "webhook not named by its masked form"
stop_agent
grep -q "1 matching line(s) were never posted" "$T/agent.log" || fail "undelivered alert not reported at shutdown"
grep -q "SECRETxTOKEN" "$T/agent.log" && fail "secret printed"
[ "$(count_events "$T/out/events.ndjson")" = 1 ] || fail "file output did not ship the line"
echo PASS
