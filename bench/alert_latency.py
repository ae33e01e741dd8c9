#!/usr/bin/env python3
"""alert_latency.py - first-alert latency of logferry's Slack output, end to end.

Measures, for each of N alerts, the time from the write() of an HTTP 500 nginx line into a
tailed file to the arrival of the webhook request at a local Slack stand-in
(tests/tools/slack_standin.py, which records time.monotonic_ns() when the request's headers
have been read). Both clocks are CLOCK_MONOTONIC on the same machine.

Each alert uses a new url.path (/bench/TAG/N; group_path_ids = false, or N would make them
one /bench/TAG/{id} group), so with the default group_by (host.name, url.path) every line is
the first of its group and is posted at once. Alerts are spaced a little more than
the output's min_interval apart so the pace never delays one (pass --min-interval to shorten
a sanity run; the shipped default is 1s).

Two phases:
  idle    only the alert lines are written;
  loaded  another input receives --load lines/s (default 100,000) of other log lines that
          the agent ships to the file output (default /dev/null, so the disk is not the
          bottleneck; --out FILE writes a real file) while the alerts are measured.

With --cause (issue 16), three more phases run after those:
  cause_after   a Spring Boot ERROR with a stack trace is written 100 ms after each 500 line
                into a second tailed file (the app's input, `cause_from`): the alert waits
                for it (at most cause_wait, 300 ms), so p99 <= cause_wait + 10 ms is the target;
  cause_before  the same ERROR is written 100 ms before the 500: the alert goes at once;
  cause_cost    CPU-seconds of the agent per million lines of a --load lines/s access-log
                stream (plus 1,000 app lines/s, 1 % of them errors with a stack trace),
                without and with `cause_from`, alternated --reps times; the ratio is the cost.
The app input uses multiline = java with multiline.timeout = 50ms: a stack trace is shipped
when the next record starts or 50 ms after its last line, so it reaches the output in time.

Prints p50/p95/p99/max per phase and, with --json FILE, writes them as JSON.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = min(len(xs) - 1, max(0, int(round(p / 100 * (len(xs) - 1)))))
    return xs[k]


def wait_for(cond, secs, what):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.02)
    raise SystemExit(f"timeout waiting for {what}")


def load_writer(path, rate, stop):
    """Appends `rate` lines/s in 10 ms slices until stop is set. Returns lines written."""
    line = ("10.9.8.7 - - [26/Nov/2026:05:00:00 +0000] \"GET /static/app.js HTTP/1.1\" 200 "
            "5120 \"-\" \"Mozilla/5.0 (load generator)\"\n")
    per_slice = max(1, rate // 100)
    block = (line * per_slice).encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    n = 0
    t = t_start = time.monotonic()
    while not stop.is_set():
        os.write(fd, block)
        n += per_slice
        t += 0.01
        d = t - time.monotonic()
        if d > 0:
            time.sleep(d)
    os.close(fd)
    stop.rate = n / (time.monotonic() - t_start)


APP_ERROR = ("{ts} ERROR 4242 --- [orders] [exec-1] c.s.OrderController : failed\n"
             "java.lang.NullPointerException: order {i} is null\n"
             "\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:883)\n"
             "\tat com.shop.OrderService.place(OrderService.java:42)\n"
             "\tat com.shop.OrderController.create(OrderController.java:17)\n")


def app_ts():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03d+00:00" % (int(t * 1000) % 1000)


def cause_conf(app):
    return f"""[input app]
paths = {app}
parser = spring_boot
multiline = java
multiline.timeout = 50ms
"""


def run_phase(name, args, tmp, logferry, standin_rec, tag):
    logs = os.path.join(tmp, "logs")
    alerts = os.path.join(logs, "alerts.log")
    bulk = os.path.join(logs, "bulk.log")
    app = os.path.join(logs, "app.log")
    cause = name.startswith("cause")
    conf = os.path.join(tmp, f"agent-{name}.conf")
    data = os.path.join(tmp, f"data-{name}")
    os.makedirs(data, exist_ok=True)
    for p in (alerts, bulk, app):
        open(p, "w").close()
    with open(os.path.join(tmp, "port")) as f:
        port = int(f.read())
    with open(conf, "w") as f:
        f.write(f"""[agent]
