"""The soak's own judgement (``benchmarks/soak.py``): which failures an S3 outage excuses, that an
LFS download must come the store's way, and that its outage forwarder really refuses and recovers.

The soak is the only thing that exercises these, and a check that cannot fail would let it report
PASS over a broken hub: each test here shows the check failing on what it exists to catch.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from benchmarks import soak

S3 = "http://127.0.0.1:9"  # never contacted: only compared with URLs


def _response(url: str, status: int, headers: dict | None = None, history=()) -> requests.Response:
    resp = requests.Response()
    resp.status_code, resp.url, resp.history = status, url, list(history)
    resp.headers.update(headers or {})
    return resp


@pytest.fixture
def http_server():
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_classify_names_who_failed_and_how():
    hub = "http://127.0.0.1:8000/x"
    assert soak.classify(soak.BadAnswer("x", _response(hub, 503, {"Retry-After": "5"})), S3) == (
        "hub 503 + Retry-After"
    )
    assert soak.classify(soak.BadAnswer("x", _response(hub, 503)), S3) == "hub 503"
    assert soak.classify(soak.BadAnswer("x", _response(hub, 500)), S3) == "hub 500"
    assert soak.classify(soak.BadAnswer("x", _response(f"{S3}/bucket/k", 500)), S3) == "S3 500"
    assert soak.classify(AssertionError("sha256 differs"), S3) == "other (AssertionError)"
    assert soak.classify(OSError("[Errno 9] Bad file descriptor"), S3) == "client session closed"


def test_classify_tells_s3_refusing_from_the_hub_refusing():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    refused = f"http://127.0.0.1:{port}"
    with pytest.raises(requests.ConnectionError) as caught:
        requests.get(f"{refused}/x", timeout=2)
    assert soak.classify(caught.value, refused) == "S3 unreachable"
    assert soak.classify(caught.value, S3) == "hub unreachable"


def test_only_the_outage_kinds_during_the_outage_are_excused():
    outage = soak.S3Outage(stack=None, kind="restart", start=0, length=10)
    outage.down_at, outage.up_at = 100.0, 110.0
    failures = [
        (105.0, 106.0, "download", "S3 unreachable", ""),  # during: expected
        (90.0, 101.0, "upload", "hub 503 + Retry-After", ""),  # overlaps the start: expected
        (125.0, 126.0, "upload", "client session closed", ""),  # within the grace: expected
        (105.0, 106.0, "upload", "hub 500", ""),  # a 500 is never excused
        (105.0, 106.0, "check", "hub unreachable", ""),  # nor the hub not answering
        (150.0, 151.0, "download", "S3 unreachable", ""),  # after the grace: not the outage's
        (50.0, 60.0, "range", "S3 unreachable", ""),  # before it
    ]
    expected, unexpected = soak.split_failures(failures, outage, grace=30)
    assert expected == failures[:3]
    assert unexpected == failures[3:]
    assert soak.split_failures(failures, None, grace=30) == ([], failures)


def test_an_lfs_download_must_come_the_stores_way():
    hub = "http://127.0.0.1:8000/soak/m/resolve/main/weights.bin"
    presigned = f"{S3}/modelhub-soak/sha256/ab/abc?X-Amz-Signature=s"
    redirect = _response(hub, 302)
    assert soak.served_by_store(_response(presigned, 200, history=[redirect]), S3) is None
    assert "not a presigned S3 redirect" in soak.served_by_store(_response(hub, 200), S3)
    elsewhere = _response("http://127.0.0.1:7/elsewhere", 200, history=[redirect])
    assert "not a presigned S3 redirect" in soak.served_by_store(elsewhere, S3)
    # the filesystem store streams from the hub itself: a redirect there is the wrong path
    assert soak.served_by_store(_response(hub, 200), "") is None
    assert "redirected" in soak.served_by_store(_response(presigned, 200, history=[redirect]), "")


def test_the_forwarder_refuses_while_down_and_serves_again_when_up(http_server):
    forwarder = soak.Forwarder(soak.Ports().take(), http_server)
    forwarder.up()
    url = f"http://127.0.0.1:{forwarder.port}/x"
    try:
        with requests.Session() as kept:  # a pooled connection, as boto3 and the clients keep
            assert kept.get(url, timeout=5).content == b"ok"
            forwarder.down()
            with pytest.raises(requests.ConnectionError):
                requests.get(url, timeout=5)
            with pytest.raises(requests.ConnectionError):
                kept.get(url, timeout=5)  # the open connection was cut, and no new one is accepted
            forwarder.up()
            assert kept.get(url, timeout=5).content == b"ok"
    finally:
        forwarder.down()


def test_ports_come_from_the_range_and_skip_busy_ones():
    with socket.socket() as busy, socket.socket() as probe:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        try:
            probe.bind(("127.0.0.1", port + 1))
        except OSError:
            pytest.skip("the port after a free one is busy too")
        probe.close()
        ports = soak.Ports(f"{port}-{port + 1}")
        assert ports.take() == port + 1
        with pytest.raises(RuntimeError, match="no free port"):
            ports.take()
