#!/bin/bash
# labels: slack
# timeout: 120
# Rate alerts (`threshold`) in the real agent, against two webhook stand-ins, with a generator
# that varies the share of 500s among nginx requests (50 requests/s):
#   ratio_fires_once_and_resolves: 2 s at 2 % errors (under 10 %), 2 s at 30 % (over), then
#     8 s at 0 %: exactly one FIRING message with counts "N of M requests (P %)" over 10 %,
#     then exactly one RESOLVED, nothing else;
#   min_events_guards_small_windows: 5 requests of another path, all 500, never fire;
#   reminders_while_firing: a second output with repeat = 1s posts FIRING, then at least one
#     STILL FIRING, then RESOLVED, in that order.
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/slack_lib.sh"
lf_setup
slack_standin _a
slack_standin _b
cat >"$T/agent.conf" <<CONF
$(slack_conf_agent)
$(slack_conf_web)
[output slack]
webhook_url = $(slack_url _a)
threshold = 10% of http.response.status_code >= 100
window = 3s
min_interval = 0
[output slack rem]
webhook_url = $(slack_url _b SECRETxTOKENxQ8)
threshold = 10% of http.response.status_code >= 100
window = 3s
repeat = 1s
min_interval = 0
CONF
: >"$T/logs/access.log"
start_agent "$T/agent.conf"
wait_for "grep -q 'reading $T/logs/access.log' $T/agent.log" 10 || fail "agent did not open the log"
python3 - "$T/logs/access.log" <<'PY' || fail "writer"
import sys, time, datetime
f = open(sys.argv[1], "a")
def req(path, status):
    t = datetime.datetime.now(datetime.timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000")
    f.write(f'10.1.2.3 - - [{t}] "GET {path} HTTP/1.1" {status} 12 "-" "gen"\n')
for path in ["/api/rare"] * 5:
    req(path, 500)
f.flush()
i = 0
for share, secs in [(0.02, 2), (0.30, 2), (0.0, 8)]:
    every = round(1 / share) if share else 0
    for k in range(secs * 50):
        i += 1
        req("/api/main", 500 if every and i % every == 0 else 200)
        f.flush()
        time.sleep(0.02)
PY
stop_agent
python3 - "$T/slack_a.jsonl" "$T/slack_b.jsonl" <<'PY' || fail "rate messages"
import json, re, sys
def texts(p):
    out = []
    for l in open(p):
        r = json.loads(l)
        assert r["status"] == 200 and not r["limit_violations"], r
        out.append(json.loads(r["body"])["text"])
    return out
a = texts(sys.argv[1])
for t in a: print("a:", t)
assert len(a) == 2, a
m = re.fullmatch(r"FIRING: (\d+) of (\d+) requests \((\d+\.\d) %\) on was-1 /api/main in the last 3 s \(threshold 10 %\)", a[0])
assert m, a[0]
num, den = int(m.group(1)), int(m.group(2))
assert den >= 20 and num * 100 > 10 * den and abs(float(m.group(3)) - 100 * num / den) < 0.06, (num, den)
assert a[1].startswith("RESOLVED: ") and "on was-1 /api/main" in a[1] and "under the threshold for 3 s" in a[1], a[1]
assert not any("/api/rare" in t for t in a)
b = texts(sys.argv[2])
for t in b: print("b:", t)
kinds = [t.split(":")[0] for t in b]
assert kinds[0] == "FIRING" and kinds[-1] == "RESOLVED", kinds
assert kinds.count("STILL FIRING") >= 1 and kinds.count("FIRING") == 1 and kinds.count("RESOLVED") == 1, kinds
PY
echo "PASS slack_rate_fire_resolve"
