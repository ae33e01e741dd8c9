#!/usr/bin/env python3
"""es_standin.py - a stand-in Elasticsearch for logferry's tests (Python 3 stdlib only).

What it models (from the Elasticsearch 8 REST docs for _bulk, index templates, ILM):
  * POST /_bulk and /<index>/_bulk with an NDJSON body of action/source pairs; the body must
    end with a newline (else 400 illegal_argument_exception); a malformed action line is a
    whole-request 400. Actions: create (201 created, 409 version_conflict_engine_exception
    when the _id already exists in that index) and index (201/200); delete/update are
    answered 400 per item (logferry never sends them).
  * The response: {"took":..,"errors":bool,"items":[{"create":{"_index","_id","status",
    "error":{"type","reason","caused_by"}}}]} in request order. filter_path is honoured
    only as far as dropping "took" and per-item "_version"/"result" (enough for clients that
    rely on "errors" coming first).
  * Per-item 429 es_rejected_execution_exception for chosen documents for their first K
    attempts (--item-429-every M --item-429-times K: documents whose message number is a
    multiple of M).
  * Per-item 400 mapper_parsing_exception for documents whose "message" matches
    --reject-regex.
  * Whole-request failures: the first N _bulk requests answered --fail-whole-status
    (default 429, body es_rejected_execution_exception) (--fail-whole N).
  * 413 Request Entity Too Large (empty body) when the decompressed body exceeds --max-bytes
    (Elasticsearch's http.max_content_length is checked after decompression).
  * Content-Encoding: gzip request bodies (--require-gzip answers 400 to plain bodies).
  * Authentication: --user/--password (Basic) or --api-key (the "ApiKey <encoded>" header);
    a missing or wrong one is 401 security_exception with WWW-Authenticate.
  * GET / (version 8.11.0), PUT /_index_template/<n>, PUT /_ilm/policy/<n> (recorded, 200
    acknowledged), POST /_security/user/_has_privileges (200 when auth is configured, else 500
    as with security disabled).
  * HTTP/1.1 keep-alive (connections are counted, so tests can see reuse).
  * A slow cluster: --delay-ms N answers each _bulk N ms late, after indexing it (a client
    that times out and retries then meets its own documents: 409).
  * A cluster that has the request and does not answer yet: while "hold" is true
    (--hold, or POST /_standin/config {"hold": true}), every _bulk request waits, unread
    into the index and unanswered, until {"hold": false}; then it is indexed and answered.
    stats "held" is the number of requests waiting now (tests wait for one to be open).

What it does not model: mappings and dynamic typing (only the reject rule refuses
documents), shards/replicas, refresh, routing, pipelines, data-stream rollover, index name
validation, partial reads, TLS.

State: created documents are kept in memory and, with --store FILE, appended to FILE as
their source line (so tests/integration/lib.sh's seq_check can count message numbers) and
to FILE.ids as "index<TAB>id"; on start, FILE.ids is read back so a restarted stand-in
still answers 409 for documents it already has (as a real cluster would).

Control (JSON): GET /_standin/stats -> counters and, with ?attempts=1, per-_id attempts;
POST /_standin/config {"fail_whole": 3, ...} changes a setting at run time;
GET /_standin/setup -> the templates and policies received.
"""
import argparse
import base64
import gzip
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

LOCK = threading.Lock()
S = {}  # settings
ST = {  # state
    "docs": {},            # (index, id) -> True
    "attempts": {},        # id -> number of times seen in a _bulk request
    "bulk_requests": 0,
    "bulk_ok_requests": 0,
    "whole_failed": 0,
    "created": 0,
    "conflicts": 0,
    "item_429": 0,
    "rejected": 0,
    "too_large": 0,
    "gzip_requests": 0,
    "auth_failures": 0,
    "auth_seen": [],       # distinct Authorization schemes seen
    "connections": 0,
    "templates": {},
    "policies": {},
    "max_docs_per_request": 0,
    "held": 0,
}
STORE = None
IDS = None
NUM = re.compile(r"\b(\d+)\b")


