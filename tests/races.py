"""Forcing an interleaving of two database transactions, for the PostgreSQL race tests.

A race test runs each side in its own thread (so on its own database connection) and decides
the order of the steps that matter instead of hoping for it: one side pauses at a named point
(an ``Event`` set from a patched function), and the other is released only once PostgreSQL
reports it blocked on a row lock (``pg_stat_activity``), so no test depends on timing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connection, connections

from tests.services import unavailable

#: How long any side may take before the test gives up (a bound, never a measurement).
PATIENCE = 30.0


def require_postgresql() -> None:
    """Row locks, ``FOR UPDATE`` and lock waits are what these tests are about: PostgreSQL only."""
    if connection.vendor != "postgresql":
        unavailable("PostgreSQL", f"DATABASE_URL points at {connection.vendor}, not PostgreSQL")


def lock_waiters() -> int:
    """Backends of this test database waiting for a lock right now."""
    with connection.cursor() as cursor:
        # inside a transaction the activity view is a snapshot taken at its first read: drop it
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def wait_for_lock_waiters(n: int = 1) -> None:
    """Return once at least ``n`` other backends wait for a lock (fail after ``PATIENCE``)."""
    deadline = time.monotonic() + PATIENCE
    while lock_waiters() < n:
        if time.monotonic() > deadline:
            raise AssertionError(f"no {n} transaction(s) ever waited for a lock")
        time.sleep(0.02)


class Side(threading.Thread):
    """One side of a race: runs ``fn`` on its own connection and keeps its result or exception."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.fn = fn
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.fn()
        except BaseException as exc:  # reported by ``outcome``
            self.error = exc
        finally:
            connections.close_all()

    def outcome(self) -> Any:
        """Wait for the side to finish; its result, or its exception raised here."""
        self.join(PATIENCE)
        if self.is_alive():
            raise AssertionError("a side of the race never finished (deadlocked or stuck)")
        if self.error is not None:
            raise self.error
        return self.result


def start(fn: Callable[[], Any]) -> Side:
    side = Side(fn)
    side.start()
    return side
