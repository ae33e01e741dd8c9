#!/bin/bash
# labels: kafka
# timeout: 120
# The brokers answer a run of Produce requests with retriable errors (not leader, timed out,
# not enough replicas, a dropped connection): the agent retries, and every line arrives exactly
# once and in order.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kafka/mock.sh"
lf_setup
mk_start 1 logs:2
gen_lines "$T/logs/a.log" 1 1000 a
kafka_conf "$T/agent.conf" "topic = logs" "key = log.file.path" "kafka.linger.ms = 1"
start_agent "$T/agent.conf"
wait_for '[ "$(mk_total logs)" -ge 1000 ]' 60 || fail "first part not delivered"
mk_cmd "errors produce 12 NOT_LEADER_FOR_PARTITION REQUEST_TIMED_OUT NOT_ENOUGH_REPLICAS _TRANSPORT"
gen_lines "$T/logs/a.log" 1001 5000 a
wait_for '[ "$(mk_total logs)" -ge 5000 ]' 60 || fail "only $(mk_total logs) of 5000 delivered"
stop_agent
kc_dump logs "$T/dump.tsv"
kc_payloads "$T/dump.tsv" "$T/out.ndjson"
seq_check "$T/out.ndjson" 1 5000 --tag a || fail "lines lost or duplicated"
kc_order_check "$T/dump.tsv" a || fail "out of order"
echo PASS
