#!/bin/bash
# alert_latency.sh - first-alert latency benchmark of the Slack output (issue 6): from the
# write() of an HTTP 500 line into a tailed file to the webhook request arriving at a local
# Slack stand-in, over >= 50 alerts, idle and while the agent ships 100,000 other lines/s to
# the file output. Target: p50 < 2 ms, p99 < 10 ms in both phases.
#
#   bench/alert_latency.sh                      # recorded run: 50 alerts, min_interval 1s
#   bench/alert_latency.sh --alerts 20 --min-interval 100ms   # quick sanity run
#   bench/alert_latency.sh --cause --phases= --min-interval 100ms  # cause_from latency and cost
#   LOGFERRY=/path/to/logferry bench/alert_latency.sh --json results.json
#
# Needs python3 and a built logferry (default build/logferry). Options: see alert_latency.py.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/alert_latency.py" "$@"
