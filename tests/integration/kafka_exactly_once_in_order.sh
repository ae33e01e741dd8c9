#!/bin/bash
# labels: kafka
# timeout: 120
# Two files of numbered lines through the real agent into the mock Kafka cluster (3 brokers,
# 3 partitions, key = log.file.path), read back with kcat: every line exactly once, and in
# file order within each partition.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kafka/mock.sh"
lf_setup
mk_start 3 logs:3
# The mock keeps only the newest ~5 MiB of each partition, and both files may hash to the same
# one: 9,000 events of ~400 bytes (with the agent.* fields) stay well under it, 15,000 did not.
N=3000
gen_lines "$T/logs/a.log" 1 $N a
gen_lines "$T/logs/b.log" 1 $N b
kafka_conf "$T/agent.conf" "topic = logs" "key = log.file.path"
start_agent "$T/agent.conf"
wait_for '[ "$(mk_total logs)" -ge $((2 * N)) ]' 60 || fail "only $(mk_total logs) of $((2 * N)) acknowledged"
# more lines while it runs: they must follow in order
gen_lines "$T/logs/a.log" $((N + 1)) $((2 * N)) a
wait_for '[ "$(mk_total logs)" -ge $((3 * N)) ]' 60 || fail "only $(mk_total logs) of $((3 * N)) acknowledged"
stop_agent
kc_dump logs "$T/dump.tsv"
kc_payloads "$T/dump.tsv" "$T/out.ndjson"
seq_check "$T/out.ndjson" 1 $((2 * N)) --tag a || fail "file a: lines lost or duplicated"
seq_check "$T/out.ndjson" 1 $N --tag b || fail "file b: lines lost or duplicated"
[ "$(count_events "$T/out.ndjson")" -eq $((3 * N)) ] || fail "expected $((3 * N)) messages"
kc_order_check "$T/dump.tsv" a || fail "file a out of order"
kc_order_check "$T/dump.tsv" b || fail "file b out of order"
# one key per file: each file's lines all in one partition
[ "$(awk -F'\t' '$2 ~ /a.log$/ {print $1}' "$T/dump.tsv" | sort -u | wc -l)" -eq 1 ] \
    || fail "file a spread over several partitions despite key = log.file.path"
echo PASS
