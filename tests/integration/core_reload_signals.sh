#!/bin/bash
# labels: core
# timeout: 120
# SIGHUP reload and the signal contract:
#   reload_invalid_config_keeps_running: a broken agent.conf on SIGHUP is refused with its
#     FILE:LINE error and the agent keeps shipping with the old configuration;
#   reload_valid_config_applies_without_loss_or_duplicates: a valid change (a new static
#     field) is applied; every numbered line before, during and after arrives exactly once,
#     and lines after the reload carry the new field;
#   second_sigterm_exits_at_once: with an output that cannot deliver (file on a full
#     device is not portable, so: a shutdown_timeout of 60s and a stuck drain is simulated
#     by a FIFO output nobody reads), the second SIGTERM ends the agent quickly.
. "$(dirname "$0")/lib.sh"
lf_setup
conf=$T/agent.conf
write_conf() {
    cat >"$conf" <<CONF
[agent]
data_dir = $T/data
[input app]
paths = $T/logs/*.log
fields.release = $1
[output file]
path = $T/out/events.ndjson
CONF
}
write_conf one
start_agent "$conf"
gen_lines "$T/logs/app.log" 1 500
wait_for "[ \$(count_events $T/out/events.ndjson) -ge 500 ]" 20 || fail "first 500 lines not shipped"

# invalid config: refused, old one kept
echo "no_such_key = 1" >>"$conf"
kill -HUP "$AGENT_PID"
wait_for "grep -q 'agent.conf:.*unknown key .no_such_key.' $T/agent.log" 10 || fail "invalid config not reported with FILE:LINE"
wait_for "grep -q 'keeping the running configuration' $T/agent.log" 10 || fail "no 'keeping' message"
gen_lines "$T/logs/app.log" 501 1000
wait_for "[ \$(count_events $T/out/events.ndjson) -ge 1000 ]" 20 || fail "agent stopped shipping after a refused reload"
kill -0 "$AGENT_PID" || fail "agent died on an invalid reload"

# valid config: applied, nothing lost or duplicated, even with lines written meanwhile
write_conf two
( for i in $(seq 1001 1500); do echo "line $i lorem ipsum dolor sit amet"; done >>"$T/logs/app.log" ) &
writer=$!
kill -HUP "$AGENT_PID"
wait "$writer"
wait_for "grep -q 'stopped for reload' $T/agent.log" 20 || fail "valid reload not applied"
gen_lines "$T/logs/app.log" 1501 2000
wait_for "[ \$(count_events $T/out/events.ndjson) -ge 2000 ]" 30 || fail "lines after reload not shipped"
stop_agent
seq_check "$T/out/events.ndjson" 1 2000 || fail "lines lost or duplicated across reload"
python3 - "$T/out/events.ndjson" <<'PY' || fail "new static field not applied after reload"
import json, sys
last = [json.loads(l) for l in open(sys.argv[1])][-1]
assert last["message"].startswith("line 2000"), last["message"]
assert last.get("release") == "two", last
PY

# second SIGTERM: exits at once even though a drain would wait 60 s
mkfifo "$T/out/fifo"
cat >"$conf" <<CONF
[agent]
data_dir = $T/data2
shutdown_timeout = 60s
[input app]
paths = $T/logs/*.log
[output file]
path = $T/out/fifo
CONF
start_agent "$conf"
( exec 3<"$T/out/fifo"; sleep 1000 ) &   # opens the FIFO so the output's open() returns, never reads
LF_BG_PIDS=$!
wait_for "grep -q 'reading .*app.log' $T/agent.log" 10 || fail "agent did not start on the FIFO config"
sleep 1
kill -TERM "$AGENT_PID"
sleep 0.5
kill -0 "$AGENT_PID" 2>/dev/null || fail "agent should still be draining after the first SIGTERM"
t0=$(date +%s)
kill -TERM "$AGENT_PID"
rc=0; wait "$AGENT_PID" || rc=$?
AGENT_PID=
[ $(( $(date +%s) - t0 )) -le 5 ] || fail "second SIGTERM did not exit promptly"
[ "$rc" = 0 ] || fail "second SIGTERM exit status $rc"
grep -q "second signal" "$T/agent.log" || fail "no second-signal message"
echo "PASS core_reload_signals"
