#!/usr/bin/env bash
# run.sh - logferry side by side with syslog-ng, rsyslog (and Fluent Bit), one invocation,
# one input. See docs/benchmarks.md for what each contestant does and the caveats.
#
#   bench/run.sh                 1,000,000 nginx lines, 3 repetitions, results into
#                                bench/results/<UTC time>/ and bench/README.md
#   bench/run.sh --quick         100,000 lines, 1 repetition, into bench/work/quick-results/
#                                (sanity check of the harness; README untouched)
#   options: --lines N  --reps N  --only NAME[,NAME...]  --cases CASE[,CASE...]
#            --no-readme (leave bench/README.md and results/latest.* alone)
#   env:     LOGFERRY=/path/to/logferry (default: build it into build-bench/)
#            BENCH_NO_INSTALL=1 (do not apt-get install syslog-ng-core, gnuplot-nox when missing)
#            FLUENT_BIT=/path/to/fluent-bit (adds Fluent Bit)
#            BENCH_TIMEOUT=S (per contestant, default 60 + lines/4000)
#
# Input cases (issue 18), each reported as its own table: classic (gen_nginx.py's mix, the
# input of every run before issue 18) and diverse (gen_nginx.py --diverse: half IPv6, +0900
# and other zones, remote users, percent-encoded queries and referrers, escaped and UTF-8
# user agents, long URLs). The Spring case runs with the classic one.
# Contestants (names for --only): wc, logferry-raw, logferry-nginx, syslog-ng,
# rsyslog-lognorm, rsyslog-regex, fluent-bit, logferry-spring, logferry-docker, logferry-cri
# (the nginx input wrapped as Docker's json-file driver / CRI store a container's stdout, by
# gen_container.py; compare them with logferry-nginx of the same invocation).
# Each one starts from scratch (fresh state dir, no output file), reads the same file from its
# beginning and writes one JSON line per event; it is done when its output holds N lines
# (bench/measure.py polls it), then CPU and peak RSS are read from /proc before it is stopped.
# A contestant that cannot start is reported as "failed: reason" and the run goes on.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
WORK=$HERE/work
LINES=1000000
REPS=3
QUICK=0
ONLY=""
CASES=classic,diverse
README=1
while [ $# -gt 0 ]; do
    case $1 in
    --quick) QUICK=1; LINES=100000; REPS=1; README=0 ;;
    --lines) LINES=$2; shift ;;
    --reps) REPS=$2; shift ;;
    --only) ONLY=",$2," ; shift ;;
    --cases) CASES=$2; shift ;;
    --no-readme) README=0 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
[ "$QUICK" = 1 ] && README=0
TIMEOUT=${BENCH_TIMEOUT:-$(( 60 + LINES / 4000 ))}
SPRING_RECORDS=$(( LINES / 5 ))

mkdir -p "$WORK"
if [ "$QUICK" = 1 ]; then
    RESDIR=$WORK/quick-results
    rm -rf "$RESDIR"
else
    RESDIR=$HERE/results/$(date -u +%Y%m%dT%H%M%SZ)
fi
mkdir -p "$RESDIR"
log() { echo "[bench $(date -u +%H:%M:%S)] $*" >&2; }

want() { [ -z "$ONLY" ] || [[ $ONLY == *",$1,"* ]]; }

