"""The real components: PostgreSQL, Redis with a real Celery worker, on-commit enqueueing.

Under REQUIRE_SERVICES=1 (CI) these must run; locally they skip with a reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection, transaction

from tests.services import redis_url, unavailable
from workers.celery import app
from workers.enqueue import enqueue_on_commit

ROOT = Path(__file__).resolve().parents[2]


@app.task(name="tests.remember")
def remember(key: str, value: str) -> str:
    cache.set(key, value, 60)
    return value


@pytest.mark.services
@pytest.mark.django_db
def test_suite_runs_on_postgresql():
    if connection.vendor != "postgresql":
        unavailable("PostgreSQL", f"DATABASE_URL points at {connection.vendor}, not PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    assert int(version.split(".")[0]) >= 13


@pytest.mark.services
def test_real_celery_worker_consumes_a_task_from_redis(tmp_path):
    url = redis_url()
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "REDIS_URL": url, "MODELHUB_TASKS_EAGER": "0", "MODELHUB_VAR": str(tmp_path)}
    env.pop("DATABASE_URL", None)  # the worker needs no database for this task
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workers", "worker", "-Q", queue, "-c", "1", "--pool", "solo",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    client = app.__class__("modelhub-test-client", broker=url, backend=url)
    try:
        payload = uuid.uuid4().hex
        result = client.send_task("workers.ping", args=[payload], queue=queue)
        assert result.get(timeout=60) == payload
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        client.close()


@pytest.mark.django_db(transaction=True)
def test_enqueue_waits_for_commit_and_a_rollback_sends_nothing():
    kept, dropped = f"k-{uuid.uuid4().hex}", f"d-{uuid.uuid4().hex}"
    with transaction.atomic():
        enqueue_on_commit(remember, kept, "yes")
        assert cache.get(kept) is None  # not before COMMIT
    assert cache.get(kept) == "yes"

    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit(remember, dropped, "no")
        raise RuntimeError("request failed")
    time.sleep(0.05)
    assert cache.get(dropped) is None
