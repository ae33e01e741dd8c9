#!/bin/bash
# labels: parsers
# timeout: 120
# nginx layouts behind proxies (issue 19), through the real agent: numbered lines of an
# `escape=json` log_format that logs $http_x_forwarded_for, appended while the agent runs.
# Every number must arrive exactly once, its fields in ECS (status as an integer, the request
# line cut up, $request_time in ns, @timestamp from $time_iso8601) and source.address /
# source.ip by Filebeat's rule over the X-Forwarded-For list then $remote_addr (the first
# address that is not private, else the first; a word such as "unknown" stays in
# source.address only), the whole list in nginx.access.remote_ip_list. Hostile header text
# must come out as escaped JSON.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/core/common.sh"
lf_setup
core_conf "$T/agent.conf" "" "parser = edge"
cat >>"$T/agent.conf" <<'CONF'

[parser edge]
nginx_log_format = escape=json '{"time":"$time_iso8601","remote_addr":"$remote_addr",' '"xff":"$http_x_forwarded_for","request":"$request","status":$status,' '"rt":$request_time,"rid":"$request_id"}'
CONF
"$LOGFERRY" check -c "$T/agent.conf" >"$T/check.txt" 2>&1 || fail "check: $(cat "$T/check.txt")"
"$LOGFERRY" parse --explain -c "$T/agent.conf" --input app >"$T/explain.txt" 2>&1 || fail "explain: $(cat "$T/explain.txt")"
grep -q "key xff .*Filebeat" "$T/explain.txt" || fail "--explain: $(cat "$T/explain.txt")"
gen() {  # FILE A B
    python3 - "$@" <<'PY'
import json, sys
path, a, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
xffs = ["", "198.51.100.%d, 10.0.0.2", "10.0.0.3, 192.168.1.%d", "unknown, 10.1.1.1",
        "a\"b\\\\c, 172.16.0.%d"]
with open(path, "a") as f:
    for i in range(a, b + 1):
        x = xffs[i % len(xffs)].replace("%d", str(i % 250))
        ev = {"time": "2026-12-06T10:%02d:%02d+09:00" % (i // 60 % 60, i % 60),
              "remote_addr": "10.9.0.%d" % (i % 250), "xff": x,
              "request": "GET /item/%d?x=1 HTTP/1.1" % i, "status": 500 + i % 4,
              "rt": i / 1000, "rid": "r%d" % i}
        f.write(json.dumps(ev, separators=(",", ":")) + "\n")
PY
}
start_agent "$T/agent.conf"
gen "$T/logs/app.log" 1 400
wait_for "grep -q 'reading $T/logs/app.log' '$T/agent.log'" 30 || fail "file not read"
gen "$T/logs/app.log" 401 800
wait_events "$T/out/out.ndjson" 800 60 || fail "events missing: $(lines_of "$T/out/out.ndjson") of 800"
stop_agent
python3 - "$T/out/out.ndjson" <<'PY' || fail "events do not follow the layout"
import json, re, sys, collections
def private(ip):  # Filebeat's isPrivate(): the first two dot-separated numbers
    t = [x for x in ip.split(".") if x]
    try:
        a, b = int(t[0]), int(t[1])
    except (IndexError, ValueError):
        return False
    return a == 10 or (a == 192 and b == 168) or (a == 172 and 16 <= b <= 31) or a == 127
seen = collections.Counter(); bad = 0
for n, raw in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    ev = json.loads(raw)
    line = json.loads(ev["message"])
    m = re.match(r"/item/(\d+)$", ev.get("url", {}).get("path", ""))
    if not m or "parse_failure" in ev.get("tags", []):
        print("bad event", n, raw[:300]); bad += 1; continue
    i = int(m.group(1)); seen[i] += 1
    items = [x for x in re.split(r'"?,?\s+', line["xff"]) if x] + [line["remote_addr"]]
    want = next((x for x in items if not private(x)), items[0])
    src = ev.get("source", {})
    is_ip = bool(re.match(r"^\d+\.\d+\.\d+\.\d+$", want))
    ok = (src.get("address") == want and src.get("ip") == (want if is_ip else None)
          and ev["nginx"]["access"]["remote_ip_list"] == items
          and ev["http"]["response"]["status_code"] == 500 + i % 4
          and ev["http"]["request"]["method"] == "GET" and ev["url"]["query"] == "x=1"
          and ev["http"]["version"] == "1.1" and ev["event"]["duration"] == i * 1000000
          and ev["http"]["request"]["id"] == f"r{i}" and ev["trace"]["id"] == f"r{i}"
          and ev["@timestamp"].startswith("2026-12-06T01:"))
    if not ok:
        print("wrong fields", n, "want", want, raw[:400]); bad += 1
missing = [i for i in range(1, 801) if seen[i] == 0]
dups = sum(c - 1 for c in seen.values() if c > 1)
print(f"nginx json 1..800: {800 - len(missing)} present, {len(missing)} missing, {dups} duplicates, {bad} bad")
sys.exit(1 if missing or dups or bad else 0)
PY
echo PASS
