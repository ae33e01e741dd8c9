# lib.sh - shared helpers for integration tests that drive the real logferry binary.
# Source it: . "$(dirname "$0")/lib.sh". Needs: LOGFERRY (path of the binary), python3.
#
#   lf_setup                 temp dir $T with $T/logs $T/data $T/out; cleaned up on exit
#   start_agent CONF [args]  runs "$LOGFERRY -c CONF" in the background; AGENT_PID, log in $T/agent.log
#   stop_agent               SIGTERM, waits, fails unless exit status is 0
#   kill9_agent              SIGKILL, waits
#   stop_timed SIG           sends SIG, waits; STOP_RC = exit status, STOP_MS = ms from the
#                            signal to the exit
#   wait_for 'CMD' SECS      polls CMD every 50 ms until it succeeds, fails after SECS
#   gen_lines FILE A B [TAG] appends lines "TAG A ... payload" .. "TAG B ..." (TAG default "line")
#   count_events FILE        number of JSON lines in FILE
#   seq_check OUT A B [--allow-dups] [--tag TAG]
#                            every number A..B appears in a "message" in OUT exactly once
#                            (at least once with --allow-dups); every line must be valid JSON.
#   fail MSG                 prints MSG and the agent log tail, exits 1
set -u
: "${LOGFERRY:?LOGFERRY must point at the logferry binary}"
AGENT_PID=
lf_cleanup() {
    if [ -n "${AGENT_PID:-}" ] && kill -0 "$AGENT_PID" 2>/dev/null; then
        kill -9 "$AGENT_PID" 2>/dev/null; wait "$AGENT_PID" 2>/dev/null
    fi
    for p in ${LF_BG_PIDS:-}; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    [ -n "${T:-}" ] && [ -z "${LF_KEEP:-}" ] && rm -rf "$T"
}
lf_setup() {
    T=$(mktemp -d /tmp/lftest.XXXXXX)
    mkdir -p "$T/logs" "$T/data" "$T/out"
    trap lf_cleanup EXIT
}
fail() {
    echo "FAIL: $*" >&2
    [ -f "$T/agent.log" ] && { echo "--- agent log (tail) ---" >&2; tail -n 40 "$T/agent.log" >&2; }
    exit 1
}
start_agent() {
    local conf=$1; shift
    "$LOGFERRY" -c "$conf" "$@" >>"$T/agent.log" 2>&1 &
    AGENT_PID=$!
}
stop_agent() {
    [ -n "$AGENT_PID" ] || return 0
    kill -TERM "$AGENT_PID"
    local rc=0
    wait "$AGENT_PID" || rc=$?
    AGENT_PID=
    [ "$rc" = 0 ] || fail "agent exited with status $rc after SIGTERM"
}
kill9_agent() {
    [ -n "$AGENT_PID" ] || return 0
    kill -9 "$AGENT_PID" 2>/dev/null
    wait "$AGENT_PID" 2>/dev/null
    AGENT_PID=
}
stop_timed() {
    local t0=$(( $(date +%s%N) / 1000000 ))
    kill -"$1" "$AGENT_PID"
    STOP_RC=0
    wait "$AGENT_PID" || STOP_RC=$?
    AGENT_PID=
    STOP_MS=$(( $(date +%s%N) / 1000000 - t0 ))
}
wait_for() {
    local cmd=$1 secs=${2:-10}
    local deadline=$(( $(date +%s%N) / 1000000 + secs * 1000 ))
    while ! eval "$cmd" >/dev/null 2>&1; do
        [ $(( $(date +%s%N) / 1000000 )) -lt $deadline ] || return 1
        sleep 0.05
    done
}
gen_lines() {
    python3 - "$@" <<'PY'
import sys
path, a, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
tag = sys.argv[4] if len(sys.argv) > 4 else "line"
with open(path, "a") as f:
    for i in range(a, b + 1):
        f.write(f"{tag} {i} lorem ipsum dolor sit amet\n")
PY
}
count_events() {
    [ -f "$1" ] || { echo 0; return; }
    wc -l <"$1" | tr -d ' '
}
seq_check() {
    python3 - "$@" <<'PY'
import json, re, sys, collections
args = sys.argv[1:]
out, a, b = args[0], int(args[1]), int(args[2])
allow = "--allow-dups" in args
tag = args[args.index("--tag") + 1] if "--tag" in args else "line"
pat = re.compile(r"^" + re.escape(tag) + r" (\d+)\b")
cnt = collections.Counter()
bad = 0
with open(out, "rb") as f:
    for n, raw in enumerate(f, 1):
        try:
            ev = json.loads(raw)
        except Exception as e:
            print(f"{out}:{n}: invalid JSON: {e}: {raw[:120]!r}"); bad += 1; continue
        for part in str(ev.get("message", "")).split("\n"):
            m = pat.match(part)
            if m:
                cnt[int(m.group(1))] += 1
missing = [i for i in range(a, b + 1) if cnt[i] == 0]
dups = sum(c - 1 for i, c in cnt.items() if c > 1)
extra = [i for i in cnt if i < a or i > b]
print(f"seq_check {tag} {a}..{b}: {b-a+1-len(missing)} present, {len(missing)} missing, {dups} duplicates")
if missing: print("  missing:", missing[:20], "..." if len(missing) > 20 else "")
ok = not missing and not bad and not extra and (allow or dups == 0)
sys.exit(0 if ok else 1)
PY
}
