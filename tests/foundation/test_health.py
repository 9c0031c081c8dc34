"""/healthz and /readyz: JSON bodies that say which part failed."""

from __future__ import annotations

import pytest

from hub.blobstore import get_blob_store


@pytest.fixture(autouse=True)
def fresh_store():
    get_blob_store.cache_clear()
    yield
    get_blob_store.cache_clear()


def test_healthz(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_ok_on_embedded_default(client, settings):
    settings.REDIS_URL = ""
    resp = client.get("/readyz")
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "blob_store"}
    assert body["checks"]["blob_store"]["detail"] == "filesystem"


@pytest.mark.django_db
def test_readyz_names_the_failed_blob_store(client, settings, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the blob root should be")
    settings.BLOB_ROOT = blocker / "blobs"
    resp = client.get("/readyz")
    assert resp.status_code == 503
    body = resp.json()
    assert body["failed"] == ["blob_store"]
    assert body["checks"]["database"]["ok"] is True
    assert "BlobStoreUnavailable" in body["checks"]["blob_store"]["error"]


@pytest.mark.django_db
def test_readyz_names_a_dead_redis(client, settings):
    from tests.services import free_port

    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert resp.json()["failed"] == ["redis"]


@pytest.mark.django_db
def test_readyz_checks_real_redis_when_configured(client, settings):
    from tests.services import redis_url

    settings.REDIS_URL = redis_url()
    resp = client.get("/readyz")
    assert resp.status_code == 200, resp.content
    assert resp.json()["checks"]["redis"]["ok"] is True


@pytest.mark.django_db
def test_readyz_with_s3_store(client, settings, moto_s3_endpoint, s3_bucket):
    settings.BLOB_STORE = "s3"
    settings.S3_BUCKET = s3_bucket
    settings.S3_ENDPOINT_URL = moto_s3_endpoint
    resp = client.get("/readyz")
    assert resp.status_code == 200, resp.content
    assert resp.json()["checks"]["blob_store"]["detail"] == "s3"

    get_blob_store.cache_clear()
    settings.S3_BUCKET = "no-such-bucket-here"
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert resp.json()["failed"] == ["blob_store"]


@pytest.mark.django_db
def test_readyz_is_not_ready_on_a_database_that_is_not_migrated(client, settings, monkeypatch):
    """A new release started before ``migrate`` (or a fresh database) answers 500 on every page:
    the probe must say so, naming the fix, instead of sending traffic to it."""
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    from hub import health

    settings.REDIS_URL = ""
    monkeypatch.setattr(health, "_migrated", False)
    MigrationRecorder(connection).migration_qs.filter(app="workers").order_by("-name")[:1].get().delete()
    resp = client.get("/readyz")
    assert resp.status_code == 503, resp.content
    body = resp.json()
    assert body["failed"] == ["database"]
    assert "manage.py migrate" in body["checks"]["database"]["error"]
    assert "workers." in body["checks"]["database"]["error"]


@pytest.mark.django_db
def test_readyz_checks_migrations_once_per_process(client, settings, monkeypatch):
    from hub import health

    settings.REDIS_URL = ""
    monkeypatch.setattr(health, "_migrated", False)
    assert client.get("/readyz").status_code == 200
    monkeypatch.setattr(health, "unapplied_migrations", lambda: pytest.fail("checked again"))
    assert client.get("/readyz").status_code == 200
