#!/bin/bash
# labels: kafka
# timeout: 120
# SIGTERM while every broker is down: the agent still exits 0 within shutdown_timeout, having
# committed nothing it could not deliver; after a restart with the brokers back, every line
# arrives (nothing was committed past what Kafka confirmed).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kafka/mock.sh"
lf_setup
mk_start 1 logs:2
gen_lines "$T/logs/a.log" 1 1000 a
kafka_conf "$T/agent.conf" "topic = logs" "key = log.file.path"
start_agent "$T/agent.conf"
wait_for '[ "$(mk_total logs)" -ge 1000 ]' 60 || fail "first part not delivered"
mk_cmd "down all"
before=$(kf_batches)
gen_lines "$T/logs/a.log" 1001 3000 a
wait_for '[ "$(kf_batches)" -gt $before ]' 30 || fail "the new lines never reached the output"
t0=$(date +%s%N)
stop_agent
echo "stopped in $(( ($(date +%s%N) - t0) / 1000000 )) ms with every broker down (shutdown_timeout 5s)"
grep -q "not confirmed by Kafka" "$T/agent.log" || fail "unconfirmed events not reported at shutdown"
mk_cmd "up all"
start_agent "$T/agent.conf"
wait_for '[ "$(mk_total logs)" -ge 3000 ]' 60 || fail "only $(mk_total logs) of 3000 after the restart"
stop_agent
kc_dump logs "$T/dump.tsv"
kc_payloads "$T/dump.tsv" "$T/out.ndjson"
seq_check "$T/out.ndjson" 1 3000 --tag a --allow-dups || fail "lines lost across the shutdown"
kc_order_check "$T/dump.tsv" a || fail "out of order"
echo PASS