def load_ids(path):
    if not os.path.exists(path):
        return
    with open(path) as f:
        for ln in f:
            ix, _, did = ln.rstrip("\n").partition("\t")
            ST["docs"][(ix, did)] = True


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "es-standin/8.11.0"

    def setup(self):
        super().setup()
        with LOCK:
            ST["connections"] += 1

    def log_message(self, fmt, *args):  # quiet unless asked
        if S.get("verbose"):
            sys.stderr.write("es_standin: " + fmt % args + "\n")

    def reply(self, status, obj=None, headers=None):
        body = b"" if obj is None else json.dumps(obj, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-elastic-product", "Elasticsearch")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            raw = gzip.decompress(raw)
            self.gz = True
        else:
            self.gz = False
        return raw

    def authorized(self):
        auth = self.headers.get("Authorization", "")
        scheme = auth.split(" ", 1)[0] if auth else "none"
        with LOCK:
            if scheme not in ST["auth_seen"]:
                ST["auth_seen"].append(scheme)
        ok = True
        if S.get("user"):
            want = "Basic " + base64.b64encode(f"{S['user']}:{S['password']}".encode()).decode()
            ok = auth == want
        elif S.get("api_key"):
            ok = auth == "ApiKey " + S["api_key"]
        if not ok:
            with LOCK:
                ST["auth_failures"] += 1
            self.reply(401, {"error": {"type": "security_exception",
                                       "reason": "missing authentication credentials for REST request"},
                             "status": 401},
                       {"WWW-Authenticate": 'Basic realm="security", ApiKey'})
        return ok

    # -- routes --
    def do_GET(self):
        u = urlsplit(self.path)
        if u.path == "/_standin/stats":
            q = parse_qs(u.query)
            with LOCK:
                out = {k: v for k, v in ST.items() if k not in ("docs", "attempts", "templates", "policies")}
                out["docs"] = len(ST["docs"])
                if q.get("attempts"):
                    out["attempts"] = dict(ST["attempts"])
            return self.reply(200, out)
        if u.path == "/_standin/setup":
            with LOCK:
                return self.reply(200, {"templates": ST["templates"], "policies": ST["policies"]})
        self.body()
        if not self.authorized():
            return
        if u.path == "/":
            return self.reply(200, {"name": "standin", "cluster_name": "es-standin",
                                    "version": {"number": "8.11.0", "build_flavor": "default"},
                                    "tagline": "You Know, for Search"})
        self.reply(404, {"error": {"type": "resource_not_found_exception", "reason": "no such route"}, "status": 404})

    def do_PUT(self):
        u = urlsplit(self.path)
        raw = self.body()
        if not self.authorized():
            return
        m = re.match(r"^/_(index_template|ilm/policy)/([^/]+)$", u.path)
        if not m:
            return self.reply(404, {"error": {"type": "resource_not_found_exception", "reason": "no such route"}, "status": 404})
        try:
            doc = json.loads(raw)
        except ValueError as e:
            return self.reply(400, {"error": {"type": "parse_exception", "reason": str(e)}, "status": 400})
        with LOCK:
            (ST["templates"] if m.group(1) == "index_template" else ST["policies"])[m.group(2)] = doc
        self.reply(200, {"acknowledged": True})

    def do_POST(self):
        u = urlsplit(self.path)
        if u.path == "/_standin/config":
            cfg = json.loads(self.body() or b"{}")
            with LOCK:
                S.update(cfg)
            return self.reply(200, {"ok": True, "settings": {k: v for k, v in S.items() if k not in ("password", "api_key")}})
        try:
            raw = self.body()
        except Exception as e:  # gzip.BadGzipFile, zlib.error, EOFError
            return self.reply(400, {"error": {"type": "parse_exception", "reason": f"bad gzip body: {e}"}, "status": 400})
        if not self.authorized():
            return
        if u.path == "/_security/user/_has_privileges":
            if S.get("user") or S.get("api_key"):
                return self.reply(200, {"username": S.get("user") or "apikey", "has_all_requested": True})
            return self.reply(500, {"error": {"type": "exception", "reason": "Security must be explicitly enabled"}, "status": 500})
        m = re.match(r"^(?:/([^/_][^/]*))?/_bulk$", u.path)
        if not m:
            return self.reply(404, {"error": {"type": "resource_not_found_exception", "reason": "no such route"}, "status": 404})
        if self.gz:
            with LOCK:
                ST["gzip_requests"] += 1
        elif S.get("require_gzip"):
            return self.reply(400, {"error": {"type": "illegal_argument_exception", "reason": "expected gzip"}, "status": 400})
        self.bulk(m.group(1), raw, "filter_path" in parse_qs(u.query))

    def bulk(self, default_index, raw, filtered):
        if S.get("hold"):
            with LOCK:
                ST["held"] += 1
            while S.get("hold"):
                time.sleep(0.02)
            with LOCK:
                ST["held"] -= 1
        with LOCK:
            ST["bulk_requests"] += 1
            if S.get("fail_whole", 0) > 0:
                S["fail_whole"] -= 1
                ST["whole_failed"] += 1
                st = int(S.get("fail_whole_status", 429))
                return self.reply(st, {"error": {"type": "es_rejected_execution_exception" if st == 429 else "unavailable_shards_exception",
                                                 "reason": "stand-in: whole request refused"}, "status": st})
            if S.get("max_bytes") and len(raw) > S["max_bytes"]:
                ST["too_large"] += 1
                self.send_response(413)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        if raw and not raw.endswith(b"\n"):
            return self.reply(400, {"error": {"type": "illegal_argument_exception",
                                              "reason": "The bulk request must be terminated by a newline [\\n]"}, "status": 400})
        lines = raw.split(b"\n")[:-1] if raw else []
        pairs = []
        i = 0
        while i < len(lines):
            try:
                act = json.loads(lines[i])
                (op, meta), = act.items()
                if op not in ("create", "index", "delete", "update") or not isinstance(meta, dict):
                    raise ValueError(op)
            except Exception:
                return self.reply(400, {"error": {"type": "illegal_argument_exception",
                                                  "reason": f"Malformed action/metadata line [{i + 1}]"}, "status": 400})
            src = None
            if op != "delete":
                if i + 1 >= len(lines):
                    return self.reply(400, {"error": {"type": "illegal_argument_exception",
                                                      "reason": f"Validation Failed: 1: no requests added / missing source for line [{i + 1}];"}, "status": 400})
                src = lines[i + 1]
                i += 2
            else:
                i += 1
            pairs.append((op, meta, src))
        items, errors, created_lines, created_ids = [], False, [], []
        rx = S.get("reject_regex")
        with LOCK:
            ST["max_docs_per_request"] = max(ST["max_docs_per_request"], len(pairs))
            for op, meta, src in pairs:
                ix = meta.get("_index") or default_index or ""
                did = meta.get("_id") or "auto-%d" % (len(ST["docs"]) + 1)
                ST["attempts"][did] = ST["attempts"].get(did, 0) + 1
                res = {"_index": ix, "_id": did}
                try:
                    doc = json.loads(src) if src is not None else None
                except ValueError:
                    doc = None
                msg = str(doc.get("message", "")) if isinstance(doc, dict) else ""
                num = NUM.search(msg)
                every, times = S.get("item_429_every", 0), S.get("item_429_times", 0)
                if op in ("delete", "update"):
                    res.update(status=400, error={"type": "illegal_argument_exception", "reason": "stand-in: unsupported action"})
                elif not isinstance(doc, dict):
                    res.update(status=400, error={"type": "mapper_parsing_exception", "reason": "failed to parse",
                                                  "caused_by": {"type": "json_parse_exception", "reason": "not a JSON object"}})
                    ST["rejected"] += 1
                elif every and num and int(num.group(1)) % every == 0 and ST["attempts"][did] <= times:
                    res.update(status=429, error={"type": "es_rejected_execution_exception",
                                                  "reason": "rejected execution of coordinating operation [stand-in]"})
                    ST["item_429"] += 1
                elif rx and re.search(rx, msg):
                    res.update(status=400, error={"type": "mapper_parsing_exception",
                                                  "reason": f"failed to parse field [source.ip] of type [ip] in document with id '{did}'. Preview of field's value: 'x'",
                                                  "caused_by": {"type": "illegal_argument_exception", "reason": "'x' is not an IP string literal."}})
                    ST["rejected"] += 1
                elif op == "create" and (ix, did) in ST["docs"]:
                    res.update(status=409, error={"type": "version_conflict_engine_exception",
                                                  "reason": f"[{did}]: version conflict, document already exists (current version [1])",
                                                  "index": ix})
                    ST["conflicts"] += 1
                else:
                    ST["docs"][(ix, did)] = True
                    ST["created"] += 1
                    res.update(status=201, result="created", _version=1)
                    created_lines.append(src)
                    created_ids.append(f"{ix}\t{did}\n")
                if "error" in res:
                    errors = True
                if filtered:
                    res = {k: v for k, v in res.items() if k in ("status", "error")}
                items.append({op: res})
            if STORE and created_lines:
                STORE.write(b"".join(l + b"\n" for l in created_lines))
                STORE.flush()
                IDS.write("".join(created_ids))
                IDS.flush()
            ST["bulk_ok_requests"] += 1
        out = {"errors": errors, "items": items} if filtered else {"took": 1, "errors": errors, "items": items}
        if S.get("delay_ms"):  # indexed, but answered late (a client may time out first)
            time.sleep(S["delay_ms"] / 1000)
        self.reply(200, out)


def main():
    global STORE, IDS
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--store")
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--api-key")
    ap.add_argument("--max-bytes", type=int, default=0)
    ap.add_argument("--fail-whole", type=int, default=0)
    ap.add_argument("--fail-whole-status", type=int, default=429)
    ap.add_argument("--item-429-every", type=int, default=0)
    ap.add_argument("--item-429-times", type=int, default=0)
    ap.add_argument("--reject-regex")
    ap.add_argument("--require-gzip", action="store_true")
    ap.add_argument("--delay-ms", type=int, default=0)
    ap.add_argument("--hold", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    S.update({k: v for k, v in vars(a).items() if k not in ("port", "port_file", "store")})
    if a.store:
        load_ids(a.store + ".ids")
        STORE = open(a.store, "ab")
        IDS = open(a.store + ".ids", "a")
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), H)
    srv.daemon_threads = True
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(srv.server_address[1]))
        os.rename(tmp, a.port_file)
    try:
        srv.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
