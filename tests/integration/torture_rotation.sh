#!/usr/bin/env bash
# labels: torture
# timeout: 300
# torture_rotation: rotations every 200 ms under load; rename loses nothing, copytruncate's
# unavoidable window is measured and bounded.
#
# Phase 1, rename: a writer appends TORTURE_RATE (default 30,000) numbered lines/s for
# TORTURE_SECONDS (default 6; torture_rotation_long runs longer) to app.log, renamed to
# app.log.K every 200 ms; the glob is app.log only, so the agent must drain each renamed file
# through its open descriptor. Asserted: every line arrives exactly once, and every output
# line is a line that was written.
#
# Phase 2, copytruncate: same load, ct.log copied to ct.log.K then truncated every 200 ms while
# the writer keeps appending. Two kinds of loss exist and are reported separately:
#   window: lines written between the end of the copy and the truncation; they are in no file
#           afterwards (measured from the files on disk; no shipper can get them back);
#   missed: lines that were in the live file but were truncated away before the agent read
#           them (they exist only in ct.log.K, which the glob does not match).
# The writer sometimes writes a line in two pieces (as stdio buffering does); when the
# truncation falls between them, the second piece starts the new file and is shipped as a line
# of its own: counted as "torn", reported, not a failure.
# Asserted: no other garbled line (a read from a stale offset after a truncation would produce
# one), no duplicate, every line written after the last rotation arrived, and the total loss
# stays under TORTURE_CT_MAX_LOSS_PCT (default 5) percent of the lines written: copytruncate
# is lossy by design, this bound catches an agent that stops following a truncated file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tools/torture_lib.bash"
lf_setup

SECS=${TORTURE_SECONDS:-6}
RATE=${TORTURE_RATE:-30000}
MAXPCT=${TORTURE_CT_MAX_LOSS_PCT:-5}
PHASES=${TORTURE_PHASES:-rename copytruncate}   # run only one with TORTURE_PHASES=copytruncate
TW=$(tt_writer_path) || exit 1

# ---- phase 1: rename ----
if [[ " $PHASES " == *" rename "* ]]; then
tt_conf "$T/agent.conf" "$T/logs/app.log"
start_agent "$T/agent.conf"
"$TW" -f "$T/logs/app.log" -r "$RATE" -d $(( SECS * 1000 )) -t rot -R rename -i 200 \
    >"$T/writer.out" 2>"$T/writer.err" || fail "writer failed: $(cat "$T/writer.err")"
read -r w _ r <"$T/writer.out"
N=${w#written=} ROT=${r#rotations=}
wait_for "[ \$(count_events '$TT_OUT') -ge $N ]" 60 || true
tt_wait_stable "$TT_OUT" 20 2 >/dev/null
hwm=$(tt_hwm "$AGENT_PID")
stop_agent
res=$(tt_analyze "$TT_OUT" rot 1 "$N" "$T/logs/app.log*")
echo "rename: written=$N rotations=$ROT $res"
tt_figures rotation_rename seconds="$SECS" rate="$RATE" written="$N" rotations="$ROT" \
    lost="$(tt_kv "$res" missing)" duplicated="$(tt_kv "$res" dups)" \
    garbled="$(tt_kv "$res" garbled)" peak_rss_kib="$hwm"
[ "$(tt_kv "$res" ondisk)" = "$N" ] || fail "writer bug: only $(tt_kv "$res" ondisk) of $N lines on disk"
[ "$(tt_kv "$res" missing)" = 0 ] || fail "rename rotation lost $(tt_kv "$res" missing) of $N lines (first: $(tt_kv "$res" first_missing))"
[ "$(tt_kv "$res" dups)" = 0 ] || fail "rename rotation duplicated $(tt_kv "$res" dups) lines without any restart"
[ "$(tt_kv "$res" garbled)" = 0 ] || fail "$(tt_kv "$res" garbled) output lines were never written"
fi

# ---- phase 2: copytruncate ----
[[ " $PHASES " == *" copytruncate "* ]] || { echo "PASS torture_rotation ($PHASES)"; exit 0; }
rm -rf "$T/data" "$T/out" && mkdir -p "$T/data" "$T/out"
tt_conf "$T/agent.conf" "$T/logs/ct.log"
start_agent "$T/agent.conf"
"$TW" -f "$T/logs/ct.log" -r "$RATE" -d $(( SECS * 1000 )) -t ct -R copytruncate -i 200 \
    >"$T/writer.out" 2>"$T/writer.err" || fail "writer failed: $(cat "$T/writer.err")"
read -r w _ r <"$T/writer.out"
N=${w#written=} ROT=${r#rotations=}
tt_wait_stable "$TT_OUT" 30 2 >/dev/null
hwm=$(tt_hwm "$AGENT_PID")
stop_agent
res=$(tt_analyze "$TT_OUT" ct 1 "$N" "$T/logs/ct.log*")
ondisk=$(tt_kv "$res" ondisk) missing=$(tt_kv "$res" missing)
window=$(( N - ondisk ))
missed=$(( missing - window ))
echo "copytruncate: written=$N rotations=$ROT window_lost=$window agent_missed=$missed $res"
tt_figures rotation_copytruncate seconds="$SECS" rate="$RATE" written="$N" rotations="$ROT" \
    lost="$missing" lost_in_copy_window="$window" lost_truncated_before_read="$missed" \
    duplicated="$(tt_kv "$res" dups)" garbled="$(tt_kv "$res" garbled)" \
    torn_by_truncation="$(tt_kv "$res" torn)" peak_rss_kib="$hwm"
# A line the application wrote in two pieces around the truncation comes out as its second
# half at offset 0 of the new file ("torn"): copytruncate's doing, reported. Any other line
# that was never written would be the agent reading from a stale offset.
garbled=$(tt_kv "$res" garbled) torn=$(tt_kv "$res" torn)
[ $(( garbled - torn )) = 0 ] || fail "copytruncate: $(( garbled - torn )) output lines were never written (stale offset after truncation?)"
[ "$(tt_kv "$res" dups)" = 0 ] || fail "copytruncate: $(tt_kv "$res" dups) duplicated lines"
# Lines after the last truncation are all in ct.log now: each must have arrived.
tail_first=$(python3 -c '
import re,sys
for l in open(sys.argv[1], errors="replace"):
    m = re.match(r"ct (\d+) ", l)
    if m: print(m.group(1)); break
else: print(0)' "$T/logs/ct.log")
if [ "$tail_first" -gt 0 ]; then
    tres=$(tt_analyze "$TT_OUT" ct "$tail_first" "$N")
    [ "$(tt_kv "$tres" missing)" = 0 ] || fail "copytruncate: $(tt_kv "$tres" missing) lines written after the last rotation never arrived"
fi
[ $(( missing * 100 )) -le $(( N * MAXPCT )) ] || fail "copytruncate lost $missing of $N lines (> ${MAXPCT}%): window $window, truncated before read $missed"
echo "PASS torture_rotation"
