# mock.sh - helpers for the Kafka integration tests (sourced after ../lib.sh; not a test).
# Needs: BUILD_DIR (mock_kafka is built there), kcat (Debian package kcat), python3.
#
#   mk_start BROKERS TOPIC:PARTS...   starts tests/tools/mock_kafka; sets BOOT
#   mk_cmd "down all" | "up all" | "errors produce 6 NOT_LEADER_FOR_PARTITION" ...
#                                     sends a command and waits for its answer
#   mk_total TOPIC                    sum of the topic's high watermarks (acknowledged messages)
#   kc_dump TOPIC OUT                 kcat reads every partition from the beginning: one line
#                                     per message, "PARTITION<TAB>KEY<TAB>PAYLOAD"
#   kc_payloads DUMP OUT              the payload column of a dump (one JSON event per line)
#   kc_order_check DUMP TAG           within each partition and key, TAG numbers only increase
#   kafka_conf FILE [extra lines]     writes an agent.conf for the running mock (log_level =
#                                     debug: the output logs each batch it is handed)
#   kf_batches                        how many batches the Kafka output has been handed
command -v kcat >/dev/null || { echo "FAIL: kcat not installed (Debian package kcat)"; exit 1; }
MK_PID=
mk_start() {
    local nb=$1; shift
    local args=() t
    for t in "$@"; do args+=(-t "$t"); done
    rm -f "$T/mk.ctl" "$T/mk.boot"
    mkfifo "$T/mk.ctl"
    "$BUILD_DIR/mock_kafka" -b "$nb" "${args[@]}" -o "$T/mk.boot" -c "$T/mk.ctl" \
        >"$T/mk.out" 2>"$T/mk.err" &
    MK_PID=$!
    LF_BG_PIDS="${LF_BG_PIDS:-} $MK_PID"
    wait_for "test -s '$T/mk.boot'" 10 || fail "mock_kafka did not start: $(cat "$T/mk.err")"
    BOOT=$(cat "$T/mk.boot")
}
mk_answers() { grep -cE '^(ok|error)' "$T/mk.out" 2>/dev/null || true; }
mk_cmd() {
    local before; before=$(mk_answers)
    echo "$*" >"$T/mk.ctl"
    wait_for "[ \$(mk_answers) -gt $before ]" 10 || fail "mock_kafka did not answer '$*'"
    tail -n 1 "$T/mk.out" | grep -q '^ok' || fail "mock_kafka: '$*': $(tail -n 1 "$T/mk.out")"
}
mk_total() {
    rm -f "$T/mk.wm"
    mk_cmd "wm $1 $T/mk.wm" >/dev/null
    awk '/^total/ {print $2}' "$T/mk.wm"
}
kc_dump() {
    kcat -C -b "$BOOT" -t "$1" -o beginning -e -q -f '%p\t%k\t%s\n' >"$2" 2>"$T/kcat.err" \
        || fail "kcat failed: $(cat "$T/kcat.err")"
}
kc_payloads() { cut -f3- "$1" >"$2"; }
kc_order_check() {
    python3 - "$1" "$2" <<'PY'
import json, re, sys
dump, tag = sys.argv[1], sys.argv[2]
pat = re.compile(r"^" + re.escape(tag) + r" (\d+)\b")
last = {}
bad = 0
for line in open(dump, encoding="utf-8", errors="replace"):
    p, k, payload = line.rstrip("\n").split("\t", 2)
    m = pat.match(json.loads(payload).get("message", ""))
    if not m:
        continue
    n = int(m.group(1))
    if (p, k) in last and n <= last[(p, k)]:
        bad += 1
        if bad < 5:
            print(f"order: partition {p} key {k!r}: {tag} {n} after {last[(p, k)]}")
    last[(p, k)] = n
print(f"order check {tag}: {len(last)} partition/key streams, {bad} out of order")
sys.exit(1 if bad else 0)
PY
}
kafka_conf() {
    local f=$1; shift
    cat >"$f" <<CONF
[agent]
name = testhost
data_dir = $T/data
log_level = debug
queue_max_events = 20000
queue_max_bytes = 32MiB
shutdown_timeout = 5s
registry_flush = 1s

[input app]
paths = $T/logs/*.log
start_at = beginning

[output kafka]
brokers = $BOOT
CONF
    local l
    for l in "$@"; do echo "$l" >>"$f"; done
}
kf_batches() { grep -c "\[out.kafka\] \[kafka\] batch of" "$T/agent.log" 2>/dev/null || true; }
