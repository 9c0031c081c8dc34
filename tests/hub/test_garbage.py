"""Garbage collection: content no revision references and abandoned uploads are reclaimed, only
after the grace period, and never content a revision, a fresh upload or a fresh grant holds."""

from __future__ import annotations

import hashlib
import io
import json
import os
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from hub.blobstore import BlobStoreUnavailable, get_blob_store
from hub.models import AddressClaim, Blob, BlobGrant, RepoFile
from hub.services.garbage import collect_garbage, drop_blob_if_unreferenced, minimum_grace
from tests.hub.conftest import make_repo, token_for
from tests.hub.test_blob_access import batch, commit_lfs, upload_through, verify

pytestmark = pytest.mark.django_db

DAY = 86400


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def later(days: float = 2):
    """A collection run this far in the future: everything stored now is past a day's grace."""
    return timezone.now() + timedelta(days=days)


def unreferenced() -> dict[str, int]:
    """sha256 -> size of content no file references (a deleted repo's README, .gitattributes …)."""
    return dict(Blob.objects.filter(files__isnull=True).values_list("sha256", "size"))


def delete_repo(client, user, repo_id: str) -> None:
    resp = client.generic(
        "DELETE", "/api/repos/delete", json.dumps({"name": repo_id, "type": "model"}),
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token_for(user)}",
    )  # fmt: skip
    assert resp.status_code == 200, resp.content


def test_a_deleted_repositorys_own_content_goes_and_shared_content_stays(client, store, alice):
    own, shared = b"weights only this repo had" * 100, b"weights two repos hold" * 100
    make_repo(
        alice,
        "gone",
        {"README.md": b"# gone\n", "own.bin": own, "shared.bin": shared},
        lfs={"own.bin", "shared.bin"},
    )
    make_repo(alice, "kept", {"README.md": b"# kept\n", "shared.bin": shared}, lfs={"shared.bin"})
    delete_repo(client, alice, "alice/gone")

    done = collect_garbage(grace_seconds=DAY, now=later())

    assert store.stat(sha(own)) is None and not Blob.objects.filter(sha256=sha(own)).exists()
    assert store.stat(sha(shared)) is not None
    assert client.get("/alice/kept/resolve/main/shared.bin").status_code in (200, 302)  # 302: to S3
    # the deleted repo's README went too; the kept repo's did not
    assert done.blobs == 2 and done.blob_bytes == len(own) + len(b"# gone\n")
    assert store.stat(sha(b"# kept\n")) is not None


def test_nothing_younger_than_the_grace_period_goes(client, fs_store, alice):
    own = b"deleted an hour ago" * 50
    make_repo(alice, "gone", {"README.md": b"# gone\n", "own.bin": own}, lfs={"own.bin"})
    delete_repo(client, alice, "alice/gone")
    done = collect_garbage(grace_seconds=DAY, now=timezone.now() + timedelta(hours=23))
    assert done.blobs == 0 and fs_store.stat(sha(own)) is not None
    orphans = unreferenced()
    assert sha(own) in orphans
    assert collect_garbage(grace_seconds=DAY, now=timezone.now() + timedelta(hours=25)).blobs == len(orphans)


def test_the_grace_period_never_drops_below_the_life_of_an_upload_link(settings, fs_store):
    settings.S3_PRESIGN_SECONDS = 3 * 3600
    assert minimum_grace() == 6 * 3600
    assert collect_garbage(grace_seconds=0).grace_seconds == 6 * 3600


def test_content_only_an_older_revision_holds_is_kept(client, fs_store, alice):
    old = b"in the first revision only" * 40
    repo = make_repo(alice, "m", {"README.md": b"# m\n", "old.bin": old}, lfs={"old.bin"})
    resp = client.generic(
        "POST", "/api/models/alice/m/commit/main",
        (json.dumps({"key": "header", "value": {"summary": "drop"}}) + "\n"
         + json.dumps({"key": "deletedFile", "value": {"path": "old.bin"}}) + "\n").encode(),
        content_type="application/x-ndjson", HTTP_AUTHORIZATION=f"Bearer {token_for(alice)}",
    )  # fmt: skip
    assert resp.status_code == 200, resp.content
    assert collect_garbage(grace_seconds=DAY, now=later()).blobs == 0
    assert fs_store.stat(sha(old)) is not None
    first = RepoFile.objects.get(commit__repository=repo, path="old.bin").commit
    assert client.get(f"/alice/m/resolve/{first.sha}/old.bin", follow=True).status_code == 200


