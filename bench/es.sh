#!/bin/bash
# es.sh - Elasticsearch output throughput: the elasticsearch output shipping to
# tests/tools/bulk_sink (a keep-alive HTTP/1.1 _bulk endpoint that only counts and answers
# "errors":false; it inflates gzip bodies), without and with `compression = gzip`, against
# the file output as baseline (bench/out_lib.sh: input, measures, table), so the figures are
# logferry's: events/s until the sink has counted every document, CPU-seconds per million
# events (utime+stime of the agent), peak RSS (VmHWM); medians of REPS.
# BASE_BUILD=DIR also runs the gzip configuration with DIR/logferry (another build, e.g. the
# commit before a change) in the same invocation, as es_gzip_base.
#
#   bench/es.sh [BUILD_DIR] [LINES] [REPS] ["extra output line" ...]
#   e.g. bench/es.sh build 1000000 3
#        BASE_BUILD=/tmp/build-old bench/es.sh build 1000000 3 "workers = 4"
# Defaults: build, 1000000, 3. Don't run it beside other benchmarks or tests.
set -eu
. "$(dirname "$0")/out_lib.sh" "$@"
shift $(( $# > 3 ? 3 : $# ))
ob_setup es bulk_sink
sink_count() { curl -sf "http://127.0.0.1:$(cat "$W/port")/_sink/stats" | sed 's/.*"docs":\([0-9]*\).*/\1/' || echo 0; }
es_run() { # NAME BIN_DIR extra lines...
    local name=$1 bin=$2; shift 2
    ob_sink "$B/bulk_sink" -f "$W/port"
    ob_run "$name" sink_count "$bin" "[output elasticsearch]" \
        "hosts = http://127.0.0.1:$(cat "$W/port")" "index = logs-%Y.%m.%d" "$@"
}
for rep in $(seq "$REPS"); do
    ob_run_file
    es_run es_none "$B" "$@"
    es_run es_gzip "$B" "compression = gzip" "$@"
    [ -z "${BASE_BUILD:-}" ] || es_run es_gzip_base "$BASE_BUILD" "compression = gzip" "$@"
done
echo "# $N nginx lines, $REPS repetitions, median (min-max); logferry $("$B/logferry" --version 2>/dev/null | head -1); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# extra output lines: ${*:-none}${BASE_BUILD:+; es_gzip_base: $BASE_BUILD/logferry}"
ob_report
