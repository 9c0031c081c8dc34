"""Hot read-only statements run as PostgreSQL prepared statements.

Django disables prepared statements (``prepare_threshold=None``, for transaction-mode
connection poolers) and binds parameters client-side, so PostgreSQL plans every statement
on every request. For the compliance check's batch lookup, planning (about 1 ms on the
benchmark machine) cost four times the execution; prepared on a persistent connection, with
generic plans (``_generic_plans``), it is planned once. Only the statements passed here are prepared: the ORM keeps its
client-side cursors and Django's setting, and ``MODELHUB_DB_PREPARE=0`` turns this off for
deployments behind a pooler that cannot carry prepared statements (PgBouncer < 1.21 in
transaction mode). Other databases run the statement through Django's ordinary cursor.

The cursor is wrapped like Django's own, so execute wrappers and query logging (and the
tests' query counts) see these statements too.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import psycopg
from django.db import connection


class PreparingCursor(psycopg.Cursor):
    """Server-side binding, and ``prepare=True`` whatever the caller (Django's wrapper) passes."""

    def execute(self, query, params=None, *, prepare=None, binary=None):  # type: ignore[override]
        return super().execute(query, params, prepare=True, binary=binary)


def _generic_plans(raw: psycopg.Connection) -> None:
    """Have PostgreSQL reuse one plan per prepared statement on this connection.

    By default it re-plans a prepared statement whenever the generic plan's estimate (an array
    parameter is assumed to hold ten values) looks dearer than the custom plans' — which for the
    batch lookup is always, so every execution was planned again. The setting only concerns
    prepared statements, which on these connections are the ones run here (the ORM prepares
    none). ``SET`` is transactional, so inside a transaction (which may roll back) it is issued
    again on each call; outside one (requests run in autocommit) once per connection.
    """
    with connection.wrap_database_errors:
        raw.execute("SET plan_cache_mode = force_generic_plan")
    # inside a transaction the setting lasts only if it commits: issue it again next time
    raw._modelhub_generic_plans = not connection.in_atomic_block  # type: ignore[attr-defined]


def enabled() -> bool:
    """Whether statements are prepared: PostgreSQL, unless ``MODELHUB_DB_PREPARE=0``."""
    return connection.vendor == "postgresql" and os.environ.get("MODELHUB_DB_PREPARE", "1") != "0"


def fetchall(sql: str, params: Sequence[Any]) -> list[tuple]:
    """Rows of ``sql`` with ``%s`` parameters; prepared once per connection on PostgreSQL."""
    if not enabled():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = connection.connection
    if not getattr(raw, "_modelhub_generic_plans", False):
        _generic_plans(raw)
    cursor = PreparingCursor(raw)
    wrapped = (
        connection.make_debug_cursor(cursor) if connection.queries_logged else connection.make_cursor(cursor)
    )
    previous = raw.prepare_threshold
    # psycopg prepares nothing while the threshold is None; set it only around this statement so
    # that Django's own (server-binding) cursors, if configured, keep the deployment's setting.
    raw.prepare_threshold = 5 if previous is None else previous
    try:
        with wrapped:
            wrapped.execute(sql, params)
            rows = wrapped.fetchall()
    finally:
        raw.prepare_threshold = previous
    if connection.queries_logged and connection.queries_log and connection.queries_log[-1]["sql"] is None:
        # Django renders a server-bound statement from the client cursor's state, which this one
        # lacks: log the statement's text (with its placeholders) rather than nothing
        connection.queries_log[-1]["sql"] = sql
    return rows
