#!/bin/bash
# labels: es
# timeout: 120
#   rotation_and_kill9_index_exactly_once: the file is renamed by rotation (app.log ->
#     app.log.1, a new app.log) while documents are in flight, then the agent is killed with
#     SIGKILL and restarted: the _id of a line depends on the file's lifetime identity and the
#     line's offset, not on its path, so the replayed lines of the rotated file meet 409s and
#     all 30,000 lines are indexed exactly once.
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/es_lib.sh"
lf_setup
es_start --delay-ms 10
es_conf "$T/agent.conf" "bulk_max_events = 500"
sed -i "s|^paths = .*|paths = $T/logs/app.log*|" "$T/agent.conf"
gen_lines "$T/logs/app.log" 1 20000
start_agent "$T/agent.conf"
wait_for "[ \$(es_stat created) -ge 4000 ]" 30 || fail "stream did not start"
mv "$T/logs/app.log" "$T/logs/app.log.1"
gen_lines "$T/logs/app.log" 20001 30000
wait_for "[ \$(es_stat created) -ge 12000 ]" 30 || fail "stream stalled after the rotation"
kill9_agent
echo "killed the agent with $(es_stat created) documents created"
es_config '{"delay_ms": 0}'
start_agent "$T/agent.conf"
wait_for "[ \$(es_stat created) -ge 30000 ]" 60 || fail "after restart only $(es_stat created) of 30000 created"
stop_agent
echo "409 conflicts (replayed, not duplicated): $(es_stat conflicts)"
seq_check "$T/es/store.ndjson" 1 30000 || fail "lines not indexed exactly once across rotation and kill -9"
echo "PASS es_rotation_kill9"
