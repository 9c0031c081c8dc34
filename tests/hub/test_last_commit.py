"""``lastCommit`` in tree and paths-info with ``expand``: the last commit that changed each path."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hub.models import RepoFile
from tests.hub.conftest import make_repo
from tests.hub.test_client_live import make_change

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(alice, fs_store):
    """Three commits: 'add files' (a, d/x, d/y), then 'change' d/x, then 'change' of identical a."""
    repo = make_repo(alice, "hist", {"a.txt": b"a", "d/x.txt": b"x", "d/y.txt": b"y", "e/z.txt": b"z"})
    first = repo.head
    second = make_change(repo, alice, "d/x.txt", b"x2")
    third = make_change(repo, alice, "a.txt", b"a")  # same content: does not touch a.txt
    return first, second, third


def test_tree_expand_names_the_commit_that_last_changed_each_path(client, history):
    first, second, _ = history
    tree = client.get("/api/models/alice/hist/tree/main?recursive=true&expand=true").json()
    last = {e["path"]: e["lastCommit"]["id"] for e in tree}
    assert last["a.txt"] == first.sha  # re-adding identical content is not a change
    assert last["d/x.txt"] == second.sha and last["d"] == second.sha  # a folder: its newest file
    assert last["d/y.txt"] == first.sha and last["e"] == first.sha and last["e/z.txt"] == first.sha
    entry = next(e for e in tree if e["path"] == "d/x.txt")
    assert entry["lastCommit"]["title"] == "change" and entry["lastCommit"]["date"].endswith("Z")
    # Older revisions answer as of themselves.
    old = client.get(f"/api/models/alice/hist/tree/{first.sha}/d?expand=true").json()
    assert {e["path"]: e["lastCommit"]["id"] for e in old} == {"d/x.txt": first.sha, "d/y.txt": first.sha}


def test_paths_info_expand(client, history):
    first, second, _ = history
    resp = client.post(
        "/api/models/alice/hist/paths-info/main", {"paths": ["a.txt", "d", "missing"], "expand": "true"}
    )
    got = {e["path"]: e["lastCommit"]["id"] for e in resp.json()}
    assert got == {"a.txt": first.sha, "d": second.sha}
    plain = client.post("/api/models/alice/hist/paths-info/main", {"paths": ["a.txt"]}).json()
    assert "lastCommit" not in plain[0]


def test_rows_carry_the_last_commit_forward(history):
    first, second, third = history
    rows = {r.path: r for r in RepoFile.objects.filter(commit=third)}
    assert rows["a.txt"].last_commit_id == first.pk and rows["d/x.txt"].last_commit_id == second.pk
    changed_here = RepoFile.objects.get(commit=second, path="d/x.txt")
    assert changed_here.last_commit_id is None  # NULL: changed in its own commit


def test_tree_expand_costs_the_same_queries_whatever_the_history(client, alice, fs_store):
    repo = make_repo(alice, "long", {f"f{i}.txt": b"0" for i in range(8)})

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert (
                client.get("/api/models/alice/long/tree/main?recursive=true&expand=true").status_code == 200
            )
        return len(ctx.captured_queries)

    before = queries()
    for i in range(8):
        make_change(repo, alice, f"f{i}.txt", f"{i + 1}".encode())
    assert queries() == before


def test_migration_backfills_rows_written_before_the_column(history):
    """0006's data step rebuilds what the commit service now records, from the rows alone."""
    import importlib

    from django.apps import apps

    assert RepoFile.objects.filter(commit=history[2], last_commit__isnull=False).exists()
    recorded = dict(RepoFile.objects.values_list("pk", "last_commit_id"))
    RepoFile.objects.update(last_commit=None)
    importlib.import_module("hub.migrations.0006_pull_requests_last_commit").backfill_last_commit(apps, None)
    assert dict(RepoFile.objects.values_list("pk", "last_commit_id")) == recorded
