"""Faults on the foundation: S3 answering 500 or stalling, a full disk under the filesystem
store, Redis stopped under /readyz, the database connection dropped in the middle of a
licences API request. Each test checks three things: the failure is reported clearly (a
BlobStoreUnavailable that says what happened, a 503 that names the part), nothing partial
is left behind, and everything works again, with the earlier data intact, once the part
is back (verified by checksumming every blob and counting rows).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import subprocess
import time

import pytest

from hub.blobstore import BlobStoreUnavailable, get_blob_store
from hub.blobstore.filesystem import FilesystemBlobStore
from hub.blobstore.s3 import S3BlobStore
from tests.hardening.faultproxy import FaultProxy
from tests.services import free_port, tcp_open, unavailable

#: Read timeout of the stores under test. Stalls last longer (FaultProxy.max_stall), so every
#: stalled call must end in BlobStoreUnavailable after about attempts x this, never hang.
READ_TIMEOUT = 1.0


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def checksum_all(store, digests: dict[str, bytes]) -> None:
    """Every blob written before the fault reads back byte-identical."""
    for digest, data in digests.items():
        with store.open(digest) as fh:
            assert sha(fh.read()) == digest == sha(data)


@pytest.fixture
def s3_through_proxy(moto_s3_endpoint, s3_bucket):
    import boto3

    with FaultProxy(moto_s3_endpoint, max_stall=READ_TIMEOUT * 3) as proxy:
        store = S3BlobStore(s3_bucket, endpoint_url=proxy.url, connect_timeout=1, read_timeout=READ_TIMEOUT)
        direct = boto3.client("s3", endpoint_url=moto_s3_endpoint, region_name="us-east-1")
        yield proxy, store, direct, s3_bucket


def _bucket_keys(direct, bucket) -> list[str]:
    return sorted(o["Key"] for o in direct.list_objects_v2(Bucket=bucket).get("Contents", []))


def _open_uploads(direct, bucket) -> list:
    return direct.list_multipart_uploads(Bucket=bucket).get("Uploads", [])


@pytest.mark.services
@pytest.mark.parametrize("mode", [FaultProxy.ERROR, FaultProxy.STALL])
@pytest.mark.parametrize("announced", [True, False], ids=["known-sha", "spooled"])
def test_s3_failing_mid_run_is_unavailable_then_recovers(s3_through_proxy, mode, announced):
    proxy, store, direct, bucket = s3_through_proxy
    before = {}
    for i in range(3):
        data = os.urandom(1000 + i)
        before[store.put(io.BytesIO(data)).sha256] = data
    keys_before = _bucket_keys(direct, bucket)

    proxy.mode = mode
    payload = os.urandom(70_000)
    started = time.monotonic()
    with pytest.raises(BlobStoreUnavailable) as err:
        store.put(io.BytesIO(payload), expected_sha256=sha(payload) if announced else None)
    elapsed = time.monotonic() - started
    assert "S3" in str(err.value)
    with pytest.raises(BlobStoreUnavailable):
        store.open(next(iter(before)))
    with pytest.raises(BlobStoreUnavailable):
        store.stat(next(iter(before)))
    with pytest.raises(BlobStoreUnavailable):
        store.check()
    assert proxy.seen(mode) >= 4
    # Bounded, not a hang: boto3 tries 3 times with a 1 s read timeout (connect 1 s) per try;
    # 60 s is far above that and far below "hung".
    assert elapsed < 60

    proxy.mode = FaultProxy.PASS
    # no partial state: nothing new under any key, no multipart upload left open
    assert _bucket_keys(direct, bucket) == keys_before
    assert _open_uploads(direct, bucket) == []
    checksum_all(store, before)
    info = store.put(io.BytesIO(payload), expected_sha256=sha(payload) if announced else None)
    assert info.sha256 == sha(payload)
    checksum_all(store, {**before, info.sha256: payload})
    store.check()


@pytest.mark.services
@pytest.mark.django_db
def test_readyz_names_s3_while_it_fails_and_recovers(client, settings, s3_through_proxy):
    proxy, _, _, bucket = s3_through_proxy
    settings.REDIS_URL = ""
    settings.BLOB_STORE = "s3"
    settings.S3_BUCKET = bucket
    settings.S3_ENDPOINT_URL = proxy.url
    get_blob_store.cache_clear()
    try:
        assert client.get("/readyz").status_code == 200
        proxy.mode = FaultProxy.ERROR
        resp = client.get("/readyz")
        assert resp.status_code == 503
        body = resp.json()
        assert body["failed"] == ["blob_store"]
        assert "500" in body["checks"]["blob_store"]["error"] or "InternalError" in str(body)
        proxy.mode = FaultProxy.PASS
        assert client.get("/readyz").status_code == 200
    finally:
        get_blob_store.cache_clear()


# --- a full disk under the filesystem store ------------------------------------------------


@pytest.fixture
def small_tmpfs(tmp_path):
    """A real 2 MiB tmpfs (needs root and mount permission; skipped where not permitted —
    tests/foundation/test_blobstore.py simulates ENOSPC for that case)."""
    mountpoint = tmp_path / "tmpfs"
    mountpoint.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], capture_output=True, timeout=30)


def test_full_disk_refuses_clearly_leaves_nothing_and_recovers(small_tmpfs):
    store = FilesystemBlobStore(small_tmpfs / "blobs")
    before = {}
    for i in range(4):
        data = os.urandom(100_000 + i)
        before[store.put(io.BytesIO(data)).sha256] = data
    filler = small_tmpfs / "filler"
    with contextlib.suppress(OSError), open(filler, "wb") as fh:  # fill what is left
        while True:
            fh.write(b"\0" * 65536)
            fh.flush()

    big = os.urandom(600_000)
    with pytest.raises(BlobStoreUnavailable, match="disk is full"):
        store.check()  # readiness sees it (it used to create an empty file, which still fits)
    with pytest.raises(BlobStoreUnavailable, match="disk is full"):
        store.put(io.BytesIO(big))
    with pytest.raises(BlobStoreUnavailable, match="disk is full"):
        store.put(io.BytesIO(big), expected_sha256=sha(big))
    assert store.stat(sha(big)) is None
    assert list((small_tmpfs / "blobs" / "tmp").iterdir()) == []  # no torn temp file left
    checksum_all(store, before)  # what was committed before the disk filled is intact

    filler.unlink()  # the operator frees space
    assert store.put(io.BytesIO(big)).sha256 == sha(big)
    checksum_all(store, {**before, sha(big): big})
    store.check()


@pytest.mark.django_db
def test_readyz_says_the_disk_is_full_and_recovers(client, settings, small_tmpfs):
    settings.REDIS_URL = ""
    settings.BLOB_STORE = "filesystem"
    settings.BLOB_ROOT = small_tmpfs / "blobs"
    get_blob_store.cache_clear()
    try:
        assert client.get("/readyz").status_code == 200
        filler = small_tmpfs / "filler"
        with contextlib.suppress(OSError), open(filler, "wb") as fh:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        resp = client.get("/readyz")
        assert resp.status_code == 503
        assert resp.json()["failed"] == ["blob_store"]
        assert "disk is full" in resp.json()["checks"]["blob_store"]["error"]
        filler.unlink()
        assert client.get("/readyz").status_code == 200
    finally:
        get_blob_store.cache_clear()


# --- Redis stopped under /readyz -----------------------------------------------------------


def _start_redis(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        if tcp_open("127.0.0.1", port, timeout=0.2):
            return proc
        time.sleep(0.05)
    proc.kill()
    proc.wait(timeout=10)
    pytest.fail(f"redis-server did not start on port {port}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)


@pytest.mark.services
@pytest.mark.django_db
def test_readyz_with_redis_stopped_mid_run_and_restarted(client, settings):
    if shutil.which("redis-server") is None:
        unavailable("Redis", "redis-server is not installed")
    port = free_port()
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    get_blob_store.cache_clear()
    proc = _start_redis(port)
    try:
        first = client.get("/readyz")
        assert first.status_code == 200, first.content
        assert first.json()["checks"]["redis"]["ok"] is True

        _stop(proc)  # Redis dies while the service runs
        started = time.monotonic()
        down = client.get("/readyz")
        elapsed = time.monotonic() - started
        assert down.status_code == 503
        body = down.json()
        assert body["status"] == "unavailable" and body["failed"] == ["redis"]
        assert "ConnectionError" in body["checks"]["redis"]["error"]
        assert body["checks"]["database"]["ok"] is True
        assert elapsed < 10  # the probe's 2 s socket timeouts bound it; 10 s proves "no hang"

        proc = _start_redis(port)  # Redis comes back on the same address
        back = client.get("/readyz")
        assert back.status_code == 200, back.content
        assert back.json()["failed"] == []
    finally:
        _stop(proc)
        get_blob_store.cache_clear()


# --- the database connection dropped in the middle of a licences API request ---------------


def _require_postgresql():
    from django.db import connection

    if connection.vendor != "postgresql":
        unavailable("PostgreSQL", f"DATABASE_URL points at {connection.vendor}, not PostgreSQL")


def _terminate_own_backend() -> None:
    """From a second connection, kill the PostgreSQL backend serving this thread's connection."""
    import psycopg
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    with psycopg.connect(**params, autocommit=True) as killer:
        killer.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.fixture
