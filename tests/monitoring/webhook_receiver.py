#!/usr/bin/env python3
"""A local HTTPS receiver for xarb's generic alert webhook (tests/monitoring/run): checks each
request as a webhook endpoint would (POST, JSON, the bearer token, the fields) and appends what it
accepted, one JSON object per line, to OUT. Answers 204, or 4xx for a malformed request.

    webhook_receiver.py CERT KEY PORT TOKEN OUT
"""
import http.server
import json
import ssl
import sys

cert, key, port, token, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
FIELDS = ("source", "run", "ts", "kind", "severity", "key", "text")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, body=b""):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path != "/hooks/xarb":
            return self.answer(404, b"no such hook")
        if self.headers.get("Authorization") != f"Bearer {token}":
            return self.answer(403, b'{"error":"forbidden"}')
        if not self.headers.get("Content-Type", "").startswith("application/json"):
            return self.answer(415, b'{"error":"json only"}')
        try:
            msg = json.loads(body)
        except ValueError:
            return self.answer(400, b'{"error":"bad json"}')
        if not all(f in msg for f in FIELDS):
            return self.answer(422, b'{"error":"missing field"}')
        with open(out, "a") as f:
            f.write(json.dumps(msg) + "\n")
        self.answer(204)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print("ready", flush=True)
server.serve_forever()
