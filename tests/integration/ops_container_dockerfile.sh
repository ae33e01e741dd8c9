# labels: container;root;no-asan
# timeout: 900
# ops_container_dockerfile.sh - packaging/container/Dockerfile's steps work, run without a
# container engine: each stage's FROM becomes a fresh Debian 12 root (the cached debootstrap
# tarball; debian:bookworm and debian:bookworm-slim are both bookworm), RUN lines run in a
# chroot, COPY copies the committed sources (git archive) or the other stage's file, USER and
# ENTRYPOINT/CMD are honoured for a final run: the runtime root must start the binary as uid
# 10001 with only the runtime libraries, pass `check` on the k8s ConfigMap's agent.conf
# (kafka output) and ship numbered lines with a file output.
# What this does not prove: Docker-specific semantics (layers, .dockerignore, VOLUME).
# Needs root and the Debian archive; installs build-essential in the build root, so it takes
# 3-6 minutes. Exit 77 when unavailable.
set -u
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
CACHE=${FRESH_CACHE:-/var/tmp/fresh-base.tgz}
[ -s "$CACHE" ] || { echo "SKIP: no $CACHE (run ops_package_deb.sh or fresh-check once)"; exit 77; }
lf_setup
ROOTS=""
ct_cleanup() {
    for r in $ROOTS; do
        for p in /proc/[0-9]*; do
            [ "$(readlink "$p/root" 2>/dev/null)" = "$r" ] && kill -9 "${p#/proc/}" 2>/dev/null
        done
        for m in dev/pts dev proc; do umount -l "$r/$m" 2>/dev/null; done
        rm -rf --one-file-system "$r"
    done
    lf_cleanup
}
trap ct_cleanup EXIT
new_root() { # prints the path of a fresh bookworm root with /proc and /dev mounted
    local r; r=$(mktemp -d /var/tmp/lf-ctroot-XXXXXX)
    tar -C "$r" -xzf "$CACHE" && chmod 0755 "$r"
    cp /etc/apt/sources.list.d/*.sources "$r/etc/apt/sources.list.d/" 2>/dev/null && rm -f "$r/etc/apt/sources.list"
    cp /etc/resolv.conf "$r/etc/resolv.conf"
    mount -t proc proc "$r/proc" && mount --bind /dev "$r/dev" && mount --bind /dev/pts "$r/dev/pts"
    echo "$r"
}
# The Dockerfile as a list of instructions (continuations joined, comments dropped).
python3 - "$SRC_DIR/packaging/container/Dockerfile" >"$T/steps" <<'PY'
import sys
text = open(sys.argv[1]).read().replace("\\\n", " ")
for line in text.split("\n"):
    line = line.strip()
    if line and not line.startswith("#"):
        print(line)
PY
declare -A STAGE
cur= ; workdir=/ ; user=0 ; entry= ; cmd=
while IFS= read -r line; do
    op=${line%% *}; arg=${line#* }
    case "$op" in
    FROM)
        cur=$(new_root); ROOTS="$ROOTS $cur"; workdir=/; user=0
        name=$(echo "$arg" | awk 'toupper($2) == "AS" {print $3}')
        [ -n "$name" ] && STAGE[$name]=$cur
        echo ">>> FROM $arg -> $cur" ;;
    RUN)
        echo ">>> RUN ${arg:0:100}..."
        chroot "$cur" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
            HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
            /bin/sh -c "cd $workdir && $arg" >>"$T/run.log" 2>&1 \
            || { tail -n 30 "$T/run.log"; fail "RUN failed: $arg"; } ;;
    WORKDIR) workdir=$arg; mkdir -p "$cur$workdir" ;;
    COPY)
        if [[ $arg == --from=* ]]; then
            set -- $arg; from=${1#--from=}; src=$2; dst=$3
            cp -a "${STAGE[$from]}$src" "$cur$dst" || fail "COPY $arg"
        else
            (cd "$SRC_DIR" && git archive HEAD) | tar -C "$cur$workdir" -x || fail "COPY $arg"
        fi ;;
    USER) user=${arg%%:*} ;;
    ENTRYPOINT) entry=$(python3 -c 'import json,sys; print(" ".join(json.loads(sys.argv[1])))' "$arg") ;;
    CMD) cmd=$(python3 -c 'import json,sys; print(" ".join(json.loads(sys.argv[1])))' "$arg") ;;
    VOLUME|EXPOSE) ;;
    *) fail "unhandled Dockerfile instruction: $line" ;;
    esac
done <"$T/steps"
[ "$user" = 10001 ] || fail "the image does not run as uid 10001 (USER $user)"
[ "$entry" = /usr/bin/logferry ] && [ "$cmd" = "-c /etc/logferry/agent.conf" ] || fail "ENTRYPOINT/CMD: $entry $cmd"
RT=$cur
[ ! -e "$RT/usr/bin/cc" ] || fail "the runtime image has a compiler"
as_app() { chroot --userspec=10001:10001 "$RT" /usr/bin/env -i PATH=/usr/bin:/bin LANG=C.UTF-8 "$@"; }

# The ConfigMap's agent.conf passes check in the runtime image (its Kafka output included).
awk '/^  agent.conf: \|/{on=1; next} on && /^[^ ]/{on=0} on{sub(/^    /, ""); print}' \
    "$SRC_DIR/packaging/container/k8s-sidecar.yaml" >"$RT/etc/logferry/agent.conf"
as_app env POD_NAME=shop-0 $entry check $cmd >"$T/check.log" 2>&1 || { cat "$T/check.log"; fail "check fails in the image"; }

# A shipping run as uid 10001 with a file output into the state volume.
mkdir -p "$RT/var/log/app"
gen_lines "$RT/var/log/app/shop.log" 1 400
cat >"$RT/etc/logferry/agent.conf" <<EOF
[agent]
data_dir = /var/lib/logferry
[input shop]
paths = /var/log/app/*.log
[output file out]
path = /var/lib/logferry/events.ndjson
EOF
chroot --userspec=10001:10001 "$RT" /usr/bin/env -i PATH=/usr/bin:/bin LANG=C.UTF-8 \
    $entry $cmd >"$T/agent.log" 2>&1 &  # not as_app: AGENT_PID must be the agent, not a subshell
AGENT_PID=$!
wait_for "[ \$(count_events $RT/var/lib/logferry/events.ndjson) -ge 400 ]" 30 || fail "the image did not ship 400 lines"
stop_agent
seq_check "$RT/var/lib/logferry/events.ndjson" 1 400 || fail "lines lost"
echo PASS
