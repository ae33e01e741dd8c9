# labels: ops;slow
# timeout: 120
# ops_metrics_summary_log.sh - every 30 s the agent logs one line with the counters that
# changed in the period (Filebeat-style), and with log_format = json that line, like every
# other, is a JSON object whose message carries the deltas. Takes ~35 s (one period).
set -u
. "$(dirname "$0")/lib.sh"
lf_setup
cat >"$T/agent.conf" <<EOF
[agent]
data_dir = $T/data
log_format = json
[input app]
paths = $T/logs/*.log
[output file main]
path = $T/out/events.ndjson
EOF
gen_lines "$T/logs/app.log" 1 1234
start_agent "$T/agent.conf"
wait_for "grep -q 'non-zero metrics' $T/agent.log" 45 || fail "no summary line within 45 s"
sleep 0.2
stop_agent
python3 - "$T/agent.log" <<'PY' || fail "summary line is not what it should be"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]  # every line is JSON
summ = [r for r in recs if r["log"]["logger"] == "metrics"]
assert len(summ) == 1, summ
msg = summ[0]["message"]
assert msg.startswith("non-zero metrics in the last 30s: "), msg
m = json.loads(msg.split(": ", 1)[1])
assert m["lines_read"] == 1234 and m["events"] == 1234, m
assert m["output"]["main"]["events_acked"] == 1234, m
assert "parse_failures" not in m, m  # zero counters are left out
print("summary:", msg)
PY
seq_check "$T/out/events.ndjson" 1 1234 || fail "lines lost"
echo PASS
