#!/bin/bash
# labels: core;logstash
# timeout: 60
#   every_event_carries_filebeats_agent_fields: with the file output (the fields are the
#     event builder's, so every output has them), each numbered event carries agent.id (a
#     UUID), agent.name (the [agent] name), agent.type "logferry", agent.version,
#     ecs.version and input.type "filestream".
#   agent_id_is_stable_across_restarts: the id is kept in data_dir/agent.id: the same after a
#     restart, another one for another data_dir; a file that holds no UUID is replaced.
. "$(dirname "$0")/lib.sh"
lf_setup
conf() {
    cat >"$T/agent.conf" <<CONF
[agent]
name = ident-test
data_dir = $1
registry_flush = 200ms
[input app]
paths = $T/logs/*.log
start_at = beginning
[output file]
path = $T/out/events.ndjson
CONF
}
ids() { python3 - "$T/out/events.ndjson" "$1" <<'PY'
import json, re, sys
ids = set()
for n, raw in enumerate(open(sys.argv[1], "rb"), 1):
    ev = json.loads(raw)
    a = ev["agent"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", a["id"]), a
    assert a["name"] == "ident-test" and a["type"] == "logferry" and a["version"], a
    assert ev["ecs"]["version"] == "8.0.0" and ev["input"]["type"] == "filestream", ev
    ids.add(a["id"])
assert len(ids) == int(sys.argv[2]), ids
print(" ".join(sorted(ids)))
PY
}
conf "$T/data"
gen_lines "$T/logs/app.log" 1 1000
start_agent "$T/agent.conf"
wait_for '[ $(count_events $T/out/events.ndjson) -ge 1000 ]' 20 || fail "only $(count_events $T/out/events.ndjson) of 1000"
stop_agent
id1=$(ids 1) || fail "agent fields missing or wrong"
[ "$(cat "$T/data/agent.id")" = "$id1" ] || fail "data_dir/agent.id does not hold the events' id"
gen_lines "$T/logs/app.log" 1001 2000
start_agent "$T/agent.conf"
wait_for '[ $(count_events $T/out/events.ndjson) -ge 2000 ]' 20 || fail "after a restart: only $(count_events $T/out/events.ndjson) of 2000"
stop_agent
seq_check "$T/out/events.ndjson" 1 2000 || fail "lines lost or doubled"
[ "$(ids 1)" = "$id1" ] || fail "agent.id changed across a restart"
# another data_dir: another id; a damaged id file is replaced
conf "$T/data2"
mkdir -p "$T/data2"; echo "not a uuid" >"$T/data2/agent.id"
rm -f "$T/out/events.ndjson"
start_agent "$T/agent.conf"
wait_for '[ $(count_events $T/out/events.ndjson) -ge 2000 ]' 20 || fail "second data_dir: only $(count_events $T/out/events.ndjson)"
stop_agent
id2=$(ids 1) || fail "agent fields wrong with the second data_dir"
[ "$id2" != "$id1" ] || fail "two data_dirs share one agent.id"
grep -q "does not hold a UUID" "$T/agent.log" || fail "the damaged agent.id was not reported"
echo "PASS core_agent_identity_fields"
