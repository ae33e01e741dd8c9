#!/bin/bash
# labels: slack
# timeout: 150
# flood_counts_add_up_exactly: 6,000 nginx lines over 8 paths and 2 hosts' worth of statuses
#   (about half 5xx) written in bursts over several 1-second windows; the N× of every
#   message posted to the webhook stand-in add up to exactly the number of 5xx lines, no
#   message breaks Slack's limits, the pace (>= ~1 s between messages) is kept, far fewer
#   messages than lines are sent, and the file output ships every line exactly once.
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/slack_lib.sh"
lf_setup
slack_standin
cat >"$T/agent.conf" <<CONF
$(slack_conf_agent)
shutdown_timeout = 30s
$(slack_conf_web)
[output file]
path = $T/out/events.ndjson
[output slack]
webhook_url = $(slack_url)
window = 1s
CONF
: >"$T/logs/access.log"
start_agent "$T/agent.conf"
wait_for "grep -q 'reading $T/logs/access.log' $T/agent.log" 10 || fail "agent did not open the log"
python3 - "$T/logs/access.log" "$T/expected" <<'PY'
import random, sys, time
random.seed(6)
statuses = [500, 502, 503, 504, 200, 200, 404, 301]
n5 = 0
with open(sys.argv[1], "a") as f:
    for burst in range(6):
        for k in range(1000):
            i = burst * 1000 + k + 1
            st = random.choice(statuses)
            n5 += st >= 500
            f.write(f'10.0.{i % 7}.{i % 250} - - [26/Nov/2026:05:00:{burst:02d} +0000] '
                    f'"GET /api/p{i % 8}?n={i} HTTP/1.1" {st} {i} "-" "bench/{i}"\n')
        f.flush()
        time.sleep(0.4)
open(sys.argv[2], "w").write(str(n5))
PY
wait_for "[ \$(count_events $T/out/events.ndjson) -ge 6000 ]" 60 || fail "file output did not ship 6000 events"
stop_agent
python3 "$STANDIN" --report "$T/slack.jsonl" >"$T/report.json"
python3 - "$T/report.json" "$(cat "$T/expected")" <<'PY' || fail "alert counts"
import json, sys
r = json.load(open(sys.argv[1])); want = int(sys.argv[2])
print(f"{want} 5xx lines -> {r['delivered']} messages, N× sum {r['sum']}, min gap {r['min_gap_ms']} ms")
for t in r["texts"]: print("  ", t[:150])
assert r["sum"] == want, (r["sum"], want)
assert not r["failed"] and not r["violations"], r
assert 2 <= r["delivered"] <= 60, r["delivered"]
assert r["min_gap_ms"] is None or r["min_gap_ms"] >= 900, r["min_gap_ms"]
PY
python3 - "$T/out/events.ndjson" <<'PY' || fail "file output lost or duplicated lines"
import json, sys, collections
c = collections.Counter()
for line in open(sys.argv[1]):
    ev = json.loads(line)
    c[int(ev["url"]["query"].split("=")[1])] += 1
missing = [i for i in range(1, 6001) if c[i] == 0]
dups = [i for i, k in c.items() if k > 1]
assert not missing and not dups, (missing[:10], dups[:10])
PY
if grep -q "SECRETxTOKEN" "$T/agent.log"; then fail "webhook secret printed"; fi
echo PASS
