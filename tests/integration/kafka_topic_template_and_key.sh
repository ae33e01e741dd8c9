#!/bin/bash
# labels: kafka
# timeout: 120
# topic = logs-%{service.name:-misc} and key = host.name: events of an input with
# fields.service.name = api land in logs-api, of an input with web in logs-web, of an input
# without the field in logs-misc (the template's default); every message's key is the
# agent's host name.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kafka/mock.sh"
lf_setup
mk_start 1 logs-api:2 logs-web:2 logs-misc:1
mkdir -p "$T/logs/api" "$T/logs/web" "$T/logs/other"
gen_lines "$T/logs/api/x.log" 1 1000 api
gen_lines "$T/logs/web/x.log" 1 1000 web
gen_lines "$T/logs/other/x.log" 1 1000 other
cat >"$T/agent.conf" <<CONF
[agent]
name = testhost
data_dir = $T/data
queue_max_events = 20000
queue_max_bytes = 32MiB
shutdown_timeout = 5s
registry_flush = 1s

[input api]
paths = $T/logs/api/*.log
start_at = beginning
fields.service.name = api

[input web]
paths = $T/logs/web/*.log
start_at = beginning
fields.service.name = web

[input other]
paths = $T/logs/other/*.log
start_at = beginning

[output kafka]
brokers = $BOOT
topic = logs-%{service.name:-misc}
key = host.name
CONF
start_agent "$T/agent.conf"
for t in api web misc; do
    wait_for '[ "$(mk_total logs-'$t')" -ge 1000 ]' 60 || fail "logs-$t: only $(mk_total logs-$t) of 1000"
done
stop_agent
for t in api:api web:web misc:other; do
    topic=logs-${t%%:*} tag=${t#*:}
    kc_dump "$topic" "$T/$topic.tsv"
    kc_payloads "$T/$topic.tsv" "$T/$topic.ndjson"
    seq_check "$T/$topic.ndjson" 1 1000 --tag "$tag" || fail "$topic: lines lost or duplicated"
    [ "$(count_events "$T/$topic.ndjson")" -eq 1000 ] || fail "$topic holds other inputs' events"
    [ "$(cut -f2 "$T/$topic.tsv" | sort -u)" = testhost ] || fail "$topic: key is not host.name"
done
echo PASS
