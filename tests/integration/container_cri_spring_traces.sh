#!/bin/bash
# labels: core;parsers
# timeout: 240
# A Spring Boot application on Kubernetes: its stdout in CRI format under
# /var/log/pods/NS_POD_UID/CONTAINER/0.log, tailed through the kubelet's symlink
# /var/log/containers/POD_NS_CONTAINER-ID.log (here under $T), with parser = spring_boot and
# multiline = java. Every 10th record is an ERROR with a %wEx stack trace (empty line, trace,
# empty line), some trace lines split P/F; half-way the kubelet rotates 0.log to
# 0.log.DATE and starts a new 0.log behind the same link. Proves: each numbered record arrives exactly once
# as one event, ERRORs carry their whole trace in error.stack_trace with error.type, the
# empty lines make no events, and kubernetes.pod.name/namespace, container.name/id come from
# the symlink's name.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/container/common.sh"
lf_setup
ID=fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210
P=$T/pods/shop_orders-5d8f7c9b4-abcde_11111111-2222-3333-4444-555555555555/orders
mkdir -p "$P" "$T/containers"
: >"$P/0.log"
ln -s "$P/0.log" "$T/containers/orders-5d8f7c9b4-abcde_shop_orders-$ID.log"
container_conf "$T/agent.conf" "$T/containers/*.log" "format = cri
parser = spring_boot
multiline = java
multiline.timeout = 300ms"
start_agent "$T/agent.conf"
wait_for "grep -q 'reading $T/containers/' '$T/agent.log'" 30 || fail "agent did not open the pod log"
N=3000
python3 - "$P/0.log" "$N" <<'PY'
import os, sys, time
path, n = sys.argv[1], int(sys.argv[2])
f = open(path, "a")
def out(text, tag="F"):
    f.write("2026-12-06T10:00:00.%09dZ stdout %s %s\n" % (len(text), tag, text))
for i in range(1, n + 1):
    lvl = "ERROR" if i % 10 == 0 else " INFO"
    out("2026-12-06T19:00:00.000+09:00 %s 1 --- [orders] [nio-8080-exec-1] "
        "c.e.orders.OrderController               : line %d handled" % (lvl, i))
    if i % 10 == 0:
        out("")
        head = "java.lang.IllegalStateException: order %d failed" % i
        out(head[:20], "P"); out(head[20:])
        for k in range(5):
            out("\tat com.example.orders.Step%d.run(Step%d.java:%d)" % (k, k, i))
        out("Caused by: java.io.IOException: disk %d" % i)
        out("\t... 5 more")
        out("")
    if i % 50 == 0:
        f.flush()
        time.sleep(0.005)
    if i == n // 2:  # the kubelet's rotation: 0.log -> 0.log.DATE, a new 0.log
        f.close()
        os.rename(path, path + ".20261206-100000")
        f = open(path, "a")
f.close()
PY
wait_for "[ \$(count_events '$T/out/out.ndjson') -ge $N ]" 90 ||
    fail "only $(count_events "$T/out/out.ndjson") of $N events"
stop_agent
python3 - "$T/out/out.ndjson" "$N" "$ID" <<'PY' || fail "records lost, duplicated, split or mislabelled"
import collections, json, re, sys
out, n, cid = sys.argv[1], int(sys.argv[2]), sys.argv[3]
cnt = collections.Counter(); bad = 0; events = 0
for raw in open(out, "rb"):
    ev = json.loads(raw); events += 1
    m = re.search(r": line (\d+) handled", ev["message"])
    if not m:
        print("event without a record number (a split trace?):", ev["message"][:80]); bad += 1; continue
    i = int(m.group(1)); cnt[i] += 1
    k = ev.get("kubernetes", {}); c = ev.get("container", {})
    if (k.get("pod", {}).get("name"), k.get("namespace"), c.get("name"), c.get("id"), ev.get("stream")) != \
            ("orders-5d8f7c9b4-abcde", "shop", "orders", cid, "stdout"):
        print("event %d: kubernetes %r container %r" % (i, k, c)); bad += 1
    err = ev.get("error", {})
    if i % 10 == 0:
        st = err.get("stack_trace", "")
        if (err.get("type") != "java.lang.IllegalStateException" or
                err.get("message") != "order %d failed" % i or
                not st.startswith("java.lang.IllegalStateException: order %d failed\n\tat " % i) or
                not st.endswith("Caused by: java.io.IOException: disk %d\n\t... 5 more" % i)):
            print("event %d: error %r" % (i, err)); bad += 1
    elif err or "tags" in ev:
        print("event %d: unexpected error/tags %r %r" % (i, err, ev.get("tags"))); bad += 1
    if bad > 10: break
missing = [i for i in range(1, n + 1) if cnt[i] == 0]
dups = sum(v - 1 for v in cnt.values() if v > 1)
print("%d events: %d records present, %d missing, %d duplicates" % (events, n - len(missing), len(missing), dups))
sys.exit(1 if bad or missing or dups or events != n else 0)
PY
echo PASS
