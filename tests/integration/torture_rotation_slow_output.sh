#!/usr/bin/env bash
# labels: torture
# timeout: 420
# torture_rotation_slow_output (issue 12): kill -9 and SIGHUP during rename rotation while the
# output is slower than the writer, with the shipped agent.conf's glob style (*.log, which
# does not match the rotated names app.log.K).
#
# A writer appends numbered lines at TORTURE_RATE (default 4,000/s) for TORTURE_SECONDS
# (default 15) with a rename rotation every 700 ms. The file output writes into a named pipe
# that tests/tools/fifo_drain.py empties at TORTURE_DRAIN (default 2,500) lines/s, so the
# agent falls behind: rotated files pile up with lines read but not acknowledged, or not read
# at all. Meanwhile the agent is, in turn, killed -9 and restarted, or reloaded with SIGHUP,
# every 2 s. After the writer stops and the output has caught up, every number must be
# present (lost = 0); duplicates are reported (kill -9 resends what was in flight).
# Before the fix, rotated files with unacknowledged lines were never read again after a
# restart or a reload (25,716 of 150,000 lost with kill -9, 16,650 with SIGHUP).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tools/torture_lib.bash"
lf_setup

SECS=${TORTURE_SECONDS:-15}
RATE=${TORTURE_RATE:-4000}
DRAIN=${TORTURE_DRAIN:-2500}
echo "torture_rotation_slow_output: ${SECS}s at $RATE lines/s, output drained at $DRAIN lines/s"
TW=$(tt_writer_path) || exit 1
SRC=${SRC_DIR:-$(dirname "$0")/../..}
mkfifo "$T/out/pipe"
tt_conf "$T/agent.conf" "$T/logs/*.log" "queue_max_events = 2048
shutdown_timeout = 1s" "close_renamed = 2s"
sed -i "s|^path = .*|path = $T/out/pipe|" "$T/agent.conf"
python3 "$SRC/tests/tools/fifo_drain.py" "$T/out/pipe" "$TT_OUT" "$DRAIN" &
DPID=$!
# The writer starts once the agent is up and reading (lines 1..1000 shipped): generations
# created and rotated before an agent ever ran are nobody's to find.
gen_lines "$T/logs/app.log" 1 1000 slow
start_agent "$T/agent.conf"
wait_for "[ \$(count_events '$TT_OUT') -ge 1000 ]" 60 || fail "the first 1000 lines did not arrive"
"$TW" -f "$T/logs/app.log" -s 1001 -r "$RATE" -d $(( SECS * 1000 )) -t slow -R rename -i 700 \
    >"$T/writer.out" 2>"$T/writer.err" &
WPID=$!
LF_BG_PIDS="$WPID $DPID"
kills=0 hups=0 max_hwm=0 i=0
while kill -0 "$WPID" 2>/dev/null; do
    sleep 2
    kill -0 "$WPID" 2>/dev/null || break
    kill -0 "$AGENT_PID" 2>/dev/null || fail "agent died by itself"
    hwm=$(tt_hwm "$AGENT_PID"); [ "$hwm" -gt "$max_hwm" ] && max_hwm=$hwm
    if [ $((i % 2)) = 0 ]; then
        kill9_agent; kills=$((kills + 1))
        start_agent "$T/agent.conf"
    else
        kill -HUP "$AGENT_PID"; hups=$((hups + 1))
    fi
    i=$((i + 1))
done
wait "$WPID" || fail "writer failed: $(cat "$T/writer.err")"
read -r _ last_kv rotations_kv <"$T/writer.out"
N=${last_kv#last=}
ROT=${rotations_kv#rotations=}
wait_for "[ \$(count_events '$TT_OUT') -ge $N ]" 240 || true
tt_wait_stable "$TT_OUT" 60 3 >/dev/null
stop_agent
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null
LF_BG_PIDS=
torn=$(cat "$TT_OUT.torn" 2>/dev/null || echo 0)
res=$(tt_analyze "$TT_OUT" slow 1 "$N")
echo "torture_rotation_slow_output: written=$N rotations=$ROT kills=$kills hups=$hups torn_pipe_records=$torn $res"
tt_figures rotation_slow_output seconds="$SECS" rate="$RATE" drain="$DRAIN" written="$N" \
    rotations="$ROT" kills="$kills" hups="$hups" lost="$(tt_kv "$res" missing)" \
    duplicated="$(tt_kv "$res" dups)" torn="$torn" peak_rss_kib="$max_hwm"
[ "$(tt_kv "$res" missing)" = 0 ] || fail "$(tt_kv "$res" missing) of $N lines lost (first: $(tt_kv "$res" first_missing))"
# garbled lines can only be the pipe records a kill -9 cut in two (counted by the drainer)
[ "$(tt_kv "$res" garbled)" -le "$torn" ] || fail "$(tt_kv "$res" garbled) garbled lines, only $torn torn by kills"
echo "PASS torture_rotation_slow_output"
