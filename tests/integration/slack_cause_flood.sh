#!/bin/bash
# labels: slack
# timeout: 120
# A flood of 500s whose causes are three exception classes, nginx and Spring Boot logs tailed
# as files by the real agent:
#   cause_flood_counts_exact: 90 requests answered 500 on /api/orders/<id>/items/<uuid>, each
#     followed 10 ms later by its exception (30 NullPointerException, 30 wrapping a
#     SQLTransientConnectionException, 30 IllegalArgumentException): the causes counted over
#     the first alert and the summary are exactly 30 of each, and the N× add up to 90;
#   path_ids_one_group: the ids in the paths make one group (/api/orders/{id}/items/{id}):
#     one first alert and one summary, no combined "(N groups)" message.
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/slack_lib.sh"
lf_setup
slack_standin
cat >"$T/agent.conf" <<CONF
$(slack_conf_agent)
$(slack_conf_web)
$(slack_conf_app 50ms)
[output slack]
webhook_url = $(slack_url)
window = 60s
min_interval = 0
cause_from = app
CONF
: >"$T/logs/access.log"; : >"$T/logs/app.log"
start_agent "$T/agent.conf"
wait_for "grep -q 'reading $T/logs/app.log' $T/agent.log" 10 || fail "agent did not open the logs"
python3 - "$T/logs" <<'PY' || fail "writer"
import sys, time, datetime, uuid
d = sys.argv[1]
CLS = [("java.lang.NullPointerException: order is null", "com.shop.OrderService.place(OrderService.java:42)", None),
       ("org.springframework.dao.DataAccessResourceFailureException: no connection", "com.shop.Repo.find(Repo.java:7)",
        "java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available"),
       ("java.lang.IllegalArgumentException: bad price", "com.shop.PriceClient.quote(PriceClient.java:88)", None)]
a = open(f"{d}/access.log", "a"); p = open(f"{d}/app.log", "a")
for i in range(90):
    now = datetime.datetime.now(datetime.timezone.utc)
    a.write(f'10.1.2.{i} - - [{now.strftime("%d/%b/%Y:%H:%M:%S +0000")}] "POST /api/orders/{1000+i}/items/{uuid.uuid4()} HTTP/1.1" 500 12 "-" "load"\n')
    a.write(f'10.1.2.{i} - - [{now.strftime("%d/%b/%Y:%H:%M:%S +0000")}] "GET /api/health HTTP/1.1" 200 2 "-" "probe"\n')
    a.flush()
    time.sleep(0.01)
    first, frame, root = CLS[i % 3]
    t = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
    rec = f"{t} ERROR 4242 --- [orders] [exec-{i}] c.s.OrderController : failed\n{first}\n\tat org.springframework.Foo.bar(Foo.java:1)\n\tat {frame}\n"
    if root: rec += f"Caused by: {root}\n\t... 3 more\n"
    p.write(rec); p.flush()
    time.sleep(0.02)
PY
sleep 1.5
stop_agent
python3 - "$T/slack.jsonl" <<'PY' || fail "cause counts"
import json, re, sys, collections
recs = [json.loads(l) for l in open(sys.argv[1])]
causes = collections.Counter(); total = 0
for r in recs:
    assert r["status"] == 200 and not r["limit_violations"], r
    b = json.loads(r["body"]); t = b["text"]
    print(t[:400])
    n = int(t.split("×")[0]); total += n
    assert "groups)" not in t, t
    if n == 1:
        m = re.search(r"— cause: (.+? at \S+):", t)
        assert m, t
        causes[m.group(1)] += 1
    else:
        assert "/api/orders/{id}" not in t  # paths shown raw; the group is the template
        lst = t.split("; causes ")[1].split("; first ")[0]
        for name, c in re.findall(r"(.+?) \((\d+)\)(?:, |$)", lst):
            causes[name] += int(c)
assert total == 90, total
assert len(recs) == 2, len(recs)
want = {"NullPointerException at OrderService.java:42": 30,
        "SQLTransientConnectionException at Repo.java:7": 30,
        "IllegalArgumentException at PriceClient.java:88": 30}
assert dict(causes) == want, dict(causes)
print("causes:", dict(causes))
PY
echo "PASS slack_cause_flood"
