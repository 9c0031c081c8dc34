"""Pull requests and discussions through Django's test client: refs/pr/N, permissions, merge, conflicts."""

from __future__ import annotations

import json

import pytest

from hub.models import Discussion, Ref, RepoFile
from tests.hub.conftest import make_repo, token_for
from tests.hub.test_hfapi_write import header, inline, ndjson

pytestmark = pytest.mark.django_db


@pytest.fixture
def repo(alice, fs_store):
    return make_repo(alice, "up", {"README.md": b"# v1\n", "a.txt": b"a\n", "b.txt": b"b\n"})


def bearer(user, write: bool = True) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token_for(user, write=write)}"}


def commit(client, auth, *items, rev="main", create_pr=False):
    query = "?create_pr=1" if create_pr else ""
    return client.generic(
        "POST", f"/api/models/alice/up/commit/{rev}{query}", ndjson(*items), content_type="application/x-ndjson",
        **auth,
    )  # fmt: skip


def fetch(client, path: str) -> bytes:
    resp = client.get(path)
    assert resp.status_code == 200, resp
    return b"".join(resp.streaming_content) if resp.streaming else resp.content


def merge(client, auth, num: int):
    return client.post(
        f"/api/models/alice/up/discussions/{num}/merge", b"", content_type="application/json", **auth
    )


def files_at(rev: str, client) -> dict[str, str]:
    tree = client.get(f"/api/models/alice/up/tree/{rev}?recursive=true").json()
    return {e["path"]: e["oid"] for e in tree if e["type"] == "file"}


def test_create_pr_commits_on_a_new_ref_and_leaves_main_alone(client, repo, alice):
    main_before = repo.head.sha
    resp = commit(client, bearer(alice), header("Add c"), inline("c.txt", b"c\n"), create_pr=True)
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["pullRequestUrl"].endswith("/alice/up/discussions/1")
    pr_ref = Ref.objects.get(repository=repo, kind=Ref.Kind.PR, name="1")
    assert pr_ref.commit.sha == body["commitOid"] and pr_ref.commit.parent.sha == main_before
    assert Ref.objects.get(repository=repo, kind=Ref.Kind.BRANCH, name="main").commit.sha == main_before
    # refs/pr/1, URL-encoded as the client sends it, resolves everywhere a revision does.
    assert fetch(client, "/alice/up/resolve/refs%2Fpr%2F1/c.txt") == b"c\n"
    assert client.get("/api/models/alice/up/revision/refs%2Fpr%2F1").json()["sha"] == body["commitOid"]
    assert "c.txt" in files_at("refs%2Fpr%2F1", client) and "c.txt" not in files_at("main", client)
    assert client.get("/alice/up/resolve/main/c.txt").status_code == 404
    # A bare number is not a revision: only refs/pr/N names a pull request.
    assert client.get("/api/models/alice/up/revision/1").status_code == 404
    refs = client.get("/api/models/alice/up/refs?include_prs=1").json()
    assert refs["pullRequests"] == [{"name": "1", "ref": "refs/pr/1", "targetCommit": body["commitOid"]}]
    assert [b["name"] for b in refs["branches"]] == ["main"]


def test_a_reader_opens_a_pr_pushes_to_it_and_only_a_writer_merges(client, repo, alice, bob):
    assert commit(client, bearer(bob), header("direct"), inline("x.txt", b"x")).status_code == 403
    opened = commit(client, bearer(bob), header("Bob's fix"), inline("a.txt", b"A\n"), create_pr=True)
    assert opened.status_code == 200, opened.content
    pushed = commit(client, bearer(bob), header("more"), inline("d.txt", b"d\n"), rev="refs%2Fpr%2F1")
    assert pushed.status_code == 200, pushed.content
    # Someone else's pull request is not a place to push to.
    carol_auth = bearer(type(alice).objects.create_user("carol"))
    assert (
        commit(client, carol_auth, header("x"), inline("e.txt", b"e"), rev="refs%2Fpr%2F1").status_code == 403
    )
    assert merge(client, bearer(bob), 1).status_code == 403
    merged = merge(client, bearer(alice), 1)
    assert merged.status_code == 200, merged.content
    main = files_at("main", client)
    assert fetch(client, "/alice/up/resolve/main/a.txt") == b"A\n" and "d.txt" in main
    disc = Discussion.objects.get(repository=repo, num=1)
    assert disc.status == "merged" and disc.merge_commit.sha == merged.json()["mergeCommitId"]
    details = client.get("/api/models/alice/up/discussions/1").json()
    assert details["changes"]["mergeCommitId"] == disc.merge_commit.sha
    assert [e["type"] for e in details["events"]] == ["commit", "commit", "status-change"]
    # Merged is final: no second merge, no re-opening, no pushes.
    assert merge(client, bearer(alice), 1).status_code == 409
    status = client.post(
        "/api/models/alice/up/discussions/1/status", json.dumps({"status": "open"}),
        content_type="application/json", **bearer(alice),
    )  # fmt: skip
    assert status.status_code == 409
    assert (
        commit(client, bearer(bob), header("late"), inline("f.txt", b"f"), rev="refs%2Fpr%2F1").status_code
        == 409
    )


