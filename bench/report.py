#!/usr/bin/env python3
"""report.py - turns bench/run.sh's results.jsonl into a Markdown table, a PNG bar chart
(gnuplot) and, with --readme, the "Latest results" section of bench/README.md.

Per contestant: median over the repetitions of events/s, input MiB/s, CPU-seconds per million
events and peak RSS, with the spread (min-max of events/s, in % of the median); the ratio
columns compare logferry (nginx_combined) with each contestant; then the targets of issues 2,
3 and 8 with PASS/MISS from the same run. Failed repetitions are listed, never averaged in.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys

LABELS = {
    "wc": "wc -l (baseline, no JSON)",
    "logferry-raw": "logferry raw (no parser)",
    "logferry-nginx": "logferry parser = nginx_combined",
    "syslog-ng": "syslog-ng regexp-parser",
    "rsyslog-lognorm": "rsyslog mmnormalize (liblognorm)",
    "rsyslog-regex": "rsyslog re_extract (regex)",
    "fluent-bit": "Fluent Bit regex parser",
    "logferry-spring": "logferry spring_boot + multiline java (Spring log)",
    "logferry-docker": "logferry format = docker + nginx_combined (json-file)",
    "logferry-cri": "logferry format = cri + nginx_combined (CRI)",
}
PEERS = ["syslog-ng", "rsyslog-lognorm", "rsyslog-regex", "fluent-bit"]
CONTAINERS = ["logferry-docker", "logferry-cri"]
ORDER = ["wc", "logferry-raw", "logferry-nginx"] + PEERS + ["logferry-spring"] + CONTAINERS
MIB = 1024 * 1024
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load(path):
    runs = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                r = json.loads(line)
                runs.setdefault(r["name"], []).append(r)
    return runs


def summarize(rs):
    ok = [r for r in rs if r.get("ok")]
    fails = [r for r in rs if not r.get("ok")]
    if not ok:
        return {"failed": fails[0].get("reason", "?") if fails else "no run"}
    eps = [r["events"] / r["wall_s"] for r in ok]
    mibs = [r["in_bytes"] / MIB / r["wall_s"] for r in ok]
    cpm = [r["cpu_s"] / (r["events"] / 1e6) for r in ok]
    rss = [r["rss_kib"] / 1024 for r in ok]
    med = statistics.median(eps)
    return {
        "eps": med, "eps_min": min(eps), "eps_max": max(eps),
        "spread": (max(eps) - min(eps)) / med * 100 if med else 0,
        "mibs": statistics.median(mibs), "cpm": statistics.median(cpm),
        "rss": statistics.median(rss), "rss_max": max(rss), "n": len(ok), "nfail": len(fails),
        "fail_reasons": [f.get("reason", "?") for f in fails],
    }


def fmt_int(x):
    return f"{x:,.0f}"


def table(s, machine):
    lf = s.get("logferry-nginx", {})
    out = []
    out.append("| contestant | events/s (median) | spread | input MiB/s | CPU-s per M events "
               "| peak RSS MiB | logferry nginx is ×faster | ×less CPU/M |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in ORDER:
        if name not in s:
            continue
        v = s[name]
        label = LABELS.get(name, name)
        if "failed" in v:
            reason = v['failed'].replace('|', '/').replace(ROOT + '/', '')
            if len(reason) > 220:
                reason = reason[:220] + '…'
            out.append(f"| {label} | failed: {reason} | | | | | | |")
            continue
        fast = cpu = ""
        if "eps" in lf and name in PEERS:
            fast = f"{lf['eps'] / v['eps']:.1f}×"
            cpu = f"{v['cpm'] / lf['cpm']:.1f}×" if lf["cpm"] > 0 else "∞"
        if "eps" in lf and name in CONTAINERS:  # the same lines, wrapped: ratio to nginx
            fast = f"{v['eps'] / lf['eps']:.2f}× of nginx"
            cpu = f"{v['cpm'] / lf['cpm']:.2f}× of nginx" if lf["cpm"] > 0 else "∞"
        spread = f"±{v['spread'] / 2:.0f}% ({fmt_int(v['eps_min'])}–{fmt_int(v['eps_max'])})" \
            if v["n"] > 1 else "1 run"
        note = f" ({v['nfail']} failed run(s))" if v["nfail"] else ""
        out.append(f"| {label}{note} | {fmt_int(v['eps'])} | {spread} | {v['mibs']:.1f} | "
                   f"{v['cpm']:.2f} | {v['rss']:.1f} | {fast} | {cpu} |")
    return "\n".join(out)


def targets(s):
    rows = []

    def check(what, name, key, op, limit, unit):
        v = s.get(name, {})
        if key not in v:
            rows.append(f"| {what} | {limit:,} {unit} | not measured ({v.get('failed', 'no run')[:80]}) | MISS |")
            return
        x = v[key]
        ok = x >= limit if op == ">=" else x <= limit if op == "<=" else x < limit
        rows.append(f"| {what} | {op} {limit:,} {unit} | {x:,.2f} | {'PASS' if ok else 'MISS'} |")

    check("raw path throughput (issue 2)", "logferry-raw", "eps", ">=", 2000000, "lines/s")
    check("raw path CPU (issue 2)", "logferry-raw", "cpm", "<=", 0.5, "CPU-s/M")
    check("raw path peak RSS (issue 2)", "logferry-raw", "rss", "<", 32, "MiB")
    check("nginx_combined throughput (issue 3)", "logferry-nginx", "eps", ">=", 1000000, "events/s")
    check("nginx_combined CPU (issue 3)", "logferry-nginx", "cpm", "<=", 1, "CPU-s/M")
    check("nginx_combined peak RSS (issue 3)", "logferry-nginx", "rss", "<", 32, "MiB")
    for name in CONTAINERS:  # issue 14
        check(f"{name} throughput (issue 14)", name, "eps", ">=", 800000, "events/s")
        check(f"{name} CPU (issue 14)", name, "cpm", "<=", 1.3, "CPU-s/M")
        check(f"{name} peak RSS (issue 14)", name, "rss", "<=", 32, "MiB")
    peers = {p: s[p] for p in PEERS if "eps" in s.get(p, {})}
    lf = s.get("logferry-nginx", {})
    if peers and "eps" in lf:
        fp = max(peers, key=lambda p: peers[p]["eps"])
        cp = min(peers, key=lambda p: peers[p]["cpm"])
        r1 = lf["eps"] / peers[fp]["eps"]
        r2 = peers[cp]["cpm"] / lf["cpm"] if lf["cpm"] > 0 else float("inf")
        rows.append(f"| ≥ 3× events/s of the fastest peer (issue 8) | ≥ 3× {fp} "
                    f"({fmt_int(peers[fp]['eps'])}/s) | {r1:.2f}× | {'PASS' if r1 >= 3 else 'MISS'} |")
        rows.append(f"| ≤ 1/5 CPU/M of the cheapest peer (issue 8) | ≤ {peers[cp]['cpm'] / 5:.2f} "
                    f"({cp}: {peers[cp]['cpm']:.2f}) | {lf['cpm']:.2f} (1/{r2:.1f}) | "
                    f"{'PASS' if r2 >= 5 else 'MISS'} |")
    else:
        rows.append("| peer comparison (issue 8) | | not measured (no peer or no logferry "
                    "nginx result) | MISS |")
    return "| target | wanted | measured (median) | |\n|---|---|---|---|\n" + "\n".join(rows)


def chart(s, outdir):
    if not shutil.which("gnuplot"):
        return "gnuplot not installed (apt-get install gnuplot-nox): no chart"
    dat = os.path.join(outdir, "chart.dat")
    n = 0
    with open(dat, "w") as f:
        for name in ORDER:
            v = s.get(name, {})
            if "eps" in v and name != "wc":
                f.write(f"\"{name}\" {v['eps'] / 1000:.1f} {v['cpm']:.3f} {v['rss']:.1f}\n")
                n += 1
    if not n:
        return "nothing to chart"
    png = os.path.join(outdir, "chart.png")
    gp = f"""
