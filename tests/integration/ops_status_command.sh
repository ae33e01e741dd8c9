# labels: ops
# timeout: 120
# ops_status_command.sh - `logferry status -c FILE` prints the running agent's files (size,
# committed offset, lag) and outputs (state, acked, dead) as a table; once the agent is
# stopped it says so, exits 3, and shows the registry's committed offsets against the files on
# disk, counting bytes appended while the agent was down as lag.
set -u
. "$(dirname "$0")/lib.sh"
lf_setup
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$T/agent.conf" <<EOF
[agent]
data_dir = $T/data
http_listen = 127.0.0.1:$PORT
registry_flush = 100ms
[input app]
paths = $T/logs/*.log
[output file main]
path = $T/out/events.ndjson
EOF
gen_lines "$T/logs/app.log" 1 1000
start_agent "$T/agent.conf"
wait_for "[ \$(count_events $T/out/events.ndjson) -ge 1000 ]" 20 || fail "agent did not ship 1000 lines"
SIZE=$(stat -c %s "$T/logs/app.log")
# committed == size once the registry caught up
wait_for "\"$LOGFERRY\" status -c $T/agent.conf | grep -Eq '/logs/app.log +$SIZE +$SIZE +0  open'" 10 \
    || { "$LOGFERRY" status -c "$T/agent.conf"; fail "status table lacks the file with lag 0"; }
"$LOGFERRY" status -c "$T/agent.conf" >"$T/live.txt" 2>&1; rc=$?
cat "$T/live.txt"
[ $rc = 0 ] || fail "status exit $rc while the agent runs"
grep -Eq '^main +file +ok +1000 +0 +0' "$T/live.txt" || fail "outputs table lacks main/file/ok/1000 acked"
grep -q '^health: ok: 1 output(s) healthy' "$T/live.txt" || fail "no health line"
"$LOGFERRY" status -c "$T/agent.conf" --json | python3 -c '
import json, sys; st = json.load(sys.stdin); assert st["outputs"][0]["events_acked"] == 1000' \
    || fail "status --json is not the agent's /status"
stop_agent

gen_lines "$T/logs/app.log" 1001 1100   # appended while no agent runs
SIZE2=$(stat -c %s "$T/logs/app.log")
"$LOGFERRY" status -c "$T/agent.conf" >"$T/down.txt" 2>&1; rc=$?
cat "$T/down.txt"
[ $rc = 3 ] || fail "status exit $rc with no agent (expected 3)"
grep -q "no agent answered on http://127.0.0.1:$PORT/status" "$T/down.txt" || fail "does not say no agent answered"
grep -Eq "/logs/app.log +$SIZE2 +$SIZE +$((SIZE2 - SIZE))  on disk" "$T/down.txt" \
    || fail "registry fallback does not show the appended bytes as lag"
out=$("$LOGFERRY" status -c "$T/agent.conf" --json 2>/dev/null); rc=$?
[ $rc = 3 ] && [ -z "$out" ] || fail "status --json with no agent: exit $rc, stdout '$out' (expected 3, nothing)"
echo "PASS"
