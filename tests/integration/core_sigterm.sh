#!/bin/bash
# labels: core
# timeout: 120
# SIGTERM (and SIGINT): the agent stops reading, drains, commits the registry and exits 0.
# Proves the exit status is 0 and the registry's offset equals the file size for every
# file, with nothing left in flight; no registry.json.tmp is left behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
CORE_FLUSH=1h core_conf "$T/agent.conf"     # only the shutdown commit writes the registry
want=0
for sig in TERM INT; do
    want=$((want + 5300))
    gen_lines "$T/logs/app.log" 1 5000 "$sig"
    gen_lines "$T/logs/other.log" 1 300 "o$sig"
    core_start "$T/agent.conf"
    wait_events "$T/out/out.ndjson" $want 60 || fail "$sig: not all shipped"
    kill -$sig "$AGENT_PID"
    rc=0; wait "$AGENT_PID" || rc=$?
    AGENT_PID=
    [ "$rc" = 0 ] || fail "exit status $rc after SIG$sig"
    for f in app.log other.log; do
        size=$(stat -c %s "$T/logs/$f")
        [ "$(reg_offset "$T/logs/$f")" = "$size" ] || fail "SIG$sig: $f registry offset '$(reg_offset "$T/logs/$f")' != size $size"
    done
    [ ! -e "$T/data/registry.json.tmp" ] || fail "registry.json.tmp left behind"
done
seq_check "$T/out/out.ndjson" 1 5000 --tag TERM || fail "TERM lines"
seq_check "$T/out/out.ndjson" 1 5000 --tag INT || fail "INT lines"
echo PASS