# ---- inputs ----
case_input() { # case -> its input file (generated once, same seed, same bytes)
    case $1 in
    classic) echo "$WORK/nginx-$LINES.log" ;;
    diverse) echo "$WORK/nginx-diverse-$LINES.log" ;;
    *) echo "run.sh: unknown case $1 (classic, diverse)" >&2; return 1 ;;
    esac
}
for c in ${CASES//,/ }; do
    INPUT=$(case_input "$c") || exit 2
    if [ ! -s "$INPUT" ]; then
        log "generating $INPUT ($LINES lines)"
        flag=; [ "$c" = diverse ] && flag=--diverse
        python3 "$HERE/gen_nginx.py" $flag --lines "$LINES" --out "$INPUT.tmp" && mv "$INPUT.tmp" "$INPUT" \
            || { echo "run.sh: cannot generate $INPUT" >&2; exit 1; }
    fi
done
SPRING=$WORK/spring-$SPRING_RECORDS.log
if want logferry-spring && [ ! -s "$SPRING" ]; then
    python3 "$HERE/gen_nginx.py" --spring --lines "$SPRING_RECORDS" --out "$SPRING.tmp" \
        && mv "$SPRING.tmp" "$SPRING"
fi
for c in ${CASES//,/ }; do # docker/cri wrappings of each case's input
    in=$(case_input "$c")
    for fmt in docker cri; do
        if want "logferry-$fmt" && [ ! -s "$in.$fmt.log" ]; then
            log "generating $in.$fmt.log"
            python3 "$HERE/gen_container.py" --format "$fmt" --in "$in" --out "$in.$fmt.log.tmp" \
                && mv "$in.$fmt.log.tmp" "$in.$fmt.log"
        fi
    done
done

# render TEMPLATE OUT KEY=VALUE...: replaces @KEY@ (values may hold any character).
render() {
    python3 - "$@" <<'PY'
import sys
src, dst, *kv = sys.argv[1:]
t = open(src).read()
for item in kv:
    k, v = item.split("=", 1)
    t = t.replace("@" + k + "@", v)
open(dst, "w").write(t)
PY
}
REGEX=$(cat "$HERE/peers/nginx.regex")
ERE=$(cat "$HERE/peers/nginx.ere")

# ---- contestants' binaries ----
# syslog-ng and gnuplot come from Debian; install them when missing (root, or sudo) unless
# BENCH_NO_INSTALL=1. A failed install only turns syslog-ng's row into "failed: ...".
need=""
command -v syslog-ng >/dev/null || need="$need syslog-ng-core"
command -v gnuplot >/dev/null || need="$need gnuplot-nox"
if [ -n "$need" ] && [ -z "${BENCH_NO_INSTALL:-}" ]; then
    SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
    log "installing:$need"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need \
        >"$WORK/apt.log" 2>&1 || log "apt-get install$need failed (see $WORK/apt.log)"
fi
LF=${LOGFERRY:-}
if [ -z "$LF" ]; then
    LF=$ROOT/build-bench/logferry
    log "building logferry (RelWithDebInfo) into build-bench/"
    { cmake -S "$ROOT" -B "$ROOT/build-bench" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
      cmake --build "$ROOT/build-bench" --target logferry -j2 >/dev/null; } \
        || log "logferry build failed"
fi
RS=$WORK/rsyslog
fetch_rsyslog() {
    [ -x "$RS/usr/sbin/rsyslogd" ] && return 0
    # rsyslog conflicts with syslog-ng-core, so it is unpacked, not installed.
    local d=$WORK/rsyslog-debs
    rm -rf "$d" && mkdir -p "$d" "$RS"
    (cd "$d" && apt-get download rsyslog liblognorm5 libestr0 libfastjson4) >"$d/download.log" 2>&1 \
        || { RS_ERR="apt-get download rsyslog liblognorm5 libestr0 libfastjson4 failed"; return 1; }
    for deb in "$d"/*.deb; do dpkg -x "$deb" "$RS" || { RS_ERR="dpkg -x $deb failed"; return 1; }; done
    [ -x "$RS/usr/sbin/rsyslogd" ] || { RS_ERR="no rsyslogd in the unpacked packages"; return 1; }
}
RS_ERR=""
if want rsyslog-lognorm || want rsyslog-regex; then fetch_rsyslog; fi

# ---- one contestant ----
# setup_NAME fills CMD (array), OUT, ENVS (array of KEY=VALUE), or FAIL (a reason);
# DIR is its fresh scratch directory.
setup_logferry() { # $1 = parser line
    [ -x "$LF" ] || { FAIL="no logferry binary at $LF"; return; }
    OUT=$DIR/out.json
    mkdir -p "$DIR/data"
    render "$HERE/peers/logferry.conf.in" "$DIR/logferry.conf" INPUT="$2" OUTPUT="$OUT" \
        WORK="$DIR" PARSERLINE="$1"
    local chk
    if ! chk=$("$LF" check -c "$DIR/logferry.conf" 2>&1); then
        FAIL="logferry check refused the config: $(echo "$chk" | grep -v '^ *$' | head -n 3 | tr '\n' ' ')"
        return
    fi
    CMD=("$LF" -c "$DIR/logferry.conf")
}
setup_logferry-raw() { setup_logferry "; no parser: raw lines" "$INPUT"; FIELD=message; }
setup_logferry-nginx() {
    setup_logferry "parser = nginx_combined" "$INPUT"
    FIELD=http.response.status_code
}
setup_logferry-spring() {
    setup_logferry "parser = spring_boot
multiline = java" "$SPRING"
    WANT=$SPRING_RECORDS
    IN_BYTES=$(stat -c %s "$SPRING")
    FIELD=log.level
}
setup_logferry_container() { # $1 = docker | cri
    local in=$INPUT.$1.log
    setup_logferry "parser = nginx_combined
format = $1" "$in"
    IN_BYTES=$(stat -c %s "$in")
    FIELD=http.response.status_code
}
setup_logferry-docker() { setup_logferry_container docker; }
setup_logferry-cri() { setup_logferry_container cri; }
setup_syslog-ng() {
    command -v syslog-ng >/dev/null || { FAIL="syslog-ng not installed (apt-get install syslog-ng-core)"; return; }
    OUT=$DIR/out.json
    render "$HERE/peers/syslog-ng.conf.in" "$DIR/syslog-ng.conf" INPUT="$INPUT" OUTPUT="$OUT" REGEX="$REGEX"
    local chk
    chk=$(syslog-ng -s -f "$DIR/syslog-ng.conf" 2>&1) || { FAIL="syslog-ng -s: $(echo "$chk" | head -n 2 | tr '\n' ' ')"; return; }
    FIELD=http.response.status_code
    CMD=(syslog-ng -F -f "$DIR/syslog-ng.conf" -R "$DIR/persist" --pidfile "$DIR/pid" -c "$DIR/ctl")
}
setup_rsyslog() { # $1 = template
    [ -z "$RS_ERR" ] || { FAIL="$RS_ERR"; return; }
    OUT=$DIR/out.json
    mkdir -p "$DIR/state"
    render "$1" "$DIR/rsyslog.conf" INPUT="$INPUT" OUTPUT="$OUT" WORK="$DIR/state" \
        RULEBASE="$HERE/peers/nginx.rb" RE="$ERE"
    ENVS=(LD_LIBRARY_PATH="$RS/usr/lib/x86_64-linux-gnu")
    FIELD=status
    CMD=("$RS/usr/sbin/rsyslogd" -n -f "$DIR/rsyslog.conf" -M "$RS/usr/lib/x86_64-linux-gnu/rsyslog"
         -i "$DIR/pid")
}
setup_rsyslog-lognorm() { setup_rsyslog "$HERE/peers/rsyslog-lognorm.conf.in"; }
setup_rsyslog-regex() { setup_rsyslog "$HERE/peers/rsyslog-regex.conf.in"; }
setup_fluent-bit() {
    [ -n "${FLUENT_BIT:-}" ] || { FAIL="skip"; return; }
    [ -x "$FLUENT_BIT" ] || { FAIL="FLUENT_BIT=$FLUENT_BIT is not executable"; return; }
    OUT=$DIR/out.json
    render "$HERE/peers/fluent-bit-parsers.conf.in" "$DIR/parsers.conf" REGEX="$REGEX"
    render "$HERE/peers/fluent-bit.conf.in" "$DIR/fluent-bit.conf" INPUT="$INPUT" \
        PARSERS="$DIR/parsers.conf" OUTDIR="$DIR" OUTFILE=out.json
    FIELD=status
    CMD=("$FLUENT_BIT" -c "$DIR/fluent-bit.conf")
}

run_one() { # name rep
    local name=$1 rep=$2
    DIR=$WORK/run/$name
    rm -rf "$DIR" && mkdir -p "$DIR"
    CMD=() ENVS=() OUT="" FAIL="" WANT=$LINES IN_BYTES=$INPUT_BYTES FIELD=""
    local res
    if [ "$name" = wc ]; then
        res=$(python3 "$HERE/measure.py" --run-to-exit --log "$DIR/log" -- wc -l "$INPUT")
    else
        "setup_$name"
        if [ "$FAIL" = skip ]; then return; fi
        if [ -n "$FAIL" ]; then
            res=$(python3 -c 'import json,sys; print(json.dumps({"ok": False, "reason": sys.argv[1]}))' "$FAIL")
        else
            local envargs=()
            for e in "${ENVS[@]}"; do envargs+=(--env "$e"); done
            res=$(python3 "$HERE/measure.py" --out "$OUT" --lines "$WANT" --timeout "$TIMEOUT" \
                --log "$DIR/log" "${envargs[@]}" -- "${CMD[@]}")
            # One look at what it wrote: the first line must be a JSON object holding the
            # field its parser produces (else the parser was not applied and the run measured
            # something else).
            local why
            if [ -s "$OUT" ] && why=$(head -n 1 "$OUT" | python3 -c '
import json, sys
try:
    ev = json.loads(sys.stdin.read())
except Exception:
    print("first output line is not JSON"); sys.exit(1)
cur = ev
for k in sys.argv[1].split("."):
    if not isinstance(cur, dict) or k not in cur:
        if sys.argv[1] in ev: break  # flat dotted key
        print("first output event has no " + sys.argv[1] + " (parser not applied?)"); sys.exit(1)
    cur = cur[k]
' "$FIELD"); then :; elif [ -s "$OUT" ]; then
                res=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); r["ok"]=False; r["reason"]=sys.argv[2]; print(json.dumps(r))' "$res" "$why")
            fi
        fi
    fi
    [ -n "$res" ] || res='{"ok": false, "reason": "measure.py printed nothing"}'
    python3 - "$res" "$name" "$rep" "$WANT" "$IN_BYTES" >>"$RESULTS" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
r.update(name=sys.argv[2], rep=int(sys.argv[3]), events=int(sys.argv[4]), in_bytes=int(sys.argv[5]))
print(json.dumps(r))
PY
    log "$name rep $rep: $res"
    [ -n "${KEEP_OUTPUT:-}" ] || rm -f "$DIR/out.json"
}

ALL=(wc logferry-raw logferry-nginx syslog-ng rsyslog-lognorm rsyslog-regex fluent-bit logferry-spring
     logferry-docker logferry-cri)
first=1
: >"$RESDIR/results.md"
for CASE in ${CASES//,/ }; do
INPUT=$(case_input "$CASE")
INPUT_BYTES=$(stat -c %s "$INPUT")
CASEDIR=$RESDIR/$CASE
mkdir -p "$CASEDIR"
RESULTS=$CASEDIR/results.jsonl
: >"$RESULTS"
# Warm the page cache once so nobody pays the first read from disk.
cat "$INPUT" >/dev/null
for rep in $(seq 1 "$REPS"); do
    for name in "${ALL[@]}"; do
        want "$name" || continue
        [ "$name" = logferry-spring ] && [ "$CASE" != classic ] && continue
        run_one "$name" "$rep"
    done
done

# ---- machine and versions ----
{
    echo "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)"
    echo "cores=$(nproc)"
    echo "kernel=$(uname -r)"
    echo "memory=$(free -m | awk '/^Mem:/ {print $2 " MiB"}')"
    echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"
    echo "logferry=$("$LF" --version 2>/dev/null | head -n 1)"
    echo "syslog-ng=$(syslog-ng --version 2>/dev/null | head -n 1)"
    echo "rsyslog=$(LD_LIBRARY_PATH=$RS/usr/lib/x86_64-linux-gnu "$RS/usr/sbin/rsyslogd" -v 2>/dev/null | head -n 1 | sed "s/,* *compiled with:.*//; s/  */ /g")"
    [ -n "${FLUENT_BIT:-}" ] && echo "fluent-bit=$("$FLUENT_BIT" --version 2>/dev/null | head -n 1)"
    echo "input=case $CASE: $(basename "$INPUT"), $LINES lines, $INPUT_BYTES bytes; repetitions=$REPS"
    echo "load=$(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min load average at the end of the run)"
} >"$CASEDIR/machine.txt"

readme_args=()
[ "$README" = 1 ] && readme_args=(--readme "$HERE/README.md")
[ "$first" = 1 ] || readme_args+=(--append)
python3 "$HERE/report.py" --results "$RESULTS" --machine "$CASEDIR/machine.txt" --case "$CASE" \
    --outdir "$CASEDIR" "${readme_args[@]}" || { echo "run.sh: report failed" >&2; exit 1; }
sed "s|](chart.png)|]($CASE/chart.png)|" "$CASEDIR/results.md" >>"$RESDIR/results.md"
if [ "$README" = 1 ]; then
    [ -f "$CASEDIR/chart.png" ] && cp "$CASEDIR/chart.png" "$HERE/results/latest-$CASE.png"
fi
first=0
done
if [ "$README" = 1 ]; then
    sed "s|](\([a-z]*\)/chart.png)|](latest-\1.png)|" "$RESDIR/results.md" >"$HERE/results/latest.md"
fi
cat "$RESDIR/results.md"
