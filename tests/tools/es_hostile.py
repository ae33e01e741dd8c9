#!/usr/bin/env python3
"""es_hostile.py - an Elasticsearch _bulk endpoint that misbehaves on purpose (Python 3
stdlib only), for tests of what a hostile or broken server can make logferry do.

It answers POST /_bulk (and /<index>/_bulk) following a plan, one answer per request:
--plan "gzip_bomb:40,chunked:8,ok" answers the first 40 _bulk requests with a gzip bomb, the
next 8 with an endless chunked body, and every later one correctly. Kinds:
  gzip_bomb   200, Content-Encoding: gzip, ~200 KiB that inflates to 200 MiB (a JSON
              prefix, then spaces); the kind issue 21 measured at 1,063 MB RSS
  deflate     the same bomb as Content-Encoding: deflate (an encoding logferry never asks for)
  double_gzip the bomb gzipped twice (Content-Encoding: gzip, gzip)
  chunked     200, Transfer-Encoding: chunked, 64 KiB chunks of spaces until the client hangs up
  garbage     200 with 64 KiB of random bytes
  values      200 with a valid JSON body of many tiny values ({"items":[{},{},...]} 4 MiB),
              which costs a JSON library far more memory than its size
  partial     200, {"errors":true,"items":[...]} with half the items (and the JSON cut short
              every other time)
  redirect    302 to another host (Location carries a token-like query)
  unauthorized 401 security_exception with WWW-Authenticate
  ok          what Elasticsearch does: create -> 201, or 409 when the _id exists
Request bodies may be gzip (Content-Encoding: gzip). Documents created are appended to
--store as their source line (for tests/integration/lib.sh's seq_check), once per _id.

GET /_hostile/stats -> {"requests": N, "by_kind": {...}, "created": N, "conflicts": N,
"auth_headers": [...distinct Authorization values seen...]}.
What it does not model: anything but _bulk (GET / answers a version, for test-output).
"""
import argparse
import gzip
import json
import os
import random
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
PLAN = []          # [kind, remaining] ; the last entry without a count repeats forever
STATS = {"requests": 0, "by_kind": {}, "created": 0, "conflicts": 0, "auth_headers": []}
IDS = set()
STORE = None
BOMB = None        # gzip of the 200 MiB bomb
BOMB_DEFLATE = None
BOMB_DOUBLE = None


def make_bombs(mib):
    global BOMB, BOMB_DEFLATE, BOMB_DOUBLE
    prefix = b'{"errors":true,"items":['
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    d = zlib.compressobj(9, zlib.DEFLATED, 15)
    parts, dparts = [c.compress(prefix)], [d.compress(prefix)]
    chunk = b" " * (1 << 20)
    for _ in range(mib):
        parts.append(c.compress(chunk))
        dparts.append(d.compress(chunk))
    parts.append(c.flush())
    dparts.append(d.flush())
    BOMB = b"".join(parts)
    BOMB_DEFLATE = b"".join(dparts)
    BOMB_DOUBLE = gzip.compress(BOMB, 9)


def next_kind():
    with LOCK:
        STATS["requests"] += 1
        while len(PLAN) > 1 and PLAN[0][1] <= 0:
            PLAN.pop(0)
        k = PLAN[0]
        if k[1] is not None:
            k[1] -= 1
        STATS["by_kind"][k[0]] = STATS["by_kind"].get(k[0], 0) + 1
        return k[0]


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, body, headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/_hostile/stats"):
            with LOCK:
                body = json.dumps(STATS).encode()
            self.send(200, body, [("Content-Type", "application/json")])
        else:
            self.send(200, b'{"version":{"number":"8.11.0"}}',
                      [("Content-Type", "application/json")])

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        auth = self.headers.get("Authorization")
        if auth:
            with LOCK:
                if auth not in STATS["auth_headers"]:
                    STATS["auth_headers"].append(auth)
        if "_bulk" not in self.path:
            self.send(404, b'{"error":"not found"}')
            return
        if self.headers.get("Content-Encoding", "") == "gzip":
            raw = gzip.decompress(raw)
        lines = raw.split(b"\n")
        docs = []
        for i in range(0, len(lines) - 1, 2):
            try:
                action = json.loads(lines[i])
            except ValueError:
                break
            meta = next(iter(action.values()))
            docs.append((meta.get("_index", ""), meta.get("_id", ""), lines[i + 1]))
        kind = next_kind()
        getattr(self, "k_" + kind)(docs)

    def k_ok(self, docs):
        items = []
        with LOCK:
            for idx, _id, src in docs:
                if (idx, _id) in IDS:
                    STATS["conflicts"] += 1
                    items.append({"create": {"status": 409, "error": {
                        "type": "version_conflict_engine_exception",
                        "reason": "document already exists"}}})
                    continue
                IDS.add((idx, _id))
                STATS["created"] += 1
                STORE.write(src + b"\n")
                items.append({"create": {"status": 201}})
            STORE.flush()
        body = json.dumps({"errors": any(i["create"]["status"] != 201 for i in items),
                           "items": items}).encode()
        self.send(200, body, [("Content-Type", "application/json")])

    def k_gzip_bomb(self, docs):
        self.send(200, BOMB, [("Content-Type", "application/json"),
                              ("Content-Encoding", "gzip")])

    def k_deflate(self, docs):
        self.send(200, BOMB_DEFLATE, [("Content-Type", "application/json"),
                                      ("Content-Encoding", "deflate")])

    def k_double_gzip(self, docs):
        self.send(200, BOMB_DOUBLE, [("Content-Type", "application/json"),
                                     ("Content-Encoding", "gzip, gzip")])

    def k_chunked(self, docs):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b" " * 65536
        try:
            self.wfile.write(b'%x\r\n{"errors":true,"items":[\r\n' % 24)
            while True:
                self.wfile.write(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True

    def k_garbage(self, docs):
        self.send(200, os.urandom(65536), [("Content-Type", "application/json")])

    def k_values(self, docs):
        self.send(200, b'{"errors":true,"items":[' + b"{}," * ((4 << 20) // 3) + b"{}]}",
                  [("Content-Type", "application/json")])

    def k_partial(self, docs):
        items = [{"create": {"status": 201}}] * (len(docs) // 2)
        body = json.dumps({"errors": True, "items": items}).encode()
        with LOCK:
            cut = STATS["requests"] % 2
        self.send(200, body[: len(body) // 2] if cut else body,
                  [("Content-Type", "application/json")])

    def k_redirect(self, docs):
        self.send(302, b"", [("Location", "http://203.0.113.9:9200/_bulk?token=elsewhere")])

    def k_unauthorized(self, docs):
        self.send(401, json.dumps({"error": {"type": "security_exception",
                                             "reason": "missing authentication credentials"},
                                   "status": 401}).encode(),
                  [("Content-Type", "application/json"),
                   ("WWW-Authenticate", 'Basic realm="security"')])


def main():
    global STORE
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--store", required=True)
    ap.add_argument("--plan", default="ok")
    ap.add_argument("--bomb-mib", type=int, default=200)
    a = ap.parse_args()
    for p in a.plan.split(","):
        k, _, n = p.partition(":")
        if not hasattr(H, "k_" + k):
            sys.exit("unknown kind " + k)
        PLAN.append([k, int(n) if n else None])
    if PLAN[-1][1] is not None:
        PLAN.append(["ok", None])
    make_bombs(a.bomb_mib)
    STORE = open(a.store, "ab")
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), H)
    srv.daemon_threads = True
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
