#!/bin/bash
# labels: slack
# timeout: 90
# Issue 16, with the shipped defaults: no cause_wait, no multiline.timeout in agent.conf.
# The application answers 500, then logs its exception (ERROR line and stack trace, one
# write) 100 ms later, and then nothing: its multiline event is complete only when
# multiline.timeout (1 s) has passed, later than cause_wait (300 ms). The first alert must
# still carry the cause (it waits cause_wait + the cause input's multiline.timeout).
#   late_exception_in_first_alert: the alert of GET /api/late names the exception;
#   alert_lines_counted: the N× of all messages add up to the 5xx lines written (1), and the
#     app's own event is never posted.
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/slack_lib.sh"
lf_setup
slack_standin
{
    slack_conf_agent
    slack_conf_web
    slack_conf_app
    printf '[output slack]\nwebhook_url = %s\nwindow = 60s\ncause_from = app\n' "$(slack_url)"
} >"$T/agent.conf"
: >"$T/logs/access.log"; : >"$T/logs/app.log"
start_agent "$T/agent.conf"
wait_for "grep -q 'reading $T/logs/app.log' $T/agent.log" 10 || fail "agent did not open the logs"
python3 - "$T/logs" <<'PY' || fail "writer"
import datetime, sys, time
now = lambda: datetime.datetime.now(datetime.timezone.utc)
with open(sys.argv[1] + "/access.log", "a") as f:
    f.write(f'10.1.2.3 - - [{now():%d/%b/%Y:%H:%M:%S +0000}] "GET /api/late HTTP/1.1" 500 12 "-" "curl/8"\n')
time.sleep(0.1)
t = now().isoformat(timespec="milliseconds")
rec = (f"{t} ERROR 4242 --- [orders] [nio-8080-exec-1] c.s.o.OrderController    : Request failed\n"
       "java.lang.IllegalStateException: stock below zero\n"
       "\tat com.shop.orders.OrderService.place(OrderService.java:42)\n"
       "\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:883)\n")
open(sys.argv[1] + "/app.log", "a").write(rec)
PY
wait_for "[ -s $T/slack.jsonl ]" 20 || fail "no alert posted"
sleep 0.5 # a second message (a summary) would come later; nothing else is expected
stop_agent
python3 - "$T/slack.jsonl" <<'PY' || fail "alert content"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
total = 0
for r in recs:
    assert r["status"] == 200, r
    b = json.loads(r["body"])
    total += int(b["text"].split("×")[0])
    assert "Request failed" not in b["text"].split("—")[0], b["text"]
first = json.loads(recs[0]["body"])["text"]
assert "GET /api/late " in first, first
assert "cause: IllegalStateException at OrderService.java:42: stock below zero" in first, first
assert total == 1, total
print("first alert:", first)
PY
echo "PASS slack_cause_default_late_exception"
