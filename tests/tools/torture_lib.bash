# torture_lib.bash - helpers shared by tests/integration/torture_*.sh (sourced after lib.sh).
# Kept out of tests/integration/ because every *.sh there becomes a ctest test.
#
#   tt_writer_path           path of the torture_writer binary (built from tests/tools/);
#                            run it directly (not through a function) so $! is its PID
#   tt_conf FILE PATHS [EXTRA_AGENT_LINES] [EXTRA_INPUT_LINES]
#                            writes an agent.conf: data_dir $T/data, one [input t] over PATHS,
#                            [output file] into $T/out/events.ndjson
#   tt_hwm PID               VmHWM of PID in KiB (0 if gone)
#   tt_now_ms                monotonic-ish wall clock in ms
#   tt_wait_stable FILE SECS QUIET
#                            waits until FILE's line count has not changed for QUIET seconds
#                            (or SECS passed); prints the count
#   tt_analyze OUT TAG A B [ONDISK_GLOB]
#                            prints "present= missing= dups= garbled= torn= ondisk=" for
#                            numbers A..B of TAG in OUT (a JSON line per event; invalid JSON and
#                            lines that were never written count as garbled; torn = the garbled
#                            ones at log.offset 0: the rest of a line whose first half was
#                            truncated away), ondisk = how many of them still exist in the
#                            files matching ONDISK_GLOB
#   tt_finish NAME TAG N [KEY=VAL...]
#                            the end of a test: waits until N events arrived (or the output is
#                            quiet), stops the agent, analyzes TAG 1..N, prints and records the
#                            figures (the KEY=VALs plus lost/duplicated/garbled) and fails on any
#                            lost or garbled line
#   tt_figures NAME KEY=VAL...
#                            prints "TORTURE-FIGURES name=NAME KEY=VAL..." and appends it to
#                            $TORTURE_FIGURES (default $BUILD_DIR/torture-figures.txt), where
#                            docs/benchmarks.md's "Delivery guarantees" figures come from
TT_OUT=${T:-/tmp}/out/events.ndjson

tt_writer_path() {
    local w=${BUILD_DIR:-}/torture_writer
    [ -x "$w" ] || w=$(dirname "$LOGFERRY")/torture_writer
    [ -x "$w" ] || fail "torture_writer not built (tests/tools/torture_writer.c; BUILD_DIR=${BUILD_DIR:-unset})"
    echo "$w"
}

tt_conf() {
    local file=$1 paths=$2 extra_agent=${3:-} extra_input=${4:-}
    TT_OUT=$T/out/events.ndjson
    cat >"$file" <<EOF
[agent]
data_dir = $T/data
registry_flush = 200ms
rescan_interval = 1s
$extra_agent

[input t]
paths = $paths
start_at = beginning
$extra_input

[output file]
path = $TT_OUT
EOF
}

tt_hwm() {
    awk '/^VmHWM:/ {print $2; f=1} END {if (!f) print 0}' "/proc/$1/status" 2>/dev/null || echo 0
}

tt_now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

tt_wait_stable() {
    local file=$1 secs=$2 quiet=$3
    local deadline=$(( $(tt_now_ms) + secs * 1000 )) last=-1 since
    since=$(tt_now_ms)
    while :; do
        local n
        n=$(count_events "$file")
        if [ "$n" != "$last" ]; then
            last=$n
            since=$(tt_now_ms)
        elif [ $(( $(tt_now_ms) - since )) -ge $(( quiet * 1000 )) ]; then
            break
        fi
        [ "$(tt_now_ms)" -lt "$deadline" ] || break
        sleep 0.2
    done
    echo "$last"
}

tt_analyze() {
    python3 - "$@" <<'PY'
import glob, json, re, sys, collections
out, tag, a, b = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
ondisk_glob = sys.argv[5] if len(sys.argv) > 5 else None
# the exact lines torture_writer (x padding) and lib.sh gen_lines write
full = re.compile(r"^" + re.escape(tag) + r" (\d+) (?:x*|lorem ipsum dolor sit amet)$")
cnt = collections.Counter()
garbled = torn = 0
try:
    f = open(out, "rb")
except OSError:
    f = []
for raw in f:
    try:
        ev = json.loads(raw)
    except Exception:
        garbled += 1
        continue
    msg = str(ev.get("message", ""))
    m = full.match(msg)
    if m:
        cnt[int(m.group(1))] += 1
    else:
        garbled += 1  # a line that was never written: a read from a stale offset, a split line
        log = ev.get("log") if isinstance(ev.get("log"), dict) else {}
        if log.get("offset") == 0:
            torn += 1  # the tail of a line whose head was truncated away (copytruncate)
missing = [i for i in range(a, b + 1) if cnt[i] == 0]
dups = sum(c - 1 for i, c in cnt.items() if c > 1 and a <= i <= b)
ondisk = -1
if ondisk_glob:
    seen = set()
    for p in glob.glob(ondisk_glob):
        with open(p, "rb") as fh:
            for line in fh:
                m = full.match(line.decode("utf-8", "replace").rstrip("\n"))
                if m:
                    seen.add(int(m.group(1)))
    ondisk = sum(1 for i in range(a, b + 1) if i in seen)
print(f"present={b - a + 1 - len(missing)} missing={len(missing)} dups={dups} garbled={garbled} torn={torn} ondisk={ondisk}"
      f" first_missing={missing[0] if missing else 0}")
PY
}

tt_figures() {
    local name=$1; shift
    local line="TORTURE-FIGURES name=$name $*"
    echo "$line"
    local f=${TORTURE_FIGURES:-${BUILD_DIR:-/tmp}/torture-figures.txt}
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $line" >>"$f" 2>/dev/null || true
}

# kv VAR "present=1 missing=2 ..." KEY: extracts KEY's value.
tt_kv() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

tt_finish() {
    local name=$1 tag=$2 n=$3; shift 3
    wait_for "[ \$(count_events '$TT_OUT') -ge $n ]" 60 || true
    tt_wait_stable "$TT_OUT" 20 2 >/dev/null
    stop_agent
    local res
    res=$(tt_analyze "$TT_OUT" "$tag" 1 "$n")
    echo "torture_$name: $* written=$n $res"
    tt_figures "$name" "$@" written="$n" lost="$(tt_kv "$res" missing)" \
        duplicated="$(tt_kv "$res" dups)" garbled="$(tt_kv "$res" garbled)"
    [ "$(tt_kv "$res" missing)" = 0 ] ||
        fail "$(tt_kv "$res" missing) of $n lines lost (first: $(tt_kv "$res" first_missing))"
    [ "$(tt_kv "$res" garbled)" = 0 ] || fail "$(tt_kv "$res" garbled) garbled lines (read from a stale offset or cut)"
    echo "PASS torture_$name"
}
