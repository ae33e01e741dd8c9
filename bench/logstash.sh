#!/bin/bash
# logstash.sh - Logstash output throughput (issue 15): the logstash output shipping to
# tests/tools/lj_standin on loopback (a Lumberjack v2 server that parses every frame,
# inflates compressed ones, and ACKs each window; it stores nothing), at compression_level
# 0 and 3, against the file output as baseline (bench/out_lib.sh: input, measures, table).
#
#   bench/logstash.sh [BUILD_DIR] [LINES] [REPS] ["extra output line" ...]
#   e.g. bench/logstash.sh build 1000000 3
#        bench/logstash.sh build 1000000 3 "window = 4096"
# Defaults: build, 1000000, 3. Don't run it beside other benchmarks or tests.
set -eu
. "$(dirname "$0")/out_lib.sh" "$@"
shift $(( $# > 3 ? 3 : $# ))
ob_setup lj lj_standin
sink_count() { sed -n 's/.*"events":\([0-9]*\).*/\1/p' "$W/sink.stats" 2>/dev/null || echo 0; }
for rep in $(seq "$REPS"); do
    ob_run_file
    for level in 0 3; do
        rm -f "$W/sink.stats"
        ob_sink "$B/lj_standin" --port-file "$W/port" --stats "$W/sink.stats"
        ob_run "logstash_level$level" sink_count "$B" "[output logstash]" \
            "hosts = 127.0.0.1:$(cat "$W/port")" "compression_level = $level" "$@"
    done
done
echo "# $N nginx lines, $REPS repetitions, median (min-max); logferry $("$B/logferry" --version 2>/dev/null | head -1); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# extra output lines: ${*:-none}"
ob_report '{"logstash_level0": (700000, 1.3), "logstash_level3": (250000, None)}'
