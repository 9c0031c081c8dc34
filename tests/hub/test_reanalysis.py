"""Stored analyses made by an older engine or knowledge base: stamped, shown as such, re-judged.

Before session 12 every analysis was stamped ``modelhub 0.1.0`` whatever the knowledge base said,
so an upgrade that changed a licence's class or a rule left every stored verdict in place with no
way to tell it from a current one and no way to re-judge it short of re-uploading.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from hub import tasks
from hub.models import RevisionAnalysis
from hub.services import reanalysis
from licenses.engine.version import engine_fingerprint, fingerprint_of
from tests.hub.conftest import make_repo, token_for

pytestmark = pytest.mark.django_db

CARD = b"---\nlicense: apache-2.0\n---\n# A model\n"
OLD = "modelhub 0.1.0"  # what every analysis was stamped with before the fingerprint


def _age(repo) -> RevisionAnalysis:
    """Make ``repo``'s head analysis look like an older engine's (its stamp, and a stale verdict)."""
    analysis = RevisionAnalysis.objects.get(commit=repo.head)
    RevisionAnalysis.objects.filter(pk=analysis.pk).update(engine_version=OLD, license_key="cc-by-nc-4.0")
    analysis.refresh_from_db()
    return analysis


def _commit(repo, user, readme: bytes) -> None:
    """A second commit of ``readme`` on main, through the real commit service."""
    from django.test import TestCase

    from hub.services.blobs import store_small
    from hub.services.commits import AddFile, CommitRequest, create_commit

    stored = store_small(readme, 1024 * 1024)
    op = AddFile("README.md", stored.sha256, stored.size, lfs=False, git_oid=stored.git_oid)
    with TestCase.captureOnCommitCallbacks(execute=True):
        create_commit(repo, "main", CommitRequest(title="edit", operations=[op]), author=user)
    repo.refresh_from_db()


def test_fingerprint_follows_the_knowledge_base_and_the_engine(tmp_path: Path):
    engine, data = tmp_path / "engine", tmp_path / "data"
    (engine / "rules").mkdir(parents=True)
    (data / "licenses").mkdir(parents=True)
    (engine / "rules" / "r.py").write_text("RULE = 1\n")
    (data / "licenses" / "x.yaml").write_text("class: osi-permissive\n")
    first = fingerprint_of(engine, data)
    (engine / "rules" / "__pycache__").mkdir()
    (engine / "rules" / "__pycache__" / "r.cpython-311.pyc").write_bytes(b"\0compiled")
    assert fingerprint_of(engine, data) == first  # bytecode is not the engine
    (data / "licenses" / "x.yaml").write_text("class: noncommercial\n")
    reclassed = fingerprint_of(engine, data)
    assert reclassed != first
    (engine / "rules" / "r.py").write_text("RULE = 2\n")
    assert fingerprint_of(engine, data) not in (first, reclassed)
    (data / "licenses" / "x.yaml").rename(data / "licenses" / "y.yaml")
    assert len({fingerprint_of(engine, data), first, reclassed}) == 3  # a renamed entry counts too


def test_new_analyses_carry_the_engine_fingerprint(alice, fs_store):
    repo = make_repo(alice, "stamped", {"README.md": CARD})
    analysis = RevisionAnalysis.objects.get(commit=repo.head)
    assert analysis.engine_version == reanalysis.current_engine_version()
    assert analysis.engine_version.endswith("+" + engine_fingerprint())
    assert reanalysis.is_current(analysis)
    assert not reanalysis.stale_analyses().exists()


def test_a_failed_analysis_is_stamped_so_the_sweep_does_not_retry_it_for_ever(alice, fs_store, monkeypatch):
    repo = make_repo(alice, "fails", {"README.md": CARD})
    _age(repo)

    def boom(*args, **kwargs):
        raise RuntimeError("engine fault")

    monkeypatch.setattr("licenses.engine.analyze.analyze_snapshot", boom)
    assert tasks.analyze_revision.run(repo.head_id) == "failed"
    analysis = RevisionAnalysis.objects.get(commit=repo.head)
    assert analysis.status == "failed" and analysis.engine_version == reanalysis.current_engine_version()
    assert not reanalysis.stale_analyses().exists()


def test_a_blob_store_outage_is_left_for_the_sweep_to_retry(alice, fs_store, monkeypatch):
    """A store that cannot be read says nothing about the revision: the failure is recorded but not
    stamped as this engine's answer, so the stale sweep re-judges it once the store is back (stamped,
    it waited for the next engine change)."""
    from hub.blobstore import BlobStoreUnavailable

    repo = make_repo(alice, "outage", {"README.md": CARD})
    _age(repo)

    def store_down(*args, **kwargs):
        raise BlobStoreUnavailable("blob store unreachable")

    with monkeypatch.context() as patch:
        patch.setattr(tasks, "snapshot_for_commit", store_down)
        assert tasks.analyze_revision.run(repo.head_id) == "failed"
    analysis = RevisionAnalysis.objects.get(commit=repo.head)
    assert analysis.status == "failed" and analysis.engine_version == ""
    assert list(reanalysis.stale_analyses()) == [analysis]
    assert tasks.analyze_revision.run(repo.head_id) == "done"  # the store is back
    assert not reanalysis.stale_analyses().exists()


def test_reanalyse_command_rejudges_stale_heads_resumably(alice, fs_store):
    repos = [make_repo(alice, f"m{i}", {"README.md": CARD}) for i in range(3)]
    older = make_repo(alice, "two-commits", {"README.md": CARD})
    first_commit = older.head
    _commit(older, alice, CARD + b"More.\n")
    for repo in [*repos, older]:
        _age(repo)
    RevisionAnalysis.objects.filter(commit=first_commit).update(engine_version=OLD)

    out = io.StringIO()
    call_command("reanalyse", "--dry-run", stdout=out)
    assert "4 stale head analyses" in out.getvalue() and OLD in out.getvalue()
    assert RevisionAnalysis.objects.filter(engine_version=OLD).count() == 5  # dry run: nothing changed

    call_command("reanalyse", "--limit", "2", stdout=io.StringIO(), stderr=io.StringIO())
    assert reanalysis.stale_analyses().count() == 2  # bounded; the rest is still stale ...
    call_command("reanalyse", stdout=io.StringIO(), stderr=io.StringIO())
    assert reanalysis.stale_analyses().count() == 0  # ... and the next run continues with it
    for repo in [*repos, older]:
        analysis = RevisionAnalysis.objects.get(commit=repo.head)
        assert (analysis.license_key, analysis.engine_version) == (
            "apache-2.0",
            reanalysis.current_engine_version(),
        )
        repo.refresh_from_db()
        assert repo.license_key == "apache-2.0"  # the catalogue's columns follow
    # the superseded revision is only re-judged on request
    assert RevisionAnalysis.objects.get(commit=first_commit).engine_version == OLD
    call_command("reanalyse", "--all-revisions", stdout=io.StringIO(), stderr=io.StringIO())
    assert (
        RevisionAnalysis.objects.get(commit=first_commit).engine_version
        == reanalysis.current_engine_version()
    )


def test_api_and_model_page_say_an_answer_is_from_an_older_engine(alice, fs_store, client):
    repo = make_repo(alice, "shown", {"README.md": CARD})
    _age(repo)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token_for(alice, write=False)}"}
    body = client.get("/api/v1/repos/alice/shown/analysis", **auth).json()
    assert (body["engine_version"], body["engine_current"]) == (OLD, False)
    listed = client.get("/api/v1/repos?author=alice", **auth).json()
    assert [r["analysis"]["engine_current"] for r in listed["results"] if r["id"] == "alice/shown"] == [False]
    page = client.get("/alice/shown").content.decode()
    assert 'class="stale-engine"' in page and OLD in page

    call_command("reanalyse", stdout=io.StringIO(), stderr=io.StringIO())
    assert client.get("/api/v1/repos/alice/shown/analysis", **auth).json()["engine_current"] is True
    assert 'class="stale-engine"' not in client.get("/alice/shown").content.decode()


def test_beat_sweep_sends_a_bounded_batch_only_to_an_idle_queue(alice, fs_store, monkeypatch, settings):
    repos = [make_repo(alice, f"b{i}", {"README.md": CARD}) for i in range(3)]
    for repo in repos:
        _age(repo)
    sent: list[int] = []
    monkeypatch.setattr("workers.enqueue.send", lambda task, args, kwargs, **kw: sent.append(args[0]) or True)
    assert tasks.reanalyse_stale() == 0  # in-process tasks: no broker to be polite to

    monkeypatch.setitem(tasks.app.conf, "task_always_eager", False)
    monkeypatch.setattr(tasks, "_queue_length", lambda queue="celery": 5)
    assert tasks.reanalyse_stale() == 0 and sent == []  # uploads and mirror runs go first
    monkeypatch.setattr(tasks, "_queue_length", lambda queue="celery": 0)
    settings.REANALYSE_BATCH = 2
    assert tasks.reanalyse_stale() == 2
    assert sent == sorted(r.head_id for r in repos)[:2]  # oldest commits first, at most the batch


def test_reanalyse_refuses_a_negative_limit(alice, fs_store):
    """``--limit -1`` reached the queryset slice and ended in a ``ValueError`` traceback."""
    _age(make_repo(alice, "limited", {"README.md": CARD}))
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="-1 is negative; give 0 or more"):
        call_command("reanalyse", "--limit", "-1", stdout=io.StringIO(), stderr=io.StringIO())
    assert reanalysis.stale_analyses().count() == 1


def test_ctrl_c_keeps_what_was_done_and_says_how_to_continue(alice, fs_store, monkeypatch):
    """docs/operations.md: "Ctrl-C and re-run to continue". The interrupt ended in a traceback from
    wherever the engine was; now it names what was done and the command to run again."""
    from django.core.management.base import CommandError

    repos = [make_repo(alice, f"ctrl-c-{i}", {"README.md": CARD}) for i in range(3)]
    for repo in repos:
        _age(repo)
    real_run = tasks.analyze_revision.run
    calls = []

    def interrupted(commit_id):
        calls.append(commit_id)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_run(commit_id)

    monkeypatch.setattr(tasks.analyze_revision, "run", interrupted)
    with pytest.raises(
        CommandError, match=r"interrupted after 1 of 3 stale head analyses; run `manage.py reanalyse` again"
    ):
        call_command("reanalyse", stdout=io.StringIO(), stderr=io.StringIO())
    assert reanalysis.stale_analyses().count() == 2
    monkeypatch.setattr(tasks.analyze_revision, "run", real_run)
    call_command("reanalyse", stdout=io.StringIO(), stderr=io.StringIO())
    assert reanalysis.stale_analyses().count() == 0


def test_fingerprint_is_that_of_what_an_install_carries(tmp_path: Path):
    """Every process of one hub must agree, or each finds the others' answers stale for ever: a
    checkout's stray files (not in the wheel) and CRLF line endings do not change the fingerprint."""
    engine, data = tmp_path / "engine", tmp_path / "data"
    (engine / "rules").mkdir(parents=True)
    (data / "licenses").mkdir(parents=True)
    (engine / "rules" / "r.py").write_bytes(b"RULE = 1\nOTHER = 2\n")
    (data / "licenses" / "x.yaml").write_bytes(b"class: osi-permissive\nkey: x\n")
    clean = fingerprint_of(engine, data)
    (data / "licenses" / "x.yaml.orig").write_bytes(b"left by a merge\n")
    (data / ".DS_Store").write_bytes(b"\0\1")
    (data / "licenses" / ".x.yaml.swp").write_bytes(b"editor")
    (engine / "rules" / "r.py~").write_bytes(b"RULE = 0\n")
    (data / "licenses" / "x.yaml").write_bytes(b"class: osi-permissive\r\nkey: x\r\n")
    (engine / "rules" / "r.py").write_bytes(b"RULE = 1\r\nOTHER = 2\r\n")
    assert fingerprint_of(engine, data) == clean
    (data / "licenses" / "z.json").write_text("{}")  # a file the wheel ships counts
    assert fingerprint_of(engine, data) != clean


