"""Liveness and readiness probes.

``/healthz`` answers as long as the process can serve a request; ``/readyz`` checks
each dependency the configuration names (database; Redis when ``REDIS_URL`` is set;
the blob store) and reports every part, so an operator sees which one failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from hub.blobstore import get_blob_store


class DatabaseNotMigrated(RuntimeError):
    """The database answers but lacks migrations this code needs: every page would be a 500."""


#: set once this process has seen the database fully migrated (migrations are not unapplied in service)
_migrated = False


def unapplied_migrations() -> list[str]:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def check_database() -> str:
    global _migrated
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    if not _migrated:
        pending = unapplied_migrations()
        if pending:
            raise DatabaseNotMigrated(
                f"{len(pending)} migration(s) not applied (first: {pending[0]}); run `python manage.py migrate`"
            )
        _migrated = True
    return connection.vendor


def check_redis() -> str:
    import redis

    timeout = settings.REDIS_TIMEOUT
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    finally:
        client.close()
    return "ok"


def check_blob_store() -> str:
    store = get_blob_store()
    store.check()
    return store.name


def readiness_checks() -> dict[str, Callable[[], str]]:
    checks: dict[str, Callable[[], str]] = {"database": check_database}
    if settings.REDIS_URL:
        checks["redis"] = check_redis
    checks["blob_store"] = check_blob_store
    return checks


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    parts: dict[str, dict[str, object]] = {}
    for name, check in readiness_checks().items():
        started = time.perf_counter()
        try:
            detail = check()
        except Exception as exc:  # any failure of a dependency is reported, not raised
            parts[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]}
        else:
            parts[name] = {"ok": True, "detail": detail}
        parts[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    ready = all(p["ok"] for p in parts.values())
    failed = [name for name, p in parts.items() if not p["ok"]]
    body = {"status": "ready" if ready else "unavailable", "checks": parts, "failed": failed}
    return JsonResponse(body, status=200 if ready else 503)
