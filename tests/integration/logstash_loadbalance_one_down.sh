#!/bin/bash
# labels: logstash
# timeout: 120
#   loadbalance_spreads_windows_over_hosts: loadbalance = true over two live hosts: both
#     receive windows, and together they hold every number exactly once.
#   loadbalance_with_one_host_down: one of the hosts is down: everything reaches the other,
#     exactly once; when the host comes back it receives windows again.
#   per_host_status_and_metrics: /status lists each host with its state and counters, and
#     /metrics has per-host series whose ACKed events add up to what the servers stored.
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/lj_lib.sh"
lf_setup
lj_start a
lj_start b
lj_conf "$T/agent.conf" "127.0.0.1:$LJ_PORT_a, 127.0.0.1:$LJ_PORT_b" "loadbalance = true" "window = 200"
HTTP=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -i "s/^\[agent\]$/[agent]\nhttp_listen = 127.0.0.1:$HTTP/" "$T/agent.conf"
gen_lines "$T/logs/app.log" 1 10000
start_agent "$T/agent.conf"
wait_for '[ $(( $(lj_count a) + $(lj_count b) )) -ge 10000 ]' 30 || fail "only $(lj_count a) + $(lj_count b) of 10000"
echo "both up: a $(lj_count a), b $(lj_count b)"
[ "$(lj_count a)" -gt 0 ] && [ "$(lj_count b)" -gt 0 ] || fail "windows were not spread"
# b goes down: everything goes to a.
porta=$LJ_PORT_a; portb=$LJ_PORT_b
lj_stop b
wait_for "curl -s --noproxy '*' -m 5 http://127.0.0.1:$HTTP/status | grep -q '\"state\": *\"connected\"'" 10 || fail "/status shows no connected host"
a0=$(lj_count a)
gen_lines "$T/logs/app.log" 10001 20000
wait_for '[ $(lj_count a) -ge $((a0 + 10000)) ]' 30 || fail "a got only $(( $(lj_count a) - a0 )) of 10000 with b down"
# b comes back: it gets windows again.
b0=$(lj_count b)
lj_start b --port "$portb"
gen_lines "$T/logs/app.log" 20001 40000
wait_for '[ $(( $(lj_count a) + $(lj_count b) )) -ge 40000 ]' 40 || fail "only $(lj_count a) + $(lj_count b) of 40000"
curl -s --noproxy '*' -m 5 "http://127.0.0.1:$HTTP/status" >"$T/status.json" || fail "no /status"
curl -s --noproxy '*' -m 5 "http://127.0.0.1:$HTTP/metrics" >"$T/metrics.txt" || fail "no /metrics"
python3 - "$T/status.json" "$T/metrics.txt" "127.0.0.1:$porta" "127.0.0.1:$portb" 40000 <<'PY' || fail "per-host status or metrics wrong"
import json, re, sys
st = json.load(open(sys.argv[1]))
out = [o for o in st["outputs"] if o["type"] == "logstash"][0]
hosts = {h["host"]: h for h in out["hosts"]}
assert set(hosts) == {sys.argv[3], sys.argv[4]}, hosts
for h in hosts.values():
    assert h["windows"] > 0 and h["state"] in ("connected", "backoff", "not connected"), h
assert sum(h["events_acked"] for h in hosts.values()) == int(sys.argv[5]), hosts
assert hosts[sys.argv[4]]["failures"] >= 1, hosts  # b was killed
m = open(sys.argv[2]).read()
acked = [int(v) for v in re.findall(r'^logferry_output_host_events_acked_total\{output="logstash",host="[^"]+"\} (\d+)$', m, re.M)]
assert len(acked) == 2 and sum(acked) == int(sys.argv[5]), acked
assert re.search(r'^logferry_output_host_ack_latency_ms\{', m, re.M), "no latency series"
print("per-host:", {k: (v["windows"], v["events_acked"], v["failures"]) for k, v in hosts.items()})
PY
stop_agent
echo "after b's return: b got $(( $(lj_count b) - b0 ))"
[ "$(lj_count b)" -gt "$b0" ] || fail "b received nothing after it came back"
cat "$T/lj/a.ndjson" "$T/lj/b.ndjson" >"$T/both.ndjson"
seq_check "$T/both.ndjson" 1 40000 || fail "not exactly once with loadbalance"
echo "PASS logstash_loadbalance_one_down"
