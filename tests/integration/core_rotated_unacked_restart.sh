#!/bin/bash
# labels: core;root
# timeout: 180
# core_rotated_unacked_restart (issue 12, defect 1): a file rotated away with lines no output
# has acknowledged is read to its end after a restart or a reload, although no glob matches
# its new name.
#
# The file output's disk is full (a tmpfs filled to the last byte), so nothing is acked;
# app.log is renamed to app.log.1 (not matched by *.log) with 2,000 lines unacknowledged, a
# new app.log begins; then the agent is stopped by SIGTERM, by kill -9, or reloaded by SIGHUP,
# space returns and it starts again. The registry holds app.log.1 at its old offset: every
# line of both generations must arrive (duplicates are counted, not failed: at-least-once).
# Before the fix app.log.1 was never opened again: 2,000 of 4,000 lost.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
. "$(dirname "$0")/core/alo.sh"
alo_need_root
lf_setup
rc=0
for mode in term kill9 hup; do
    mkdir -p "$T/$mode/logs" "$T/$mode/data"
    alo_mount "$T/$mode/out" 2m
    L=$T/$mode/logs OUT=$T/$mode/out/out.ndjson
    ALO_GLOB="$L/*.log" ALO_DATA="$T/$mode/data" alo_conf "$T/$mode/agent.conf" "$OUT" \
        "queue_max_events = 500"
    gen_lines "$L/app.log" 1 500
    core_start "$T/$mode/agent.conf"
    wait_events "$OUT" 500 30 || fail "$mode: first 500 lines not shipped"
    alo_fill "$T/$mode/out"
    gen_lines "$L/app.log" 501 2500                 # read, never acknowledged (disk full)
    wait_for "grep -q 'write to .* failed' '$T/agent.log'" 30 || fail "$mode: output never stalled"
    sleep 0.5
    mv "$L/app.log" "$L/app.log.1"
    gen_lines "$L/app.log" 2501 4000
    sleep 0.5
    case $mode in
    term) stop_agent ;;
    kill9) kill9_agent ;;
    hup)
        before=$(grep -c ' started as ' "$T/agent.log")
        kill -HUP "$AGENT_PID"
        wait_for "[ \$(grep -c ' started as ' '$T/agent.log') -gt $before ]" 60 ||
            fail "hup: the agent did not start again after SIGHUP"
        ;;
    esac
    alo_unfill "$T/$mode/out"
    [ "$mode" = hup ] || core_start "$T/$mode/agent.conf"
    wait_events "$OUT" 4000 60
    sleep 1
    stop_agent
    echo "mode=$mode: $(alo_check "$OUT" 1 4000)" | tee -a "$T/results"
    alo_check "$OUT" 1 4000 >/dev/null || rc=1
done
cat "$T/results"
[ $rc = 0 ] || fail "lines of a rotated file with unacknowledged lines were lost after a restart or reload"
echo PASS
