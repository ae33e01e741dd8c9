#!/bin/bash
# labels: kafka
# timeout: 150
# Every broker goes down for several seconds in mid-stream while lines keep coming; nothing
# is acknowledged meanwhile, and after the brokers return every line arrives exactly once
# (idempotent producer), in order per file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kafka/mock.sh"
lf_setup
mk_start 3 logs:3
gen_lines "$T/logs/a.log" 1 3000 a
kafka_conf "$T/agent.conf" "topic = logs" "key = log.file.path"
start_agent "$T/agent.conf"
wait_for '[ "$(mk_total logs)" -ge 3000 ]' 60 || fail "first part not delivered"
mk_cmd "down all"
before=$(kf_batches)
gen_lines "$T/logs/a.log" 3001 6000 a
gen_lines "$T/logs/b.log" 1 2000 b
# wait until the output holds the new lines (at least 3 more batches), then several seconds more
wait_for '[ "$(kf_batches)" -ge $((before + 3)) ]' 30 || fail "the new lines never reached the output"
sleep 4
kill -0 "$AGENT_PID" || fail "agent died while the brokers were down"
grep -q "all brokers down\|ALL_BROKERS_DOWN" "$T/agent.log" || fail "the outage was not logged"
mk_cmd "up all"
up_at=$(date +%s%N); echo "brokers up at $(date -u +%H:%M:%S.%N | cut -c1-12)"
wait_for '[ "$(mk_total logs)" -gt 3000 ]' 30 || fail "nothing delivered after the brokers came back"
echo "first delivery seen $(( ($(date +%s%N) - up_at) / 1000000 )) ms after the brokers came back (not asserted)"
grep -E "Kafka confirms deliveries again" "$T/agent.log" | tail -n 1
wait_for '[ "$(mk_total logs)" -ge 8000 ]' 60 || fail "only $(mk_total logs) of 8000 after recovery"
stop_agent
kc_dump logs "$T/dump.tsv"
kc_payloads "$T/dump.tsv" "$T/out.ndjson"
seq_check "$T/out.ndjson" 1 6000 --tag a || fail "file a: lines lost or duplicated"
seq_check "$T/out.ndjson" 1 2000 --tag b || fail "file b: lines lost or duplicated"
kc_order_check "$T/dump.tsv" a || fail "file a out of order"
kc_order_check "$T/dump.tsv" b || fail "file b out of order"
echo PASS