name = bench-host
data_dir = {data}
[input alerts]
paths = {alerts}
parser = nginx_combined
[input bulk]
paths = {bulk}
parser = nginx_combined
[output file]
path = {args.out}
[output slack]
webhook_url = http://127.0.0.1:{port}/services/TBENCH/BBENCH/benchsecret
min_interval = {args.min_interval}
window = 60s
group_path_ids = false
""" + (f"cause_from = app\n{cause_conf(app)}" if cause else ""))
    agent_log = open(os.path.join(tmp, f"agent-{name}.log"), "w")
    agent = subprocess.Popen([logferry, "-c", conf], stdout=agent_log, stderr=subprocess.STDOUT)
    try:
        logp = os.path.join(tmp, f"agent-{name}.log")
        wait_for(lambda: open(logp).read().count("reading ") >= (3 if cause else 2), 15,
                 "the agent to open its files")
        stop = threading.Event()
        lt = None
        if name == "loaded":
            lt = threading.Thread(target=load_writer, args=(bulk, args.load, stop), daemon=True)
            lt.start()
            time.sleep(2.0)  # let the load reach its steady state
        fd = os.open(alerts, os.O_WRONLY | os.O_APPEND)
        afd = os.open(app, os.O_WRONLY | os.O_APPEND)
        sent = {}
        for i in range(args.alerts):
            now = time.gmtime()
            line = (f'10.1.2.3 - - [{time.strftime("%d/%b/%Y:%H:%M:%S", now)} +0000] '
                    f'"GET /bench/{tag}/{i} HTTP/1.1" 500 12 "-" "alert-latency"\n').encode()
            if name == "cause_before":
                os.write(afd, APP_ERROR.format(ts=app_ts(), i=i).encode())
                time.sleep(0.1)
            t0 = time.monotonic_ns()
            os.write(fd, line)
            sent[i] = t0
            if name == "cause_after":
                time.sleep(0.1)
                os.write(afd, APP_ERROR.format(ts=app_ts(), i=i).encode())
            time.sleep(args.spacing)
        os.close(fd)
        os.close(afd)
        time.sleep(1.0)
        if lt:
            stop.set()
            lt.join()
    finally:
        agent.send_signal(signal.SIGTERM)
        try:
            agent.wait(30)
        except subprocess.TimeoutExpired:
            agent.kill()
        agent_log.close()
    got, with_cause = {}, 0
    pat = re.compile(r"/bench/" + re.escape(tag) + r"/(\d+)\b")
    with open(standin_rec) as f:
        for raw in f:
            r = json.loads(raw)
            text = json.loads(r["body"]).get("text", "")
            m = pat.search(text)
            if m and text.startswith("1×") and int(m.group(1)) not in got:
                got[int(m.group(1))] = r["mono_ns"]
                with_cause += "— cause: NullPointerException" in text
    lat = [(got[i] - sent[i]) / 1e6 for i in sent if i in got]
    res = {"phase": name, "alerts": args.alerts, "received": len(lat),
           "p50_ms": pct(lat, 50), "p95_ms": pct(lat, 95), "p99_ms": pct(lat, 99),
           "max_ms": max(lat) if lat else float("nan")}
    if cause:
        res["with_cause"] = with_cause
    if name == "loaded":
        res["load_lines_per_s"] = round(getattr(stop, "rate", 0))
        # did the agent keep up? its committed offset of bulk.log against the file's size
        try:
            reg = json.load(open(os.path.join(data, "registry.json")))
            off = [f["offset"] for f in reg["files"] if f["path"] == bulk][0]
            res["load_shipped_pct"] = round(100.0 * off / max(1, os.path.getsize(bulk)), 1)
        except (OSError, ValueError, IndexError, KeyError):
            res["load_shipped_pct"] = None
    return res


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def app_writer(path, stop):
    """1,000 app lines/s, 1 % of them an ERROR with a stack trace."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    i = 0
    t = time.monotonic()
    while not stop.is_set():
        out = []
        for _ in range(10):
            i += 1
            if i % 100 == 0:
                out.append(APP_ERROR.format(ts=app_ts(), i=i))
            else:
                out.append(f"{app_ts()}  INFO 4242 --- [orders] [exec-1] c.s.OrderController : order {i} placed\n")
        os.write(fd, "".join(out).encode())
        t += 0.01
        d = t - time.monotonic()
        if d > 0:
            time.sleep(d)
    os.close(fd)


