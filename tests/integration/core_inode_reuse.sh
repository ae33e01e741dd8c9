#!/bin/bash
# labels: core
# timeout: 120
# Inode reuse, made deterministic: with the agent stopped, the registry is given an entry
# with the dev/inode of a new app.log but another file's fingerprint and an offset > 0 (what
# the registry holds when a rotated-away file's inode is reused by a new file). Proves the
# fingerprint mismatch is detected and the new file is read from its beginning: all its
# lines arrive, none skipped.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
core_conf "$T/agent.conf"
gen_lines "$T/logs/app.log" 1 300
dev=$(stat -c %d "$T/logs/app.log"); ino=$(stat -c %i "$T/logs/app.log")
for fplen in 64 1024; do
    rm -f "$T/out/out.ndjson"
    cat >"$T/data/registry.json" <<JSON
{"version": 1, "files": [{"path": "$T/logs/app.log", "dev": $dev, "ino": $ino,
  "fp": "0123456789abcdef", "fp_len": $fplen, "uid": "00000000000000aa",
  "offset": 5000, "updated_ms": 1}]}
JSON
    core_start "$T/agent.conf"
    wait_events "$T/out/out.ndjson" 300 60
    stop_agent
    seq_check "$T/out/out.ndjson" 1 300 || fail "fp_len $fplen: reused inode resumed at the old offset"
    grep -q "inode reused" "$T/agent.log" || fail "fp_len $fplen: the agent did not say it saw a reused inode"
    size=$(stat -c %s "$T/logs/app.log")
    [ "$(reg_offset "$T/logs/app.log")" = "$size" ] || fail "registry offset not updated"
done
echo PASS
