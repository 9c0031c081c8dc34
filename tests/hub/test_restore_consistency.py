"""A database dump and a blob-store copy taken at different moments, restored together.

Session 12 restored a ``pg_dump`` with a store copied before it (rows without bytes) and after it
(bytes without rows). Downloading a file whose bytes were missing answered HEAD 200 and then broke
the GET with a 500 traceback (the client retried it five times); nothing could list the damage, and
orphaned bytes were never collected (the collector walks rows). These tests stage both kinds of
damage by removing bytes or rows directly.
"""

from __future__ import annotations

import hashlib
import io
import os
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from hub.blobstore import BlobNotFound
from hub.models import Blob
from hub.services.consistency import check_consistency
from tests.hub.conftest import make_repo, token_for

pytestmark = pytest.mark.django_db

DAY = 86400
WEIGHTS = b'\x08\x00\x00\x00\x00\x00\x00\x00{"a":1} ' + bytes(3000)


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _backdate(store, sha256: str, days: float = 3) -> None:
    """Make a filesystem object look as old as a restored copy's."""
    when = time.time() - days * DAY
    os.utime(store.path_for(sha256), (when, when))


@pytest.mark.parametrize("path", ["model.safetensors", "config.json"])
def test_download_of_content_missing_from_the_store_says_so_before_any_byte(client, store, alice, path):
    repo = make_repo(alice, "restored", {path: WEIGHTS}, lfs=("model.safetensors",))
    if path == "model.safetensors" and store.name == "s3":
        pytest.skip("LFS files on S3 are a redirect to the bucket, which answers for itself")
    store.delete(sha(WEIGHTS))  # the store's copy predates this upload
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token_for(alice, write=False)}"}
    url = f"/{repo.repo_id}/resolve/main/{path}"
    for resp in (client.head(url, **auth), client.get(url, **auth)):
        assert resp.status_code == 500
        assert resp["X-Error-Code"] == "ContentMissing"
        assert sha(WEIGHTS) in resp["X-Error-Message"] and "uploaded again" in resp["X-Error-Message"]
        assert resp["X-Repo-Commit"] == repo.head.sha
        assert not resp.streaming


def test_s3_ranged_read_of_a_missing_object_is_not_found_not_an_outage(s3_store):
    with pytest.raises(BlobNotFound):
        s3_store.read_range("f" * 64, 0, 10)


def test_store_listing_is_in_address_order_and_covers_the_old_layout(store):
    contents = [f"object {i}".encode() for i in range(12)]
    for content in contents:
        store.put(io.BytesIO(content))
    expected = sorted(sha(c) for c in contents)
    if store.name == "filesystem":  # one object left at the layout older stores used
        old = store.legacy_path_for(expected[3])
        old.parent.mkdir(parents=True, exist_ok=True)
        os.rename(store.path_for(expected[3]), old)
        (store.objects / "ab").mkdir(exist_ok=True)
        (store.objects / "ab" / "not-a-digest").write_bytes(b"x")  # stray files are not content
    listed = list(store.iter_objects())
    assert [o.sha256 for o in listed] == expected
    assert {o.sha256: o.size for o in listed} == {sha(c): len(c) for c in contents}


def test_check_finds_rows_without_bytes_and_bytes_without_rows(store, alice):
    repo = make_repo(
        alice,
        "restored",
        {"README.md": b"# card\n", "model.safetensors": WEIGHTS},
        lfs=("model.safetensors",),
    )
    store.delete(sha(WEIGHTS))  # row in the dump, bytes uploaded after the store was copied
    unreferenced = Blob.objects.create(sha256=sha(b"nobody's"), size=8)  # a row no file needs, no bytes
    late = b"uploaded after the dump" * 20
    store.put(io.BytesIO(late))  # bytes in the copy, row not in the dump
    fresh = b"an upload in flight" * 20
    store.put(io.BytesIO(fresh))

    later = timezone.now() + timedelta(days=2)  # past the grace period for what is there now
    report = check_consistency(grace_seconds=DAY, now=later)
    assert (report.missing, report.missing_referenced) == (2, 1)
    [named] = [e for e in report.missing_examples if e["sha256"] == sha(WEIGHTS)]
    assert named["files"] == [f"{repo.repo_id}@{repo.head.sha[:12]}:model.safetensors"]
    assert report.orphans == 2 and report.orphan_bytes == len(late) + len(fresh)
    assert report.young_orphans == 0
    assert not report.consistent
    assert check_consistency(grace_seconds=DAY).young_orphans == 2  # now: both might be uploads in flight

    repaired = check_consistency(grace_seconds=DAY, now=later, repair=True)
    assert (repaired.removed_rows, repaired.adopted) == (1, 2)
    assert not Blob.objects.filter(pk=unreferenced.pk).exists()
    assert (
        Blob.objects.filter(sha256__in=[sha(late), sha(fresh)]).count() == 2
    )  # collectable like any content
    again = check_consistency(grace_seconds=DAY, now=later)
    assert (again.missing, again.missing_referenced, again.orphans) == (1, 1, 0)  # only an upload mends it