def run_cost(args, tmp, logferry, with_cause, rep):
    """CPU-s per million lines of the agent for --cost-secs of --load lines/s."""
    name = f"cost-{'cause' if with_cause else 'base'}-{rep}"
    d = os.path.join(tmp, name)
    os.makedirs(os.path.join(d, "data"))
    bulk, app = os.path.join(d, "bulk.log"), os.path.join(d, "app.log")
    for p in (bulk, app):
        open(p, "w").close()
    with open(os.path.join(tmp, "port")) as f:
        port = int(f.read())
    conf = os.path.join(d, "agent.conf")
    with open(conf, "w") as f:
        f.write(f"""[agent]
name = bench-host
data_dir = {d}/data
[input bulk]
paths = {bulk}
parser = nginx_combined
{cause_conf(app)}[output file]
path = {args.out}
[output slack]
webhook_url = http://127.0.0.1:{port}/services/TBENCH/BBENCH/benchsecret
min_interval = {args.min_interval}
window = 60s
group_path_ids = false
""" + ("cause_from = app\n" if with_cause else ""))
    logp = os.path.join(d, "agent.log")
    agent_log = open(logp, "w")
    agent = subprocess.Popen([logferry, "-c", conf], stdout=agent_log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: open(logp).read().count("reading ") >= 2, 15, "the agent to open its files")
        c0 = cpu_s(agent.pid)
        stop = threading.Event()
        ts = [threading.Thread(target=load_writer, args=(bulk, args.load, stop), daemon=True),
              threading.Thread(target=app_writer, args=(app, stop), daemon=True)]
        for t in ts:
            t.start()
        time.sleep(args.cost_secs)
        stop.set()
        for t in ts:
            t.join()
        lines = 0
        for p in (bulk, app):
            with open(p, "rb") as f:
                lines += sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
        # wait until everything is committed, so the CPU counted covers every line
        def caught_up():
            try:
                reg = json.load(open(os.path.join(d, "data", "registry.json")))
                offs = {f["path"]: f["offset"] for f in reg["files"]}
                return all(offs.get(p) == os.path.getsize(p) for p in (bulk, app))
            except (OSError, ValueError, KeyError):
                return False
        wait_for(caught_up, 60, "the agent to catch up")
        c1 = cpu_s(agent.pid)
    finally:
        agent.send_signal(signal.SIGTERM)
        try:
            agent.wait(30)
        except subprocess.TimeoutExpired:
            agent.kill()
        agent_log.close()
    return {"phase": "cause_cost", "cause_from": with_cause, "rep": rep, "lines": lines,
            "cpu_s": round(c1 - c0, 3), "cpu_s_per_million": round((c1 - c0) / lines * 1e6, 4)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--logferry", default=os.environ.get("LOGFERRY", os.path.join(SRC, "build", "logferry")))
    ap.add_argument("--alerts", type=int, default=50)
    ap.add_argument("--min-interval", default="1s", help="slack min_interval (shipped default 1s)")
    ap.add_argument("--spacing", type=float, default=None, help="seconds between alerts")
    ap.add_argument("--load", type=int, default=100000, help="other lines/s in the loaded phase")
    ap.add_argument("--out", default="/dev/null", help="file output path")
    ap.add_argument("--phases", default="idle,loaded")
    ap.add_argument("--cause", action="store_true",
                    help="also the cause_from phases: cause_after, cause_before, cause_cost")
    ap.add_argument("--cost-secs", type=float, default=10.0, help="seconds of load per cost run")
    ap.add_argument("--reps", type=int, default=3, help="cost runs without/with cause_from")
    ap.add_argument("--json")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs, requests)")
    args = ap.parse_args()
    if args.spacing is None:
        mi = args.min_interval
        ms = float(mi[:-2]) if mi.endswith("ms") else float(mi.rstrip("s")) * 1000
        args.spacing = ms / 1000 + 0.05
    tmp = tempfile.mkdtemp(prefix="alert_latency.")
    os.makedirs(os.path.join(tmp, "logs"))
    rec = os.path.join(tmp, "slack.jsonl")
    standin = subprocess.Popen([sys.executable, os.path.join(SRC, "tests", "tools", "slack_standin.py"),
                                "--port-file", os.path.join(tmp, "port"), "--record", rec],
                               stdout=subprocess.DEVNULL)
    results = []
    try:
        wait_for(lambda: os.path.exists(os.path.join(tmp, "port")), 10, "the stand-in")
        phases = [p for p in args.phases.split(",") if p]
        if args.cause:
            phases += ["cause_after", "cause_before"]
        for ph in phases:
            results.append(run_phase(ph, args, tmp, args.logferry, rec, f"{ph}{os.getpid()}"))
        costs = []
        if args.cause:
            for rep in range(args.reps):
                # alternated, and which goes first too (the first of a pair measured slower
                # in every run), so drift in the machine's load is shared
                for with_cause in ((False, True) if rep % 2 == 0 else (True, False)):
                    costs.append(run_cost(args, tmp, args.logferry, with_cause, rep))
    finally:
        standin.terminate()
        standin.wait()
    if args.keep:
        print(f"agent logs and recorded requests kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"first-alert latency, write() -> webhook request (ms), {args.alerts} alerts, "
          f"min_interval {args.min_interval}, spacing {args.spacing:.3f} s")
    print(f"{'phase':8} {'recv':>6} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}  other lines/s (shipped %)")
    for r in results:
        print(f"{r['phase']:8} {r['received']:>3}/{r['alerts']:<3}{r['p50_ms']:8.3f} {r['p95_ms']:8.3f} "
              f"{r['p99_ms']:8.3f} {r['max_ms']:8.3f}  {r.get('load_lines_per_s', '')}"
              f"{' (%s%%)' % r['load_shipped_pct'] if 'load_shipped_pct' in r else ''}"
              f"{' with cause: %d' % r['with_cause'] if 'with_cause' in r else ''}")
    if costs:
        base = sorted(c["cpu_s_per_million"] for c in costs if not c["cause_from"])
        withc = sorted(c["cpu_s_per_million"] for c in costs if c["cause_from"])
        mb, mc = base[len(base) // 2], withc[len(withc) // 2]
        print(f"cause_from cost, {args.load} lines/s + 1,000 app lines/s, {args.cost_secs:g} s x "
              f"{args.reps}: CPU-s per million lines without {base} (median {mb}), with {withc} "
              f"(median {mc}): {100.0 * (mc - mb) / mb:+.1f} %")
        results += costs
        results.append({"phase": "cause_cost_summary", "median_without": mb, "median_with": mc,
                        "overhead_pct": round(100.0 * (mc - mb) / mb, 1)})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0 if all(r["received"] == r["alerts"] for r in results if "received" in r) else 1


if __name__ == "__main__":
    sys.exit(main())
