"""Faults in the middle of hub writes, through the real HTTP surface of a live server.

Each test uploads and commits the way ``huggingface_hub`` does (LFS batch → PUT or
multipart parts + completion → verify → NDJSON commit, spoken step by step by
``hubwire`` so a part can be switched off between two steps), breaks one part exactly
there — S3 answering 500 or stalling, the filesystem store's disk full, the database
connection killed, Redis gone — and checks:

- the client gets a clear answer: 503 with ``Retry-After`` and a JSON/``X-Error-Message``
  reason (or the commit lands and its analysis is queued, when only Redis is down);
- nothing partial is visible (no Blob row for content that was not verified, no commit,
  file or ref row that was not acknowledged);
- once the part is back the client's retry succeeds;
- ``Ledger.verify``: every acknowledged commit is there with exactly its files, every
  blob in the store re-reads to its sha256, and the row counts are the acknowledged ones.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hub.blobstore import get_blob_store
from tests.hardening.faultproxy import FaultProxy
from tests.hardening.hubwire import HubWire, StepFailed, sha
from tests.hardening.ledger import Ledger
from tests.hardening.test_faults import (  # noqa: F401  (small_tmpfs is a fixture)
    _require_postgresql,
    _start_redis,
    _stop,
    _terminate_own_backend,
    small_tmpfs,
)
from tests.services import free_port, unavailable

pytestmark = [pytest.mark.django_db(transaction=True)]

README = b"---\nlicense: apache-2.0\n---\n# Fault test\n"
CHUNK = 5 * 1024 * 1024  # S3's smallest part: 11 MiB is a three-part multipart upload


def assert_unavailable(failed: StepFailed, step: str, words: tuple[str, ...]) -> None:
    """A 503 the client can act on: Retry-After, and the reason in the body and X-Error-Message."""
    resp = failed.response
    assert failed.step == step, failed
    assert resp.status_code == 503, (resp.status_code, resp.text[:300])
    assert int(resp.headers["Retry-After"]) > 0
    message = resp.json()["error"]
    assert resp.headers["X-Error-Message"] == message
    assert any(w in message for w in words), message


@pytest.fixture
def writer(live_server, django_user_model):
    """A user with a write token, talking to the live server over HTTP."""
    from hub.auth import mint_token

    user = django_user_model.objects.create_user("writer", email="writer@example.com")
    token = mint_token(user, scope="write", name="faults")[0]
    return HubWire(live_server.url, token)


@pytest.fixture
def s3_hub(settings, moto_s3_endpoint, s3_bucket):
    """The live server's blob store is S3 behind the fault proxy, with 1 s timeouts so a stall
    ends in about attempts × 1 s."""
    import boto3

    settings.S3_READ_TIMEOUT = 1.0
    settings.S3_CONNECT_TIMEOUT = 1.0
    settings.S3_MAX_ATTEMPTS = 3
    with FaultProxy(moto_s3_endpoint, max_stall=3.0) as proxy:
        settings.BLOB_STORE = "s3"
        settings.S3_BUCKET = s3_bucket
        settings.S3_ENDPOINT_URL = proxy.url
        settings.MODELHUB_LFS_CHUNK_SIZE = CHUNK
        get_blob_store.cache_clear()
        direct = boto3.client("s3", endpoint_url=moto_s3_endpoint, region_name="us-east-1")
        try:
            yield proxy, direct, s3_bucket
        finally:
            get_blob_store.cache_clear()


def _open_uploads(direct, bucket) -> list:
    return direct.list_multipart_uploads(Bucket=bucket).get("Uploads", [])


def _published(direct, bucket, digest: str) -> bool:
    """Bytes at the content address *and* a Blob row vouching for them: a client's multipart upload
    is assembled at the address itself and stays unverified (unreferencable) until verify succeeds."""
    from hub.models import Blob

    keys = [o["Key"] for o in direct.list_objects_v2(Bucket=bucket).get("Contents", [])]
    stored = any(k.endswith(f"sha256/{digest[:2]}/{digest}") for k in keys)
    return stored and Blob.objects.filter(sha256=digest).exists()


# --- S3 failing during an LFS multipart upload, its completion, verify, and the commit ----------


@pytest.mark.services
@pytest.mark.parametrize("mode", [FaultProxy.ERROR, FaultProxy.STALL])
@pytest.mark.parametrize("step", ["batch", "complete", "verify", "commit"])
def test_s3_failing_during_an_upload_is_503_nothing_visible_and_retry_succeeds(writer, s3_hub, mode, step):
    from hub.models import Blob

    proxy, direct, bucket = s3_hub
    repo_id = writer.create_repo("s3-faults")
    first = os.urandom(200_000)
    writer.upload_lfs(repo_id, first)
    ledger = Ledger.start(repo_id)
    ledger.ack(writer.commit(repo_id, files={"README.md": README}, lfs={"first.bin": first}), {
        "README.md": README, "first.bin": first})  # fmt: skip
    ledger.verify()

    weights = os.urandom(2 * CHUNK + 1_000_000)  # three parts
    card = README + b"\nSecond revision.\n"

    def fault_at(name: str) -> None:
        if name == step:
            proxy.mode = mode

    started = time.monotonic()
    with pytest.raises(StepFailed) as err:
        writer.upload_lfs(repo_id, weights, before=fault_at)
        fault_at("commit")
        writer.commit(repo_id, files={"README.md": card}, lfs={"model.safetensors": weights})
    elapsed = time.monotonic() - started
    assert_unavailable(err.value, step, ("S3", "blob store"))
    assert elapsed < 60  # answered within boto3's 3 tries of 1 s, never hung
    assert proxy.seen(mode) >= 1

    proxy.mode = FaultProxy.PASS
    # Nothing partial: content whose verify did not succeed is neither recorded nor published
    # (at the commit step verify had acknowledged it: it stays, unreferenced and reusable), and
    # no commit was made.
    verified = step == "commit"
    assert Blob.objects.filter(sha256=sha(weights)).exists() == verified
    assert _published(direct, bucket, sha(weights)) == verified
    ledger.verify()

    if step == "complete":
        # The client retries the completion it was refused; the parts it sent are still there.
        again = writer.resend(err.value)
        assert again.status_code == 200, again.text
        writer.verify(repo_id, weights)
    else:
        writer.upload_lfs(repo_id, weights)
    new = writer.commit(repo_id, files={"README.md": card}, lfs={"model.safetensors": weights})
    ledger.ack(new, {"README.md": card, "model.safetensors": weights})
    ledger.verify()
    assert writer.download(repo_id, "model.safetensors") == weights
    assert _open_uploads(direct, bucket) == []  # no multipart upload left open on S3


# --- the filesystem store's disk fills during an upload -----------------------------------------


def _fill(path: Path) -> None:
    with contextlib.suppress(OSError), open(path, "wb") as fh:
        while True:
            fh.write(b"\0" * 65536)
            fh.flush()


@pytest.mark.parametrize("how", ["lfs-put", "inline-file"])
def test_full_disk_during_an_upload_is_503_nothing_visible_and_retry_succeeds(
    writer,
    settings,
    small_tmpfs,  # noqa: F811  (the fixture imported above)
    how,
):
    from hub.models import Blob

    settings.BLOB_STORE = "filesystem"
    settings.BLOB_ROOT = small_tmpfs / "blobs"
    get_blob_store.cache_clear()
    try:
        repo_id = writer.create_repo("disk-faults")
        first = os.urandom(100_000)
        writer.upload_lfs(repo_id, first)
        ledger = Ledger.start(repo_id)
        ledger.ack(writer.commit(repo_id, files={"README.md": README}, lfs={"first.bin": first}), {
            "README.md": README, "first.bin": first})  # fmt: skip

        filler = small_tmpfs / "filler"
        _fill(filler)
        big = os.urandom(600_000)
        with pytest.raises(StepFailed) as err:
            if how == "lfs-put":
                writer.upload_lfs(repo_id, big)
            else:
                writer.commit(repo_id, files={"notes.txt": big})
        assert_unavailable(err.value, "upload" if how == "lfs-put" else "commit", ("disk is full",))
        assert not Blob.objects.filter(sha256=sha(big)).exists()
        assert list((small_tmpfs / "blobs" / "tmp").iterdir()) == []  # no torn temp file
        ledger.verify()

        filler.unlink()  # the operator frees space; the client retries
        if how == "lfs-put":
            writer.upload_lfs(repo_id, big)
            added = {"big.bin": big}
            ledger.ack(writer.commit(repo_id, lfs=added), added)
        else:
            added = {"notes.txt": big}
            ledger.ack(writer.commit(repo_id, files=added), added)
        ledger.verify()
        assert writer.download(repo_id, next(iter(added))) == big
    finally:
        get_blob_store.cache_clear()


# --- the database connection dropped between the upload and the commit, and mid-commit ------------


@pytest.fixture
def pg_writer(writer, settings, tmp_path):
    _require_postgresql()
    settings.BLOB_STORE = "filesystem"
    settings.BLOB_ROOT = tmp_path / "blobs"
    get_blob_store.cache_clear()
    yield writer
    get_blob_store.cache_clear()


def _kill_on_call(monkeypatch, module, name: str, call: int = 1) -> list[int]:
    """Replace ``module.name`` with a wrapper that kills this thread's PostgreSQL backend on
    its ``call``-th call, then carries on into the real function (whose next query fails)."""
    real = getattr(module, name)
    calls: list[int] = []

    def wrapper(*args, **kwargs):
        calls.append(1)
        if len(calls) == call:
            _terminate_own_backend()
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


@pytest.mark.services
@pytest.mark.parametrize(
    "where",
    [
        "before-commit",  # blobs uploaded and verified; the connection dies as the commit begins
        "between-lines",  # after the first inline file of the NDJSON stream was stored
        "inside-transaction",  # commit, file and ref rows written, not yet committed
    ],
)
def test_database_dropped_during_a_commit_is_503_nothing_visible_and_retry_succeeds(
    pg_writer, monkeypatch, where
):
    from hub.hfapi import ndjson, write
    from hub.services import commits

    writer = pg_writer
    repo_id = writer.create_repo("db-faults")
    ledger = Ledger.start(repo_id)
    weights = os.urandom(300_000)
    writer.upload_lfs(repo_id, weights)  # acknowledged by verify: the Blob row exists
    files = {"README.md": README, "config.json": b'{"model_type": "faulty"}'}

    if where == "before-commit":
        calls = _kill_on_call(monkeypatch, write, "parse_commit_stream")
    elif where == "between-lines":
        calls = _kill_on_call(monkeypatch, ndjson, "store_small", call=2)
    else:
        calls = _kill_on_call(monkeypatch, commits, "refresh_denormalised")
    with pytest.raises(StepFailed) as err:
        writer.commit(repo_id, files=files, lfs={"model.safetensors": weights})
    assert calls, "the fault was never injected"
    assert_unavailable(err.value, "commit", ("database",))
    monkeypatch.undo()

    ledger.verify()  # no commit, file or ref row of the refused commit; every blob intact
    new = writer.commit(repo_id, files=files, lfs={"model.safetensors": weights})
    ledger.ack(new, {**files, "model.safetensors": weights})
    ledger.verify()
    assert writer.download(repo_id, "model.safetensors") == weights


# --- Redis down when the commit enqueues its analysis ------------------------------------------


@pytest.fixture
def real_broker(settings, monkeypatch, tmp_path):
    """Tasks go through a private redis-server (started, killed and restarted by the test) and
    are run by a real ``celery worker`` against this test's PostgreSQL database."""
    from django.db import connection

    from workers.celery import app

    _require_postgresql()
    if shutil.which("redis-server") is None:
        unavailable("Redis", "redis-server is not installed")
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    var = tmp_path / "var"
    settings.BLOB_STORE = "filesystem"
    settings.BLOB_ROOT = var / "blobs"
    get_blob_store.cache_clear()
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setitem(app.conf, "broker_url", url)
    # results in the same Redis, as production configures it (CELERY_RESULT_BACKEND = REDIS_URL): the
    # backend, not the broker, is what raised when Redis was down (RuntimeError, a 500 after 19 s)
    monkeypatch.setitem(app.conf, "result_backend", url)
    monkeypatch.setattr(app, "_backend_cache", None)  # built again for this URL, and put back after
    monkeypatch.delattr(app._local, "backend", raising=False)
    monkeypatch.setattr(app, "_pool", None)  # the producer pool is bound to the broker it was made for
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": url,
        "MODELHUB_TASKS_EAGER": "0",
        "MODELHUB_VAR": str(var),
        "BLOB_STORE": "filesystem",
    }
    procs: dict[str, subprocess.Popen] = {"redis": _start_redis(port)}

    def worker() -> subprocess.Popen:
        log = open(tmp_path / "worker.log", "ab")  # noqa: SIM115  (closed with the process)
        procs["worker"] = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers", "worker", "--pool", "solo", "-c", "1",
             "--loglevel", "INFO", "--without-heartbeat", "--without-gossip", "--without-mingle"],
            cwd=Path(__file__).resolve().parents[2], env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        return procs["worker"]

    def restart_redis() -> None:
        procs["redis"] = _start_redis(port)

    try:
        yield procs, worker, restart_redis
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        app._pool = None
        get_blob_store.cache_clear()


