#!/usr/bin/env bash
# labels: torture
# timeout: 300
# torture_symlink_k8s (issue 12): Kubernetes-style symlinked logs rotated while the agent is
# stopped. logs/POD.log -> ../pods/POD/0.log for TORTURE_PODS (default 20) pods; the glob is
# logs/*.log; the runtime rotates in the target's directory (0.log -> 0.log.CYCLE-K).
#
# TORTURE_CYCLES (default 6) cycles: with the agent running, 50 lines per pod are appended
# (half the cycles also rotate every target once while it runs); the agent is stopped
# (SIGTERM, or kill -9 every other cycle); while it is down each pod gets 30 more lines, its
# target is rotated, a new 0.log gets 30 lines, and in odd cycles it is rotated a second time
# and a third 0.log gets 30 lines (the middle generation was never seen by the agent); then the
# agent starts again. Every number must arrive (lost = 0); duplicates are reported. (It once
# lost 2,090 of 15,000 under load: a 0.log created by a live rotation just before a kill -9,
# not registered yet, rotated again while stopped; fixed by the registry's caught_up_ms.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tools/torture_lib.bash"
lf_setup
PODS=${TORTURE_PODS:-20}
CYCLES=${TORTURE_CYCLES:-6}
tt_conf "$T/agent.conf" "$T/logs/*.log" "" "close_renamed = 1s"
for p in $(seq 1 "$PODS"); do
    mkdir -p "$T/pods/p$p"
    : >"$T/pods/p$p/0.log"
    ln -s "../pods/p$p/0.log" "$T/logs/p$p.log"
done
n=1
append() { # COUNT: COUNT lines to every pod's current 0.log
    n=$(python3 - "$T/pods" "$PODS" "$n" "$1" <<'PY'
import sys
d, pods, n, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for p in range(1, pods + 1):
    with open(f"{d}/p{p}/0.log", "a") as f:
        for _ in range(k):
            f.write(f"k8s {n} lorem ipsum dolor sit amet\n"); n += 1
print(n)
PY
)
}
rotate() { for p in $(seq 1 "$PODS"); do mv "$T/pods/p$p/0.log" "$T/pods/p$p/0.log.$1"; : >"$T/pods/p$p/0.log"; done; }
start_agent "$T/agent.conf"
for c in $(seq 1 "$CYCLES"); do
    append 25
    [ $((c % 2)) = 0 ] && rotate "$c-live"
    append 25
    wait_for "[ \$(count_events '$TT_OUT') -ge $((n - 1 - 25 * PODS)) ]" 30 || true
    if [ $((c % 2)) = 0 ]; then kill9_agent; else stop_agent; fi
    append 30
    rotate "$c-1"
    append 30
    if [ $((c % 2)) = 1 ]; then rotate "$c-2"; append 30; fi
    start_agent "$T/agent.conf"
done
tt_finish symlink_k8s k8s "$((n - 1))" pods="$PODS" cycles="$CYCLES"
