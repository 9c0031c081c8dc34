"""Real backing services for the suite: PostgreSQL, Redis and an S3 endpoint.

Locally a test that needs PostgreSQL or Redis skips, saying why, when the service is
not there. Under ``REQUIRE_SERVICES=1`` (CI) a missing service fails the test instead,
so CI can never pass by skipping what it is meant to prove.
"""

from __future__ import annotations

import os
import socket
from contextlib import closing
from urllib.parse import urlparse

import pytest

REQUIRED = os.environ.get("REQUIRE_SERVICES", "").strip() in {"1", "true", "yes"}
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def unavailable(what: str, why: str) -> None:
    """Skip (locally) or fail (CI) because ``what`` cannot be used."""
    message = f"{what} not available: {why}"
    if REQUIRED:
        pytest.fail(f"{message} (REQUIRE_SERVICES=1 forbids skipping)")
    pytest.skip(message)


def tcp_open(host: str, port: int, timeout: float = 1.0) -> bool:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.settimeout(timeout)
        return sock.connect_ex((host, port)) == 0


def redis_url() -> str:
    """The Redis the suite should use; skips/fails when it is not answering."""
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    parsed = urlparse(url)
    if not tcp_open(parsed.hostname or "127.0.0.1", parsed.port or 6379):
        unavailable("Redis", f"nothing answers at {url}")
    return url


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
