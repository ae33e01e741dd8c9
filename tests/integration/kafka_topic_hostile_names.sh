#!/bin/bash
# labels: kafka;hostile
# timeout: 120
#   kafka_log_content_cannot_steer_topics (issue 21 item 4): topic = %{svc} over a regex
#     capture of the raw line, with topic_fallback = fb. Of 1,000 numbered lines, svc is
#     "payments" for 200, and for 800 a value log content must not turn into a topic:
#     "payments<NUL>" (was produced to payments), "__consumer_offsets" (internal),
#     "pay<0x01>ments", "pay/../ments". payments holds exactly its 200 lines, fb the 800
#     others, each exactly once (so none went anywhere else); events_rerouted = 800; the log
#     names each reason once and prints no raw control byte.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kafka/mock.sh"
lf_setup
mk_start 1 payments:1 fb:1
python3 - "$T/logs/app.log" <<'PY'
import sys
vals = [b"payments", b"payments\x00", b"__consumer_offsets", b"pay\x01ments", b"pay/../ments"]
with open(sys.argv[1], "wb") as f:
    for i in range(1, 1001):
        f.write(b"line %d svc=%s\n" % (i, vals[i % 5]))
PY
HTTP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
kafka_conf "$T/agent.conf" "topic = %{svc}" "topic_fallback = fb"
sed -i "s|^\[agent\]|[agent]\nhttp_listen = 127.0.0.1:$HTTP_PORT|; s|^\[input app\]|[parser svc]\npattern = ^line \\\\d+ svc=(?<svc>\\\\S*)\n\n[input app]\nparser = svc|" "$T/agent.conf"
start_agent "$T/agent.conf"
wait_for '[ "$(mk_total payments)" -ge 200 ] && [ "$(mk_total fb)" -ge 800 ]' 60 ||
    fail "payments $(mk_total payments) of 200, fb $(mk_total fb) of 800"
rerouted=$(curl -s "http://127.0.0.1:$HTTP_PORT/status" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["outputs"][0]["events_rerouted"])')
stop_agent
kc_dump payments "$T/p.tsv"; kc_payloads "$T/p.tsv" "$T/p.ndjson"
kc_dump fb "$T/f.tsv"; kc_payloads "$T/f.tsv" "$T/f.ndjson"
python3 - "$T/p.ndjson" "$T/f.ndjson" <<'PY' || fail "an event reached the wrong topic, or was lost or duplicated"
import collections, json, re, sys
def nums(path):
    c = collections.Counter()
    for l in open(path, "rb"):
        c[int(re.match(r"line (\d+) ", json.loads(l)["message"]).group(1))] += 1
    return c
p, f = nums(sys.argv[1]), nums(sys.argv[2])
want_p = {i for i in range(1, 1001) if i % 5 == 0}
bad_p = sorted(set(p) - want_p)
lost = [i for i in range(1, 1001) if (p if i in want_p else f)[i] == 0]
dups = sum(v - 1 for v in p.values() if v > 1) + sum(v - 1 for v in f.values() if v > 1)
print(f"payments: {sum(p.values())} events ({len(bad_p)} not its own), fb: {sum(f.values())}, "
      f"lost {len(lost)}, duplicated {dups}")
sys.exit(1 if bad_p or lost or dups or set(f) & want_p else 0)
PY
[ "$rerouted" = 800 ] || fail "events_rerouted = $rerouted, want 800"
for why in "NUL byte in topic name" "internal topic name (leading __)" \
    "control character in topic name" "character Kafka refuses in topic name"; do
    [ "$(grep -cF "($why)" "$T/agent.log")" = 1 ] || fail "reason '$why' not logged exactly once"
done
LC_ALL=C grep -q $'[\x01]' "$T/agent.log" && fail "a raw control byte from log content reached the log"
echo "PASS kafka_topic_hostile_names"
