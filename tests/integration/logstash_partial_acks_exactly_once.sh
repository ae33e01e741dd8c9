#!/bin/bash
# labels: logstash
# timeout: 90
#   partial_acks_and_keepalives_deliver_exactly_once: the server ACKs every window in two
#     halves and then repeats its last ACK (as Logstash does while it works through a window);
#     with compression on (level 3) and off, every numbered line arrives exactly once, each
#     event carries @metadata {beat, type, version} with beat_name, and agent.* / ecs.version.
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/lj_lib.sh"
lf_setup
for level in 3 0; do
    lj_start s$level --ack halves
    eval "port=\$LJ_PORT_s$level"
    rm -rf "$T/data"/*
    lj_conf "$T/agent.conf" "127.0.0.1:$port" "compression_level = $level" "beat_name = filebeat"
    rm -f "$T/logs/app.log"
    gen_lines "$T/logs/app.log" 1 30000
    start_agent "$T/agent.conf"
    wait_for "[ \$(lj_count s$level) -ge 30000 ]" 40 || fail "level $level: only $(lj_count s$level) of 30000"
    stop_agent
    seq_check "$T/lj/s$level.ndjson" 1 30000 || fail "level $level: not exactly once"
    [ "$(lj_stat s$level errors)" = 0 ] || fail "level $level: the stand-in saw protocol errors"
    comp=$(lj_stat s$level compressed)
    if [ "$level" = 0 ]; then [ "$comp" = 0 ] || fail "level 0 sent $comp compressed frames"
    else [ "$comp" -gt 0 ] || fail "level 3 sent no compressed frame"; fi
    python3 - "$T/lj/s$level.ndjson" <<'PY' || fail "level $level: @metadata or fields wrong"
import json, sys
for raw in open(sys.argv[1], "rb"):
    ev = json.loads(raw)
    md = ev["@metadata"]
    assert md["beat"] == "filebeat" and md["type"] == "_doc" and md["version"], md
    assert ev["host"]["name"] == "lj-test" and "@timestamp" in ev, ev
    assert ev["agent"]["type"] == "logferry" and ev["ecs"]["version"], ev
PY
    lj_stop s$level
done
echo "PASS logstash_partial_acks_exactly_once"