set terminal pngcairo size 1200,520 font ",10" noenhanced
set output '{png}'
set multiplot layout 1,3 title "same input, read from the beginning, one JSON line per event (median)"
set style data histograms
set style fill solid 0.8 border -1
set boxwidth 0.8
set xtics rotate by -35 left
set grid ytics
set key off
set yrange [0:*]
set title "thousand events/s (higher is better)"
plot '{dat}' using 2:xtic(1) lc rgb "#3070b0"
set title "CPU-seconds per million events (lower is better)"
plot '{dat}' using 3:xtic(1) lc rgb "#c05030"
set title "peak RSS MiB (lower is better)"
plot '{dat}' using 4:xtic(1) lc rgb "#50a050"
unset multiplot
"""
    r = subprocess.run(["gnuplot"], input=gp, text=True, capture_output=True)
    if r.returncode != 0:
        return "gnuplot failed: " + r.stderr.strip()[:200]
    return ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--machine", required=True)
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--readme")
    ap.add_argument("--case", default="", help="the input case's name, in the heading")
    ap.add_argument("--append", action="store_true",
                    help="add to the README's section instead of replacing it (later cases)")
    a = ap.parse_args()
    runs = load(a.results)
    s = {name: summarize(rs) for name, rs in runs.items()}
    with open(a.machine) as f:
        machine = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
    note = chart(s, a.outdir)
    md = ["## Results " + machine.get("date", "") + (f" (input case: {a.case})" if a.case else ""), "",
          f"Machine: {machine.get('cpu', '?')}, {machine.get('cores', '?')} cores, "
          f"{machine.get('memory', '?')}, Linux {machine.get('kernel', '?')}. "
          f"Commit {machine.get('commit', '?')}; {machine.get('logferry', '')}; "
          f"{machine.get('syslog-ng', '')}; {machine.get('rsyslog', '')}"
          + (f"; {machine['fluent-bit']}" if "fluent-bit" in machine else "") + ".",
          f"Input: {machine.get('input', '?')}. Load: {machine.get('load', '?')}.", "",
          table(s, machine), "", "### Targets", "", targets(s), ""]
    bad_stop = sorted({n for n, rs in runs.items() for r in rs
                       if n.startswith("logferry") and r.get("ok") and r.get("stop_status") not in (0, None)})
    if bad_stop:
        md += ["logferry did not exit 0 on SIGTERM in: " + ", ".join(bad_stop), ""]
    fails = [(n, r) for n, v in s.items() for r in v.get("fail_reasons", [])]
    if fails:
        md += ["Failed repetitions (not in the medians):", ""]
        md += [f"- {n}: {r}" for n, r in fails] + [""]
    if note:
        md += [f"Chart: {note}", ""]
    else:
        md += ["![events/s, CPU per million, peak RSS](chart.png)", ""]
    text = "\n".join(md)
    with open(os.path.join(a.outdir, "results.md"), "w") as f:
        f.write(text)
    if a.readme:
        begin, end = "<!-- bench:latest:begin -->", "<!-- bench:latest:end -->"
        try:
            with open(a.readme) as f:
                cur = f.read()
        except OSError:
            cur = f"# Benchmarks\n\n{begin}\n{end}\n"
        if begin not in cur:
            cur += f"\n{begin}\n{end}\n"
        head, rest = cur.split(begin, 1)
        tail = rest.split(end, 1)[1] if end in rest else ""
        png = f"results/latest-{a.case}.png" if a.case else "results/latest.png"
        readme_text = text.replace("](chart.png)", f"]({png})")
        keep = rest.split(end, 1)[0] if a.append and end in rest else "\n"
        with open(a.readme, "w") as f:
            f.write(head + begin + keep + readme_text + "\n" + end + tail)
    return 0


if __name__ == "__main__":
    sys.exit(main())
