"""Pull requests, ``lastCommit`` and access-request review with the unmodified ``huggingface_hub`` client.

Same harness as ``test_client_live``: every action runs in a subprocess against the live server,
with the newest client and with the last 0.x.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hub.models import AccessRequest
from tests.hub.conftest import make_repo, token_for
from tests.hub.test_client_live import make_change

pytestmark = [pytest.mark.django_db(transaction=True)]
SHA1 = re.compile(r"^[0-9a-f]{40}$")


def test_pull_request_lifecycle(run, alice, bob, fs_store, tmp_path):
    make_repo(alice, "pr", {"README.md": b"# pr\n", "config.json": b'{"v": 1}'})
    bob_token, alice_token = token_for(bob), token_for(alice)
    change = tmp_path / "config.json"
    change.write_bytes(b'{"v": 2}')
    # A reader proposes a change: it lands on refs/pr/1, not on main.
    opened = run("pr_upload", token=bob_token, repo_id="alice/pr", path=str(change), path_in_repo="config.json",
                 create_pr=True)  # fmt: skip
    assert opened.get("pr_revision") == "refs/pr/1" and opened["pr_num"] == 1, opened
    assert opened["pr_url"].endswith("/alice/pr/discussions/1")
    extra = tmp_path / "extra.txt"
    extra.write_bytes(b"more")
    pushed = run("pr_upload", token=bob_token, repo_id="alice/pr", path=str(extra), path_in_repo="extra.txt",
                 revision="refs/pr/1")  # fmt: skip
    assert SHA1.match(pushed.get("oid", "")), pushed
    on_pr = run("download", repo_id="alice/pr", filename="config.json", revision="refs/pr/1", home="pr")
    assert Path(on_pr["path"]).read_bytes() == b'{"v": 2}', on_pr
    on_main = run("download", repo_id="alice/pr", filename="config.json", home="main")
    assert Path(on_main["path"]).read_bytes() == b'{"v": 1}'
    listed = run("discussions", repo_id="alice/pr")["discussions"]
    assert listed == [{"num": 1, "title": "Upload config.json with huggingface_hub", "status": "open", "is_pr": True,
                       "author": "bob", "ref": "refs/pr/1"}], listed  # fmt: skip
    details = run("details", repo_id="alice/pr", num=1)
    assert details["target"] == "refs/heads/main" and details["conflicts"] == [], details
    assert details["commits"] == [opened["oid"], pushed["oid"]]
    assert (
        '-{"v": 1}' in details["diff"] and '+{"v": 2}' in details["diff"] and "b/extra.txt" in details["diff"]
    )
    assert run("refs", repo_id="alice/pr")["pull_requests"] == {"refs/pr/1": pushed["oid"]}
    # Only a writer merges.
    refused = run("merge", token=bob_token, repo_id="alice/pr", num=1)
    assert "HfHubHTTPError" in refused.get("bases", []) and "403" in refused["message"], refused
    assert run("merge", token=alice_token, repo_id="alice/pr", num=1, comment="thanks").get("ok")
    merged = run("details", repo_id="alice/pr", num=1)
    assert merged["status"] == "merged" and SHA1.match(merged["merge_commit"]), merged
    after = run(
        "download", repo_id="alice/pr", filename="config.json", revision=merged["merge_commit"], home="m2"
    )
    assert Path(after["path"]).read_bytes() == b'{"v": 2}'
    # A second PR, closed by its author instead of merged.
    second = run("pr_upload", token=alice_token, repo_id="alice/pr", path=str(extra), path_in_repo="other.txt",
                 create_pr=True)  # fmt: skip
    assert second.get("pr_num") == 2, second
    assert (
        run("status", token=alice_token, repo_id="alice/pr", num=2, status="closed")["new_status"] == "closed"
    )
    closed = run("discussions", repo_id="alice/pr", status="closed")["discussions"]
    assert sorted(d["num"] for d in closed) == [1, 2]
    assert [d["num"] for d in run("discussions", repo_id="alice/pr", status="open")["discussions"]] == []


def test_tree_and_paths_info_last_commit(run, alice, fs_store):
    repo = make_repo(alice, "hist", {"a.txt": b"a", "d/x.txt": b"x", "d/y.txt": b"y"})
    created, first = repo.head.parent.sha, repo.head.sha  # create_repo's commit, then make_repo's
    second = make_change(repo, alice, "d/x.txt", b"x2").sha
    tree = run("tree_expand", repo_id="alice/hist")["last"]
    assert tree == {
        ".gitattributes": created,
        "a.txt": first,
        "d": second,
        "d/x.txt": second,
        "d/y.txt": first,
    }
    info = run("paths_info_expand", repo_id="alice/hist", paths=["a.txt", "d/x.txt", "d"])["last"]
    assert info == {"a.txt": first, "d/x.txt": second, "d": second}


def test_access_request_review(run, alice, bob, django_user_model, fs_store):
    repo = make_repo(alice, "gate", {"config.json": b"{}"}, gated="manual")
    AccessRequest.objects.create(repository=repo, user=bob, fields={"company": "Acme"})
    django_user_model.objects.create_user("carol")
    admin, bob_token = token_for(alice), token_for(bob)

    def listed(status: str) -> list:
        out = run("access_requests", token=admin, repo_id="alice/gate", status=status)
        assert "error" not in out, out
        return [(r["user"], r["status"]) for r in out["requests"]]

    def review(verb: str, user: str, token: str = admin, **extra) -> dict:
        return run("handle_access", token=token, repo_id="alice/gate", verb=verb, user=user, **extra)

    pending = run("access_requests", token=admin, repo_id="alice/gate", status="pending")["requests"]
    assert pending == [{"user": "bob", "status": "pending", "fields": {"company": "Acme"}}]
    # Not an admin of the namespace: 403 for listing and deciding.
    denied = run("access_requests", token=bob_token, repo_id="alice/gate", status="pending")
    assert "HfHubHTTPError" in denied.get("bases", []) and "403" in denied["message"], denied
    assert "403" in review("accept", "bob", token=bob_token).get("message", "")
    gated = run("download", token=bob_token, repo_id="alice/gate", filename="config.json", home="b1")
    assert "GatedRepoError" in gated.get("bases", [])
    assert review("accept", "bob").get("ok")
    assert listed("accepted") == [("bob", "accepted")] and listed("pending") == []
    ok = run("download", token=bob_token, repo_id="alice/gate", filename="config.json", home="b2")
    assert "error" not in ok, ok
    again = review("accept", "bob")
    assert "404" in again.get("message", ""), again  # already accepted
    assert review("reject", "bob", reason="no").get("ok")
    assert listed("rejected") == [("bob", "rejected")]
    assert "GatedRepoError" in run("download", token=bob_token, repo_id="alice/gate", filename="config.json",
                                   home="b3").get("bases", [])  # fmt: skip
    assert review("cancel", "bob").get("ok")
    assert listed("pending") == [("bob", "pending")]
    assert review("grant", "carol").get("ok")
    assert listed("accepted") == [("carol", "accepted")]
    assert "404" in review("grant", "nobody").get("message", "")