def api_server(live_server, settings):
    """The project on a live loopback server (its own thread and database connection, with
    Django's per-request connection handling in place), seeded with analysed models."""
    from django.core.cache import cache

    from tests.hardening import fuzzkit

    _require_postgresql()
    settings.MODELHUB_API_RATE = "100000/min"
    cache.clear()
    identities = fuzzkit.seed_registry()
    return live_server.url, identities


def _counts() -> dict[str, int]:
    from hub.models import Repository
    from licenses.models import Policy, PolicyVersion, Violation

    return {
        "policies": Policy.objects.count(),
        "policy_versions": PolicyVersion.objects.count(),
        "violations": Violation.objects.count(),
        "repositories": Repository.objects.count(),
    }


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_database_dropped_mid_check_is_a_json_503_then_recovers(api_server, monkeypatch):
    import requests

    from licenses.api import views

    url, _ = api_server
    body = {"models": ["acme/bert-ft", "acme/nc-model"], "policy": "commercial-saas"}
    ok = requests.post(f"{url}/api/v1/compliance/check", json=body, timeout=30)
    assert ok.status_code == 200, ok.text

    real = views.check_models

    def dropped(*args, **kwargs):
        _terminate_own_backend()  # the connection dies between parsing and the queries
        return real(*args, **kwargs)

    monkeypatch.setattr(views, "check_models", dropped)
    started = time.monotonic()
    resp = requests.post(f"{url}/api/v1/compliance/check", json=body, timeout=30)
    assert time.monotonic() - started < 30  # answered, not hung (requests would raise at 30 s)
    assert resp.status_code == 503, resp.text[:300]
    assert resp.headers["Content-Type"].startswith("application/json")
    error = resp.json()["error"]
    assert error["code"] == "database-unavailable"
    assert "database" in error["message"]
    assert int(resp.headers["Retry-After"]) > 0

    monkeypatch.setattr(views, "check_models", real)
    again = requests.post(f"{url}/api/v1/compliance/check", json=body, timeout=30)
    assert again.status_code == 200, again.text  # the next request reconnects
    assert again.json() == ok.json()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_database_dropped_mid_commit_leaves_no_partial_policy(api_server, monkeypatch):
    import requests

    from licenses.models import Policy

    url, identities = api_server
    headers = {"Authorization": identities["admin-write-token"]}
    counts_before = _counts()
    document = {
        "name": "dropped",
        "use": {"commercial": False, "distribution": "internal"},
        "licenses": {"unknown": "warn"},
    }

    real = Policy.add_version

    def dropped(policy, *args, **kwargs):
        # The Policy row was just inserted in this transaction; the connection dies before
        # its first version is, so the commit never happens.
        _terminate_own_backend()
        return real(policy, *args, **kwargs)

    monkeypatch.setattr(Policy, "add_version", dropped)
    resp = requests.post(f"{url}/api/v1/policies", json={"document": document}, headers=headers, timeout=30)
    assert resp.status_code == 503, resp.text[:300]
    assert resp.json()["error"]["code"] == "database-unavailable"

    monkeypatch.setattr(Policy, "add_version", real)
    assert _counts() == counts_before  # rolled back whole: no policy without a version
    assert not Policy.objects.filter(name="dropped").exists()
    retry = requests.post(f"{url}/api/v1/policies", json={"document": document}, headers=headers, timeout=30)
    assert retry.status_code == 201, retry.text
    after = _counts()
    assert after["policies"] == counts_before["policies"] + 1
    assert after["policy_versions"] == counts_before["policy_versions"] + 1
    listed = requests.get(f"{url}/api/v1/policies/dropped", timeout=30).json()
    assert listed["current"]["version"] == 1 and listed["current"]["document"] == document


