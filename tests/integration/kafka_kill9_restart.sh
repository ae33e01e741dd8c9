#!/bin/bash
# labels: kafka
# timeout: 150
# kill -9 of the agent while it is shipping, then a restart: every line arrives (at least
# once); the duplicates (lines confirmed by Kafka but not yet committed to the registry) are
# counted and must stay below what one registry flush interval plus the in-flight budget can
# hold.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kafka/mock.sh"
lf_setup
mk_start 1 logs:3
# The mock keeps only ~5 MiB per partition: no key (spread over 3 partitions) and few lines.
N=10000
gen_lines "$T/logs/a.log" 1 $N a
# A slow broker and small requests, so the agent is surely killed in mid-stream.
mk_cmd "rtt 1 300"
kafka_conf "$T/agent.conf" "topic = logs" "kafka.batch.num.messages = 200"
start_agent "$T/agent.conf"
wait_for '[ "$(mk_total logs)" -ge 1000 ]' 60 || fail "nothing delivered"
kill9_agent
got=$(mk_total logs)
echo "killed with $got of $N acknowledged by Kafka"
[ "$got" -lt $N ] || fail "the agent had delivered everything before the kill: test proves nothing"
mk_cmd "rtt 1 0"
gen_lines "$T/logs/a.log" $((N + 1)) $((N + 2000)) a
start_agent "$T/agent.conf"
wait_for '[ "$(mk_total logs)" -ge $((N + 2000)) ]' 90 || fail "only $(mk_total logs) after restart"
sleep 1
stop_agent
kc_dump logs "$T/dump.tsv"
kc_payloads "$T/dump.tsv" "$T/out.ndjson"
seq_check "$T/out.ndjson" 1 $((N + 2000)) --tag a --allow-dups || fail "lines lost"
total=$(count_events "$T/out.ndjson")
dups=$((total - N - 2000))
echo "duplicates after kill -9: $dups"
[ "$dups" -le 20000 ] || fail "$dups duplicates: more than the in-flight budget (20000 events)"
echo PASS