def test_a_dry_run_counts_and_deletes_nothing(client, fs_store, alice):
    own = b"would go" * 100
    make_repo(alice, "gone", {"README.md": b"# g\n", "own.bin": own}, lfs={"own.bin"})
    delete_repo(client, alice, "alice/gone")
    orphans = unreferenced()
    dry = collect_garbage(grace_seconds=DAY, now=later(), dry_run=True)
    assert (dry.blobs, dry.blob_bytes) == (len(orphans), sum(orphans.values()))
    assert fs_store.stat(sha(own)) is not None and Blob.objects.filter(sha256=sha(own)).exists()
    real = collect_garbage(grace_seconds=DAY, now=later())
    assert (real.blobs, real.blob_bytes) == (dry.blobs, dry.blob_bytes)


def age(sha256: str, days: float) -> None:
    Blob.objects.filter(sha256=sha256).update(stored_at=timezone.now() - timedelta(days=days))


def test_storing_the_content_again_spares_it(fs_store):
    """``mark_storing`` before each write: a re-upload of content about to be collected either
    refreshes it first (kept) or finds it gone and stores it again (never a row without bytes)."""
    from hub.services.blobs import store_small

    content = b"orphaned, then uploaded again" * 10
    store_small(content, 1 << 20)
    age(sha(content), 3)
    store_small(content, 1 << 20)  # the re-upload refreshes stored_at before writing
    assert collect_garbage(grace_seconds=DAY).blobs == 0
    age(sha(content), 3)
    assert collect_garbage(grace_seconds=DAY).blobs == 1
    store_small(content, 1 << 20)  # after the collection: stored afresh, row and bytes
    assert fs_store.stat(sha(content)) is not None and Blob.objects.filter(sha256=sha(content)).exists()


def test_the_lock_holder_rejudges_what_the_candidate_query_saw(fs_store, alice):
    """The candidate list is read without locks; the row is judged again once locked, so content
    refreshed or granted in between stays."""
    from hub.services.blob_access import grant
    from hub.services.blobs import mark_storing, store_small

    content = b"refreshed after the candidates were listed" * 5
    store_small(content, 1 << 20)
    age(sha(content), 3)
    cutoff = timezone.now() - timedelta(days=1)
    mark_storing([sha(content)])
    assert drop_blob_if_unreferenced(sha(content), stored_before=cutoff) is None
    age(sha(content), 3)
    repo = make_repo(alice, "m", {"README.md": b"# m\n"})
    grant(repo.pk, sha(content), alice.pk)  # an upload of it was just hashed: a commit may follow
    assert drop_blob_if_unreferenced(sha(content), stored_before=cutoff) is None
    BlobGrant.objects.filter(blob_id=sha(content)).update(created_at=cutoff - timedelta(days=1))
    assert drop_blob_if_unreferenced(sha(content), stored_before=cutoff) == len(content)
    assert fs_store.stat(sha(content)) is None


def test_a_fresh_upload_grant_protects_uncommitted_content(fs_store, alice):
    from hub.services.blob_access import grant
    from hub.services.blobs import store_small

    repo = make_repo(alice, "m", {"README.md": b"# m\n"})
    content = b"uploaded, commit still to come" * 10
    store_small(content, 1 << 20)
    age(sha(content), 3)
    grant(repo.pk, sha(content), alice.pk)
    assert collect_garbage(grace_seconds=DAY).blobs == 0
    BlobGrant.objects.filter(blob_id=sha(content)).update(created_at=timezone.now() - timedelta(days=3))
    assert collect_garbage(grace_seconds=DAY).blobs == 1
    assert not BlobGrant.objects.filter(blob_id=sha(content)).exists()