def test_fault_proxy_passes_through_byte_for_byte(moto_s3_endpoint, s3_bucket):
    """The harness itself: in pass mode the proxy is transparent (else the tests above prove
    nothing about the store)."""
    with FaultProxy(moto_s3_endpoint) as proxy:
        store = S3BlobStore(s3_bucket, endpoint_url=proxy.url)
        data = os.urandom(200_000)
        digest = store.put(io.BytesIO(data), expected_sha256=sha(data)).sha256
        with store.open(digest) as fh:
            assert fh.read() == data
        assert proxy.seen(FaultProxy.PASS) >= 3


@pytest.mark.services
def test_s3_stalling_in_the_middle_of_a_read_is_unavailable(s3_through_proxy):
    """S3 sends the headers and half the object, then nothing: the reader gets a
    BlobStoreUnavailable after the read timeout, not a raw botocore/urllib3 error or a hang."""
    proxy, store, _, _ = s3_through_proxy
    data = os.urandom(300_000)
    digest = store.put(io.BytesIO(data)).sha256
    proxy.mode = FaultProxy.STALL_BODY
    started = time.monotonic()
    with pytest.raises(BlobStoreUnavailable), store.open(digest) as fh:
        fh.read()
    assert time.monotonic() - started < 30  # bounded by the 1 s read timeout; 30 s proves no hang
    proxy.mode = FaultProxy.PASS
    checksum_all(store, {digest: data})
