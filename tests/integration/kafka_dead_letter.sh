#!/bin/bash
# labels: kafka
# timeout: 120
# A line whose event is bigger than message.max.bytes cannot ever be accepted: it goes to
# <data_dir>/dead-letter/kafka-kafka.ndjson with its reason, and the lines around it flow on
# (nothing blocks, nothing else is lost).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kafka/mock.sh"
lf_setup
mk_start 1 logs:1
gen_lines "$T/logs/a.log" 1 500 a
python3 -c 'print("big 1 " + "x" * 20000)' >>"$T/logs/a.log"
gen_lines "$T/logs/a.log" 501 999 a
kafka_conf "$T/agent.conf" "topic = logs" "kafka.message.max.bytes = 8000"
start_agent "$T/agent.conf"
wait_for '[ "$(mk_total logs)" -ge 999 ]' 60 || fail "only $(mk_total logs) of 999 delivered"
stop_agent
kc_dump logs "$T/dump.tsv"
kc_payloads "$T/dump.tsv" "$T/out.ndjson"
seq_check "$T/out.ndjson" 1 999 --tag a || fail "lines around the big one lost or duplicated"
[ "$(count_events "$T/out.ndjson")" -eq 999 ] || fail "the big line reached Kafka?"
dl="$T/data/dead-letter/kafka-kafka.ndjson"
[ -f "$dl" ] || fail "no dead-letter file $dl"
[ "$(count_events "$dl")" -eq 1 ] || fail "expected one dead letter"
python3 - "$dl" <<'PY' || fail "dead letter malformed"
import json, sys
d = json.loads(open(sys.argv[1]).readline())
assert d["reason"] == "message too large", d["reason"]
assert d["topic"] == "logs", d["topic"]
assert d["event"]["message"].startswith("big 1 xxxx"), d["event"]["message"][:20]
assert "time" in d
PY
grep -q "message too large" "$T/agent.log" || fail "dead letter not logged"
echo PASS