@pytest.mark.services
def test_redis_down_at_commit_time_the_commit_lands_and_the_analysis_is_picked_up_later(
    writer, real_broker, monkeypatch
):
    from hub import tasks
    from hub.models import Commit, RevisionAnalysis

    procs, worker, restart_redis = real_broker
    repo_id = writer.create_repo("broker-faults")
    ledger = Ledger.start(repo_id)

    _stop(procs["redis"])  # Redis dies; no worker is running either
    files = {"README.md": README, "config.json": b'{"model_type": "queued"}'}
    started = time.monotonic()
    new = writer.commit(repo_id, files=files)  # 200: the commit is acknowledged ...
    assert time.monotonic() - started < 30  # ... promptly: kombu gives up after a few quick retries
    ledger.ack(new, files)
    ledger.verify()
    analysis = RevisionAnalysis.objects.get(commit__sha=new)
    assert analysis.status == RevisionAnalysis.Status.PENDING  # the work is recorded, its message lost

    restart_redis()  # an empty Redis: the message is not there
    assert tasks.requeue_pending_analyses() == 0  # within the grace period: its message may be on its way
    monkeypatch.setattr(tasks, "REQUEUE_GRACE_SECONDS", 0)
    sent = tasks.requeue_pending_analyses()
    pending = RevisionAnalysis.objects.filter(status=RevisionAnalysis.Status.PENDING).count()
    assert sent == pending >= 1  # ours, and the repository's first commit, also lost with Redis
    assert tasks.requeue_pending_analyses() == 0  # queued now: a second sweep sends nothing more

    worker()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        analysis.refresh_from_db()
        if analysis.status in (RevisionAnalysis.Status.DONE, RevisionAnalysis.Status.FAILED):
            break
        time.sleep(0.5)
    assert analysis.status == RevisionAnalysis.Status.DONE, (analysis.status, analysis.error)
    assert analysis.license_key == "apache-2.0"  # the worker really analysed this revision
    assert not RevisionAnalysis.objects.filter(status=RevisionAnalysis.Status.PENDING).exists()
    assert Commit.objects.filter(sha=new).count() == 1  # nothing duplicated by the retry path
    ledger.verify()
