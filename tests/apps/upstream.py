"""An upstream for the gateway tests (not certgate), with the ways real upstreams fail.

  (the last path segment names the behaviour)
  any other path     200, JSON: method, path, header lines in order, body length and SHA-256
                     (Content-Length or chunked bodies)
  /slow?s=N          waits N seconds before answering
  /close             closes the connection without an answer
  /stall             sends headers promising 100,000 bytes, 8 KiB of them, then nothing for 60 s
  /stall-small       the same with 10 of 1,000 bytes
  /big?bytes=N       N bytes of a fixed pattern (the test computes the same), Content-Length set
  /hop               200 with hop-by-hop headers that must not reach the client
  /early             413 at once, before reading the request body (then drained)

Every request is appended to the file named by ECHO_LOG as one line, `METHOD PATH`, when
its head has been read, so a test can tell whether a request reached it at all.
Usage: ECHO_LOG=/tmp/upstream.log python3 upstream.py PORT"""
import hashlib
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PATTERN = bytes(range(256)) * 256  # 64 KiB


def pattern(n):
    """The first n bytes of PATTERN repeated."""
    full, rest = divmod(n, len(PATTERN))
    for _ in range(full):
        yield PATTERN
    if rest:
        yield PATTERN[:rest]


class Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def body(self):
        """The request body's length and SHA-256, read in pieces."""
        digest = hashlib.sha256()

        def take(n):
            while n:
                piece = self.rfile.read(min(n, 1 << 16))
                if not piece:
                    raise ConnectionError("body cut off")
                digest.update(piece)
                n -= len(piece)

        total = 0
        if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
            while True:
                line = self.rfile.readline()
                if not line:
                    raise ConnectionError("body cut off")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                take(size)
                total += size
                self.rfile.readline()
        else:
            total = int(self.headers.get("content-length") or 0)
            take(total)
        return total, digest.hexdigest()

    def send(self, status, body, content_type="application/json", extra=()):
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def answer(self):
        with open(os.environ["ECHO_LOG"], "a") as log:
            log.write(f"{self.command} {self.path}\n")
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        # The last segment names the behaviour, so a gateway's base path does not matter.
        route = "/" + url.path.rsplit("/", 1)[-1]
        if route == "/early":
            # The answer goes out before the body is read; the body is then drained, so
            # closing does not reset the connection under the answer (a TCP RST).
            self.send(413, b'{"upstream":"too large"}', extra=[("connection", "close")])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.body()
            except ConnectionError:
                pass
            return
        if route == "/close":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        try:
            length, sha = self.body()
        except ConnectionError:
            with open(os.environ["ECHO_LOG"], "a") as log:
                log.write(f"CUT {self.command} {self.path}\n")
            self.close_connection = True
            return
        if route == "/slow":
            time.sleep(float(query["s"][0]))
        if route in ("/stall", "/stall-small"):
            # /stall: 8 KiB of 100,000 bytes, then nothing; /stall-small: 10 of 1,000.
            sent, promised = (10, 1000) if route == "/stall-small" else (8192, 100000)
            self.send_response(200)
            self.send_header("content-length", str(promised))
            self.end_headers()
            self.wfile.write(b"x" * sent)
            self.wfile.flush()
            time.sleep(60)
            return
        if route == "/big":
            n = int(query["bytes"][0])
            self.send_response(200)
            self.send_header("content-type", "application/octet-stream")
            self.send_header("content-length", str(n))
            self.end_headers()
            if self.command != "HEAD":
                for piece in pattern(n):
                    self.wfile.write(piece)
            return
        extra = []
        if route == "/hop":
            extra = [("connection", "x-internal"), ("x-internal", "secret"), ("keep-alive", "timeout=5"),
                     ("x-upstream", "kept")]
        body = json.dumps({
            "method": self.command,
            "path": self.path,
            "headers": [[n.lower(), v] for n, v in self.headers.items()],
            "body_bytes": length,
            "body_sha256": sha,
        }).encode()
        self.send(200, body, extra=extra)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = answer

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Upstream).serve_forever()
