# labels: parsers
# timeout: 120
# parse_cli.sh - parsers through the real binary: `logferry parse` prints exactly the events
# an input produces (nginx_combined with 2,000 numbered requests, spring_boot + java
# multiline, filters, parse failures), `logferry check` reports a bad pattern with FILE:LINE
# and its offset, and the running agent ships multiline records, flushing the last one of a
# burst through multiline.timeout (no later line arrives), with every numbered record
# exactly once.
. "$(dirname "$0")/lib.sh"
lf_setup

cat >"$T/agent.conf" <<EOF
[agent]
data_dir = $T/data
[input web]
paths = $T/logs/access.log
parser = nginx_combined
exclude_lines = /health
[input app]
paths = $T/logs/app.log
parser = spring_boot
multiline = java
multiline.timeout = 300ms
[parser kv]
pattern = ^(?<ts>\\S+) id=(?<id>\\d+) ok=(?<ok>\\S+)
types = id:int ok:bool
rename = id:event.sequence
time_field = ts
[input kv]
paths = $T/logs/kv.log
parser = kv
[output file]
path = $T/out/events.ndjson
EOF

"$LOGFERRY" check -c "$T/agent.conf" >"$T/check.txt" 2>&1 || { cat "$T/check.txt"; fail "check refused a valid configuration"; }
grep -q "parser spring_boot, multiline java" "$T/check.txt" || fail "check does not describe the app input"

# 1. nginx: 2,000 numbered requests (every 10th a health check that is excluded)
python3 - "$T/access.in" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(1, 2001):
        path = "/health" if i % 10 == 0 else f"/item/{i}?q={i}"
        ip = "2001:db8::1" if i % 7 == 0 else f"10.0.{i % 256}.1, 198.51.100.{i % 250}"
        f.write(f'{ip} - - [26/Nov/2026:12:{i // 60 % 60:02d}:{i % 60:02d} +0900] "GET {path} HTTP/1.1" '
                f'{500 + i % 4 if i % 5 == 0 else 200} {i} "-" "agent \\x22{i}\\x22" 0.{i % 1000:03d}\n')
    f.write("garbage that is not an access log line\n")
PY
"$LOGFERRY" parse -c "$T/agent.conf" --input web <"$T/access.in" >"$T/access.out" || fail "parse web failed"
python3 - "$T/access.out" <<'PY' || fail "nginx events are wrong"
import json, sys, collections
seen = collections.Counter(); failures = 0
for n, raw in enumerate(open(sys.argv[1], "rb"), 1):
    ev = json.loads(raw)
    if "parse_failure" in ev.get("tags", []):
        failures += 1
        assert ev["message"].startswith("garbage"), ev
        continue
    url = ev["url"]["original"]; i = int(url.split("/")[2].split("?")[0])
    seen[i] += 1
    assert ev["url"]["path"] == f"/item/{i}" and ev["url"]["query"] == f"q={i}", ev
    assert ev["http"]["response"]["body"]["bytes"] == i, ev
    code = ev["http"]["response"]["status_code"]
    assert isinstance(code, int) and code == (500 + i % 4 if i % 5 == 0 else 200), ev
    assert ev["source"]["ip"] == ("2001:db8::1" if i % 7 == 0 else f"198.51.100.{i % 250}"), ev
    assert ev["event"]["duration"] == (i % 1000) * 1000000, ev
    assert ev["@timestamp"] == f"2026-11-26T03:{i // 60 % 60:02d}:{i % 60:02d}.000Z", ev
    assert ev["log"]["offset"] >= 0 and "health" not in url
want = [i for i in range(1, 2001) if i % 10]
missing = [i for i in want if seen[i] != 1]
assert not missing and len(seen) == len(want), f"missing/duplicated: {missing[:10]}"
assert failures == 1, failures
print(f"nginx: {len(want)} events exactly once, 200 health checks filtered, 1 parse failure")
PY

# 2. spring_boot + java multiline: 300 numbered records, every third with a stack trace
python3 - "$T/app.in" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(1, 301):
        lvl = "ERROR" if i % 3 == 0 else " INFO"
        f.write(f"2026-11-26T12:00:{i % 60:02d}.{i % 1000:03d}+09:00 {lvl} 4242 --- [orders] [nio-8080-exec-{i % 8}] c.e.OrderService : record {i}\n")
        if i % 3 == 0:
            f.write(f"java.lang.IllegalStateException: failure {i}\n\tat c.e.OrderService.place(OrderService.java:{i})\n"
                    f"Caused by: java.io.IOException: disk\n\t... 12 more\n")
PY
"$LOGFERRY" parse -c "$T/agent.conf" --input app <"$T/app.in" >"$T/app.out" || fail "parse app failed"
python3 - "$T/app.out" <<'PY' || fail "spring events are wrong"
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1], "rb")]
assert len(evs) == 300, len(evs)
for i, ev in enumerate(evs, 1):
    assert "tags" not in ev, ev
    assert ev["log"]["message"] == f"record {i}", ev
    assert ev["service"]["name"] == "orders" and ev["process"]["pid"] == 4242, ev
    if i % 3 == 0:
        assert ev["log"]["level"] == "ERROR" and ev["log"]["flags"] == ["multiline"], ev
        assert ev["error"]["stack_trace"].startswith(f"java.lang.IllegalStateException: failure {i}\n\tat "), ev
        assert ev["message"].count("\n") == 4, ev
    else:
        assert "error" not in ev and "\n" not in ev["message"], ev
print("spring: 300 records, 100 stack traces joined")
PY

# 3. a bad pattern is a check error with FILE:LINE and the offset in the pattern
sed 's/^pattern = .*/pattern = ^(?<ts>\\S+ id=(?<id>\\d+)/' "$T/agent.conf" >"$T/bad.conf"
if "$LOGFERRY" check -c "$T/bad.conf" >"$T/bad.txt" 2>&1; then fail "check accepted a bad pattern"; fi
line=$(grep -n '^pattern' "$T/bad.conf" | cut -d: -f1)
grep -q "bad.conf:$line: pattern: missing closing parenthesis at offset" "$T/bad.txt" || { cat "$T/bad.txt"; fail "bad pattern not reported with FILE:LINE and offset"; }

# 4. the running agent: multiline records, the last one flushed by the timeout
: >"$T/logs/app.log"
start_agent "$T/agent.conf"
cat "$T/app.in" >>"$T/logs/app.log"
wait_for '[ "$(grep -c "\"record " "$T/out/events.ndjson" 2>/dev/null)" -ge 300 ]' 20 \
    || fail "the agent did not ship 300 app records (last one needs the multiline timeout)"
stop_agent
python3 - "$T/out/events.ndjson" <<'PY' || fail "agent events are wrong"
import json, sys, collections
cnt = collections.Counter()
for raw in open(sys.argv[1], "rb"):
    ev = json.loads(raw)
    m = ev.get("log", {}).get("message", "")
    if m.startswith("record "):
        cnt[int(m.split()[1])] += 1
        if int(m.split()[1]) % 3 == 0:
            assert ev["error"]["stack_trace"].endswith("\t... 12 more"), ev
bad = [i for i in range(1, 301) if cnt[i] != 1]
assert not bad, f"not exactly once: {bad[:10]}"
print("agent: 300 multiline records exactly once, last flushed by timeout")
PY
echo "PASS parse_cli"
