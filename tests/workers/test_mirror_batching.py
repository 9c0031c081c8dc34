"""The mirror's batched writes: blobs stored a batch at a time, durable before the rows that use them."""

from __future__ import annotations

import gc
import hashlib
import json
import threading
from pathlib import Path

import pytest

from hub.blobstore import BlobStoreUnavailable, get_blob_store
from hub.blobstore.filesystem import FilesystemBlobStore
from hub.models import RepoFile, Repository
from hub.services.cards import card_data, card_data_json
from workers.mirror import bulk, sync
from workers.mirror.sync import Fetched, FetchedFile, Outcome, PendingBlob, prepare_batch, store_pending
from workers.models import MirroredRepo, MirrorRun

from .test_mirror import mirror

pytestmark = pytest.mark.django_db(transaction=True)


def _fetched(repo_id: str, content: bytes) -> Fetched:
    digest = hashlib.sha256(content).hexdigest()
    got = Fetched(repo_id, Outcome.OK, sha="a" * 40)
    got.files.append(FetchedFile("README.md", digest, len(content), False, None))
    got.pending.append(PendingBlob(content, digest))
    return got


def test_store_pending_stores_the_batch_at_once_and_isolates_what_cannot_be_stored(monkeypatch):
    store = get_blob_store()
    real, calls = type(store).put_many, []

    def put_many(self, contents, **kwargs):
        calls.append(len(contents))
        if b"unstorable" in contents:
            raise BlobStoreUnavailable("the blob store could not write: injected")
        return real(self, contents, **kwargs)

    monkeypatch.setattr(type(store), "put_many", put_many)
    good = [_fetched(f"acme/r{i}", f"card {i}".encode()) for i in range(5)]
    batch = [*good[:2], _fetched("acme/bad", b"unstorable"), *good[2:]]
    store_pending(batch)
    assert calls[0] == 6  # the whole batch first, then repository by repository
    assert batch[2].outcome == Outcome.FAILED and "injected" in batch[2].error
    for got in good:
        assert got.outcome == Outcome.OK and got.pending == []
        assert store.stat(got.files[0].sha256) is not None
    store_pending(good)  # nothing left to store: no call
    assert len(calls) == 1 + len(batch)


def test_rows_only_ever_reference_blobs_already_durable(upstream, monkeypatch):
    """First import (bulk) and an update (one by one): every file row's blob was stored before the row."""
    store = get_blob_store()
    assert isinstance(store, FilesystemBlobStore)
    durable: set[str] = set()
    batches: list[int] = []
    real_many, real_put = FilesystemBlobStore.put_many, FilesystemBlobStore.put

    def put_many(self, contents, **kwargs):
        infos = real_many(self, contents, **kwargs)
        batches.append(len(contents))
        durable.update(i.sha256 for i in infos)
        return infos

    def put(self, stream, **kwargs):
        info = real_put(self, stream, **kwargs)
        durable.add(info.sha256)
        return info

    real_insert, real_create_commit = bulk.insert, sync.create_commit
    referenced: list[str] = []

    def insert(model, rows, **kwargs):
        if model is RepoFile:
            assert {r["sha256"] for r in rows} <= durable
            referenced.extend(r["sha256"] for r in rows)
        return real_insert(model, rows, **kwargs)

    def create_commit(repo, branch, request, **kwargs):
        shas = [op.sha256 for op in request.operations if hasattr(op, "sha256")]
        assert set(shas) <= durable
        referenced.extend(shas)
        return real_create_commit(repo, branch, request, **kwargs)

    monkeypatch.setattr(FilesystemBlobStore, "put_many", put_many)
    monkeypatch.setattr(FilesystemBlobStore, "put", put)
    monkeypatch.setattr(bulk, "insert", insert)
    monkeypatch.setattr(sync, "create_commit", create_commit)

    state = upstream.state
    run = mirror(upstream, "--files", "none")
    assert run.changed == len(state.repos) and run.failed == 0
    with_readme = [rid for rid, r in state.repos.items() if "README.md" in r.head.files]
    assert len(referenced) == len(with_readme) >= 100
    assert len(batches) < len(state.repos) / 10  # a batch per durability step, not a file
    changed = sorted(with_readme)[:3]
    for rid in changed:
        state.update_file(rid, "README.md", state.repos[rid].head.files["README.md"] + b"\nedited\n")
    again = mirror(upstream, "--files", "none")
    assert again.changed == len(changed) and again.failed == 0
    assert len(referenced) == len(with_readme) + len(changed)
    for rid in changed:
        owner, name = rid.split("/")
        head = Repository.objects.get(namespace__name=owner, name=name).head
        readme = RepoFile.objects.get(commit=head, path="README.md")
        with store.open(readme.sha256) as fh:
            assert fh.read() == state.repos[rid].head.files["README.md"]


def test_a_batch_whose_blobs_cannot_be_stored_fails_those_repos_and_the_run_goes_on(upstream, monkeypatch):
    state = upstream.state
    victim = sorted(rid for rid, r in state.repos.items() if "README.md" in r.head.files)[7]
    poison = state.repos[victim].head.files["README.md"]
    real = FilesystemBlobStore.put_many

    def put_many(self, contents, **kwargs):
        if poison in contents:
            raise BlobStoreUnavailable("the blob store's disk is full; free space and retry")
        return real(self, contents, **kwargs)

    monkeypatch.setattr(FilesystemBlobStore, "put_many", put_many)
    run = mirror(upstream, "--files", "none")
    same = [rid for rid, r in state.repos.items() if r.head.files.get("README.md") == poison]
    assert run.failed == len(same) and run.changed == len(state.repos) - len(same)
    assert {e["repo"] for e in run.errors} == set(same)
    assert not MirroredRepo.objects.filter(upstream_id__in=same).exists()
    # the next run, with a working store, catches up
    monkeypatch.setattr(FilesystemBlobStore, "put_many", real)
    again = mirror(upstream, "--files", "none")
    assert again.changed == len(same) and again.failed == 0
    assert MirrorRun.objects.count() == 2


