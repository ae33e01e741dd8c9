#!/bin/bash
# parse_bench.sh - the parser micro benchmark (tests/tools/parse_bench.c) for each path:
# N generated lines through lineproc_feed + batch_add, median of 3 rounds, CPU ns per line.
#   bench/parse_bench.sh [BUILD_DIR] [LINES]     (defaults: build, 1000000)
# Run it on a quiet machine; the figures are recorded in docs/parsers.md.
set -eu
B=${1:-build}
N=${2:-1000000}
[ -x "$B/parse_bench" ] || { echo "build first: cmake --build $B --target parse_bench" >&2; exit 1; }
printf '%-16s %12s %12s %14s\n' path "cpu ns/line" "M lines/cpu-s" "lineproc only"
for p in raw nginx_combined apache_common spring_boot json; do
    med() { sort -n | sed -n 2p; }
    full=$("$B/parse_bench" -p "$p" -n "$N" -r 3 | awk '{for(i=1;i<=NF;i++) if($i=="ns/line" && $(i+1)=="cpu,") print $(i-1)}' | med)
    rate=$(awk -v ns="$full" 'BEGIN{printf "%.2f", 1000/ns}')
    only=$("$B/parse_bench" -p "$p" -n "$N" -r 3 -x | awk '{for(i=1;i<=NF;i++) if($i=="ns/line" && $(i+1)=="cpu,") print $(i-1)}' | med)
    printf '%-16s %12s %12s %14s\n' "$p" "$full" "$rate" "$only"
done
