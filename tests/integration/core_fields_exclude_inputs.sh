#!/bin/bash
# labels: core
# timeout: 120
# Two inputs with static fields and an exclude glob: [input app] tails *.log except
# *.debug.log and adds fields.service.name / fields.service.environment; [input web] tails
# web/*.access with its own fields. Proves every event carries its own input's static fields
# nested under their dotted names, no field of the other input, that excluded files are
# never read, and every line arrives exactly once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
mkdir -p "$T/logs/web"
cat >"$T/agent.conf" <<CONF
[agent]
name = fields-host
data_dir = $T/data
registry_flush = 100ms
rescan_interval = 1h

[input app]
paths = $T/logs/*.log
exclude = *.debug.log
fields.service.name = shop
fields.service.environment = \${LF_CORE_ENV:-prod}

[input web]
paths = $T/logs/web/*.access
fields.service.name = edge
fields.event.dataset = nginx.access

[output file]
path = $T/out/out.ndjson
CONF
gen_lines "$T/logs/app.log" 1 300 app
gen_lines "$T/logs/x.debug.log" 1 300 dbg
gen_lines "$T/logs/web/site.access" 1 200 web
core_start "$T/agent.conf"
gen_lines "$T/logs/app.log" 301 400 app
gen_lines "$T/logs/y.debug.log" 1 50 dbg2
gen_lines "$T/logs/web/site.access" 201 300 web
wait_events "$T/out/out.ndjson" 700 60 || fail "only $(count_events "$T/out/out.ndjson") of 700 events"
sleep 0.5
stop_agent
seq_check "$T/out/out.ndjson" 1 400 --tag app || fail "app lines"
seq_check "$T/out/out.ndjson" 1 300 --tag web || fail "web lines"
grep -q '"message":"dbg' "$T/out/out.ndjson" && fail "an excluded *.debug.log file was shipped"
python3 - "$T/out/out.ndjson" <<'PY' || fail "static fields wrong"
import json, sys
for raw in open(sys.argv[1], "rb"):
    ev = json.loads(raw)
    tag = ev["message"].split()[0]
    assert ev["host"]["name"] == "fields-host", ev
    if tag == "app":
        assert ev["service"] == {"name": "shop", "environment": "prod"}, ev
        assert "event" not in ev, ev
    else:
        assert ev["service"] == {"name": "edge"}, ev
        assert ev["event"] == {"dataset": "nginx.access"}, ev
PY
echo PASS