def test_a_disk_that_refuses_deletes_keeps_the_rows_and_the_run_goes_on(client, fs_store, alice, monkeypatch):
    """The real failure (EROFS from unlink), not a stand-in: every refused object is reported,
    its row stays (rolled back), and the later phases still run, so one bad object cannot block
    every later collection."""
    import errno
    from pathlib import Path

    own = b"the disk is read-only" * 10
    make_repo(alice, "gone", {"README.md": b"# g\n", "own.bin": own}, lfs={"own.bin"})
    delete_repo(client, alice, "alice/gone")
    fs_store.tmp.mkdir(parents=True, exist_ok=True)
    stale = fs_store.tmp / "upload-stale"
    stale.write_bytes(b"x" * 10)
    old = (timezone.now() - timedelta(days=3)).timestamp()
    os.utime(stale, (old, old))
    real_unlink = Path.unlink

    def read_only(path, *args, **kwargs):
        if fs_store.objects in path.parents:
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(Path, "unlink", read_only)
    orphans = unreferenced()
    done = collect_garbage(grace_seconds=DAY, now=later())
    assert done.blobs == 0 and len(done.errors) == len(orphans) and "Read-only file system" in done.errors[0]
    assert Blob.objects.filter(sha256=sha(own)).exists() and fs_store.stat(sha(own)) is not None
    assert done.upload_leftovers == 1 and not stale.exists()  # the sweep still ran
    Blob.objects.update(stored_at=timezone.now() - timedelta(days=3))
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"(?s)refused \d+ operation.*run it again.*Read-only file system"):
        call_command("blobstore", "gc", stdout=out)
    assert out.getvalue().startswith("removed 0 unreferenced blobs")
    monkeypatch.undo()
    assert collect_garbage(grace_seconds=DAY, now=later()).blobs == len(orphans)


def test_a_refused_request_never_takes_out_another_clients_verified_upload(fs_store, alice):
    """``discard_unreferenced`` (a refused commit taking out what it stored) spares content
    someone holds a grant for: their verified upload is theirs to commit."""
    from hub.services.blob_access import grant
    from hub.services.blobs import discard_unreferenced, store_small

    repo = make_repo(alice, "m", {"README.md": b"# m\n"})
    content = b"stored by a refused request, verified by bob" * 5
    store_small(content, 1 << 20)
    grant(repo.pk, sha(content), alice.pk)
    assert discard_unreferenced([sha(content)]) == 0 and fs_store.stat(sha(content)) is not None
    BlobGrant.objects.all().delete()
    assert discard_unreferenced([sha(content)]) == 1


def test_already_stored_in_the_lfs_batch_refreshes_the_content(client, fs_store, alice):
    """The batch tells the client not to upload; the commit comes later and must find it."""
    from hub.services.blob_access import grant
    from tests.hub.test_blob_access import batch as lfs_batch

    content = b"stored long ago, named again" * 40
    make_repo(alice, "m", {"README.md": b"# m\n", "w.bin": content}, lfs={"w.bin"})
    repo = RepoFile.objects.get(sha256=sha(content)).commit.repository
    RepoFile.objects.filter(sha256=sha(content)).delete()  # as if its only holder had gone
    grant(repo.pk, sha(content), alice.pk)  # alice uploaded it, days ago
    BlobGrant.objects.update(created_at=timezone.now() - timedelta(days=3))
    age(sha(content), 3)
    answer = lfs_batch(client, token_for(alice), "alice/m", content)
    assert "actions" not in answer  # already stored, readable by alice
    assert collect_garbage(grace_seconds=DAY).blobs == 0


def test_filesystem_temp_files_of_crashed_writers_are_swept(fs_store):
    fs_store.tmp.mkdir(parents=True, exist_ok=True)
    stale, fresh = fs_store.tmp / "upload-stale", fs_store.tmp / "upload-fresh"
    stale.write_bytes(b"x" * 1000)
    fresh.write_bytes(b"y" * 10)
    two_days_ago = (timezone.now() - timedelta(days=2)).timestamp()
    os.utime(stale, (two_days_ago, two_days_ago))
    done = collect_garbage(grace_seconds=DAY)
    assert (done.upload_leftovers, done.upload_leftover_bytes) == (1, 1000)
    assert not stale.exists() and fresh.exists()


