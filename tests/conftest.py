"""Fixtures shared by the whole suite.

``shared_dir`` points at the read-only reference material beside the checkout
(``../shared``). Tests that need it must skip cleanly when it is absent, so a clone
without it still runs the project's own tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def _celery_join_flag():
    """Clear Celery's "inside a task" flag around every test (tests never run inside a task).

    Eager tasks run under ``denied_join_result``, which saves and restores a process-wide flag
    (not a thread-local one): two threads running eager tasks at once (a live server's request
    threads, the race tests' commits) can restore each other's ``True`` last, and every later
    ``AsyncResult.get`` in the process then raises "Never call result.get() within a task!"
    (a CI run failed so, depending on which threads finished in which order).
    """
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
    yield
    _set_task_join_will_block(False)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "corpus").is_dir():
        pytest.skip(f"reference material not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def corpus_dir(shared_dir: Path) -> Path:
    return shared_dir / "corpus"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def moto_s3_endpoint():
    """A real S3 HTTP endpoint (moto in server mode) on a loopback port for this session."""
    from moto.server import ThreadedMotoServer

    from tests.services import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(moto_s3_endpoint, monkeypatch):
    """A fresh bucket on the moto endpoint, with dummy credentials in the environment."""
    import uuid

    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    name = f"modelhub-test-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=moto_s3_endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return name


@pytest.fixture
def broker_at(monkeypatch):
    """Send tasks to ``url`` (not eagerly), as a production web process does."""
    from workers.celery import app

    def point(url: str) -> None:
        monkeypatch.setitem(app.conf, "task_always_eager", False)
        monkeypatch.setitem(app.conf, "broker_url", url)
        monkeypatch.setitem(app.conf, "result_backend", url)
        monkeypatch.setattr(app, "_backend_cache", None)
        monkeypatch.delattr(app._local, "backend", raising=False)
        monkeypatch.setattr(app, "_pool", None)  # the producer pool is bound to the broker it was made for
        monkeypatch.setattr(app.amqp, "_producer_pool", None)

    yield point
    app._pool = None
