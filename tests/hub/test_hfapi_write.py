"""The upload surface through Django's test client: NDJSON commits, LFS batch, atomicity, limits."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from hub.models import Blob, Commit, Ref, RepoFile, Repository
from tests.hub.conftest import make_repo, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def auth(alice):
    return {"HTTP_AUTHORIZATION": f"Bearer {token_for(alice)}"}


@pytest.fixture
def repo(alice, fs_store):
    return make_repo(alice, "up", {"README.md": b"# v1\n", "old/a.txt": b"a", "old/b.txt": b"b"})


def ndjson(*items) -> bytes:
    return b"\n".join(json.dumps(i).encode() for i in items) + b"\n"


def header(summary="msg", **extra):
    return {"key": "header", "value": {"summary": summary, "description": "", **extra}}


def inline(path: str, content: bytes):
    return {
        "key": "file",
        "value": {"path": path, "content": base64.b64encode(content).decode(), "encoding": "base64"},
    }


def lfs_file(path: str, content: bytes):
    return {"key": "lfsFile", "value": {"path": path, "algo": "sha256", "oid": hashlib.sha256(content).hexdigest(),
                                        "size": len(content)}}  # fmt: skip


def post_commit(client, auth, body: bytes, rev="main"):
    return client.generic(
        "POST", f"/api/models/alice/up/commit/{rev}", body, content_type="application/x-ndjson", **auth
    )


def upload_lfs(client, auth, content: bytes) -> None:
    oid = hashlib.sha256(content).hexdigest()
    batch = client.post(
        "/alice/up.git/info/lfs/objects/batch",
        data=json.dumps({"operation": "upload", "transfers": ["basic", "multipart"],
                         "objects": [{"oid": oid, "size": len(content)}], "hash_algo": "sha256"}),
        content_type="application/vnd.git-lfs+json", **auth,
    ).json()  # fmt: skip
    actions = batch["objects"][0]["actions"]
    put = client.generic("PUT", actions["upload"]["href"].replace("http://testserver", ""), content)
    assert put.status_code == 200, put.content
    verify = client.post(
        actions["verify"]["href"].replace("http://testserver", ""), data=json.dumps({"oid": oid, "size": len(content)}),
        content_type="application/vnd.git-lfs+json", **auth,
    )  # fmt: skip
    assert verify.status_code == 200, verify.content


def test_commit_adds_updates_and_deletes(client, auth, repo):
    weights = b"\x01" * 4096
    upload_lfs(client, auth, weights)
    body = ndjson(header("second"), inline("README.md", b"# v2\n"), lfs_file("w.bin", weights),
                  {"key": "deletedFolder", "value": {"path": "old/"}})  # fmt: skip
    resp = post_commit(client, auth, body)
    assert resp.status_code == 200, resp.content
    out = resp.json()
    assert out["success"] and len(out["commitOid"]) == 40
    assert out["commitUrl"] == f"http://testserver/alice/up/commit/{out['commitOid']}"
    head = Ref.objects.get(repository=repo, name="main").commit
    assert head.sha == out["commitOid"] and head.parent.sha == repo.head.sha
    files = {f.path: f for f in RepoFile.objects.filter(commit=head)}
    assert set(files) == {".gitattributes", "README.md", "w.bin"}
    assert files["w.bin"].lfs and files["w.bin"].sha256 == hashlib.sha256(weights).hexdigest()
    # The old revision is untouched.
    assert {f.path for f in RepoFile.objects.filter(commit=repo.head)} >= {"old/a.txt", "old/b.txt"}


def test_commit_with_missing_or_mismatched_blob_is_rejected_whole(client, auth, repo):
    before = (
        Commit.objects.count(),
        RepoFile.objects.count(),
        Ref.objects.get(repository=repo, name="main").commit_id,
    )
    never = b"never uploaded"
    body = ndjson(header(), inline("new.txt", b"ok"), lfs_file("w.bin", never))
    resp = post_commit(client, auth, body)
    assert resp.status_code == 422 and "w.bin" in resp.json()["error"]
    stored = b"stored content"
    upload_lfs(client, auth, stored)
    wrong_size = lfs_file("w.bin", stored)
    wrong_size["value"]["size"] += 1
    assert (
        post_commit(client, auth, ndjson(header(), inline("new.txt", b"ok"), wrong_size)).status_code == 422
    )
    assert (Commit.objects.count(), RepoFile.objects.count(),
            Ref.objects.get(repository=repo, name="main").commit_id) == before  # fmt: skip


def test_lfs_upload_with_wrong_content_is_not_stored(client, auth, repo):
    claimed = hashlib.sha256(b"the real thing").hexdigest()
    batch = client.post(
        "/alice/up.git/info/lfs/objects/batch",
        data=json.dumps({"operation": "upload", "objects": [{"oid": claimed, "size": 14}]}),
        content_type="application/vnd.git-lfs+json", **auth,
    ).json()  # fmt: skip
    href = batch["objects"][0]["actions"]["upload"]["href"].replace("http://testserver", "")
    assert client.generic("PUT", href, b"something else").status_code == 400
    assert not Blob.objects.filter(sha256=claimed).exists()
    forged = href[:-3] + ("aaa" if not href.endswith("aaa") else "bbb")
    assert client.generic("PUT", forged, b"the real thing").status_code == 403


def test_unusual_but_safe_filenames_are_kept(client, auth, repo):
    """Non-ASCII names in either normal form (macOS writes NFD) and 255-byte names are fine."""
    for path in ("caf\u00e9.txt", "cafe\u0301.txt", "n" * 251 + ".txt", "\u65e5\u672c/\u8a9e.md"):
        resp = post_commit(client, auth, ndjson(header(), inline(path, b"x")))
        assert resp.status_code == 200, (path, resp.content)


@pytest.mark.parametrize(
    "path",
    [
        "../escape.txt",
        "a/../../b",
        "/abs.txt",
        "back\\slash.txt",
        "nul\u0000.txt",
        "bell\u0007.txt",
        ".git/x",
        ".GIT/config",
        "sub/.Git/hooks/post-checkout",
        ".g\u200cit/config",  # zero-width: the same name as .git on HFS+
        "csi\u009b.txt",  # C1 control
        "rtl\u202etxt.exe",  # bidi override: lists as "rtlexe.txt"
        "zero\u200bwidth.txt",
        "x" * 256 + ".txt",  # longer than any filesystem's name limit
    ],
)
def test_unsafe_filenames_are_refused(client, auth, repo, path):
    before = Commit.objects.count()
    resp = post_commit(client, auth, ndjson(header(), inline(path, b"x")))
    assert resp.status_code == 400, resp.content
    pre = client.post("/api/models/alice/up/preupload/main", data=json.dumps({"files": [{"path": path, "size": 1}]}),
                      content_type="application/json", **auth)  # fmt: skip
    assert pre.status_code == 400
    assert Commit.objects.count() == before


def test_size_caps_answer_413(client, auth, repo, settings):
    settings.MAX_INLINE_FILE_SIZE = 1024
    resp = post_commit(client, auth, ndjson(header(), inline("big.txt", b"x" * 5000)))
    assert resp.status_code == 413 and "LFS" in resp.json()["error"]
    settings.MAX_FILE_SIZE = 10_000
    batch = client.post(
        "/alice/up.git/info/lfs/objects/batch",
        data=json.dumps({"operation": "upload", "objects": [{"oid": "a" * 64, "size": 10_001}]}),
        content_type="application/vnd.git-lfs+json", **auth,
    )  # fmt: skip
    assert batch.status_code == 413 and "per-file limit" in batch["X-Error-Message"]
    settings.MAX_FILE_SIZE = 10**9
    content = b"y" * 3000
    upload_lfs(client, auth, content)
    settings.MAX_COMMIT_SIZE = 5000
    two = lfs_file("a.bin", content), lfs_file("b.bin", content)
    resp = post_commit(client, auth, ndjson(header(), *two))
    assert resp.status_code == 413 and "per-commit limit" in resp.json()["error"]


def test_parent_commit_mismatch_and_unknown_branch(client, auth, repo):
    stale = ndjson(header(parentCommit="0" * 40), inline("x.txt", b"x"))
    assert post_commit(client, auth, stale).status_code == 412
    ok = ndjson(header(parentCommit=repo.head.sha[:7]), inline("x.txt", b"x"))
    assert post_commit(client, auth, ok).status_code == 200
    resp = post_commit(client, auth, ndjson(header(), inline("x.txt", b"x")), rev="nobranch")
    assert resp.status_code == 404 and resp["X-Error-Code"] == "RevisionNotFound"


def test_writes_need_write_access(client, repo, bob):
    body = ndjson(header(), inline("x.txt", b"x"))
    assert post_commit(client, {}, body).status_code == 401
    assert post_commit(client, {"HTTP_AUTHORIZATION": f"Bearer {token_for(bob)}"}, body).status_code == 403


def test_create_repo_and_conflict(client, auth, alice, fs_store):
    resp = client.post(
        "/api/repos/create", data={"name": "fresh", "private": True}, content_type="application/json", **auth
    )
    assert resp.status_code == 200 and resp.json()["url"] == "http://testserver/alice/fresh"
    repo = Repository.objects.get(name="fresh")
    assert repo.private and repo.head is not None
    again = client.post("/api/repos/create", data={"name": "fresh"}, content_type="application/json", **auth)
    assert again.status_code == 409
    assert again.json()["url"] == "http://testserver/alice/fresh"  # the client reads it with exist_ok
    ds = client.post(
        "/api/repos/create", data={"name": "data", "type": "dataset"}, content_type="application/json", **auth
    )
    assert ds.json()["url"] == "http://testserver/datasets/alice/data"
    assert client.get("/api/datasets/alice/data").json()["id"] == "alice/data"
    bad = client.post("/api/repos/create", data={"name": "../x"}, content_type="application/json", **auth)
    assert bad.status_code == 400


def test_preupload_modes_and_oids(client, auth, repo):
    files = [
        {"path": "README.md", "size": 5, "sample": base64.b64encode(b"# v1\n").decode()},
        {"path": "model.safetensors", "size": 100, "sample": ""},
        {"path": "big.txt", "size": 20 * 1024 * 1024, "sample": base64.b64encode(b"text").decode()},
        {"path": "blob.dat", "size": 10, "sample": base64.b64encode(b"\0\1\2").decode()},
        {"path": "logs/x.log", "size": 3, "sample": ""},
    ]
    resp = client.post("/api/models/alice/up/preupload/main", data=json.dumps({"files": files, "gitIgnore": "*.log"}),
                       content_type="application/json", **auth)  # fmt: skip
    out = {f["path"]: f for f in resp.json()["files"]}
    assert [out[p]["uploadMode"] for p in ("README.md", "model.safetensors", "big.txt", "blob.dat")] == [
        "regular", "lfs", "lfs", "lfs"]  # fmt: skip
    assert out["README.md"]["oid"] == RepoFile.objects.get(commit=repo.head, path="README.md").oid
    assert out["logs/x.log"]["shouldIgnore"] is True and out["README.md"]["shouldIgnore"] is False


def test_preupload_sends_files_above_a_lowered_inline_cap_through_lfs(client, auth, repo, settings):
    """With MODELHUB_MAX_INLINE_FILE_SIZE below the Hub's 10 MiB threshold, a text file between the
    two must be answered 'lfs': sent inline, the commit would refuse it (413)."""
    settings.MAX_INLINE_FILE_SIZE = 1000
    files = [
        {"path": f"notes-{n}.txt", "size": n, "sample": base64.b64encode(b"text").decode()}
        for n in (1000, 5000)
    ]
    resp = client.post("/api/models/alice/up/preupload/main", data=json.dumps({"files": files}),
                       content_type="application/json", **auth)  # fmt: skip
    assert [f["uploadMode"] for f in resp.json()["files"]] == ["regular", "lfs"]


def test_ndjson_line_length_is_capped(client, auth, repo, settings):
    settings.MAX_INLINE_FILE_SIZE = 100
    line = b'{"key": "file", "value": {"path": "x", "content": "' + b"A" * 100_000 + b'"}}'
    resp = post_commit(client, auth, ndjson(header()) + line + b"\n")
    assert resp.status_code == 413


def test_files_stored_before_the_path_rules_can_still_be_deleted(client, auth, alice, fs_store):
    """A name the hub accepted before the invisible-character rule is removable (deleting writes
    no name to anyone's disk), while adding it again is refused."""
    from hub.models import RepoFile
    from tests.hub.conftest import make_repo

    old = "docs/note\u200b.md"
    make_repo(alice, "up", {"README.md": b"# v1\n", "docs/note.md": b"x"})
    RepoFile.objects.filter(path="docs/note.md").update(path=old)  # as a file stored before the rule
    refused = post_commit(client, auth, ndjson(header(), inline(old, b"y")))
    assert refused.status_code == 400
    deleted = post_commit(client, auth, ndjson(header(), {"key": "deletedFile", "value": {"path": old}}))
    assert deleted.status_code == 200, deleted.content
    assert not RepoFile.objects.filter(commit__sha=deleted.json()["commitOid"], path=old).exists()


def test_delete_tag(client, auth, repo, bob):
    """``HfApi.delete_tag`` (and ``hf repos tag delete``) sends DELETE /api/{kind}/{repo}/tag/{tag}."""
    for tag in ("v1", "release/1"):
        created = client.post(
            "/api/models/alice/up/tag/main", data={"tag": tag}, content_type="application/json", **auth
        )
        assert created.status_code == 200, created.content
    client.post("/api/models/alice/up/branch/v1", **auth)  # a branch of the same name stays
    assert client.delete("/api/models/alice/up/tag/v1").status_code == 401
    assert (
        client.delete(
            "/api/models/alice/up/tag/v1", HTTP_AUTHORIZATION=f"Bearer {token_for(bob)}"
        ).status_code
        == 403
    )
    assert client.delete("/api/models/alice/up/tag/v1", **auth).status_code == 200
    assert client.delete("/api/models/alice/up/tag/release%2F1", **auth).status_code == 200
    assert not Ref.objects.filter(repository=repo, kind=Ref.Kind.TAG).exists()
    assert Ref.objects.filter(repository=repo, kind=Ref.Kind.BRANCH, name="v1").exists()
    again = client.delete("/api/models/alice/up/tag/v1", **auth)
    assert again.status_code == 404 and again["X-Error-Code"] == "RevisionNotFound"
