"""The blob store contract, run against the filesystem store and S3 (moto server via boto3)."""

from __future__ import annotations

import hashlib
import io

import pytest
import requests

from hub.blobstore import BlobNotFound, BlobTooLarge, ChecksumMismatch
from hub.blobstore.filesystem import FilesystemBlobStore
from hub.blobstore.s3 import PART_SIZE, S3BlobStore


@pytest.fixture(params=["filesystem", "s3"])
def store(request, tmp_path):
    if request.param == "filesystem":
        return FilesystemBlobStore(tmp_path / "blobs")
    endpoint = request.getfixturevalue("moto_s3_endpoint")
    bucket = request.getfixturevalue("s3_bucket")
    return S3BlobStore(bucket, endpoint_url=endpoint)


class Exploding(io.RawIOBase):
    """A stream that fails after ``good`` bytes, like a client dropping mid-upload."""

    def __init__(self, good: int) -> None:
        self.left = good

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        if self.left <= 0:
            raise ConnectionResetError("client went away")
        n = min(len(buf), self.left)
        buf[:n] = b"x" * n
        self.left -= n
        return n


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_round_trip_addresses_by_sha256(store):
    data = b"weights" * 1000
    info = store.put(io.BytesIO(data))
    assert info.sha256 == sha(data)
    assert info.size == len(data)
    with store.open(info.sha256) as fh:
        assert fh.read() == data
    assert store.stat(info.sha256).size == len(data)
    assert store.read_range(info.sha256, 7, 7) == b"weights"


def test_put_is_idempotent_per_content(store):
    a = store.put(io.BytesIO(b"same"))
    b = store.put(io.BytesIO(b"same"), expected_sha256=sha(b"same"))
    assert a == b


def test_delete_and_missing(store):
    info = store.put(io.BytesIO(b"gone soon"))
    store.delete(info.sha256)
    assert store.stat(info.sha256) is None
    with pytest.raises(BlobNotFound):
        store.open(info.sha256).read()
    store.delete(info.sha256)  # deleting twice is fine


def test_checksum_mismatch_stores_nothing(store):
    wrong = sha(b"something else")
    with pytest.raises(ChecksumMismatch):
        store.put(io.BytesIO(b"actual bytes"), expected_sha256=wrong)
    assert store.stat(wrong) is None
    assert store.stat(sha(b"actual bytes")) is None


def test_size_cap_refuses_and_stores_nothing(store):
    with pytest.raises(BlobTooLarge):
        store.put(io.BytesIO(b"a" * 100), max_bytes=10)
    assert store.stat(sha(b"a" * 100)) is None


@pytest.mark.parametrize("announced", [False, True])
def test_crash_mid_write_leaves_no_visible_object(store, announced):
    size = PART_SIZE + 1024  # past one S3 part, so a multipart upload was under way
    expected = sha(b"x" * (size + 10))
    with pytest.raises(ConnectionResetError):
        store.put(io.BufferedReader(Exploding(size)), expected_sha256=expected if announced else None)
    assert store.stat(expected) is None
    if isinstance(store, FilesystemBlobStore):
        assert list((store.root / "sha256").rglob("*")) == []
        assert list(store.tmp.iterdir()) == []
    else:
        listing = store.client.list_objects_v2(Bucket=store.bucket)
        assert listing.get("KeyCount", 0) == 0
        uploads = store.client.list_multipart_uploads(Bucket=store.bucket)
        assert not uploads.get("Uploads")


