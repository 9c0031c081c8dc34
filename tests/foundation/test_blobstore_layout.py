"""The filesystem store's one-level layout, its reads of the old two-level layout, and the migration."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hub.blobstore import BlobNotFound
from hub.blobstore.filesystem import FilesystemBlobStore


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _plant_legacy(store: FilesystemBlobStore, data: bytes) -> Path:
    """Write ``data`` where a store made before the one-level layout kept it."""
    path = store.objects / sha(data)[:2] / sha(data)[2:4] / sha(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _dirs_under(root: Path) -> list[Path]:
    return [Path(d) for d, _, _ in os.walk(root) if Path(d) != root]


def test_put_and_put_many_write_one_directory_level(tmp_path):
    store = FilesystemBlobStore(tmp_path / "blobs")
    contents = [f"card {i}".encode() for i in range(300)]
    store.put_many(contents)
    single = store.put(io.BytesIO(b"one more"))
    for data in [*contents, b"one more"]:
        assert (store.objects / sha(data)[:2] / sha(data)).read_bytes() == data
    assert single.sha256 == sha(b"one more")
    dirs = _dirs_under(store.objects)
    assert dirs, "objects were stored"
    assert all(d.parent == store.objects and len(d.name) == 2 for d in dirs)  # no ab/cd/ level
    assert len(dirs) <= 256


def test_objects_in_the_old_layout_are_still_read_and_deleted(tmp_path):
    store = FilesystemBlobStore(tmp_path / "blobs")
    old = _plant_legacy(store, b"written by an older hub")
    digest = sha(b"written by an older hub")
    assert store.stat(digest).size == len(b"written by an older hub")
    with store.open(digest) as fh:
        assert fh.read() == b"written by an older hub"
    assert store.read_range(digest, 0, 7) == b"written"
    store.delete(digest)
    assert not old.exists()
    assert store.stat(digest) is None
    with pytest.raises(BlobNotFound):
        store.open(digest)


def test_migrate_layout_moves_old_objects_and_is_idempotent(tmp_path):
    store = FilesystemBlobStore(tmp_path / "blobs")
    olds = [f"old object {i}".encode() for i in range(40)]
    for data in olds:
        _plant_legacy(store, data)
    store.put_many([olds[0], b"new object"])  # olds[0] now exists in both layouts
    stranger = store.objects / "ab" / "cd" / "notes.txt"  # not an object: must be left alone
    stranger.parent.mkdir(parents=True, exist_ok=True)
    stranger.write_text("a person's file")
    seen: list[int] = []

    done = store.migrate_layout(on_move=seen.append)

    assert done.moved == 39 and done.duplicates == 1
    for data in [*olds, b"new object"]:
        assert (store.objects / sha(data)[:2] / sha(data)).read_bytes() == data
        assert not store.legacy_path_for(sha(data)).exists()
        with store.open(sha(data)) as fh:
            assert fh.read() == data
    assert stranger.read_text() == "a person's file"  # its directory is kept, not emptied
    left = [d for d in _dirs_under(store.objects) if d.parent != store.objects]
    assert left == [stranger.parent]
    assert done.removed_dirs == len({sha(d)[:4] for d in olds} - {"abcd"})
    assert seen == []  # fewer than 1,000 objects: no progress reports

    again = store.migrate_layout()
    assert (again.moved, again.duplicates, again.removed_dirs) == (0, 0, 0)


def test_migrate_layout_on_an_empty_store(tmp_path):
    assert tuple(FilesystemBlobStore(tmp_path / "none").migrate_layout()) == (0, 0, 0)


@pytest.fixture
def configured_store(settings):
    """Point the hub's configured store (``get_blob_store``) at a setting, rebuilt before and after."""
    from hub.blobstore import get_blob_store

    def configure(**values):
        for name, value in values.items():
            setattr(settings, name, value)
        get_blob_store.cache_clear()
        return get_blob_store()

    yield configure
    get_blob_store.cache_clear()


def test_migrate_layout_command(tmp_path, configured_store):
    store = configured_store(BLOB_STORE="filesystem", BLOB_ROOT=tmp_path / "blobs")
    for i in range(3):
        _plant_legacy(store, f"legacy {i}".encode())
    out = io.StringIO()
    call_command("blobstore", "migrate-layout", stdout=out)
    assert "moved 3 objects" in out.getvalue()
    assert all(store.path_for(sha(f"legacy {i}".encode())).is_file() for i in range(3))


def test_migrate_layout_command_refuses_s3(configured_store, moto_s3_endpoint, s3_bucket):
    configured_store(BLOB_STORE="s3", S3_BUCKET=s3_bucket, S3_ENDPOINT_URL=moto_s3_endpoint)
    with pytest.raises(CommandError, match="one layout only"):
        call_command("blobstore", "migrate-layout")


def test_a_read_racing_the_migration_still_finds_the_object(tmp_path, monkeypatch):
    """The object moves to the new path after the reader's first look missed it there."""
    from hub.blobstore import filesystem

    store = FilesystemBlobStore(tmp_path / "blobs")
    old = _plant_legacy(store, b"moved mid-read")
    digest = sha(b"moved mid-read")
    real_open = open
    looked: list[str] = []

    def racing_open(path, mode="r", *args, **kwargs):
        looked.append(str(path))
        if len(looked) == 1:  # the first look (new path) misses; the migration then moves the object
            try:
                return real_open(path, mode, *args, **kwargs)
            finally:
                store.migrate_layout()
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(filesystem, "open", racing_open, raising=False)
    with store.open(digest) as fh:
        assert fh.read() == b"moved mid-read"
    assert not old.exists()
    assert looked == [str(store.path_for(digest)), str(old), str(store.path_for(digest))]


def test_migrate_layout_reports_progress_every_thousand_objects(tmp_path, configured_store):
    store = configured_store(BLOB_STORE="filesystem", BLOB_ROOT=tmp_path / "blobs")
    for i in range(2_100):
        _plant_legacy(store, f"object {i}".encode())
    out, err = io.StringIO(), io.StringIO()
    call_command("blobstore", "migrate-layout", stdout=out, stderr=err)
    assert err.getvalue().splitlines() == ["1,000 objects so far", "2,000 objects so far"]
    assert "moved 2,100 objects" in out.getvalue()
    assert sum(1 for _ in store.objects.glob("??/*")) == 2_100  # all in the one-level layout