def test_repair_never_adopts_bytes_that_do_not_hash_to_their_address(fs_store):
    fake = "0" * 64
    target = fs_store.path_for(fake)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"truncated or tampered")
    _backdate(fs_store, fake)
    report = check_consistency(grace_seconds=DAY, repair=True)
    assert report.corrupt_orphans == [fake] and report.adopted == 0
    assert not Blob.objects.filter(sha256=fake).exists() and target.exists()


def test_check_reports_a_size_that_differs(fs_store, alice):
    make_repo(alice, "sized", {"model.safetensors": WEIGHTS}, lfs=("model.safetensors",))
    Blob.objects.filter(sha256=sha(WEIGHTS)).update(size=len(WEIGHTS) + 1)
    report = check_consistency(grace_seconds=DAY)
    assert report.size_mismatch == 1 and sha(WEIGHTS) in report.size_mismatch_examples[0]


def test_command_exit_status_says_whether_anything_remains(fs_store, alice):
    make_repo(
        alice, "cmd", {"README.md": b"# card\n", "model.safetensors": WEIGHTS}, lfs=("model.safetensors",)
    )
    out = io.StringIO()
    call_command("blobstore", "check", stdout=out)
    assert "database and blob store agree" in out.getvalue()

    orphan = b"left by a copy taken after the dump" * 4
    fs_store.put(io.BytesIO(orphan))
    _backdate(fs_store, sha(orphan))
    with pytest.raises(CommandError, match="--repair"):
        call_command("blobstore", "check", stdout=io.StringIO())
    call_command("blobstore", "check", "--repair", stdout=io.StringIO())  # mended: exits 0

    fs_store.delete(sha(WEIGHTS))
    out = io.StringIO()
    with pytest.raises(CommandError, match="uploaded again"):
        call_command("blobstore", "check", "--repair", stdout=out)
    assert "alice/cmd@" in out.getvalue() and "model.safetensors" in out.getvalue()


def test_repair_spares_a_row_an_upload_of_the_same_content_is_mending(fs_store, alice):
    """The documented mend for a row without bytes is uploading the content again. That upload
    refreshes the row (``mark_storing``) before it writes the bytes and commits files naming the row;
    a repair running in between deleted the row and the upload's commit was refused (409)."""
    from hub.services.blobs import mark_storing, record_blob

    content = b"restored row, bytes lost with the copy" * 8
    Blob.objects.create(sha256=sha(content), size=len(content))
    Blob.objects.filter(sha256=sha(content)).update(stored_at=timezone.now() - timedelta(days=3))
    assert mark_storing([sha(content)]) == 1  # the re-upload has begun

    report = check_consistency(grace_seconds=DAY, repair=True)
    assert (report.missing, report.removed_rows, report.kept_rows) == (1, 0, 1)
    assert Blob.objects.filter(sha256=sha(content)).exists()

    record_blob(fs_store.put(io.BytesIO(content), expected_sha256=sha(content)))  # the upload goes on
    make_repo(alice, "mended", {"weights.bin": content}, lfs=("weights.bin",))
    assert check_consistency(grace_seconds=DAY).consistent


def test_repair_judges_the_store_again_under_the_rows_lock(fs_store, monkeypatch):
    """Bytes stored between the check's first look and the row's lock keep their row."""
    content = b"stored while the check was looking" * 8
    Blob.objects.create(sha256=sha(content), size=len(content))
    Blob.objects.filter(sha256=sha(content)).update(stored_at=timezone.now() - timedelta(days=3))
    real_stat, looked = fs_store.stat, []

    def stat(sha256: str):
        if not looked:  # the first look: the bytes are not there yet; they land right after it
            looked.append(sha256)
            answer = real_stat(sha256)
            fs_store.put(io.BytesIO(content), expected_sha256=sha(content))
            return answer
        return real_stat(sha256)

    monkeypatch.setattr(fs_store, "stat", stat)
    report = check_consistency(grace_seconds=DAY, repair=True)
    assert looked and report.removed_rows == 0
    assert Blob.objects.filter(sha256=sha(content)).exists()


def test_repair_deletes_by_the_collectors_rules_grants_included(fs_store, alice):
    """The repair removes rows through the collector's own deletion: a row whose content was
    granted to an uploader within the grace period is someone's upload in progress, kept by the
    collector and so by the repair (which once re-implemented the rules and ignored grants)."""
    from hub.models import BlobGrant

    repo = make_repo(alice, "granted", {"README.md": b"# card\n"})
    content = b"verified for an uploader, bytes lost with the copy" * 8
    blob = Blob.objects.create(sha256=sha(content), size=len(content))
    Blob.objects.filter(pk=blob.pk).update(stored_at=timezone.now() - timedelta(days=3))
    BlobGrant.objects.create(repository=repo, blob=blob, user=alice)

    report = check_consistency(grace_seconds=DAY, repair=True)
    assert (report.missing, report.removed_rows, report.kept_rows) == (1, 0, 1)
    assert Blob.objects.filter(pk=blob.pk).exists()

    BlobGrant.objects.filter(blob=blob).update(created_at=timezone.now() - timedelta(days=3))
    report = check_consistency(grace_seconds=DAY, repair=True)
    assert (report.removed_rows, report.kept_rows) == (1, 0)
    assert not Blob.objects.filter(pk=blob.pk).exists()
