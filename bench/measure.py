#!/usr/bin/env python3
"""measure.py - runs one contestant of bench/run.sh and prints one JSON line of figures.

Two modes:
  measure.py --run-to-exit -- CMD...
      Runs CMD to completion (the `wc -l` baseline); wall time from fork to exit, CPU from
      wait4()'s rusage (utime+stime of the process and its waited-for children), peak RSS
      from ru_maxrss.
  measure.py --out FILE --lines N [--timeout S] [--stop-signal TERM] -- CMD...
      Starts CMD (a shipper running in the foreground), polls FILE until it holds N newline-
      terminated lines, then samples the process's utime+stime (/proc/PID/stat, all threads)
      and VmHWM (/proc/PID/status) *before* stopping it, and sends the stop signal. Wall time
      is from fork to the moment the N-th line is seen, so it includes the shipper's start-up
      (a few ms for all of them; honest, not hidden). The count is tracked incrementally
      (only new bytes are read) so polling costs little CPU of its own.
      If CMD exits before N lines, or the timeout passes, the result says "failed: <reason>"
      with the tail of CMD's stderr, and the script still exits 0 so run.sh carries on.

Output keys: ok, reason, wall_s, cpu_s, rss_kib, lines. The shipper's stdout/stderr go to
--log FILE (default /dev/null).
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

CLK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    # /proc/PID/stat: the comm field may hold spaces; split after the last ')'.
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    rest = s[s.rindex(")") + 2:].split()
    utime, stime = int(rest[11]), int(rest[12])  # fields 14 and 15 of stat(5)
    return (utime + stime) / CLK


def proc_hwm(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def tail_of(path, n=400):
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - n))
            return f.read().decode("utf-8", "replace").strip().replace("\n", " | ")
    except OSError:
        return ""


def run_to_exit(cmd, log):
    t0 = time.monotonic()
    with open(log, "ab") as lf:
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=lf)
        _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    rc = os.waitstatus_to_exitcode(status)
    res = {"ok": rc == 0, "reason": "" if rc == 0 else f"exit status {rc}",
           "wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime, "rss_kib": ru.ru_maxrss}
    return res


def run_until_lines(cmd, out, want, timeout, sig, log, env_extra):
    env = dict(os.environ)
    env.update(env_extra)
    lf = open(log, "ab")
    t0 = time.monotonic()
    try:
        p = subprocess.Popen(cmd, stdout=lf, stderr=subprocess.STDOUT, env=env)
    except OSError as e:
        return {"ok": False, "reason": f"cannot start: {e}"}
    pid = p.pid
    lines, pos, fh = 0, 0, None
    cpu = hwm = 0.0
    res = None
    sleep = 0.002
    try:
        while True:
            if fh is None:
                try:
                    fh = open(out, "rb")
                except OSError:
                    fh = None
            if fh is not None:
                chunk = fh.read(8 << 20)
                while chunk:
                    lines += chunk.count(b"\n")
                    pos += len(chunk)
                    if lines >= want:
                        break
                    chunk = fh.read(8 << 20)
            now = time.monotonic()
            try:
                cpu, hwm = proc_cpu(pid), proc_hwm(pid)
            except (OSError, ValueError):
                pass
            if lines >= want:
                res = {"ok": True, "reason": "", "wall_s": now - t0, "cpu_s": cpu,
                       "rss_kib": hwm, "lines": lines}
                break
            if p.poll() is not None:
                res = {"ok": False, "lines": lines,
                       "reason": f"exited with status {p.returncode} after {lines} of {want} "
                                 f"lines: {tail_of(log, 300)}"}
                break
            if now - t0 > timeout:
                res = {"ok": False, "lines": lines,
                       "reason": f"timeout after {timeout:.0f} s with {lines} of {want} lines"}
                break
            time.sleep(sleep)
            sleep = min(sleep * 2, 0.02)
    finally:
        if fh:
            fh.close()
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        lf.close()
    res["stop_status"] = p.returncode
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run-to-exit", action="store_true")
    ap.add_argument("--out")
    ap.add_argument("--lines", type=int)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--stop-signal", default="TERM")
    ap.add_argument("--log", default="/dev/null")
    ap.add_argument("--env", action="append", default=[], help="KEY=VALUE for CMD")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    if not cmd:
        ap.error("no command")
    if a.run_to_exit:
        res = run_to_exit(cmd, a.log)
    else:
        sig = getattr(signal, "SIG" + a.stop_signal)
        env_extra = dict(kv.split("=", 1) for kv in a.env)
        res = run_until_lines(cmd, a.out, a.lines, a.timeout, sig, a.log, env_extra)
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
