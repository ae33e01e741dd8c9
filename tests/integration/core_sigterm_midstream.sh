#!/bin/bash
# labels: core
# timeout: 240
# SIGTERM in the middle of a large backlog: the agent stops reading, drains what it already
# dispatched, commits and exits 0. Proves the committed offset is exact - every line before
# it is in the output, none after it - so that after a restart every line arrives exactly
# once (no loss, and no duplicates either: a clean stop leaves nothing in flight).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
core_conf "$T/agent.conf"
N=300000
gen_lines "$T/logs/app.log" 1 $N
core_start "$T/agent.conf"
wait_events "$T/out/out.ndjson" 5000 60 || fail "agent not shipping"
stop_agent
shipped=$(count_events "$T/out/out.ndjson")
off=$(reg_offset "$T/logs/app.log")
echo "stopped after $shipped of $N lines, registry offset $off"
[ "$shipped" -lt $N ] || echo "note: the whole backlog was shipped before SIGTERM (fast machine)"
python3 - "$T/out/out.ndjson" "$T/logs/app.log" "$off" <<'PY' || fail "registry offset does not match what was delivered"
import json, sys
out, log, off = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(log, "rb").read()
assert off <= len(data) and (off == 0 or data[off - 1:off] == b"\n"), "offset not at a line end"
want = data[:off].count(b"\n")
got = [json.loads(l) for l in open(out, "rb")]
ends = sorted(e["log"]["offset"] for e in got)
assert len(got) == want, f"{len(got)} events shipped but {want} lines before the offset"
assert all(o < off for o in ends), "an event beyond the committed offset"
PY
core_start "$T/agent.conf"
wait_events "$T/out/out.ndjson" $N 120 || fail "only $(count_events "$T/out/out.ndjson") of $N after restart"
stop_agent
seq_check "$T/out/out.ndjson" 1 $N || fail "not exactly once across a SIGTERM in mid-stream"
echo PASS