def _readmes(corpus_dir: Path, limit: int = 400) -> list[bytes]:
    folder = corpus_dir / "model-cards"
    if not folder.is_dir():
        pytest.skip("corpus absent")
    return [p.read_bytes() for p in sorted(folder.rglob("README.md"))[:limit]]


def test_prepare_batch_parses_each_card_once_and_drops_the_readme_bytes():
    readme = b"---\nlicense: mit\ntags: [a, b]\n---\n# Card\n"
    batch = [_fetched("acme/one", readme), _fetched("acme/two", b"no front matter")]
    for got in batch:
        got.readme = got.pending[0].content
    prepare_batch(batch)
    assert [(g.card, g.card_json) for g in batch] == [card_data_json(readme), ({}, "{}")]
    assert all(g.readme is None and g.pending == [] for g in batch)
    batch[0].card = {"kept": True}
    batch[0].read_card()  # nothing left to parse: the card stays as it is
    assert batch[0].card == {"kept": True}


def test_cards_are_parsed_with_their_batch_and_the_columns_match_each_readme(upstream, monkeypatch):
    """The fetch threads only download; the blob thread parses a batch's cards back to back."""
    parsed_on: list[str] = []
    real = Fetched.read_card

    def read_card(self):
        if self.readme is not None:
            parsed_on.append(threading.current_thread().name)
        real(self)

    monkeypatch.setattr(Fetched, "read_card", read_card)
    state = upstream.state
    run = mirror(upstream, "--files", "none")
    assert run.changed == len(state.repos) and run.failed == 0
    with_readme = sorted(rid for rid, r in state.repos.items() if "README.md" in r.head.files)
    assert len(parsed_on) == len(with_readme) >= 100
    assert {name.split("_")[0] for name in parsed_on} == {"mirror-blobs"}
    for rid in with_readme:
        owner, name = rid.split("/")
        repo = Repository.objects.get(namespace__name=owner, name=name)
        assert repo.card_data == card_data(state.repos[rid].head.files["README.md"]), rid


def test_card_json_text_is_what_the_json_column_would_store(corpus_dir):
    readmes = _readmes(corpus_dir)
    assert len(readmes) >= 100
    for readme in readmes:
        data, text = card_data_json(readme)
        assert data == card_data(readme) and text == json.dumps(data)
    tricky = b"---\n1: one\n'1': uno\nwhen: 2023-05-17\nscore: .nan\nbig: .inf\nnested: {2: [1, .nan]}\n---\n"
    data, text = card_data_json(tricky)
    assert data == {
        "1": "uno",
        "when": "2023-05-17",
        "score": "nan",
        "big": "inf",
        "nested": {"2": [1, "nan"]},
    }
    assert text == json.dumps(data)  # keys that collided once coerced: encoded again from the result
    assert card_data_json(b"no front matter") == ({}, "{}") and card_data_json(None) == ({}, "{}")


def test_a_store_without_a_batch_step_is_written_from_the_fetch_threads(upstream, monkeypatch):
    """S3's ``put_many`` is a loop over ``put``: holding READMEs for it would only serialise the PUTs."""
    calls: list[int] = []
    real = FilesystemBlobStore.put_many

    def put_many(self, contents, **kwargs):
        calls.append(len(contents))
        return real(self, contents, **kwargs)

    monkeypatch.setattr(FilesystemBlobStore, "batch_durable", False)
    monkeypatch.setattr(FilesystemBlobStore, "put_many", put_many)
    run = mirror(upstream, "--files", "none")
    assert run.failed == 0 and run.changed == len(upstream.state.repos)
    assert calls == []
    store = get_blob_store()
    for row in RepoFile.objects.all():
        assert store.stat(row.sha256).size == row.size


def test_a_mirror_run_writes_its_rows_with_the_bulk_writer_settings(upstream, monkeypatch):
    """The run loop's writes happen inside ``rows.bulk_writes`` (SQLite: bigger page cache) with the
    process's long-lived objects frozen out of the cyclic collector, and both are undone after."""
    from django.db import connection

    from workers.mirror import run as run_module
    from workers.mirror.rows import BULK_CACHE_KIB

    seen: list[int | None] = []
    frozen: list[int] = []
    real = run_module.import_new

    def import_new(*args, **kwargs):
        frozen.append(gc.get_freeze_count())
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size")
                seen.append(cursor.fetchone()[0])
        else:
            seen.append(None)
        return real(*args, **kwargs)

    monkeypatch.setattr(run_module, "import_new", import_new)
    assert gc.get_freeze_count() == 0
    run = mirror(upstream, "--files", "none")
    assert run.changed > 0 and seen
    if connection.vendor == "sqlite":
        assert set(seen) == {-BULK_CACHE_KIB}
    # the long-lived objects were out of the collector's sight while rows were written, and back after
    assert min(frozen) > 1000 and gc.get_freeze_count() == 0