def test_s3_staged_copies_and_staged_multipart_uploads_are_swept_nothing_else(s3_store):
    client, bucket = s3_store.client, s3_store.bucket
    client.put_object(Bucket=bucket, Key=s3_store.staging_key_for("a" * 64, "t1"), Body=b"z" * 500)
    assert collect_garbage(grace_seconds=DAY).upload_leftovers == 0  # still young
    # (moto dates every multipart upload 2010-11-10: both look abandoned to the sweep)
    s3_store.start_multipart_upload("b" * 64, 6 * 1024 * 1024, 5 * 1024 * 1024, ticket="t2", staged=True)
    at_address, _ = s3_store.start_multipart_upload("c" * 64, 6 * 1024 * 1024, 5 * 1024 * 1024, ticket="t3")
    done = collect_garbage(grace_seconds=DAY, now=later())

    assert (done.upload_leftovers, done.upload_leftover_bytes, done.multipart_uploads) == (1, 500, 1)
    assert client.list_objects_v2(Bucket=bucket, Prefix="incoming/")["KeyCount"] == 0
    # an upload at a content address may be the hub's own long write: left to a lifecycle rule
    assert [u["UploadId"] for u in client.list_multipart_uploads(Bucket=bucket).get("Uploads") or []] == [
        at_address
    ]


def test_s3_expired_claims_go_and_an_unverified_object_waits_for_the_next_upload(
    client, settings, s3_store, bob
):
    """A multipart upload claims and is assembled at the content address; its client never
    verifies. Its claim goes once past the grace period; the object stays (deleting it would race
    a staged upload adopting it) and the next upload of that content verifies and uses it."""
    settings.MODELHUB_LFS_CHUNK_SIZE = 5 * 1024 * 1024
    abandoned = b"abandoned upload" * 400_000
    make_repo(bob, "m", {"README.md": b"# m\n"})
    token = token_for(bob)
    answer = batch(client, token, "bob/m", abandoned)
    assert "header" in answer["actions"]["upload"]  # multipart, claimed: at the address
    assert upload_through(client, answer["actions"], abandoned) == 200
    AddressClaim.objects.create(
        sha256="d" * 64, ticket="fresh", expires_at=timezone.now() + timedelta(days=3)
    )

    done = collect_garbage(grace_seconds=DAY, now=later())

    assert done.claims == 1 and list(AddressClaim.objects.values_list("ticket", flat=True)) == ["fresh"]
    assert s3_store.occupied(sha(abandoned))
    again = batch(client, token, "bob/m", abandoned, transfers=("basic",))
    assert upload_through(client, again["actions"], abandoned) == 200
    assert verify(client, token, again["actions"], abandoned).status_code == 200
    assert commit_lfs(client, token, "bob/m", abandoned).status_code == 200


def test_the_command_reports_what_it_did(client, fs_store, alice):
    from hub.management.commands.blobstore import _size as size

    make_repo(alice, "gone", {"README.md": b"# gone\n"})
    delete_repo(client, alice, "alice/gone")
    Blob.objects.update(stored_at=timezone.now() - timedelta(days=3))
    orphans = unreferenced()
    out = io.StringIO()
    call_command("blobstore", "gc", "--dry-run", stdout=out)
    assert out.getvalue().startswith(
        f"would remove {len(orphans)} unreferenced blobs ({size(sum(orphans.values()))})"
    )
    assert Blob.objects.filter(sha256=sha(b"# gone\n")).exists()
    out = io.StringIO()
    call_command("blobstore", "gc", stdout=out)
    assert out.getvalue().startswith(
        f"removed {len(orphans)} unreferenced blobs ({size(sum(orphans.values()))})"
    )
    assert get_blob_store().stat(sha(b"# gone\n")) is None


def test_beat_runs_the_collection_daily_unless_turned_off(monkeypatch):
    import importlib

    import hub.settings
    from hub.tasks import collect_garbage as task

    assert hub.settings.CELERY_BEAT_SCHEDULE["collect-garbage"] == {
        "task": task.name, "schedule": float(DAY),
    }  # fmt: skip
    monkeypatch.setenv("MODELHUB_GC_EVERY", "0")
    try:
        assert "collect-garbage" not in importlib.reload(hub.settings).CELERY_BEAT_SCHEDULE
    finally:
        monkeypatch.delenv("MODELHUB_GC_EVERY")
        importlib.reload(hub.settings)


