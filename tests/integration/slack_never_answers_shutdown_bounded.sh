#!/bin/bash
# labels: slack
# timeout: 150
# Shutdown is bounded whatever Slack does (issue 21 item 2). The webhook stand-in reads the
# POST and never answers (plan "hang"); Slack's own `timeout` is 60 s.
#   sigterm_bounded_by_shutdown_timeout: shutdown_timeout = 2s: the agent exits 0 within
#     shutdown_timeout + 3 s of SIGTERM (before: 28.5 s, the Slack transfer was joined), says
#     how many alert lines were never posted, and the file output has every line exactly once.
#   second_sigterm_ends_the_flush: shutdown_timeout = 60s: the drain is over at once (Slack
#     acks in send) and the Slack flush waits for the hung POST; a second SIGTERM ends it
#     (exit 0 within 5 s of it; before, signals were not read once the loop had exited).
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/slack_lib.sh"
lf_setup
slack_standin "" --plan "hang*1000"
write_conf() { # shutdown_timeout
    cat >"$T/agent.conf" <<CONF
[agent]
data_dir = $T/data
shutdown_timeout = $1
[input app]
paths = $T/logs/app.log
$(slack_conf_web)
[output file]
path = $T/out/events.ndjson
[output slack]
webhook_url = $(slack_url)
window = 1s
timeout = 60s
CONF
}
web_5xx() { # N lines
    python3 - "$T/logs/access.log" "$1" <<'PY'
import sys
with open(sys.argv[1], "a") as f:
    for j in range(int(sys.argv[2])):
        f.write(f'10.0.0.{j % 250} - - [26/Nov/2026:05:00:00 +0000] "POST /api/pay HTTP/1.1" 502 0 "-" "x"\n')
PY
}
posts() { [ -f "$T/slack.jsonl" ] && wc -l <"$T/slack.jsonl" || echo 0; }
: >"$T/logs/access.log"

# --- SIGTERM, shutdown_timeout 2s
write_conf 2s
start_agent "$T/agent.conf"
gen_lines "$T/logs/app.log" 1 1000
web_5xx 5
wait_for "[ \$(count_events $T/out/events.ndjson) -ge 1005 ]" 20 || fail "file output did not get every line"
wait_for "[ \$(posts) -ge 1 ]" 20 || fail "no POST reached the webhook"
stop_timed TERM
echo "SIGTERM with a webhook that never answers: exit $STOP_RC after $STOP_MS ms (shutdown_timeout 2000 ms, Slack timeout 60000 ms)"
[ "$STOP_RC" = 0 ] || fail "exit status $STOP_RC"
[ "$STOP_MS" -le 5000 ] || fail "shutdown took $STOP_MS ms, over shutdown_timeout + 3 s"
grep -q "never posted" "$T/agent.log" || fail "the alert lines never posted are not reported"
grep -q "SECRETxTOKEN" "$T/agent.log" && fail "the webhook token was printed"
seq_check "$T/out/events.ndjson" 1 1000 || fail "file output lost or duplicated lines"

# --- second SIGTERM while the Slack flush waits
write_conf 60s
before=$(posts)
start_agent "$T/agent.conf"
web_5xx 5
wait_for "[ \$(posts) -gt $before ]" 20 || fail "no POST reached the webhook after the restart"
kill -TERM "$AGENT_PID"
wait_for "grep -q 'draining 0 batch' $T/agent.log" 10 || fail "the drain did not start"
sleep 1
kill -0 "$AGENT_PID" 2>/dev/null || fail "agent should still wait for Slack (shutdown_timeout 60s)"
stop_timed TERM
echo "second SIGTERM while the Slack flush waits: exit $STOP_RC after $STOP_MS ms"
[ "$STOP_RC" = 0 ] || fail "exit status $STOP_RC after the second SIGTERM"
[ "$STOP_MS" -le 5000 ] || fail "the second SIGTERM took $STOP_MS ms to end the flush"
grep -q "second signal" "$T/agent.log" || fail "no second-signal message"
seq_check "$T/out/events.ndjson" 1 1000 || fail "file output lost or duplicated lines"
echo PASS
