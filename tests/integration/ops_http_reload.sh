# labels: ops
# timeout: 60
# ops_http_reload.sh - the endpoint follows a SIGHUP reload: the same port serves again after
# the agent re-executes, and a changed http_listen moves it (the old port stops answering);
# a reload to an invalid http_listen is refused and the endpoint keeps serving.
set -u
. "$(dirname "$0")/lib.sh"
lf_setup
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
P1=$(free_port); P2=$(free_port)
conf() {
cat >"$T/agent.conf" <<EOF
[agent]
data_dir = $T/data
http_listen = $1
[input app]
paths = $T/logs/*.log
[output file main]
path = $T/out/events.ndjson
EOF
}
up() { curl -s --noproxy '*' -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/healthz" | grep -qx 200; }
conf "127.0.0.1:$P1"
gen_lines "$T/logs/app.log" 1 300
start_agent "$T/agent.conf"
wait_for "up $P1" 10 || fail "endpoint not up on $P1"

kill -HUP "$AGENT_PID"
wait_for "[ \$(grep -c 'serving /' $T/agent.log) -ge 2 ]" 15 || fail "endpoint not restarted after SIGHUP"
wait_for "up $P1" 10 || fail "endpoint not back on $P1 after reload"

conf "127.0.0.1:$P2"
kill -HUP "$AGENT_PID"
wait_for "up $P2" 15 || fail "endpoint did not move to $P2"
up "$P1" && fail "old port $P1 still answers"

conf "999.1.1.1:$P1"    # invalid: the reload is refused, the running config kept
kill -HUP "$AGENT_PID"
wait_for "grep -q '999.1.1.1' $T/agent.log" 15 || fail "invalid http_listen not reported"
up "$P2" || fail "endpoint lost after a refused reload"
gen_lines "$T/logs/app.log" 301 400
wait_for "[ \$(count_events $T/out/events.ndjson) -ge 400 ]" 15 || fail "shipping stopped"
stop_agent
seq_check "$T/out/events.ndjson" 1 400 || fail "lines lost or duplicated across reloads"
echo PASS