def test_the_task_returns_its_report(fs_store, settings):
    from hub.tasks import collect_garbage as task

    settings.GC_GRACE = DAY
    assert task.apply().get() == {
        "grace_seconds": DAY, "dry_run": False, "blobs": 0, "blob_bytes": 0, "claims": 0,
        "upload_leftovers": 0, "upload_leftover_bytes": 0, "multipart_uploads": 0, "skipped": 0,
        "errors": [],
    }  # fmt: skip


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_reupload_racing_the_collector_never_loses_its_bytes(fs_store, monkeypatch):
    """Two connections. The collector has locked and judged a stale row and is about to delete
    the bytes; a re-upload of the same content arrives. Its ``mark_storing`` waits for the lock,
    finds the row gone, and its write puts the bytes back under a new row: row and bytes agree."""
    import threading

    from django.db import connection, connections

    from hub.services.blobs import store_small
    from tests.services import unavailable

    if connection.vendor != "postgresql":
        unavailable("PostgreSQL", f"DATABASE_URL points at {connection.vendor}, not PostgreSQL")
    content = b"collected and uploaded again at once" * 10
    store_small(content, 1 << 20)
    age(sha(content), 3)
    locked, release = threading.Event(), threading.Event()
    real_delete = fs_store.delete

    def slow_delete(sha256: str) -> None:  # runs inside the collector's transaction, row locked
        locked.set()
        assert release.wait(10)
        real_delete(sha256)

    monkeypatch.setattr(fs_store, "delete", slow_delete)
    outcome: dict[str, object] = {}

    def collect() -> None:
        try:
            outcome["freed"] = drop_blob_if_unreferenced(
                sha(content), stored_before=timezone.now() - timedelta(days=1)
            )
        finally:
            connections.close_all()

    def reupload() -> None:
        try:
            assert locked.wait(10)
            threading.Timer(0.5, release.set).start()  # the upload must be waiting by then
            monkeypatch.setattr(fs_store, "delete", real_delete)
            store_small(content, 1 << 20)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=collect), threading.Thread(target=reupload)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert outcome["freed"] == len(content)  # the collector went ahead: the row was stale
    assert Blob.objects.filter(sha256=sha(content)).exists()  # the upload's new row …
    assert fs_store.stat(sha(content)) is not None  # … and its bytes


def _a_commit_whose_content_is_collected_meanwhile(alice, monkeypatch):
    """A repository and an operation naming stale content the collector takes right after the
    commit's check (``_resolve_blobs``), before its insert."""
    from hub.auth import Caller
    from hub.models import ApiToken
    from hub.services import commits
    from hub.services.blobs import store_small
    from hub.services.commits import AddFile
    from hub.services.repos import create_repository

    repo, _ = create_repository(Caller(alice, ApiToken(scope="write")), name="m")
    content = b"stale, unreferenced, about to be named" * 8
    stored = store_small(content, 1 << 20)
    age(sha(content), 3)
    real = commits._resolve_blobs

    def collected_right_after(ops):
        found = real(ops)
        assert drop_blob_if_unreferenced(sha(content), stored_before=timezone.now() - timedelta(days=1))
        return found

    monkeypatch.setattr(commits, "_resolve_blobs", collected_right_after)
    return repo, AddFile("w.bin", stored.sha256, stored.size, lfs=False, git_oid=stored.git_oid)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("route", ["commit", "pull request"])
def test_a_commit_whose_content_is_collected_meanwhile_is_a_409_that_says_what_to_do(
    fs_store, alice, monkeypatch, route
):
    """The collector takes stale content between the commit's check and its insert: the commit
    is refused with 409 naming the file, not a 500, also for a pull-request commit, which runs
    inside an outer transaction where the foreign keys are checked at its end."""
    from hub.services.commits import CommitRequest, create_commit
    from hub.services.discussions import commit_as_new_pull_request
    from hub.services.errors import Conflict

    repo, op = _a_commit_whose_content_is_collected_meanwhile(alice, monkeypatch)
    request = CommitRequest(title="add", operations=[op])
    with pytest.raises(Conflict, match=r"w\.bin was removed by the garbage collector.*upload it again"):
        if route == "commit":
            create_commit(repo, "main", request, author=alice)
        else:
            commit_as_new_pull_request(repo, "main", request, alice)
    assert not RepoFile.objects.filter(path="w.bin").exists()


