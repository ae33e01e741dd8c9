#!/bin/bash
# labels: slack
# timeout: 150
# The application's exception in the alert (`cause_from`), with the nginx access log and the
# Spring Boot log both tailed as files by the real agent, against the webhook stand-in.
# multiline.timeout is 1.5 s (cause_wait 2.5 s): a slow machine (ASan) reading the 5 MB trace
# must not see its 50 ms pause between two reads as the end of the record.
#   cause_after_by_time: the app's ERROR + stack trace written 100 ms after the 500 is in the
#     first alert: class, message, root cause (last "Caused by:"), the first 3 frames of the
#     application's own code (framework frames skipped), the logger;
#   cause_before_by_time: the same with the ERROR written 100 ms before the 500;
#   wrong_host_never_attached: an exception of host was-2 (fields.host.name) near a 500 of
#     was-1 is never shown; the alert goes out after cause_wait without a cause;
#   hostile_cause_escaped_and_cut: <!channel>, mrkdwn, ``` and invalid UTF-8 in the exception
#     message, and a 5 MB stack trace, arrive escaped and within Slack's limits, with the root
#     cause and the one application frame found at the very end of the trace;
#   cause_by_trace_id: with nginx's trace id parsed into trace.id, the exception with the same
#     trace id is chosen over a decoy logged closer in time;
#   cause_inputs_never_alert: the app's events themselves are never posted; the N× of all
#     messages add up to the 5xx lines written (5).
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/slack_lib.sh"
lf_setup
slack_standin
export SLACK_WEBHOOK_URL="$(slack_url)"
cat >"$T/agent.conf" <<CONF
$(slack_conf_agent)
[parser nginx_trace]
pattern = ^(?<ip>\S+) \S+ \S+ \[(?<ts>[^\]]+)\] "(?<method>\S+) (?<path>[^" ?]+)[^"]*" (?<status>\d{3}) \S+ "[^"]*" "[^"]*" trace=(?<trace>[0-9a-f]+)
types = status:int
rename = ip:source.ip method:http.request.method path:url.path status:http.response.status_code trace:trace.id
time_field = ts
time_format = %d/%b/%Y:%H:%M:%S %z
$(slack_conf_web)
[input webt]
paths = $T/logs/access_trace.log
parser = nginx_trace
$(slack_conf_app 1500ms)
multiline.max_lines = 1000000
multiline.max_bytes = 8MiB
max_line_bytes = 8MiB
[input app2]
paths = $T/logs/app2.log
parser = spring_boot
multiline = java
multiline.timeout = 50ms
fields.host.name = was-2
[output slack]
webhook_url = \${SLACK_WEBHOOK_URL}
window = 60s
min_interval = 0
cause_from = app, app2
cause_wait = 2500ms
CONF
for f in access access_trace app app2; do : >"$T/logs/$f.log"; done
start_agent "$T/agent.conf"
wait_for "grep -q 'reading $T/logs/app2.log' $T/agent.log" 10 || fail "agent did not open the logs"

python3 - "$T/logs" <<'PY' || fail "writer"
import sys, time, datetime
d = sys.argv[1]
def now(): return datetime.datetime.now(datetime.timezone.utc)
def access(path, f="access.log", trace=None):
    t = now().strftime("%d/%b/%Y:%H:%M:%S +0000")
    line = f'10.1.2.3 - - [{t}] "GET {path} HTTP/1.1" 500 12 "-" "curl/8"'
    if trace: line += f" trace={trace}"
    open(f"{d}/{f}", "a").write(line + "\n")
def app(cls, msg, frames, f="app.log", trace=None, caused=None, raw_msg=None):
    t = now().isoformat(timespec="milliseconds").replace("+00:00", "+00:00")
    corr = f" [{trace}-00f067aa0ba902b7]" if trace else ""
    rec = f"{t} ERROR 4242 --- [orders] [nio-8080-exec-1]{corr} c.s.o.OrderController    : Request failed\n"
    data = rec.encode() + (raw_msg if raw_msg is not None else f"{cls}: {msg}".encode()) + b"\n"
    data += "".join(f"\tat {fr}\n" for fr in frames).encode()
    if caused: data += f"Caused by: {caused}\n\t... 12 more\n".encode()
    open(f"{d}/{f}", "ab").write(data)
FR = ["org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:883)",
      "com.shop.orders.OrderService.place(OrderService.java:42)",
      "jakarta.servlet.http.HttpServlet.service(HttpServlet.java:658)",
      "com.shop.orders.OrderController.create(OrderController.java:17)",
      "com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:181)",
      "com.shop.orders.PriceClient.quote(PriceClient.java:88)",
      "com.shop.orders.Fourth.frame(Fourth.java:1)"]
# 1: the 500 first, the exception 100 ms later
access("/api/after")
time.sleep(0.1)
app("java.lang.NullPointerException", 'Cannot invoke "Order.getId()" because "order" is null', FR,
    caused="java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available")
time.sleep(4)
# 2: the exception 100 ms before the 500
app("java.lang.IllegalStateException", "stock below zero", FR[1:2])
time.sleep(0.1)
access("/api/before")
time.sleep(4)
# 3: an exception of another host next to a 500 of this one
app("com.shop.WrongHostException", "not yours", FR[1:2], f="app2.log")
time.sleep(0.05)
access("/api/wronghost")
time.sleep(4)
# 4: hostile message, 5 MB trace, the only own frame and the root cause at its very end
hostile = b"<!channel> *bold* _it_ ~st~ ```x``` <https://evil|click> \xff\xfe bad utf8"
big = ["org.apache.catalina.core.StandardWrapperValve.invoke(StandardWrapperValve.java:%d)" % i
       for i in range(60000)]
app("com.shop.HostileException", None, big + ["com.shop.deep.Bottom.call(Bottom.java:7)"],
    raw_msg=b"com.shop.HostileException: " + hostile,
    caused="com.shop.RootOfAll: <!here> at the end")
time.sleep(0.8) # 5 MB to read and join: let it arrive first on a loaded machine
access("/api/hostile")
time.sleep(4)
# 5: trace id beats time: the right exception 0.5 s before, a decoy 50 ms before
tr = "4bf92f3577b34da6a3ce929d0e0e4736"
app("com.shop.TraceMatchedException", "the right one", FR[1:2], trace=tr)
time.sleep(0.5)
app("com.shop.DecoyException", "closer but another trace", FR[1:2], trace="0" * 31 + "1")
time.sleep(0.05)
access("/api/traced", f="access_trace.log", trace=tr)
PY
wait_for "[ -f $T/slack.jsonl ] && [ \$(wc -l <$T/slack.jsonl) -ge 5 ]" 30 || fail "5 first alerts not posted"
stop_agent
python3 - "$T/slack.jsonl" <<'PY' || fail "alert content"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
bodies = {}
total = 0
for r in recs:
    assert r["status"] == 200, r
    assert not r["limit_violations"], r["limit_violations"]
    b = json.loads(r["body"])
    texts = [b["text"]]
    for blk in b["blocks"]:
        if "text" in blk: texts.append(blk["text"]["text"])
        texts += [f["text"] for f in blk.get("fields", [])] + [e["text"] for e in blk.get("elements", [])]
    total += int(b["text"].split("×")[0])
    for p in ["/api/after", "/api/before", "/api/wronghost", "/api/hostile", "/api/traced"]:
        if f"GET {p} " in b["text"]:
            bodies[p] = (b["text"], "\n".join(texts), len(r["body"]))
assert total == 5, total
assert set(bodies) == {"/api/after", "/api/before", "/api/wronghost", "/api/hostile", "/api/traced"}, list(bodies)
t, a, _ = bodies["/api/after"]
assert "— cause: SQLTransientConnectionException at OrderService.java:42: Cannot invoke" in t, t
for want in ["java.lang.NullPointerException: Cannot invoke \"Order.getId()\" because \"order\" is null",
             "Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available",
             "at com.shop.orders.OrderService.place(OrderService.java:42)",
             "at com.shop.orders.OrderController.create(OrderController.java:17)",
             "at com.shop.orders.PriceClient.quote(PriceClient.java:88)",
             "logger `c.s.o.OrderController`"]:
    assert want in a, (want, a)
for bad in ["FrameworkServlet", "HttpServlet", "HikariPool.getConnection", "Fourth.frame"]:
    assert bad not in a, (bad, a)
print("after:", t)
t, a, _ = bodies["/api/before"]
assert "cause: IllegalStateException at OrderService.java:42: stock below zero" in t, t
print("before:", t)
t, a, _ = bodies["/api/wronghost"]
assert "WrongHost" not in a and "cause" not in t, a
print("wrong host:", t)
t, a, n = bodies["/api/hostile"]
assert "<!channel>" not in a and "<!here>" not in a and "<https://evil" not in a, a
assert "&lt;!channel&gt;" in a and "Caused by: com.shop.RootOfAll: &lt;!here&gt; at the end" in a, a
assert "at com.shop.deep.Bottom.call(Bottom.java:7)" in a and "```x```" not in a, a
assert n < 40000, n
print("hostile: %d bytes posted" % n)
t, a, _ = bodies["/api/traced"]
assert "TraceMatchedException" in a and "Decoy" not in a and "(same trace.id)" in a, a
print("traced:", t)
for r in recs:
    assert "Request failed" not in json.loads(r["body"])["text"].split("—")[0]
PY
echo "PASS slack_cause_match"
