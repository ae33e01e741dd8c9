#!/bin/bash
# labels: kafka
# timeout: 90
# `logferry check` names the file and line of a kafka.* property librdkafka refuses, with
# librdkafka's own message; `logferry test-output` says the mock cluster is reachable and
# the topic writable, and says "not reachable" when the brokers are down. A secret
# (kafka.sasl.password) never appears in any of the output.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kafka/mock.sh"
lf_setup
mk_start 1 logs:2
kafka_conf "$T/bad.conf" "topic = logs" "kafka.no.such.thing = 1" "kafka.sasl.password = hunter2"
line=$(grep -n '^kafka.no.such.thing' "$T/bad.conf" | cut -d: -f1)
rc=0
"$LOGFERRY" check -c "$T/bad.conf" >"$T/check.out" 2>&1 || rc=$?
cat "$T/check.out"
[ "$rc" -ne 0 ] || fail "check accepted an unknown librdkafka property"
grep -q "$T/bad.conf:$line: kafka.no.such.thing: No such configuration property" "$T/check.out" \
    || fail "check did not name the line with librdkafka's message"
kafka_conf "$T/good.conf" "topic = logs" "kafka.sasl.password = hunter2"
"$LOGFERRY" check -c "$T/good.conf" >>"$T/check.out" 2>&1 || fail "check refused a good config"
"$LOGFERRY" test-output -c "$T/good.conf" >"$T/test.out" 2>&1 || { cat "$T/test.out"; fail "test-output failed against the mock"; }
cat "$T/test.out"
grep -q "reachable.*topic logs has 2 partitions.*writable" "$T/test.out" || fail "test-output did not say writable"
mk_cmd "down all"
rc=0
"$LOGFERRY" test-output -c "$T/good.conf" >"$T/test2.out" 2>&1 || rc=$?
cat "$T/test2.out"
[ "$rc" -ne 0 ] || fail "test-output succeeded with every broker down"
grep -q "not reachable" "$T/test2.out" || fail "test-output did not say not reachable"
! grep -q hunter2 "$T/check.out" "$T/test.out" "$T/test2.out" || fail "a secret was printed"
echo PASS
