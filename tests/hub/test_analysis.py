"""Per-commit analysis: the engine's result stored with its columns, weight files scanned."""

from __future__ import annotations

import io
import json
import logging
import os
import pickle
import struct
import zipfile

import pytest
from django.core.management import call_command

from hub.models import Commit, FileScan, Repository, RevisionAnalysis
from hub.services.scanning import scan_file
from tests.hub.conftest import make_repo

pytestmark = pytest.mark.django_db


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def evil_pickle() -> bytes:
    return pickle.dumps({"weights": [1, 2, 3], "hook": Evil()}, protocol=4)


def torch_like_zip(payload: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", payload)
        zf.writestr("archive/version", "3\n")
    return buf.getvalue()


def safetensors_bytes() -> bytes:
    header = {"a": {"dtype": "F16", "shape": [2, 3], "data_offsets": [0, 12]},
              "b": {"dtype": "F32", "shape": [4], "data_offsets": [12, 28]}}  # fmt: skip
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + bytes(28)


def test_scanner_outcomes():
    bad = scan_file("model.pkl", 0, io.BytesIO(evil_pickle()))
    assert bad.contains_pickle and any("system" in d for d in bad.dangerous_imports)
    zipped = scan_file("pytorch_model.bin", 0, io.BytesIO(torch_like_zip(evil_pickle())))
    assert zipped.contains_pickle and zipped.dangerous_imports and zipped.file_format == "zip-pickle"
    benign = scan_file("ok.pt", 0, io.BytesIO(pickle.dumps({"w": [1.0, 2.0]}, protocol=4)))
    assert benign.contains_pickle and benign.dangerous_imports == []
    st = safetensors_bytes()
    meta = scan_file("m.safetensors", len(st), io.BytesIO(st))
    assert (
        meta.parameter_count == 10
        and meta.safetensors_dtypes == {"F16": 6, "F32": 4}
        and meta.tensor_count == 2
    )
    broken = scan_file("m.safetensors", 5, io.BytesIO(b"\xff" * 5))
    assert broken.error and broken.parameter_count is None


@pytest.mark.parametrize("store_name", ["fs_store", "s3_store"])
def test_commit_triggers_analysis_and_scans(request, alice, store_name):
    request.getfixturevalue(store_name)
    repo = make_repo(alice, "scanned", {
        "README.md": b"---\nlicense: apache-2.0\n---\n# A model\n",
        "model.safetensors": safetensors_bytes(),
        "pytorch_model.bin": torch_like_zip(evil_pickle()),
    }, lfs=("model.safetensors", "pytorch_model.bin"))  # fmt: skip
    analysis = RevisionAnalysis.objects.get(commit=repo.head)
    assert analysis.status == "done", analysis.error
    assert analysis.license_key == "apache-2.0" and analysis.license_class == "osi-permissive"
    assert analysis.analysed_at is not None and analysis.engine_version
    rules = [v["rule"] for v in analysis.result["violations"]]
    assert "unsafe-serialization" in rules
    assert analysis.n_errors == sum(1 for v in analysis.result["violations"] if v["severity"] == "error") >= 1
    assert analysis.unsafe_files == 1
    repo.refresh_from_db()
    assert repo.latest_analysis_id == analysis.pk
    scans = {s.path: s for s in FileScan.objects.filter(commit=repo.head)}
    assert scans["model.safetensors"].parameter_count == 10 and not scans["model.safetensors"].contains_pickle
    assert scans["pytorch_model.bin"].contains_pickle and scans["pytorch_model.bin"].dangerous_imports


def test_safetensors_parameters_in_model_info(client, alice, fs_store):
    make_repo(alice, "st", {"model.safetensors": safetensors_bytes()}, lfs=("model.safetensors",))
    assert client.get("/api/models/alice/st").json()["safetensors"] == {
        "parameters": {"F16": 6, "F32": 4},
        "total": 10,
    }


def test_safetensors_parameters_in_model_listings(client, alice, fs_store):
    """``list_models(expand=["safetensors"])`` (the Hub answers it) came back without the key for every model."""
    make_repo(alice, "st", {"model.safetensors": safetensors_bytes()}, lfs=("model.safetensors",))
    make_repo(alice, "plain", {"README.md": b"# no weights\n"})
    for i in range(3):
        make_repo(alice, f"st{i}", {"model.safetensors": safetensors_bytes()}, lfs=("model.safetensors",))
    body = {m["id"]: m for m in client.get("/api/models?author=alice&expand=safetensors&expand=sha").json()}
    assert body["alice/st"]["safetensors"] == {"parameters": {"F16": 6, "F32": 4}, "total": 10}
    assert "safetensors" not in body["alice/plain"] and body["alice/plain"]["sha"]
    assert set(body["alice/st"]) == {"_id", "id", "sha", "safetensors"}
    # one query for the whole page, not one per model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/models?author=alice&expand=safetensors").status_code == 200
        return len(ctx.captured_queries)

    before = queries()
    make_repo(alice, "st9", {"model.safetensors": safetensors_bytes()}, lfs=("model.safetensors",))
    assert queries() == before


def test_seed_demo_is_idempotent(fs_store, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=io.StringIO())
    first = (Repository.objects.count(), Commit.objects.count())
    assert first[0] >= 4
    call_command("seed_demo", stdout=io.StringIO())
    assert (Repository.objects.count(), Commit.objects.count()) == first
    base = Repository.objects.get(namespace__name="modelhub-demo", name="tiny-base")
    assert base.latest_analysis.license_key == "apache-2.0"
    chat = Repository.objects.get(namespace__name="modelhub-demo", name="tiny-chat")
    assert chat.latest_analysis.license_class == "noncommercial"
    assert FileScan.objects.filter(commit=base.head, path="model.safetensors", parameter_count=36).exists()


def test_non_pickle_binary_is_not_spooled_or_flagged():
    class Unseekable(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self.inner, self.reads = io.BytesIO(data), 0

        def read(self, n=-1):
            self.reads += 1
            return self.inner.read(n)

        def seekable(self):
            return False

    body = Unseekable(b"\xff\x01random weights" * 1000)  # 0xff is no pickle opcode
    out = scan_file("model.bin", 15000, body)
    assert not out.contains_pickle and not out.dangerous_imports and not out.error
    assert body.reads == 1  # only the sniffed header was read
    evil = Unseekable(evil_pickle())
    assert scan_file("model.pkl", 0, evil).dangerous_imports
    legacy = Unseekable(pickle.dumps(Evil(), protocol=0))  # starts with "c", not the \x80 of protocol >= 2
    assert scan_file("model.pkl", 0, legacy).dangerous_imports


def test_scans_are_reused_by_blob_and_cost_fixed_queries(
    alice, fs_store, monkeypatch, django_assert_max_num_queries
):
    """A blob is scanned once, even when the scan ended in a parse error, and a revision's scan
    costs the same few queries however many weight files it holds (the soak found per-file
    queries and re-scans of unparseable files making analysis slower as repositories grew)."""
    from hub import tasks

    # pickle-looking files the scanner cannot parse to the end, and a safetensors file whose
    # header is broken: the last scan ends in an error, which is a property of the bytes too
    files = {f"w{i:02d}.bin": b"\x80\x04\xff" + bytes([i]) * 8 for i in range(12)}
    files["broken.safetensors"] = b"\xff" * 5
    repo = make_repo(alice, "many", files)
    first = {s.path: s for s in FileScan.objects.filter(commit=repo.head)}
    assert len(first) == 13 and first["broken.safetensors"].error.startswith("invalid safetensors header")

    opened: list[str] = []
    real_scan = tasks.scan_file
    monkeypatch.setattr(
        tasks, "scan_file", lambda path, size, fh: opened.append(path) or real_scan(path, size, fh)
    )
    with django_assert_max_num_queries(6):
        again = tasks.scan_revision(repo.head)
    assert opened == []  # every blob reused, the broken one included
    assert {s.path: (s.error, s.parameter_count) for s in again} == {
        p: (s.error, s.parameter_count) for p, s in first.items()
    }
    assert FileScan.objects.filter(commit=repo.head).count() == 13  # updated in place, no duplicates

    FileScan.objects.filter(commit=repo.head, path="w00.bin").update(error="content unavailable: store down")
    tasks.scan_revision(repo.head)
    assert opened == ["w00.bin"]  # a transient failure is retried, not reused


def test_server_analysis_reads_a_mergekit_config(alice, fs_store):
    """The server's snapshot reads mergekit_config.yml (the engine's choice of files and cap), so a
    merge whose card names no base_model is still judged against its parents."""
    recipe = (
        b"merge_method: slerp\nbase_model: meta-llama/Meta-Llama-3-8B\nmodels:\n  - model: org/other-7b\n"
    )
    repo = make_repo(alice, "quiet-merge", {
        "README.md": b"---\nlicense: apache-2.0\n---\n# A merge\n",
        "mergekit_config.yml": recipe,
    })  # fmt: skip
    analysis = RevisionAnalysis.objects.get(commit=repo.head)
    assert analysis.status == "done", analysis.error
    parents = [(p["id"], p["relation"]) for p in analysis.result["lineage"]["base_models"]]
    assert parents == [("meta-llama/Meta-Llama-3-8B", "merge"), ("org/other-7b", "merge")]
    assert ("relicensed-derivative", "meta-llama/Meta-Llama-3-8B") in {
        (v["rule"], v["parent"]) for v in analysis.result["violations"]
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("when", ["scanning", "running the engine"])
def test_a_repository_deleted_while_its_analysis_runs_ends_it_quietly(
    alice, fs_store, monkeypatch, caplog, when
):
    """The repository is deleted by another request while a worker analyses its head: while the
    weight files are scanned, or while the engine runs. The task used to crash (a foreign key to
    the deleted revision, a save that matched no row, a missing repository row: an error with a
    traceback in the worker's log for an ordinary deletion). It now ends as "missing", as a task
    that starts after the deletion does, and leaves no rows behind."""
    import hub.tasks

    with monkeypatch.context() as patch:
        patch.setattr("workers.enqueue.send_on_commit", lambda *args, **kwargs: None)
        repo = make_repo(alice, "m", {"README.md": b"---\nlicense: mit\n---\n# m\n", "w.pt": evil_pickle()})
    head = repo.head_id

    def delete_then(real):
        def call(*args, **kwargs):
            Repository.objects.get(pk=repo.pk).delete()  # another request, committed meanwhile
            return real(*args, **kwargs)

        return call

    target = "scan_file" if when == "scanning" else "snapshot_for_commit"
    monkeypatch.setattr(hub.tasks, target, delete_then(getattr(hub.tasks, target)))
    assert hub.tasks.analyze_revision(head) == "missing"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not RevisionAnalysis.objects.filter(commit_id=head).exists()
    assert not FileScan.objects.filter(commit_id=head).exists()
