#!/bin/bash
# deflate_cmp.sh - zlib against libdeflate (libdeflate-dev) on logferry's own payloads: LINES
# nginx lines (bench/gen_nginx.py, the same input as bench/run.sh) parsed into events by
# `logferry parse` (nginx_combined), then bench/deflate_cmp.c over them: Logstash windows
# (zlib format) and Elasticsearch _bulk bodies (gzip). CPU time of compression alone, best
# of REPS.
#
#   bench/deflate_cmp.sh [BUILD_DIR] [LINES] [REPS]      (defaults: build 200000 3)
set -eu
B=${1:-build}
N=${2:-200000}
REPS=${3:-3}
[ -f /usr/include/libdeflate.h ] || { echo "needs libdeflate-dev (apt-get install libdeflate-dev)" >&2; exit 1; }
W=$(mktemp -d /tmp/lfbench-deflate.XXXXXX)
trap 'rm -rf "$W"' EXIT
python3 "$(dirname "$0")/gen_nginx.py" --lines "$N" --out "$W/access.log" >/dev/null
printf '[agent]\ndata_dir = %s\n[input nginx]\npaths = %s\nparser = nginx_combined\n' \
    "$W" "$W/access.log" >"$W/agent.conf"
"$B/logferry" parse -c "$W/agent.conf" --input nginx <"$W/access.log" >"$W/events.ndjson"
cc -O2 -o "$W/deflate_cmp" "$(dirname "$0")/deflate_cmp.c" -lz -ldeflate
"$W/deflate_cmp" "$W/events.ndjson" "$REPS"
