#!/bin/bash
# labels: core
# timeout: 60
# Broken configurations are refused with FILE:LINE. Each broken file on its own must make
# `logferry check` and `logferry -c` exit non-zero and print "FILE:LINE: ..." naming the right
# line; a file with every problem at once must get every one of them reported (not just the
# first). Also: a line longer than 200 characters (a long regex) neither breaks parsing nor
# shifts the line numbers of later errors, and inline "; comments" are not part of values.
. "$(dirname "$0")/lib.sh"
lf_setup
unset LF_CORE_UNSET_VAR
C=$T/agent.conf
base() {  # the valid parts
cat <<CONF
[input app]
paths = $T/logs/*.log
[output file]
path = $T/out/out.ndjson
CONF
}
expect_refused() {  # NAME LINE REGEX : the config in $C must be refused naming line LINE
    local name=$1 line=$2 re=$3 rc=0
    "$LOGFERRY" check -c "$C" >"$T/check.out" 2>"$T/check.err" || rc=$?
    [ "$rc" != 0 ] || fail "$name: check exited 0"
    grep -Eq "^$C:$line: .*$re" "$T/check.err" || { cat "$T/check.err"; fail "$name: no '$C:$line: ...$re' in the output"; }
    rc=0
    timeout 20 "$LOGFERRY" -c "$C" >/dev/null 2>"$T/run.err" || rc=$?
    [ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "$name: the agent started (rc $rc) on a broken config"
    echo "ok: $name -> $(grep -E "^$C:$line:" "$T/check.err" | head -1)"
}
{ echo "[agent]"; echo "data_dir = $T/data"; echo "colour = blue"; base; } >"$C"
expect_refused "unknown key" 3 "unknown key 'colour'"
{ base; echo "[inptu x]"; echo "paths = /tmp/x"; } >"$C"
expect_refused "unknown section" 5 "unknown section \[inptu\]"
{ echo "[agent]"; echo "queue_max_bytes = 12 parsecs"; base; } >"$C"
expect_refused "bad size" 2 "queue_max_bytes"
{ echo "[agent]"; echo "data_dir = \${LF_CORE_UNSET_VAR}/data"; base; } >"$C"
expect_refused "unset variable" 2 "LF_CORE_UNSET_VAR"
{ echo "[agent]"; echo "shutdown_timeout = soon"; base; } >"$C"
expect_refused "bad duration" 2 "shutdown_timeout"
{ base; echo "[input empty]"; echo "start_at = end"; } >"$C"
expect_refused "input without paths" 5 "needs paths"
{ base; echo "[output carrier_pigeon]"; echo "path = /tmp/x"; } >"$C"
expect_refused "unknown output type" 5 "unknown output type 'carrier_pigeon'"
{ echo "[agent]"; echo "log_level = info"; base; echo "[agent]"; echo "name = x"; } >"$C"
expect_refused "two [agent] sections" 7 "second \[agent\]"
{ echo "[agent]"; echo "start_at = end"; base; } >"$C"
expect_refused "input key in [agent]" 2 "unknown key 'start_at'"
{ echo "[input app]"; echo "paths = $T/logs/*.log"; echo "max_line_bytes = 100MiB"; echo "[output file]"; echo "path = $T/out/o.ndjson"; } >"$C"
expect_refused "max_line_bytes out of range" 3 "max_line_bytes must be between"

# A long line (a 300-character glob) before the error: the line number must still be right.
long="$T/logs/$(printf 'a%.0s' $(seq 1 300))*.log"
{ echo "[input long]"; echo "paths = $long"; echo "[output file]"; echo "path = $T/out/o.ndjson"; echo "bogus = 1"; } >"$C"
expect_refused "error after a long line" 5 "unknown key 'bogus'"
# ... and a long line whose 200th character is '[' must not be taken for a section header.
pad=$(printf 'b%.0s' $(seq 1 250))
{ echo "[input long]"; echo "paths = $T/logs/$pad[0-9]*.log, $T/logs/*.log"; echo "[output file]"; echo "path = $T/out/o.ndjson"; } >"$C"
"$LOGFERRY" check -c "$C" >"$T/check.out" 2>&1 || { cat "$T/check.out"; fail "a valid config with a long line was refused"; }
for col in $(seq 180 220); do
    p=$(printf 'c%.0s' $(seq 1 $((col - 8 - ${#T} - 6))))
    { echo "[input long]"; echo "paths = $T/logs/$p[0-9]x.log"; echo "[output file]"; echo "path = $T/out/o.ndjson"; } >"$C"
    "$LOGFERRY" check -c "$C" >"$T/check.out" 2>&1 || { cat "$T/check.out"; fail "a '[' at column $col of a long line broke parsing"; }
done
echo "ok: long lines"

# Inline comments and ${VAR:-default} in a valid file.
cat >"$C" <<CONF
; a comment
# another comment
[agent]
data_dir = \${LF_CORE_UNSET_VAR:-$T/data}   ; where the registry lives
name = box-1 ; the host name
[input app]
paths = $T/logs/*.log
[output file]
path = $T/out/out.ndjson
CONF
"$LOGFERRY" check -c "$C" >"$T/check.out" 2>&1 || { cat "$T/check.out"; fail "valid config with comments refused"; }
grep -q "name=box-1 data_dir=$T/data " "$T/check.out" || { cat "$T/check.out"; fail "inline comment or default not applied"; }

# Every problem at once: each is reported with its own line.
cat >"$C" <<CONF
[agent]
colour = blue
queue_max_bytes = lots
data_dir = \${LF_CORE_UNSET_VAR}
[bogus]
x = 1
[input a]
start_at = middle
[output nosuch]
[agent]
CONF
rc=0; "$LOGFERRY" check -c "$C" >"$T/check.out" 2>"$T/check.err" || rc=$?
[ "$rc" != 0 ] || fail "check accepted a file full of problems"
for want in "2:.*colour" "3:.*queue_max_bytes" "4:.*LF_CORE_UNSET_VAR" "5:.*bogus" "8:.*start_at" "7:.*needs paths" "9:.*nosuch" "10:.*second \[agent\]"; do
    grep -Eq "^$C:$want" "$T/check.err" || { cat "$T/check.err"; fail "problem '$want' not reported"; }
done
echo "ok: all $(grep -c "^$C:[0-9]" "$T/check.err") problems reported"
echo PASS
