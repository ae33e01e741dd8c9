# labels: ops
# timeout: 60
# ops_packaged_config.sh - the configurations we ship are valid: `logferry check` passes on
# packaging/agent.conf.production as is (no output enabled), on it with each of its commented
# output blocks enabled in turn (Kafka, Elasticsearch, NDJSON file), and on the agent.conf of
# the Kubernetes ConfigMaps in packaging/container/k8s-sidecar.yaml and k8s-daemonset.yaml. Check creates nothing.
set -u
. "$(dirname "$0")/lib.sh"
lf_setup
PROD="$SRC_DIR/packaging/agent.conf.production"
had_state=0; [ -e /var/lib/logferry ] && had_state=1

check() { # CONF LABEL
    if ! "$LOGFERRY" check -c "$1" >"$T/check.out" 2>&1; then
        cat "$T/check.out"; fail "logferry check fails on $2"
    fi
    echo "ok: $2"
}
check "$PROD" "the packaged agent.conf"

# every "#[output TYPE NAME]" block, uncommented alone
export LOGFERRY_ES_API_KEY=dGVzdDp0ZXN0
export LOGFERRY_SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T0000/B0000/testtoken0000
blocks=$(grep -c '^#\[output ' "$PROD")
[ "$blocks" -ge 4 ] || fail "expected at least 4 commented output blocks, found $blocks"
for i in $(seq 1 "$blocks"); do
    python3 - "$PROD" "$T/block$i.conf" "$i" <<'PY' || fail "cannot enable block $i"
import sys
src, dst, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
out, n, on = [], 0, False
for l in open(src).read().split("\n"):
    if l.startswith("#[output "):
        n += 1
        on = n == want
    elif not l.startswith("#") or l.startswith("##"):
        on = False
    out.append(l[1:] if on else l)
open(dst, "w").write("\n".join(out))
PY
    check "$T/block$i.conf" "the packaged agent.conf with $(grep -m1 '^\[output ' "$T/block$i.conf")"
done

# the ConfigMap's agent.conf: the literal block under "agent.conf: |"
awk '/^  agent.conf: \|/{on=1; next} on && /^[^ ]/{on=0} on && /^---/{on=0} on{sub(/^    /, ""); print}' \
    "$SRC_DIR/packaging/container/k8s-sidecar.yaml" >"$T/k8s.conf"
grep -q '^\[output kafka main\]' "$T/k8s.conf" || fail "could not extract agent.conf from k8s-sidecar.yaml"
sed -i "s|/var/lib/logferry|$T/data|" "$T/k8s.conf"
POD_NAME=shop-0 check "$T/k8s.conf" "the Kubernetes ConfigMap's agent.conf"
awk '/^  agent.conf: \|/{on=1; next} on && /^[^ ]/{on=0} on && /^---/{on=0} on{sub(/^    /, ""); print}' \
    "$SRC_DIR/packaging/container/k8s-daemonset.yaml" >"$T/ds.conf"
grep -q '^format = cri' "$T/ds.conf" || fail "could not extract agent.conf from k8s-daemonset.yaml"
sed -i "s|/var/lib/logferry|$T/data|" "$T/ds.conf"
NODE_NAME=node-1 check "$T/ds.conf" "the DaemonSet ConfigMap's agent.conf"

[ $had_state = 1 ] || [ ! -e /var/lib/logferry ] || fail "check created /var/lib/logferry"
echo PASS