def test_the_mirror_refreshes_content_it_will_reference_without_fetching(fs_store, alice):
    """Known content (an LFS sha256, or a git oid another repository holds) is refreshed before
    the mirror decides not to fetch it, so the collector spares it even if that other repository
    goes meanwhile; content the collector took already is fetched again."""
    from workers.mirror.files import UpstreamFile
    from workers.mirror.sync import _known_contents

    weights, config = b"known weights" * 50, b'{"known": true}'
    src = make_repo(
        alice, "src", {"README.md": b"# s\n", "w.bin": weights, "config.json": config}, lfs={"w.bin"}
    )
    oid = RepoFile.objects.get(path="config.json").oid
    age(sha(weights), 3)
    age(sha(config), 3)
    files = [
        UpstreamFile("w.bin", len(weights), None, sha(weights)),
        UpstreamFile("config.json", len(config), oid, None),
    ]
    assert set(_known_contents(files)) == {"w.bin", "config.json"}
    RepoFile.objects.filter(commit__repository=src).delete()  # the holder goes while the mirror fetches
    collect_garbage(grace_seconds=DAY)
    assert Blob.objects.filter(sha256__in=[sha(weights), sha(config)]).count() == 2  # both refreshed
    age(sha(weights), 3)
    assert collect_garbage(grace_seconds=DAY).blobs == 1  # now collected: fetch it again
    assert set(_known_contents(files[:1])) == set()


def test_the_safe_window_is_positive_and_the_refresh_far_inside_the_grace():
    """``mark_storing`` leaves rows refreshed within REFRESH_AFTER alone; that is only safe while it
    stays well inside the shortest grace period (a writer then has ``safe_window`` to finish)."""
    from hub.services.blobs import REFRESH_AFTER
    from hub.services.garbage import safe_window

    assert REFRESH_AFTER.total_seconds() * 4 <= minimum_grace()
    assert 3600 <= safe_window() < minimum_grace() - REFRESH_AFTER.total_seconds()


def test_a_row_created_for_bytes_that_vanished_is_not_kept(fs_store):
    """A refused request's clean-up (or the collector) can delete a row and its bytes between a
    concurrent writer's store and its ``record_blob``; the row that call would create is removed
    again and the write refused as retryable, never left pointing at nothing."""
    from hub.blobstore import BlobInfo
    from hub.services.blobs import record_blob

    with pytest.raises(BlobStoreUnavailable, match=r"removed while it was being stored.*retry"):
        record_blob(BlobInfo("e" * 64, 10))
    assert not Blob.objects.filter(sha256="e" * 64).exists()


def test_a_mirror_fetch_slower_than_the_safe_window_checks_its_content_again(fs_store, alice, monkeypatch):
    """Content a fetch refreshed when it began can be collected if the fetch outlives the safe
    window (large weights); such a repository is failed and fetched again, not written pointing
    at nothing. A quick fetch is written without a look."""
    import time

    from hub.services import garbage
    from workers.mirror.sync import Fetched, FetchedFile, Outcome, ensure_still_stored

    content = b"collected while a slow fetch ran" * 10
    make_repo(alice, "src", {"w.bin": content}, lfs={"w.bin"})
    quick = Fetched("up/m", Outcome.OK, files=[FetchedFile("w.bin", sha(content), len(content), True, None)])
    slow = Fetched("up/m", Outcome.OK, files=list(quick.files), marked_at=time.monotonic() - 3 * 3600)
    ensure_still_stored(slow)
    assert slow.outcome == Outcome.OK  # still stored: written as usual
    RepoFile.objects.all().delete()
    age(sha(content), 3)
    assert collect_garbage(grace_seconds=DAY).blobs >= 1
    ensure_still_stored(quick)
    assert quick.outcome == Outcome.OK  # inside the window: nothing could have been collected
    slower = Fetched("up/m", Outcome.OK, files=list(quick.files), marked_at=time.monotonic() - 3 * 3600)
    ensure_still_stored(slower)  # another slow fetch of the same content, after the collection
    assert slower.outcome == Outcome.FAILED and "fetched again" in slower.error
    assert garbage.safe_window() < 3 * 3600