def test_every_tracked_knowledge_base_file_is_in_the_fingerprint():
    """A data file of a suffix the fingerprint skips would change answers without changing it."""
    import subprocess

    from licenses.engine import version as v

    root = v.ENGINE_DIR.parent.parent
    try:
        tracked = subprocess.run(
            ["git", "ls-files", "licenses/data", "licenses/engine"],
            cwd=root, capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    counted = {
        p.relative_to(root).as_posix()
        for d, suffixes in ((v.ENGINE_DIR, v.ENGINE_SUFFIXES), (v.DATA_DIR, v.DATA_SUFFIXES))
        for p in v._files(d, suffixes)
    }
    assert tracked and set(tracked) <= counted


@pytest.mark.parametrize("package", ["0.2.0", "dev", "0.1.0.dev1234+g0123456789.d20260101"])
def test_only_the_fingerprint_decides_whether_an_answer_is_current(alice, fs_store, monkeypatch, package):
    """A version bump with the same engine, or a process run from a checkout (``dev``) beside one
    installed from the wheel, re-judged every repository; a long version cut the fingerprint off."""
    import importlib.metadata

    repo = make_repo(alice, "same-engine", {"README.md": CARD})
    made_by_040 = f"modelhub 0.4.0+{engine_fingerprint()}"
    RevisionAnalysis.objects.filter(commit=repo.head).update(engine_version=made_by_040)
    monkeypatch.setattr(importlib.metadata, "version", lambda name: package)
    reanalysis.current_engine_version.cache_clear()
    try:
        stamp = reanalysis.current_engine_version()
        assert len(stamp) <= 40 and stamp.endswith("+" + engine_fingerprint())
        assert reanalysis.is_current(RevisionAnalysis.objects.get(commit=repo.head))
        assert not reanalysis.stale_analyses().exists()
        RevisionAnalysis.objects.filter(commit=repo.head).update(engine_version="modelhub 0.4.0+000000000000")
        assert not reanalysis.is_current(RevisionAnalysis.objects.get(commit=repo.head))
        assert reanalysis.stale_analyses().count() == 1
    finally:
        reanalysis.current_engine_version.cache_clear()
