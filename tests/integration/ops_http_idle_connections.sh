#!/bin/bash
# labels: ops
# timeout: 60
# healthz_answers_while_200_idle_connections_are_held: a local user opens 200 TCP connections
#   to http_listen and sends nothing (issue 21: with 32 slots and a 10 s idle timeout, 40 of
#   them kept /healthz waiting 9.7 s). While they are held, /healthz must still answer 200;
#   the bound asserted is generous (curl gives up after 2 s, 20 times the 100 ms target) and
#   the measured time is printed, not asserted. Then idle connections are closed by the agent
#   (short idle timeout) and shipping was not disturbed: every numbered line exactly once.
set -u
. "$(dirname "$0")/lib.sh"
lf_setup
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$T/agent.conf" <<EOF
[agent]
data_dir = $T/data
http_listen = 127.0.0.1:$PORT
[input app]
paths = $T/logs/*.log
[output file]
path = $T/out/events.ndjson
EOF
gen_lines "$T/logs/app.log" 1 1000
start_agent "$T/agent.conf"
wait_for "curl -sf --noproxy '*' -m 1 http://127.0.0.1:$PORT/healthz" 10 || fail "endpoint not up"
python3 - "$PORT" "$T/idle.report" <<'PY' &
import socket, sys, time
port, report = int(sys.argv[1]), sys.argv[2]
conns = []
for i in range(200):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    conns.append(s)
open(report + ".ready", "w").close()
# hold them idle; count how many the agent closed (read returns b"" on close)
time.sleep(6)
closed = 0
for s in conns:
    s.setblocking(False)
    try:
        closed += s.recv(1) == b""
    except BlockingIOError:
        pass
    except OSError:
        closed += 1
open(report, "w").write(f"{closed}\n")
PY
HOLDER=$!
LF_BG_PIDS="$HOLDER"
wait_for "[ -e $T/idle.report.ready ]" 20 || fail "could not open 200 connections"
code=$(curl -s --noproxy '*' -m 2 -o "$T/body" -w '%{http_code} %{time_total}' "http://127.0.0.1:$PORT/healthz")
echo "healthz with 200 idle connections held: HTTP ${code% *} in ${code#* } s"
[ "${code% *}" = 200 ] || fail "/healthz did not answer 200 within 2 s while 200 idle connections were held (got '$code')"
wait "$HOLDER"
LF_BG_PIDS=
closed=$(cat "$T/idle.report")
echo "idle connections closed by the agent within 6 s: $closed of 200"
[ "$closed" = 200 ] || fail "the agent kept idle connections open past its idle timeout ($closed of 200 closed)"
wait_for "[ \$(count_events $T/out/events.ndjson) -ge 1000 ]" 20 || fail "lines not shipped"
stop_agent
seq_check "$T/out/events.ndjson" 1 1000 || fail "lines lost or duplicated"
echo PASS
