"""A tiny fault-injecting HTTP proxy for the fault tests: put it in front of a real endpoint
(moto's S3 server) and switch it, at run time, between passing requests through, answering
500 with an S3 error body, and stalling past the client's read timeout.

It listens on 127.0.0.1 only, serves each request on its own thread, and every stall is
bounded (``max_stall``), so stopping it never waits on a hung handler.
"""

from __future__ import annotations

import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

S3_500 = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>'
    b"<Message>We encountered an internal error. Please try again.</Message></Error>"
)


class FaultProxy:
    PASS = "pass"
    ERROR = "error"
    STALL = "stall"
    STALL_BODY = "stall-body"  # status, headers and half the body of a GET, then silence

    def __init__(self, upstream: str, *, max_stall: float = 5.0) -> None:
        parsed = urlparse(upstream)
        self.upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.mode = self.PASS
        self.max_stall = max_stall
        self.requests: list[tuple[str, str, str]] = []  # (mode, method, path) of each request seen
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    out = bytearray()
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return bytes(out)
                        out += self.rfile.read(size)
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _handle(self):
                body = self._body()
                mode = proxy.mode
                with proxy._lock:
                    proxy.requests.append((mode, self.command, self.path))
                if mode == proxy.ERROR:
                    self.send_response(500)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(S3_500)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(S3_500)
                    return
                if mode == proxy.STALL:
                    time.sleep(proxy.max_stall)  # longer than the client's read timeout
                    self.close_connection = True
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in {"transfer-encoding"}}
                headers["Content-Length"] = str(len(body))
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=30)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                finally:
                    conn.close()
                if mode == proxy.STALL_BODY and self.command == "GET" and len(data) > 1:
                    self.send_response(resp.status)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    time.sleep(proxy.max_stall)
                    self.close_connection = True
                    return
                self.send_response(resp.status)
                for key, value in resp.getheaders():
                    if key.lower() not in {"transfer-encoding", "content-length", "connection"}:
                        self.send_header(key, value)
                # A HEAD has no body: its Content-Length is the object's size, passed on as is.
                length = resp.getheader("Content-Length", "0") if self.command == "HEAD" else str(len(data))
                self.send_header("Content-Length", length)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)

    def seen(self, mode: str) -> int:
        with self._lock:
            return sum(1 for m, _, _ in self.requests if m == mode)
