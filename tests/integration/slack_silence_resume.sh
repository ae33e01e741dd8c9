#!/bin/bash
# labels: slack
# timeout: 90
# Silence alerts ([input] silence) in the real agent, against two webhook stand-ins:
#   silence_then_resumed: input web (silence = 2s) gets lines for 1 s, then none for 3 s, then
#     lines again: each Slack output posts exactly one "SILENT: no lines from input web on
#     was-1 for 1 s (last: <its file> at ...)" and, after the new lines, one "RESUMED";
#   busy_input_never_silent: input app gets a line every 100 ms throughout: never reported;
#   silence_to_one_output: input other (silence_to = b, no lines at all) is reported to
#     output b only, as "none since the start".
. "$(dirname "$0")/lib.sh"
. "$SRC_DIR/tests/tools/slack_lib.sh"
lf_setup
slack_standin _a
slack_standin _b
cat >"$T/agent.conf" <<CONF
$(slack_conf_agent)
$(slack_conf_web)
silence = 2s
[input app]
paths = $T/logs/app.log
silence = 2s
[input other]
paths = $T/logs/other.log
silence = 2s
silence_to = b
[output slack]
webhook_url = $(slack_url _a)
min_interval = 0
[output slack b]
webhook_url = $(slack_url _b SECRETxTOKENxQ8)
min_interval = 0
CONF
# The writer runs before the agent starts and writes both files every 100 ms until the agent
# has opened them (flag file), so a slow start on a loaded machine is never a silence.
: >"$T/logs/access.log"; : >"$T/logs/app.log"
python3 - "$T/logs" "$T/started" <<'PY' &
import os, sys, time, datetime
d, flag = sys.argv[1], sys.argv[2]
def web():
    t = datetime.datetime.now(datetime.timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000")
    with open(f"{d}/access.log", "a") as f:
        f.write(f'10.1.2.3 - - [{t}] "GET / HTTP/1.1" 200 12 "-" "gen"\n')
def app(k):
    with open(f"{d}/app.log", "a") as f:
        f.write(f"app line {k}\n")
open(flag + ".writing", "w").close()
k = 0
while not os.path.exists(flag) and k < 600:
    app(k); web(); k += 1
    time.sleep(0.1)
for k in range(90):  # 9 s of app lines; web: 1 s on, 5 s off, then on
    app(k)
    if k < 10 or k >= 60:
        web()
    time.sleep(0.1)
PY
WRITER=$!
wait_for "[ -f $T/started.writing ]" 30 || fail "writer did not start"
start_agent "$T/agent.conf"
wait_for "grep -q 'reading $T/logs/app.log' $T/agent.log" 10 || fail "agent did not open the logs"
touch "$T/started"
wait "$WRITER" || fail "writer"
stop_agent
python3 - "$T/slack_a.jsonl" "$T/slack_b.jsonl" "$T/logs/access.log" <<'PY' || fail "silence messages"
import json, re, sys
def texts(p):
    return [json.loads(json.loads(l)["body"])["text"] for l in open(p)]
a, b, path = texts(sys.argv[1]), texts(sys.argv[2]), sys.argv[3]
for t in a: print("a:", t)
for t in b: print("b:", t)
pat = r"SILENT: no lines from input web on was-1 for 2 s \(last: " + re.escape(path) + r" at 20\d\d-\S+Z\)"
for out in (a, b):
    web = [t for t in out if "input web" in t]
    assert len(web) == 2 and re.fullmatch(pat, web[0]), web
    assert re.fullmatch(r"RESUMED: lines from input web on was-1 again \(silent since 20\S+Z\)", web[1]), web
    assert not any("input app" in t for t in out), out
assert not any("input other" in t for t in a), a
other = [t for t in b if "input other" in t]
assert len(other) == 1 and "(last: none since the start at" in other[0], other
PY
echo "PASS slack_silence_resume"
