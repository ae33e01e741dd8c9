#!/usr/bin/env python3
"""slack_standin.py - a local stand-in for a Slack incoming webhook (tests and benchmarks).

What it models (Slack's documented incoming-webhook behaviour,
https://api.slack.com/messaging/webhooks and "Handling errors" / rate limits):
  * POST with a JSON body -> 200 "ok" (text/plain), over HTTP/1.1 keep-alive.
  * 400 "invalid_payload" when the body is not a JSON object with `text` or `blocks`
    (always checked), or when the plan says so.
  * 403 "action_prohibited", 404 "no_service", 410 "channel_is_archived",
    429 "rate_limited" with a Retry-After header (seconds), 500 "rollup_error":
    only when the scripted plan asks for them.
  * Slack's limits are checked and violations recorded (not answered): more than 50 blocks,
    a section text over 3,000 characters, a field text over 2,000, more than 10 fields.
It does not model Slack's rendering; tests inspect the recorded bodies.

Plan (--plan or POST /_plan with the spec as body): comma-separated steps used in order,
one per request, then "ok" for ever. A step is ok | hang | 400 | 403 | 404 | 410 | 500 |
429:SECONDS (hang: the request is read and recorded, status 0, and never answered; the
connection stays open until the client gives up), optionally followed by *N (repeat N times) or @SECONDS (answer so for that long,
counted from the first request the step answers).  Example: "500@60,429:2,ok".

Every request is appended to --record as one JSON line:
  {"mono_ns": time.monotonic_ns() at arrival (headers read), "wall": time.time(),
   "status": answered status, "body": the request body text, "limit_violations": [...]}
Run: slack_standin.py --port-file F --record R [--plan SPEC]; the chosen port is written to F.

Report mode for tests: slack_standin.py --report R prints one JSON object about a record:
  {"requests": n, "delivered": messages answered 200, "failed": [statuses of the others],
   "sum": sum of the N in "N×" over delivered messages, "violations": Slack limits broken,
   "min_gap_ms": smallest gap between consecutive requests, "texts": fallback texts}
"""
import argparse
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWERS = {200: "ok", 400: "invalid_payload", 403: "action_prohibited", 404: "no_service",
           410: "channel_is_archived", 429: "rate_limited", 500: "rollup_error"}


class Plan:
    def __init__(self, spec=""):
        self.lock = threading.Lock()
        self.set(spec)

    def set(self, spec):
        steps = []
        for item in [s.strip() for s in (spec or "").split(",") if s.strip()]:
            m = re.fullmatch(r"(ok|hang|\d{3})(?::(\d+))?(?:\*(\d+)|@(\d+(?:\.\d+)?))?", item)
            if not m:
                raise ValueError(f"bad plan step {item!r}")
            code = {"ok": 200, "hang": 0}.get(m.group(1)) if not m.group(1).isdigit() else int(m.group(1))
            steps.append({"code": code, "retry_after": m.group(2),
                          "count": int(m.group(3)) if m.group(3) else (None if m.group(4) else 1),
                          "secs": float(m.group(4)) if m.group(4) else None, "started": None})
        with self.lock:
            self.steps = steps

    def next(self):
        with self.lock:
            while self.steps:
                s = self.steps[0]
                if s["secs"] is not None:
                    now = time.monotonic()
                    if s["started"] is None:
                        s["started"] = now
                    if now - s["started"] < s["secs"]:
                        return s["code"], s["retry_after"]
                    self.steps.pop(0)
                    continue
                if s["count"] > 0:
                    s["count"] -= 1
                    if s["count"] == 0:
                        self.steps.pop(0)
                    return s["code"], s["retry_after"]
                self.steps.pop(0)
            return 200, None


def limit_violations(doc):
    v = []
    blocks = doc.get("blocks") or []
    if len(blocks) > 50:
        v.append(f"{len(blocks)} blocks > 50")
    for i, b in enumerate(blocks):
        t = (b.get("text") or {}).get("text")
        if t is not None and len(t) > 3000:
            v.append(f"block {i}: section text {len(t)} > 3000")
        fields = b.get("fields") or []
        if len(fields) > 10:
            v.append(f"block {i}: {len(fields)} fields > 10")
        for f in fields:
            if len(f.get("text", "")) > 2000:
                v.append(f"block {i}: field text > 2000")
    if len(doc.get("text", "")) > 40000:
        v.append("text > 40000")
    return v


def report(path):
    recs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.endswith("\n"):
                recs.append(json.loads(line))
    out = {"requests": len(recs), "delivered": 0, "failed": [], "sum": 0, "violations": [],
           "min_gap_ms": None, "texts": []}
    for i, r in enumerate(recs):
        out["violations"] += r.get("limit_violations", [])
        if i:
            gap = (r["mono_ns"] - recs[i - 1]["mono_ns"]) / 1e6
            out["min_gap_ms"] = gap if out["min_gap_ms"] is None else min(out["min_gap_ms"], gap)
        if r["status"] != 200:
            out["failed"].append(r["status"])
            continue
        text = json.loads(r["body"])["text"]
        m = re.match(r"(\d+)\u00d7 ", text)
        if not m:
            out["violations"].append(f"text does not start with N\u00d7: {text[:80]}")
            continue
        out["delivered"] += 1
        out["sum"] += int(m.group(1))
        out["texts"].append(text)
    print(json.dumps(out, ensure_ascii=False))
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--report":
        return report(sys.argv[2])
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--record", required=True)
    ap.add_argument("--plan", default="")
    args = ap.parse_args()
    plan = Plan(args.plan)
    rec_lock = threading.Lock()
    # one write(2) per record, appended: readers wait for the newline to see a whole record
    rec = os.open(args.record, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def answer(self, code, text, retry_after=None):
            body = text.encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            if retry_after is not None:
                self.send_header("Retry-After", str(retry_after))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            arrival = time.monotonic_ns()
            wall = time.time()
            n = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(n) if n else b""
            if self.path == "/_plan":
                try:
                    plan.set(raw.decode())
                    self.answer(200, "ok")
                except ValueError as e:
                    self.answer(400, str(e))
                return
            text = raw.decode("utf-8", "replace")
            violations = []
            try:
                doc = json.loads(text)
                valid = isinstance(doc, dict) and ("text" in doc or "blocks" in doc)
                if valid:
                    violations = limit_violations(doc)
            except ValueError:
                valid = False
            code, ra = plan.next() if valid else (400, None)
            with rec_lock:
                os.write(rec, (json.dumps({"mono_ns": arrival, "wall": wall, "status": code,
                                           "path": self.path, "body": text,
                                           "limit_violations": violations}) + "\n").encode())
            if code == 0:  # hang: never answer (the daemon thread dies with the process)
                threading.Event().wait()
            self.answer(code, ANSWERS.get(code, "error"), ra)

    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(srv.server_address[1]))
        os.replace(args.port_file + ".tmp", args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
