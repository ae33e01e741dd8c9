#!/usr/bin/env python3
"""kibana_standin.py - a local stand-in for Kibana's saved-objects import API (tests only).

What it models (Kibana's documented API, "Import objects",
https://www.elastic.co/guide/en/kibana/current/saved-objects-api-import.html):
  * POST /api/saved_objects/_import[?overwrite=true] with a multipart/form-data body whose
    part "file" is an .ndjson file, one saved object per line;
  * the kbn-xsrf header is required (400 without it, as Kibana answers);
  * with --user/--password or --api-key, the matching Authorization is required (401);
  * 200 {"successCount": N, "success": true, "warnings": [], "successResults": [{type, id}]}.
Every request is appended to --record as one JSON line:
  {"path", "query", "xsrf": bool, "auth": "basic USER" | "apikey" | null, "status",
   "filename", "objects": [[type, id], ...]}
Run: kibana_standin.py --port-file F --record R [--user U --password P | --api-key K]
"""
import argparse
import base64
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


def parse_multipart(ctype, body):
    """The part named "file": (filename, bytes), or (None, None)."""
    if "boundary=" not in ctype:
        return None, None
    boundary = ctype.split("boundary=", 1)[1].strip().strip('"').encode()
    for part in body.split(b"--" + boundary):
        head, sep, data = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        h = head.decode("latin-1")
        if 'name="file"' not in h:
            continue
        fn = None
        if 'filename="' in h:
            fn = h.split('filename="', 1)[1].split('"', 1)[0]
        return fn, data[:-2] if data.endswith(b"\r\n") else data
    return None, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--record", required=True)
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--api-key")
    args = ap.parse_args()

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def answer(self, code, obj):
            b = json.dumps(obj, separators=(",", ":")).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(b)))
            self.end_headers()
            self.wfile.write(b)

        def do_POST(self):
            u = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            rec = {"path": u.path, "query": u.query, "xsrf": "kbn-xsrf" in self.headers,
                   "auth": None, "status": 200, "filename": None, "objects": []}
            a = self.headers.get("Authorization", "")
            if a.startswith("Basic "):
                user, _, pw = base64.b64decode(a[6:]).decode().partition(":")
                rec["auth"] = f"basic {user}"
                ok = user == args.user and pw == args.password
            elif a.startswith("ApiKey "):
                rec["auth"] = "apikey"
                ok = a[7:] == args.api_key
            else:
                ok = not args.user and not args.api_key
            if u.path != "/api/saved_objects/_import":
                rec["status"], resp = 404, {"statusCode": 404, "error": "Not Found"}
            elif not rec["xsrf"]:
                rec["status"], resp = 400, {"statusCode": 400, "error": "Bad Request",
                                            "message": "Request must contain a kbn-xsrf header."}
            elif not ok:
                rec["status"], resp = 401, {"statusCode": 401, "error": "Unauthorized"}
            else:
                fn, data = parse_multipart(self.headers.get("Content-Type", ""), body)
                rec["filename"] = fn
                objs = [json.loads(l) for l in (data or b"").decode().splitlines() if l.strip()]
                rec["objects"] = [[o["type"], o["id"]] for o in objs]
                if not fn or not fn.endswith(".ndjson") or not objs:
                    rec["status"], resp = 415, {"statusCode": 415, "error": "Unsupported Media Type"}
                else:
                    resp = {"successCount": len(objs), "success": True, "warnings": [],
                            "successResults": [{"type": o["type"], "id": o["id"]} for o in objs]}
            with open(args.record, "a") as f:
                f.write(json.dumps(rec) + "\n")
            self.answer(rec["status"], resp)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(args.port_file + ".tmp", args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
