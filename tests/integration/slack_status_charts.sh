#!/bin/bash
# labels: slack;ops
# timeout: 60
# The status page's last hour (inline SVG, no script), fed by the Slack output:
#   charts_count_what_happened: 200 nginx lines of which 20 are 500s over
#     /api/<script>x</script>/<id>: /status "series" has events of input web = 200 this
#     hour, alert lines of the group "slack: was-1 /api/<script>x</script>/{id}" = 20, alerts
#     sent >= 1; the page draws one <svg> per series and escapes the group's name; no <script
#     element anywhere.
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/slack_lib.sh"
lf_setup
slack_standin
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$T/agent.conf" <<CONF
[agent]
name = was-1
data_dir = $T/data
http_listen = 127.0.0.1:$PORT
$(slack_conf_web)
[output slack]
webhook_url = $(slack_url)
min_interval = 0
CONF
python3 - "$T/logs/access.log" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(200):
        st = 500 if i % 10 == 0 else 200
        f.write(f'10.1.2.3 - - [06/Dec/2026:10:00:00 +0000] "GET /api/<script>x</script>/{i} HTTP/1.1" {st} 1 "-" "t"\n')
PY
start_agent "$T/agent.conf"
wait_for "[ -f $T/slack.jsonl ]" 20 || fail "no alert posted"
wait_for "curl -s --noproxy '*' http://127.0.0.1:$PORT/status | python3 -c 'import json,sys; s=json.load(sys.stdin)[\"series\"]; assert sum(sum(x[\"per_minute\"]) for x in s if x[\"kind\"]==\"events\") >= 200'" 20 \
    || fail "events series: $(curl -s --noproxy '*' http://127.0.0.1:$PORT/status | head -c 800)"
curl -s --noproxy '*' "http://127.0.0.1:$PORT/status" >"$T/status.json"
curl -s --noproxy '*' "http://127.0.0.1:$PORT/" >"$T/page.html"
python3 - "$T/status.json" "$T/page.html" <<'PY' || fail "charts"
import json, sys
s = json.load(open(sys.argv[1]))["series"]
tot = {(x["kind"], x["name"]): sum(x["per_minute"]) for x in s}
print(tot)
assert all(len(x["per_minute"]) == 60 for x in s)
assert tot[("events", "web")] == 200, tot
assert tot[("5xx", "slack: was-1 /api/<script>x</script>/{id}")] == 20, tot
assert tot[("alerts", "slack")] >= 1, tot
page = open(sys.argv[2]).read()
assert "<h2>Last hour</h2>" in page and page.count("<svg") == len(s), page.count("<svg")
assert "alert lines/min of slack: was-1 /api/&lt;script&gt;x&lt;/script&gt;/{id}" in page
assert "<script" not in page.lower()
PY
stop_agent
echo "PASS slack_status_charts"
