#!/bin/bash
# labels: core
# timeout: 120
# symlinked_logs_follow_target_appends_and_rotation: Kubernetes exposes container logs as
# symlinks (/var/log/containers/NAME.log -> /var/log/pods/.../0.log). With the periodic rescan
# effectively off (1 h), appends to the symlink's target must arrive through inotify on the
# target's directory; when the target is rotated by rename, lines appended to the renamed
# file and to the new file the symlink now leads to both arrive, each exactly once.
. "$(dirname "$0")/lib.sh"
lf_setup
mkdir -p "$T/pods"
: >"$T/pods/0.log"
ln -s "$T/pods/0.log" "$T/logs/app.log"
cat >"$T/agent.conf" <<CONF
[agent]
data_dir = $T/data
rescan_interval = 1h
[input k8s]
paths = $T/logs/*.log
[output file]
path = $T/out/events.ndjson
CONF
start_agent "$T/agent.conf"
wait_for "grep -q 'reading .*app.log' $T/agent.log" 10 || fail "agent did not open the symlinked log"
sleep 1.5 # the target's directory watch is applied within a second
gen_lines "$T/pods/0.log" 1 300
wait_for "[ \$(count_events $T/out/events.ndjson) -ge 300 ]" 10 || fail "appends to the symlink target not shipped"
mv "$T/pods/0.log" "$T/pods/0.log.20261126"
gen_lines "$T/pods/0.log" 301 600
gen_lines "$T/pods/0.log.20261126" 601 700   # a late write to the rotated file
gen_lines "$T/pods/0.log" 701 1000
wait_for "[ \$(count_events $T/out/events.ndjson) -ge 1000 ]" 20 || fail "lines after the target's rotation not shipped: $(count_events $T/out/events.ndjson)/1000"
stop_agent
seq_check "$T/out/events.ndjson" 1 1000 || fail "lines lost or duplicated through the symlink"
python3 - "$T/out/events.ndjson" "$T/logs/app.log" <<'PY' || fail "log.file.path is not the symlink's path"
import json, sys
assert all(json.loads(l)["log"]["file"]["path"] == sys.argv[2] for l in open(sys.argv[1]))
PY
echo "PASS core_symlink"
