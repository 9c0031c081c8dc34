"""The Redis cache client: once Redis fails, stop asking it for a while.

django-redis's ``IGNORE_EXCEPTIONS`` (see ``hub.config.redis_cache``) turns a failed cache call
into a miss, but each call still waits for its own failure: a refused connection costs
little, a Redis that stopped answering (a partition, a failover) costs the socket timeout
every time, and a catalogue page makes several cache calls. So the first failure opens a
circuit for ``OPEN_SECONDS``: calls fail at once (a miss, as before) and one warning is
logged, instead of a traceback per call. The next call after that tries Redis again.

Neither django-redis nor redis-py has such a breaker (redis-py's ``Retry`` retries, which is
the opposite), hence this small subclass.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django_redis.client import DefaultClient
from django_redis.exceptions import ConnectionInterrupted

log = logging.getLogger(__name__)

OPEN_SECONDS = 10.0

# What the cache, the catalogue and DRF's throttle call; each goes through the breaker.
GUARDED = (
    "get", "set", "add", "delete", "get_many", "set_many", "delete_many", "incr", "decr",
    "has_key", "touch", "expire", "ttl", "clear", "keys", "iter_keys", "delete_pattern",
)  # fmt: skip


class _Circuit:
    """Shared by every client of the process: the outage is Redis's, not one client's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.open_until = 0.0

    def is_open(self) -> bool:
        return time.monotonic() < self.open_until

    def trip(self, error: ConnectionInterrupted, location: str) -> None:
        with self._lock:
            if self.is_open():
                return
            self.open_until = time.monotonic() + OPEN_SECONDS
        log.warning(
            "Redis cache at %s failed (%s); serving without the cache for %.0f s, then trying again."
            " Check that Redis is running and reachable (REDIS_URL, /readyz).",
            location, error, OPEN_SECONDS,
        )  # fmt: skip


circuit = _Circuit()


def _guarded(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: BreakerClient, *args: Any, **kwargs: Any) -> Any:
        if circuit.is_open():
            raise ConnectionInterrupted(connection=None)  # a miss, via IGNORE_EXCEPTIONS
        try:
            return method(self, *args, **kwargs)
        except ConnectionInterrupted as exc:
            circuit.trip(exc, self.location)
            raise

    return call


class BreakerClient(DefaultClient):
    """django-redis's client, with every cache operation behind the process's circuit."""

    @property
    def location(self) -> str:
        """Host and port only: a URL's password must not reach the log."""
        parts = urlsplit(self._server[0] if self._server else "")
        return f"{parts.hostname}:{parts.port or 6379}" if parts.hostname else parts.path


for _name in GUARDED:
    setattr(BreakerClient, _name, _guarded(getattr(DefaultClient, _name)))