def test_merge_applies_changes_on_a_moved_target_and_refuses_conflicts(client, repo, alice):
    auth = bearer(alice)
    commit(client, auth, header("pr one"), inline("a.txt", b"from pr\n"), create_pr=True)
    commit(client, auth, header("pr two"), inline("b.txt", b"pr b\n"), create_pr=True)
    # main moves on: touches b.txt (conflicting with PR 2) and adds an unrelated file.
    commit(client, auth, header("main"), inline("b.txt", b"main b\n"), inline("z.txt", b"z"))
    details = client.get("/api/models/alice/up/discussions/2").json()
    assert details["filesWithConflicts"] == ["b.txt"]
    assert "-b\n+pr b\n" in details["diff"] and "diff --git a/b.txt b/b.txt" in details["diff"]
    refused = merge(client, auth, 2)
    assert refused.status_code == 409 and "b.txt" in refused.json()["error"]
    ok = merge(client, auth, 1)
    assert ok.status_code == 200, ok.content
    main = {r.path: r for r in RepoFile.objects.filter(commit__sha=ok.json()["mergeCommitId"])}
    assert set(main) == {".gitattributes", "README.md", "a.txt", "b.txt", "z.txt"}
    assert fetch(client, "/alice/up/resolve/main/b.txt") == b"main b\n"
    assert fetch(client, "/alice/up/resolve/main/a.txt") == b"from pr\n"


def test_a_refused_pr_commit_leaves_no_pull_request(client, repo, alice):
    missing = {"key": "lfsFile", "value": {"path": "w.bin", "algo": "sha256", "oid": "0" * 64, "size": 3}}
    resp = commit(client, bearer(alice), header("broken"), missing, create_pr=True)
    assert resp.status_code == 422
    assert not Discussion.objects.filter(repository=repo).exists()
    assert not Ref.objects.filter(repository=repo, kind=Ref.Kind.PR).exists()


def test_discussion_listing_filters_and_pages(client, repo, alice, bob):
    auth = bearer(alice)
    for i in range(3):
        made = client.post(
            "/api/models/alice/up/discussions", json.dumps({"title": f"question {i}", "description": "why?"}),
            content_type="application/json", **bearer(bob),
        )  # fmt: skip
        assert made.status_code == 200 and made.json()["num"] == i + 1
    commit(client, auth, header("a pr"), inline("p.txt", b"p"), create_pr=True)
    client.post(
        "/api/models/alice/up/discussions/1/status", json.dumps({"status": "closed", "comment": "done"}),
        content_type="application/json", **bearer(bob),
    )  # fmt: skip
    everything = client.get("/api/models/alice/up/discussions").json()
    assert everything["count"] == 4 and [d["num"] for d in everything["discussions"]] == [4, 3, 2, 1]
    assert (
        everything["discussions"][0]["isPullRequest"]
        and everything["discussions"][0]["author"]["name"] == "alice"
    )
    prs = client.get("/api/models/alice/up/discussions?type=pull_request").json()
    assert [d["num"] for d in prs["discussions"]] == [4]
    closed = client.get("/api/models/alice/up/discussions?status=closed").json()
    assert [d["num"] for d in closed["discussions"]] == [1]
    by_bob = client.get("/api/models/alice/up/discussions?author=bob&status=open").json()
    assert [d["num"] for d in by_bob["discussions"]] == [3, 2]
    first = client.get("/api/models/alice/up/discussions/1").json()
    assert [e["type"] for e in first["events"]] == ["comment", "status-change", "comment"]
    assert first["events"][0]["data"]["latest"]["raw"] == "why?" and "changes" not in first
    assert client.get("/api/models/alice/up/discussions/99").status_code == 404


def test_private_repo_discussions_are_404_to_outsiders(client, alice, bob, fs_store):
    make_repo(alice, "secret", {"a.txt": b"a"}, private=True)
    for path in ("/api/models/alice/secret/discussions", "/api/models/alice/secret/discussions/1"):
        assert client.get(path, **bearer(bob)).status_code == 404
    created = client.post(
        "/api/models/alice/secret/discussions", json.dumps({"title": "hello"}), content_type="application/json",
        **bearer(bob),
    )  # fmt: skip
    assert created.status_code == 404 and created["X-Error-Code"] == "RepoNotFound"


def test_a_pr_whose_target_branch_is_gone_still_shows_and_cannot_merge(client, repo, alice):
    auth = bearer(alice)
    assert client.post("/api/models/alice/up/branch/dev", **auth).status_code == 200
    assert (
        commit(client, auth, header("on dev"), inline("dev.txt", b"d"), rev="dev", create_pr=True).status_code
        == 200
    )
    assert client.delete("/api/models/alice/up/branch/dev", **auth).status_code == 200
    details = client.get("/api/models/alice/up/discussions/1").json()
    assert details["changes"]["base"] == "refs/heads/dev" and details["filesWithConflicts"] == []
    assert "b/dev.txt" in details["diff"]
    refused = merge(client, auth, 1)
    assert refused.status_code == 409 and "no longer exists" in refused.json()["error"]
