#!/bin/bash
# labels: parsers
# timeout: 120
# A [parser] from a logback layout (issue 19), through the real agent: numbered lines in the
# layout of a Spring Boot team's logback-spring.xml, every 10th an ERROR followed by a stack
# trace, appended while the agent runs. Every number must arrive exactly once as log.message
# with its level, thread and logger, each ERROR with its stack trace joined (the layout turns
# multiline = java on by itself) and no parse failure. `logferry parse --explain` must print
# the fields it understood, and an unknown conversion word must fail `check` with its column.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
core_conf "$T/agent.conf" "" "parser = app
timezone = Asia/Seoul"
cat >>"$T/agent.conf" <<'CONF'

[parser app]
logback_pattern = %d{yyyy-MM-dd HH:mm:ss.SSS} [%thread] [%-5level] %logger{36} - %msg%n
CONF
"$LOGFERRY" parse --explain -c "$T/agent.conf" --input app >"$T/explain.txt" 2>&1 || fail "parse --explain failed: $(cat "$T/explain.txt")"
for want in "@timestamp *time %Y-%m-%d %H:%M:%S" "process.thread.name" "log.level" "log.logger" "log.message" "error.stack_trace" "multiline = java"; do
    grep -q -- "$want" "$T/explain.txt" || fail "--explain lacks '$want': $(cat "$T/explain.txt")"
done
gen() {  # FILE A B: numbered records, every 10th an ERROR with a 3-line trace
    python3 - "$@" <<'PY'
import sys
path, a, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "a") as f:
    for i in range(a, b + 1):
        lvl = "ERROR" if i % 10 == 0 else "INFO"
        f.write(f"2026-12-06 09:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000:03d} [http-nio-8080-exec-{i % 7}] [{lvl:<5}] kr.co.example.api.PayController - rec {i} 결제\n")
        if lvl == "ERROR":
            f.write(f"java.lang.IllegalStateException: rec {i}\n\tat kr.co.example.Pay.run(Pay.java:{i})\n\t... 12 more\n")
PY
}
start_agent "$T/agent.conf"
gen "$T/logs/app.log" 1 500
wait_for "grep -q 'reading $T/logs/app.log' '$T/agent.log'" 30 || fail "file not read"
gen "$T/logs/app.log" 501 1000
wait_events "$T/out/out.ndjson" 1000 60 || fail "events missing: $(lines_of "$T/out/out.ndjson") of 1000"
stop_agent
python3 - "$T/out/out.ndjson" <<'PY' || fail "events do not match the layout"
import json, re, sys, collections
seen = collections.Counter(); bad = 0
for n, raw in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    ev = json.loads(raw)
    log = ev.get("log", {})
    m = re.match(r"rec (\d+) 결제$", log.get("message", ""))
    if not m or "parse_failure" in ev.get("tags", []):
        print("bad event", n, raw[:200]); bad += 1; continue
    i = int(m.group(1)); seen[i] += 1
    want = "ERROR" if i % 10 == 0 else "INFO"
    st = ev.get("error", {}).get("stack_trace")
    ok = (log.get("level") == want and log.get("logger") == "kr.co.example.api.PayController"
          and ev["process"]["thread"]["name"] == f"http-nio-8080-exec-{i % 7}"
          and ev["@timestamp"].startswith("2026-12-06T00:")
          and ((st is not None and f"Pay.java:{i})" in st) if want == "ERROR" else st is None))
    if not ok:
        print("wrong fields", n, raw[:300]); bad += 1
missing = [i for i in range(1, 1001) if seen[i] == 0]
dups = sum(c - 1 for c in seen.values() if c > 1)
print(f"layout 1..1000: {1000 - len(missing)} present, {len(missing)} missing, {dups} duplicates, {bad} bad")
sys.exit(1 if missing or dups or bad else 0)
PY
printf '[agent]\ndata_dir = %s\n[parser p]\nlogback_pattern = %%d [%%thread] %%bogus - %%msg\n[input app]\npaths = %s/logs/*.log\nparser = p\n' "$T/data" "$T" >"$T/bad.conf"
if "$LOGFERRY" check -c "$T/bad.conf" >"$T/check.txt" 2>&1; then fail "check accepted %bogus"; fi
grep -q "bad.conf:4: logback_pattern: unsupported conversion word %bogus at column 14" "$T/check.txt" || fail "check output: $(cat "$T/check.txt")"
echo PASS