def test_objects_the_store_refuses_do_not_stop_the_run_short_of_the_others(
    client, fs_store, alice, monkeypatch
):
    """More refusals than one check's worth, all first in sha256 order: the store answers its
    health check, so the run goes on past them (every run would otherwise stop at the same ones)."""
    contents = [b"orphan %d" % i * 20 for i in range(30)]
    make_repo(
        alice, "gone", {f"f{i}.bin": c for i, c in enumerate(contents)}, lfs={f"f{i}.bin" for i in range(30)}
    )
    delete_repo(client, alice, "alice/gone")
    orphans = sorted(unreferenced())
    refused = set(orphans[:25])
    real_delete = fs_store.delete

    def refuse_some(sha256: str) -> None:
        if sha256 in refused:
            raise BlobStoreUnavailable("Permission denied")
        real_delete(sha256)

    monkeypatch.setattr(fs_store, "delete", refuse_some)
    done = collect_garbage(grace_seconds=DAY, now=later())
    assert len(done.errors) == 25 and done.blobs == len(orphans) - 25


def test_a_row_sqlite_cannot_lock_now_is_skipped_and_the_rest_collected(client, fs_store, alice, monkeypatch):
    from django.db import OperationalError

    from hub.services import garbage

    make_repo(alice, "gone", {"a.bin": b"a" * 50, "b.bin": b"b" * 50}, lfs={"a.bin", "b.bin"})
    delete_repo(client, alice, "alice/gone")
    orphans = sorted(unreferenced())
    real = garbage.drop_blob_if_unreferenced

    def busy_once(sha256, **kwargs):
        if sha256 == orphans[0]:
            raise OperationalError("database is locked")
        return real(sha256, **kwargs)

    monkeypatch.setattr(garbage, "drop_blob_if_unreferenced", busy_once)
    done = collect_garbage(grace_seconds=DAY, now=later())
    assert (done.skipped, done.blobs) == (1, len(orphans) - 1) and not done.errors


def test_the_batch_does_not_call_stored_what_the_collector_took_meanwhile(
    client, fs_store, alice, monkeypatch
):
    """Presence is read, then the content refreshed; a collection in between must turn the answer
    back into an upload request (the commit would otherwise be refused for content never sent)."""
    from hub.hfapi import lfs
    from hub.services.blob_access import grant
    from tests.hub.test_blob_access import batch as lfs_batch

    content = b"taken between the check and the mark" * 20
    repo = make_repo(alice, "m", {"README.md": b"# m\n", "w.bin": content}, lfs={"w.bin"})
    RepoFile.objects.filter(sha256=sha(content)).delete()
    grant(repo.pk, sha(content), alice.pk)
    real_mark = lfs.mark_storing

    def collected_first(shas):
        BlobGrant.objects.all().delete()
        assert drop_blob_if_unreferenced(sha(content)) == len(content)
        return real_mark(shas)

    monkeypatch.setattr(lfs, "mark_storing", collected_first)
    answer = lfs_batch(client, token_for(alice), "alice/m", content)
    assert "actions" in answer  # asked to upload it again


def test_a_slow_fetch_checked_once_is_not_checked_again(fs_store, alice, monkeypatch):
    """The bulk import and ``apply`` both call ``ensure_still_stored``; after a slow fetch's check
    has refreshed its content, the second call has nothing to do."""
    import time

    from workers.mirror import sync
    from workers.mirror.sync import Fetched, FetchedFile, Outcome, ensure_still_stored

    content = b"checked once" * 10
    make_repo(alice, "src", {"w.bin": content}, lfs={"w.bin"})
    slow = Fetched(
        "up/m", Outcome.OK, files=[FetchedFile("w.bin", sha(content), len(content), True, None)],
        marked_at=time.monotonic() - 3 * 3600,
    )  # fmt: skip
    calls = []
    real = sync.mark_storing
    monkeypatch.setattr(sync, "mark_storing", lambda shas: calls.append(1) or real(shas))
    ensure_still_stored(slow)
    ensure_still_stored(slow)
    assert slow.outcome == Outcome.OK and len(calls) == 1
