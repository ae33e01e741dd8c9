#!/usr/bin/env bash
# tests/fuzz/run.sh - builds every libFuzzer target (tests/fuzz/fuzz_*.c) with clang under
# ASan+UBSan and runs each for a bounded time over its seed corpus; exits non-zero on the
# first crash, leak, UB report or timeout. CI calls it.
#
#   tests/fuzz/run.sh [NAME...]     NAME = what follows fuzz_ (default: every target)
#   FUZZ_SECONDS=30                 time per target
#   FUZZ_BUILD_DIR=build-fuzz       where to build (relative to the source tree)
#
# Seed corpus: tests/fuzz/corpus-NAME/ (committed). New inputs libFuzzer finds go to
# tests/fuzz/corpus-NAME/work/ (git-ignored); a crash leaves its input as
# FUZZ_BUILD_DIR/crash-* and the run fails with the reproduction command.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
SECS=${FUZZ_SECONDS:-30}
BUILD=${FUZZ_BUILD_DIR:-build-fuzz}
case $BUILD in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
command -v clang >/dev/null || { echo "fuzz: clang is not installed (apt-get install clang)" >&2; exit 1; }

mkdir -p "$BUILD" && cmake -S "$SRC" -B "$BUILD" -DLOGFERRY_FUZZ=ON -DLOGFERRY_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_COMPILER=clang >"$BUILD/cmake.log" 2>&1 \
    || { cat "$BUILD/cmake.log" >&2; echo "fuzz: cmake failed" >&2; exit 1; }

if [ $# -gt 0 ]; then
    names=("$@")
else
    names=()
    for f in "$SRC"/tests/fuzz/fuzz_*.c; do
        [ -e "$f" ] || continue
        n=$(basename "$f" .c); names+=("${n#fuzz_}")
    done
fi
[ ${#names[@]} -gt 0 ] || { echo "fuzz: no targets in tests/fuzz/" >&2; exit 1; }

rc=0
for n in "${names[@]}"; do
    t=fuzz_$n
    if ! cmake --build "$BUILD" --target "$t" -j2 >"$BUILD/$t.build.log" 2>&1; then
        tail -n 30 "$BUILD/$t.build.log" >&2
        echo "fuzz: $t: build failed" >&2
        rc=1; continue
    fi
    corpus=$SRC/tests/fuzz/corpus-$n
    mkdir -p "$corpus/work"
    echo "fuzz: $t for ${SECS}s over $corpus" >&2
    # Leaks are bugs: LeakSanitizer runs after every input (-detect_leaks=1 is the default).
    if (cd "$BUILD" && ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
            UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
            "./$t" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
            -print_final_stats=1 "$corpus/work" "$corpus") >"$BUILD/$t.log" 2>&1; then
        echo "fuzz: $t: ok ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$BUILD/$t.log" | grep -o '[0-9]*$') runs)" >&2
    else
        tail -n 60 "$BUILD/$t.log" >&2
        crash=$(ls -t "$BUILD"/crash-* "$BUILD"/leak-* "$BUILD"/timeout-* "$BUILD"/oom-* 2>/dev/null | head -n 1)
        echo "fuzz: $t FAILED${crash:+; reproduce with: (cd $BUILD && ./$t $crash)}" >&2
        rc=1
    fi
done
exit $rc
