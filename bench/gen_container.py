#!/usr/bin/env python3
"""gen_container.py - wraps a benchmark input the way container runtimes store stdout.

  gen_container.py --format docker --in nginx.log --out nginx.docker.log
  gen_container.py --format cri    --in nginx.log --out nginx.cri.log

docker: one json-file object per line ({"log":"LINE\\n","stream":"stdout","time":...}),
escaped as Go's encoder escapes (", \\, control bytes, and <, >, & as \\u003c ...).
cri: "TIME stdout F LINE". Times advance 1 us a line from a fixed start: same input, same
bytes. Each input line stays one runtime line (the lines are far below Docker's 16 KiB), so
the event count is the input's line count.
"""
import argparse
import json
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--format", choices=["docker", "cri"], required=True)
    ap.add_argument("--in", dest="inp", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    t0 = 1795680000
    with open(a.inp, encoding="utf-8", newline="\n") as f, \
            open(a.out, "w", encoding="utf-8", newline="\n") as o:
        for i, line in enumerate(f):
            us = i
            ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0 + us // 1000000))
            ts += ".%06d000Z" % (us % 1000000)
            if a.format == "docker":
                log = json.dumps(line, ensure_ascii=False)
                log = log.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
                o.write('{"log":%s,"stream":"stdout","time":"%s"}\n' % (log, ts))
            else:
                o.write("%s stdout F %s" % (ts, line))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
