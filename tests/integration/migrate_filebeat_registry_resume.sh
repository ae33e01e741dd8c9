#!/bin/bash
# labels: migrate
# timeout: 120
# Switching from Filebeat without re-shipping or skipping: Filebeat's registry (memlog
# checkpoint + log.json, tests/data/filebeat-registry/take-over, with the real fingerprint keys
# and offsets of Filebeat's take-over test) plus native (inode-device) entries this test adds is
# converted with `logferry migrate filebeat --registry`; lines written after Filebeat stopped
# are appended; the agent starts on the converted registry and must ship exactly the lines past
# Filebeat's offsets: every number once, none of the lines Filebeat had already shipped. A file
# whose identity no longer matches is reported and read from its start.
. "$(dirname "$0")/lib.sh"
lf_setup
D="$SRC_DIR/tests/data"
mkdir -p "$T/take-over" "$T/home" "$T/fbreg"
cp "$D/filebeat-registry/take-over/01.log" "$D/filebeat-registry/take-over/02.log" "$T/take-over/"
sed -e "s|TESTDATA|$T|g" -e "s|HOME|$T/home|g" "$D/filebeat-config/take-over-happy-path.yml" \
    >"$T/filebeat.yml"

# a.log: Filebeat (native identity) had shipped n 1..40 of 60; c.log's entry names an inode
# that is not c.log's (the file was replaced): c.log must be read from its start.
gen_lines "$T/take-over/a.log" 1 60 n
gen_lines "$T/take-over/c.log" 1 10 c
A_OFF=$(head -n 40 "$T/take-over/a.log" | wc -c)
A_ID="$(stat -c %i "$T/take-over/a.log")-$(stat -c %d "$T/take-over/a.log")"
C_ID="$(( $(stat -c %i "$T/take-over/c.log") + 1000003 ))-$(stat -c %d "$T/take-over/c.log")"
cp "$D/filebeat-registry/take-over/registry/meta.json" "$D/filebeat-registry/take-over/registry/3.json" "$T/fbreg/"
# Filebeat's log up to its torn last operation (which ends the replay), then ours after it:
# our ops would be ignored behind the torn one, so they replace it (ids 9, 10).
head -n 12 "$D/filebeat-registry/take-over/registry/log.json" >"$T/fbreg/log.json"
cat >>"$T/fbreg/log.json" <<JSON
{"op":"set","id":9}
{"k":"filestream::first-id::native::$A_ID","v":{"ttl":-1,"updated":[1,2],"cursor":{"offset":$A_OFF},"meta":{"source":"$T/take-over/a.log","identifier_name":"native"}}}
{"op":"set","id":10}
{"k":"filestream::first-id::native::$C_ID","v":{"ttl":-1,"updated":[1,2],"cursor":{"offset":100},"meta":{"source":"$T/take-over/c.log","identifier_name":"native"}}}
{"op":"set","id":11}
{"k":"filestream::first-id::native::1-1","v":{"ttl":-1,"updated":[1,2],"cursor":{"offset":5},"meta":{"source":"$T/take-over/\u001b[2J\u001b]0;owned\u0007.log","identifier_name":"native"}}}
JSON

# agent.conf cannot be written: exit 1 and no registry left behind either
rc=0
"$LOGFERRY" migrate filebeat -c "$T/filebeat.yml" --registry "$T/fbreg" --data-dir "$T/data-x" \
    -o "$T/no/such/dir/agent.conf" 2>"$T/x.err" || rc=$?
[ "$rc" = 1 ] || fail "migrate with an unwritable -o exited $rc, expected 1"
[ -e "$T/data-x/registry.json" ] && fail "registry.json left behind although agent.conf was not written"

rc=0
"$LOGFERRY" migrate filebeat -c "$T/filebeat.yml" --registry "$T/fbreg" --data-dir "$T/data" \
    -o "$T/agent.conf" 2>"$T/migrate.err" || rc=$?
cat "$T/migrate.err"
[ "$rc" = 0 ] || fail "migrate exited $rc"
"$LOGFERRY" check -c "$T/agent.conf" >/dev/null || fail "converted agent.conf does not pass check"
grep -q "01.log: resumes at byte 309 of 309" "$T/migrate.err" || fail "01.log not resumed at Filebeat's offset"
grep -q "02.log: resumes at byte 296 of 296" "$T/migrate.err" || fail "02.log not resumed at Filebeat's offset"
grep -q "a.log: resumes at byte $A_OFF of" "$T/migrate.err" || fail "a.log not resumed at Filebeat's offset"
grep -q "native::$C_ID: $T/take-over/c.log no longer exists with the same identity" "$T/migrate.err" \
    || fail "c.log's stale entry not reported"
grep -q "c.log: no matching Filebeat entry: read from its start" "$T/migrate.err" \
    || fail "c.log not reported as read from its start"
grep -q "native::1-1: $T/take-over/?\[2J?\]0;owned?.log no longer exists" "$T/migrate.err" \
    || fail "a gone file's entry not reported (with its control characters shown as ?)"
LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f]' "$T/migrate.err" && fail "control characters from the registry reached stderr"
# a second conversion must not overwrite a registry logferry already owns
"$LOGFERRY" migrate filebeat -c "$T/filebeat.yml" --registry "$T/fbreg" --data-dir "$T/data" \
    -o "$T/again.conf" 2>"$T/again.err" && fail "second migrate over an existing registry succeeded"
grep -q "registry.json exists" "$T/again.err" || fail "no message about the existing registry"
[ -e "$T/again.conf" ] && fail "agent.conf written although the registry conversion failed"

# lines written between Filebeat's stop and logferry's start
gen_lines "$T/take-over/01.log" 1 50 line
gen_lines "$T/take-over/02.log" 51 80 line
gen_lines "$T/take-over/a.log" 61 100 n
start_agent "$T/agent.conf"
OUT="$T/home/output-file"
wait_for "[ \$(count_events $OUT) -ge 150 ]" 30 || fail "only $(count_events "$OUT") of 150 events arrived"
stop_agent
seq_check "$OUT" 1 80 --tag line || fail "lines appended to Filebeat's fingerprinted files: lost or duplicated"
seq_check "$OUT" 41 100 --tag n || fail "a.log: not exactly the lines past Filebeat's offset"
seq_check "$OUT" 1 10 --tag c || fail "c.log (identity changed) not read from its start exactly once"
n=$(count_events "$OUT")
[ "$n" = 150 ] || fail "$n events, expected 150: lines Filebeat had shipped were shipped again"
echo "PASS"