def test_large_multipart_put_with_known_hash(store):
    data = b"0123456789abcdef" * (PART_SIZE // 16 * 2 + 3)
    info = store.put(io.BytesIO(data), expected_sha256=sha(data))
    assert info.size == len(data)
    with store.open(info.sha256) as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == info.sha256


def test_check_passes_on_working_store(store):
    store.check()


def test_s3_presigned_get_serves_the_blob(moto_s3_endpoint, s3_bucket):
    store = S3BlobStore(s3_bucket, endpoint_url=moto_s3_endpoint)
    info = store.put(io.BytesIO(b"presigned"))
    url = store.url(info.sha256, expires=60, filename="model.safetensors")
    resp = requests.get(url, timeout=10)
    assert resp.status_code == 200
    assert resp.content == b"presigned"
    assert "model.safetensors" in resp.headers.get("Content-Disposition", "")


def test_s3_presigned_get_never_serves_a_page(moto_s3_endpoint, s3_bucket):
    """An uploader's PUT chooses the object's stored type; the link overrides it with bytes."""
    store = S3BlobStore(s3_bucket, endpoint_url=moto_s3_endpoint)
    page = b"<html><script>alert(1)</script></html>"
    store.client.put_object(
        Bucket=s3_bucket, Key=store.key_for(sha(page)), Body=page, ContentType="text/html"
    )
    resp = requests.get(store.url(sha(page), expires=60, filename="x.html"), timeout=10)
    assert resp.status_code == 200 and resp.content == page
    assert resp.headers["Content-Type"] == "application/octet-stream"
    assert resp.headers["Content-Disposition"].startswith("attachment")


def test_s3_presigned_put_is_verified_before_publishing(moto_s3_endpoint, s3_bucket):
    store = S3BlobStore(s3_bucket, endpoint_url=moto_s3_endpoint)
    good = b"uploaded by a client"
    url = store.upload_url(sha(good), len(good))
    assert requests.put(url, data=good, timeout=10).status_code == 200
    assert store.stat(sha(good)) is None  # staged, not yet visible
    assert store.finalize_upload(sha(good)).size == len(good)
    assert store.stat(sha(good)).size == len(good)

    liar = sha(b"claimed content")
    assert requests.put(store.upload_url(liar, 5), data=b"other", timeout=10).status_code == 200
    with pytest.raises(ChecksumMismatch):
        store.finalize_upload(liar)
    assert store.stat(liar) is None


def test_filesystem_disk_full_is_reported_clearly(tmp_path, monkeypatch):
    import errno
    import os

    from hub.blobstore import BlobStoreUnavailable

    store = FilesystemBlobStore(tmp_path / "blobs")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(BlobStoreUnavailable, match="disk is full"):
        store.put(io.BytesIO(b"data"))
    assert list(store.tmp.iterdir()) == []
    assert store.stat(sha(b"data")) is None


@pytest.mark.parametrize("fails", ["mkstemp", "mkdir"])
def test_filesystem_read_only_store_is_unavailable_not_a_crash(tmp_path, monkeypatch, fails):
    """A store mounted read-only (or not writable by the server's user) refuses its first write:
    that is the store being unavailable (503 upstream of here), not an unexplained OSError (500)."""
    import errno
    import pathlib
    import tempfile

    from hub.blobstore import BlobStoreUnavailable

    store = FilesystemBlobStore(tmp_path / "blobs")

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    if fails == "mkstemp":
        monkeypatch.setattr(tempfile, "mkstemp", read_only)
    else:
        monkeypatch.setattr(pathlib.Path, "mkdir", read_only)
    with pytest.raises(BlobStoreUnavailable, match="Read-only file system"):
        store.put(io.BytesIO(b"data"))
    if fails == "mkdir":  # the batch writer opens its own files: only the folders are shared
        with pytest.raises(BlobStoreUnavailable, match="Read-only file system"):
            store.put_many([b"small"])


def test_s3_timeouts_come_from_settings(settings):
    """A stalled S3 must give up before the web worker's timeout: the limits are configurable."""
    from hub.blobstore import get_blob_store

    settings.BLOB_STORE = "s3"
    settings.S3_BUCKET = "timeouts"
    settings.S3_ENDPOINT_URL = "http://127.0.0.1:9"
    settings.S3_CONNECT_TIMEOUT, settings.S3_READ_TIMEOUT, settings.S3_MAX_ATTEMPTS = 2.0, 7.0, 4
    get_blob_store.cache_clear()
    try:
        config = get_blob_store().client.meta.config
        assert (config.connect_timeout, config.read_timeout) == (2.0, 7.0)
        assert config.retries["total_max_attempts"] == 4
    finally:
        get_blob_store.cache_clear()


# -- put_many: a batch of small contents, durable when it returns ---------------------------------


def test_put_many_stores_every_content_in_order(store):
    contents = [b"alpha", b"beta", b"alpha", b""]
    infos = store.put_many(contents, expected_sha256=[sha(c) for c in contents])
    assert [(i.sha256, i.size) for i in infos] == [(sha(c), len(c)) for c in contents]
    for content in contents:
        with store.open(sha(content)) as fh:
            assert fh.read() == content
    assert store.put_many([]) == []


def test_put_many_checks_every_hash_before_writing_anything(store):
    good, bad = b"fine", b"announced wrongly"
    with pytest.raises(ChecksumMismatch):
        store.put_many([good, bad], expected_sha256=[sha(good), sha(b"something else")])
    assert store.stat(sha(good)) is None and store.stat(sha(bad)) is None
    with pytest.raises(ValueError, match="one entry per content"):
        store.put_many([good], expected_sha256=[])


def _recording(monkeypatch, fs_module):
    """Record, in order, every durability call and rename the filesystem store makes."""
    import os

    events: list[tuple[str, object]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src, dst):
        real_replace(src, dst)
        events.append(("rename", str(dst)))  # only renames that happened

    monkeypatch.setattr(fs_module.os, "fsync", fsync)
    monkeypatch.setattr(fs_module.os, "replace", replace)
    if fs_module._SYNCFS is not None:
        real_syncfs = fs_module._SYNCFS

        def syncfs(fd):
            events.append(("syncfs", fd))
            return real_syncfs(fd)

        monkeypatch.setattr(fs_module, "_SYNCFS", syncfs)
    return events


@pytest.mark.parametrize("mode", ["syncfs", "fsync"])
def test_put_many_makes_data_durable_before_any_rename_and_names_after(tmp_path, monkeypatch, mode):
    """No object is published before its bytes are on disk; none is reported stored before its name is."""
    from hub.blobstore import filesystem

    if mode == "syncfs" and filesystem._SYNCFS is None:
        pytest.skip("no syncfs in this libc")
    store = FilesystemBlobStore(tmp_path / "blobs", sync_mode=mode)
    events = _recording(monkeypatch, filesystem)
    contents = [f"card {i}".encode() for i in range(12)]
    store.put_many(contents)
    renames = [i for i, (kind, _) in enumerate(events) if kind == "rename"]
    assert len(renames) == len(contents)
    before, after = events[: renames[0]], events[renames[-1] + 1 :]
    assert renames == list(range(renames[0], renames[-1] + 1))  # all renames between the two steps
    if mode == "syncfs":
        assert [k for k, _ in before] == ["syncfs"] and [k for k, _ in after] == ["syncfs"]
    else:
        # every temp file fsynced before the first rename; every directory that changed after the last
        assert len(before) == len(contents)
        assert all(kind == "fsync" and str(path).startswith(str(store.tmp)) for kind, path in before)
        dirs = {path for _, path in after}
        assert all(kind == "fsync" for kind, _ in after)
        assert {str(store.path_for(sha(c)).parent) for c in contents} <= dirs
        assert str(store.objects) in dirs  # new ab/ directories were created in it
    assert list(store.tmp.iterdir()) == []


def test_put_many_failure_leaves_no_temp_file_and_no_torn_object(tmp_path, monkeypatch):
    import errno

    from hub.blobstore import BlobStoreUnavailable, filesystem

    store = FilesystemBlobStore(tmp_path / "blobs", sync_mode="fsync")
    contents = [b"first", b"second", b"third"]
    real_replace, calls = filesystem.os.replace, []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(filesystem.os, "replace", replace)
    with pytest.raises(BlobStoreUnavailable, match="disk is full"):
        store.put_many(contents)
    assert list(store.tmp.iterdir()) == []
    for content in contents:  # whatever is visible is whole
        if store.stat(sha(content)) is not None:
            with store.open(sha(content)) as fh:
                assert fh.read() == content
