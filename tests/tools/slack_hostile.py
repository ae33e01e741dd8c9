#!/usr/bin/env python3
"""slack_hostile.py - a Slack incoming-webhook endpoint that misbehaves on purpose (Python 3
stdlib only), for tests of what a hostile or broken webhook server can make logferry do.

Answers POST requests (any path and query: the test's webhook may be http://host:port?token=X)
following --plan, one step per request, then "ok" for ever. Steps:
  302   Found, Location on another host carrying a token-like query (never to be followed)
  big   200 "ok" followed by 5 MB of padding (the answer must not cost 5 MB of memory)
  ok    200 "ok", as Slack does
Every request is appended to --record as a JSON line {"status": S, "path": P, "body": B}.
Models nothing else of Slack (see slack_standin.py for the documented behaviour).
"""
import argparse
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
PLAN = []
REC = None


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode("utf-8", "replace")
        with LOCK:
            step = PLAN.pop(0) if PLAN else "ok"
            status = 302 if step == "302" else 200
            REC.write(json.dumps({"status": status, "path": self.path, "body": body}) + "\n")
            REC.flush()
        if step == "302":
            out = b""
            self.send_response(302)
            self.send_header("Location", "http://203.0.113.9/services/?token=elsewhere")
        else:
            out = b"ok" + (b" " * (5 << 20) if step == "big" else b"")
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        try:
            self.wfile.write(out)
        except OSError:
            self.close_connection = True


def main():
    global REC
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--record", required=True)
    ap.add_argument("--plan", default="")
    a = ap.parse_args()
    PLAN.extend(s for s in a.plan.split(",") if s)
    REC = open(a.record, "a")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
