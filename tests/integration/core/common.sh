# core/common.sh - helpers shared by the core integration tests (tests/integration/core_*.sh).
# Sourced after lib.sh (it lives in a subfolder so ctest does not register it as a test).
#
#   core_conf FILE [agent-extra] [input-extra] [output-extra]
#       writes an agent.conf tailing $T/logs/*.log into $T/out/out.ndjson with data_dir
#       $T/data, a short registry_flush and a rescan_interval of one hour (CORE_RESCAN=..., CORE_FLUSH=...
#       overrides), so that every
#       test proves inotify does the work (the rescan is a safety net, not the mechanism).
#       Each "extra" is inserted verbatim (newline-separated key = value lines).
#   reg_offset PATH     the registry's committed offset for PATH (empty if none)
#   lines_of OUT        number of events in OUT (0 if missing)
#   wait_events OUT N [SECS]   waits until OUT holds at least N events
#   core_flood DIR N    appends N lines each to DIR/a.log and DIR/b.log, alternating (the
#                       kernel cannot merge the events): with N = max_queued_events / 2 + 2000
#                       and the agent frozen, the inotify queue overflows
core_conf() {
    local f=$1 agent_extra=${2:-} input_extra=${3:-} output_extra=${4:-}
    cat >"$f" <<CONF
[agent]
name = coretest
data_dir = $T/data
registry_flush = ${CORE_FLUSH:-100ms}
rescan_interval = ${CORE_RESCAN:-1h}
shutdown_timeout = 20s
$agent_extra

[input app]
paths = $T/logs/*.log
$input_extra

[output file]
path = $T/out/out.ndjson
$output_extra
CONF
}

reg_offset() {
    python3 - "$T/data/registry.json" "$1" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    sys.exit(0)
for e in d.get("files", []):
    if e.get("path") == sys.argv[2]:
        print(e["offset"]); break
PY
}

lines_of() { count_events "$1"; }

wait_events() {
    local out=$1 n=$2 secs=${3:-60}
    wait_for "[ \$(count_events '$out') -ge $n ]" "$secs"
}

# core_start CONF: start_agent, then wait until this run has logged "started as" (its signal
# handling is in place from then on, so a SIGTERM that follows at once is a clean stop and
# not the default action's death by signal).
core_start() {
    local before
    before=$(grep -c ' started as ' "$T/agent.log" 2>/dev/null || true)
    start_agent "$@"
    wait_for "[ \$(grep -c ' started as ' '$T/agent.log') -gt ${before:-0} ]" 60 ||
        fail "the agent did not start"
}

core_flood() {
    python3 - "$1" "$2" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
fa = os.open(os.path.join(d, "a.log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
fb = os.open(os.path.join(d, "b.log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
for i in range(1, n + 1):
    os.write(fa, f"a {i} x\n".encode())
    os.write(fb, f"b {i} y\n".encode())
os.close(fa); os.close(fb)
PY
}
