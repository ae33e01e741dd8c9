#!/bin/bash
# labels: slack
# timeout: 90
# [output webhook]: the Slack output's alerts as generic JSON POSTed to a URL (the stand-in
# records the bodies), in the real agent:
#   webhook_first_with_cause_and_group: the first 500 of /api/orders/<id> arrives as
#     {"kind":"first","count":1,"group":{"host.name":"was-1","url.path":"/api/orders/{id}"},
#      "cause":{"type":"java.lang.NullPointerException",...,"frames":[own frames]},"text":...};
#   webhook_summary_counts: the other 4 lines of the group arrive as one "summary" with
#     count 4, statuses {"500":4} and the causes counted;
#   webhook_rate_firing: a second webhook output with `threshold = 3` posts "firing" with
#     rate.matching >= 3 and its group;
#   kibana_link: with kibana_url, the first alert carries a Discover link on its host and path;
#   hostile text stays data: <!channel> in the path is kept as is inside JSON strings, and
#     every body is valid JSON.
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/slack_lib.sh"
lf_setup
slack_standin _a
slack_standin _b
cat >"$T/agent.conf" <<CONF
$(slack_conf_agent)
$(slack_conf_web)
$(slack_conf_app 50ms)
[output webhook]
webhook_url = http://127.0.0.1:$(cat "$T/port_a")/hooks/alerts?token=SECRETxTOKENxQ7
window = 60s
min_interval = 0
cause_from = app
kibana_url = https://kibana.example
[output webhook rate]
webhook_url = http://127.0.0.1:$(cat "$T/port_b")/hooks/rate
threshold = 3
window = 10s
min_interval = 0
CONF
: >"$T/logs/access.log"; : >"$T/logs/app.log"
start_agent "$T/agent.conf"
wait_for "grep -q 'reading $T/logs/app.log' $T/agent.log" 10 || fail "agent did not open the logs"
python3 - "$T/logs" <<'PY' || fail "writer"
import sys, time, datetime
d = sys.argv[1]
for i in range(5):
    now = datetime.datetime.now(datetime.timezone.utc)
    with open(f"{d}/access.log", "a") as f:
        f.write(f'10.1.2.3 - - [{now.strftime("%d/%b/%Y:%H:%M:%S +0000")}] "GET /api/orders/{100+i}?x=<!channel> HTTP/1.1" 500 12 "-" "gen"\n')
    time.sleep(0.02)
    t = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
    with open(f"{d}/app.log", "a") as f:
        f.write(f"{t} ERROR 4242 --- [orders] [exec-{i}] c.s.OrderController : failed\n"
                "java.lang.NullPointerException: order is null\n"
                "\tat org.springframework.Foo.bar(Foo.java:1)\n"
                "\tat com.shop.OrderService.place(OrderService.java:42)\n")
    time.sleep(0.2)
PY
sleep 1
stop_agent
python3 - "$T/slack_a.jsonl" "$T/slack_b.jsonl" <<'PY' || fail "webhook JSON"
import json, sys
a = [json.loads(json.loads(l)["body"]) for l in open(sys.argv[1])]
b = [json.loads(json.loads(l)["body"]) for l in open(sys.argv[2])]
for x in a + b: print(json.dumps(x)[:300])
assert [x["kind"] for x in a] == ["first", "summary"], [x["kind"] for x in a]
f, s = a
assert f["count"] == 1 and f["group"] == {"host.name": "was-1", "url.path": "/api/orders/{id}"}, f
assert f["cause"]["type"] == "java.lang.NullPointerException" and f["cause"]["message"] == "order is null", f
assert f["cause"]["frames"] == ["com.shop.OrderService.place(OrderService.java:42)"], f
assert f["path"].startswith("/api/orders/100") and f["text"].startswith("1× HTTP 500 on was-1"), f
assert s["count"] == 4 and s["statuses"] == {"500": 4}, s
assert f["kibana"].startswith("https://kibana.example/app/discover#/?_g=%28time%3A%28from%3A"), f["kibana"]
assert "url.path%3A%22%2Fapi%2Forders%2F100%22" in f["kibana"], f["kibana"]
assert s["causes"] == [{"cause": "NullPointerException at OrderService.java:42", "count": 4}], s
assert "<!channel>" in f["line"], f["line"]  # data, not Slack mrkdwn
assert "<!channel>" not in f["text"]          # the Slack fallback text never has it raw
fire = [x for x in b if x["kind"] == "firing"]
assert len(fire) == 1 and fire[0]["rate"]["matching"] >= 3 and fire[0]["rate"]["threshold"] == "3", b
assert fire[0]["group"] == {"host.name": "was-1", "url.path": "/api/orders/{id}"}, fire[0]
PY
grep -q "SECRETxTOKEN" "$T/agent.log" && fail "the webhook's token was printed"
echo "PASS slack_webhook_json"
