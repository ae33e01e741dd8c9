# core/alo.sh - helpers for the at-least-once tests (issue 12): a configuration with the
# shipped agent.conf's glob style (DIR/*.log, which does not match rotated names such as
# app.log.1) and outputs that can be stalled. Sourced after lib.sh and core/common.sh; it
# sources tests/tools/torture_lib.bash for tt_analyze.
#
#   alo_conf FILE OUT [agent-extra] [input-extra]   (ALO_GLOB, ALO_DATA, ALO_RESCAN override)
#       agent.conf tailing $T/logs/*.log (ALO_GLOB overrides) into the file output OUT, with a
#       short registry_flush, rescan_interval 1h (ALO_RESCAN overrides), shutdown_timeout 2s
#   alo_need_root       exits 77 (skipped) unless root: tmpfs mounts
#   alo_mount DIR SIZE  mounts a tmpfs of SIZE on DIR (unmounted on exit)
#   alo_fill DIR        fills DIR's filesystem to the last byte (the output stalls: ENOSPC)
#   alo_unfill DIR      frees it again
#   alo_check OUT A B [TAG]   like seq_check, but reports lost and duplicated counts in one line
#                       "ALO TAG A..B: lost=N dup=M invalid=K first_lost=F" and fails only on
#                       lost numbers or lines that are not valid JSON (duplicates are counted)
. "$(dirname "${BASH_SOURCE[0]}")/../../tools/torture_lib.bash"

alo_conf() {
    local f=$1 out=$2 agent_extra=${3:-} input_extra=${4:-}
    cat >"$f" <<CONF
[agent]
name = alotest
data_dir = ${ALO_DATA:-$T/data}
registry_flush = 100ms
rescan_interval = ${ALO_RESCAN:-1h}
shutdown_timeout = 2s
$agent_extra

[input app]
paths = ${ALO_GLOB:-$T/logs/*.log}
$input_extra

[output file]
path = $out
CONF
}

alo_need_root() {
    [ "$(id -u)" = 0 ] || { echo "SKIP: needs root to mount a tmpfs"; exit 77; }
}

ALO_MOUNTS=()
alo_cleanup() {
    for m in "${ALO_MOUNTS[@]}"; do umount -l "$m" 2>/dev/null; done
    lf_cleanup
}
alo_mount() {
    mkdir -p "$1"
    mount -t tmpfs -o "size=$2" tmpfs "$1" || fail "cannot mount a $2 tmpfs on $1"
    ALO_MOUNTS+=("$1")
    trap alo_cleanup EXIT
}
alo_fill() { dd if=/dev/zero of="$1/.filler" bs=1k oflag=append conv=notrunc >/dev/null 2>&1; sync; }
alo_unfill() { rm -f "$1/.filler"; }

alo_check() {
    local res invalid
    res=$(tt_analyze "$1" "${4:-line}" "$2" "$3")
    invalid=$(python3 -c '
import json, sys
n = 0
for raw in open(sys.argv[1], "rb"):
    try: json.loads(raw)
    except Exception: n += 1
print(n)' "$1" 2>/dev/null || echo 0)
    echo "ALO ${4:-line} $2..$3: lost=$(tt_kv "$res" missing) dup=$(tt_kv "$res" dups) invalid=$invalid" \
        "first_lost=$(tt_kv "$res" first_missing)"
    [ "$(tt_kv "$res" missing)" = 0 ] && [ "$invalid" = 0 ]
}
