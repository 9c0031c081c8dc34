"""Naming stored content by sha256: a hash is not a key to someone else's files.

Blobs are shared across repositories, and the sha256 of a gated or private file can be public
(tree listings, LFS pointers). A commit or LFS batch naming such a hash must behave as if the
content had never been uploaded, unless the caller may download it or uploads the bytes.
"""

from __future__ import annotations

import hashlib
import json

import pytest
import requests

from hub.models import AccessRequest, BlobGrant, Commit, RepoFile
from tests.hub.conftest import make_repo, token_for
from tests.hub.test_s3_multipart import put_parts, stored_bytes

pytestmark = pytest.mark.django_db

SECRET = b"private weights \x00\x01" * 64
LFS = "application/vnd.git-lfs+json"


def oid(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def commit_lfs(client, token, repo_id, content, path="stolen.bin"):
    body = (
        json.dumps({"key": "header", "value": {"summary": "add"}})
        + "\n"
        + json.dumps(
            {
                "key": "lfsFile",
                "value": {"path": path, "algo": "sha256", "oid": oid(content), "size": len(content)},
            }
        )
        + "\n"
    ).encode()
    return client.generic(
        "POST", f"/api/models/{repo_id}/commit/main", body, content_type="application/x-ndjson",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )  # fmt: skip


def batch(client, token, repo_id, content, transfers=("basic", "multipart")):
    return client.post(
        f"/{repo_id}.git/info/lfs/objects/batch",
        data=json.dumps({"operation": "upload", "transfers": list(transfers),
                         "objects": [{"oid": oid(content), "size": len(content)}]}),
        content_type=LFS, HTTP_AUTHORIZATION=f"Bearer {token}",
    ).json()["objects"][0]  # fmt: skip


def verify(client, token, actions, content):
    return client.post(
        actions["verify"]["href"].replace("http://testserver", ""),
        data=json.dumps({"oid": oid(content), "size": len(content)}),
        content_type=LFS, HTTP_AUTHORIZATION=f"Bearer {token}",
    )  # fmt: skip


@pytest.fixture
def bob_repo(bob, fs_store):
    return make_repo(bob, "mine", {"README.md": b"# mine\n"})


@pytest.mark.parametrize("kind", ["private", "gated"])
def test_a_hash_does_not_copy_content_the_committer_cannot_read(client, alice, bob, bob_repo, kind):
    make_repo(alice, "secret", {"w.bin": SECRET}, lfs=("w.bin",), private=kind == "private",
              gated="manual" if kind == "gated" else "")  # fmt: skip
    token = token_for(bob)
    commits = Commit.objects.filter(repository=bob_repo).count()
    refused = commit_lfs(client, token, "bob/mine", SECRET)
    never = commit_lfs(client, token, "bob/mine", b"content nobody ever uploaded")
    assert refused.status_code == never.status_code == 422
    # the refusal reads exactly like the one for content that does not exist
    assert (
        refused["X-Error-Message"]
        == f"stolen.bin: content {oid(SECRET)} was never uploaded (or failed verification)"
    )
    assert not RepoFile.objects.filter(commit__repository=bob_repo, path="stolen.bin").exists()
    assert Commit.objects.filter(repository=bob_repo).count() == commits
    assert client.get("/bob/mine/resolve/main/stolen.bin").status_code == 404


def test_batch_does_not_say_that_unreadable_content_is_stored(client, alice, bob, bob_repo):
    make_repo(alice, "secret", {"w.bin": SECRET}, lfs=("w.bin",), private=True)
    assert "actions" in batch(client, token_for(bob), "bob/mine", SECRET)  # asked for, as if new
    assert "actions" not in batch(client, token_for(alice), "alice/secret", SECRET)  # her own: stored


def test_uploading_the_bytes_proves_possession(client, alice, bob, bob_repo):
    make_repo(alice, "secret", {"w.bin": SECRET}, lfs=("w.bin",), private=True)
    token = token_for(bob)
    answer = batch(client, token, "bob/mine", SECRET)
    put = client.generic("PUT", answer["actions"]["upload"]["href"].replace("http://testserver", ""), SECRET)
    assert put.status_code == 200
    assert verify(client, token, answer["actions"], SECRET).status_code == 200
    assert commit_lfs(client, token, "bob/mine", SECRET).status_code == 200
    assert b"".join(client.get("/bob/mine/resolve/main/stolen.bin").streaming_content) == SECRET


def test_wrong_bytes_prove_nothing(client, alice, bob, bob_repo):
    make_repo(alice, "secret", {"w.bin": SECRET}, lfs=("w.bin",), private=True)
    token = token_for(bob)
    answer = batch(client, token, "bob/mine", SECRET)
    put = client.generic(
        "PUT", answer["actions"]["upload"]["href"].replace("http://testserver", ""), b"x" * 10
    )
    assert put.status_code == 400
    assert verify(client, token, answer["actions"], SECRET).status_code == 422
    assert commit_lfs(client, token, "bob/mine", SECRET).status_code == 422
    assert not BlobGrant.objects.filter(repository=bob_repo).exists()


def test_readable_content_is_reused_without_upload(client, alice, bob, bob_repo):
    """Dedup stays where it leaks nothing: public files, and gated files the committer was granted."""
    make_repo(alice, "open", {"w.bin": SECRET}, lfs=("w.bin",))
    assert "actions" not in batch(client, token_for(bob), "bob/mine", SECRET)
    assert commit_lfs(client, token_for(bob), "bob/mine", SECRET).status_code == 200

    other = b"gated weights" * 100
    gated = make_repo(alice, "gated", {"w.bin": other}, lfs=("w.bin",), gated="manual")
    assert commit_lfs(client, token_for(bob), "bob/mine", other, "g.bin").status_code == 422
    AccessRequest.objects.create(repository=gated, user=bob, status=AccessRequest.Status.ACCEPTED)
    assert commit_lfs(client, token_for(bob), "bob/mine", other, "g.bin").status_code == 200


def test_content_in_the_repositorys_own_history_can_be_named_again(client, bob, fs_store):
    make_repo(bob, "hist", {"w.bin": SECRET}, lfs=("w.bin",), private=True)
    assert commit_lfs(client, token_for(bob), "bob/hist", SECRET, "copy.bin").status_code == 200


def upload_through(client, actions, content):
    """What huggingface_hub does with a batch answer: one PUT, or parts then the completion call."""
    upload = actions["upload"]
    header = upload.get("header")
    if not header:
        href = upload["href"]
        if href.startswith("http://testserver"):
            return client.generic("PUT", href.replace("http://testserver", ""), content).status_code
        return requests.put(href, data=content, timeout=30).status_code
    urls = [header[k] for k in sorted(header) if k != "chunk_size"]
    parts = put_parts(urls, content, int(header["chunk_size"]))
    done = client.post(
        upload["href"].replace("http://testserver", ""),
        data=json.dumps({"oid": oid(content), "parts": [{"partNumber": n, "etag": e} for n, e in parts]}),
        content_type="application/json",
    )
    return done.status_code


@pytest.mark.parametrize("size", ["single", "multipart"])
def test_s3_stored_content_is_asked_for_like_new_content(client, settings, s3_store, alice, bob, size):
    """On S3 the answer for stored-but-unreadable content has the shape of new content's (no
    oracle), a multipart one is assembled at a staging key (never over the stored object), and
    verify vouches only for this upload's bytes."""
    settings.MODELHUB_LFS_CHUNK_SIZE = 5 * 1024 * 1024
    content = SECRET * (6000 if size == "multipart" else 1)
    make_repo(alice, "secret", {"w.bin": content}, lfs=("w.bin",), private=True)
    make_repo(bob, "mine", {"README.md": b"# mine\n"})
    token = token_for(bob)
    stored_answer = batch(client, token, "bob/mine", content)
    new_answer = batch(client, token, "bob/mine", content[::-1])  # never uploaded
    assert ("header" in stored_answer["actions"]["upload"]) == ("header" in new_answer["actions"]["upload"])
    assert ("header" in stored_answer["actions"]["upload"]) == (size == "multipart")
    assert verify(client, token, stored_answer["actions"], content).status_code == 422  # nothing uploaded yet
    assert upload_through(client, stored_answer["actions"], content) == 200
    assert verify(client, token, stored_answer["actions"], content).status_code == 200
    assert commit_lfs(client, token, "bob/mine", content).status_code == 200
    assert stored_bytes(s3_store, oid(content)) == content  # the stored object is intact
    assert s3_store.client.list_objects_v2(Bucket=s3_store.bucket, Prefix="incoming/")["KeyCount"] == 0


@pytest.mark.parametrize("stored", [True, False])
def test_s3_verify_credits_no_one_but_the_uploader(
    client, settings, s3_store, alice, bob, django_user_model, stored
):
    """Bob uploads content (that he holds) but has not verified yet; Mallory, who knows its hash,
    verifies with her own batch's link: nothing of hers arrived, so she gets nothing, and Bob's
    own verify still succeeds. (Before tickets, whoever verified first was credited.)"""
    settings.MODELHUB_LFS_CHUNK_SIZE = 5 * 1024 * 1024
    content = b"weights bob really has" * 100
    if stored:
        make_repo(alice, "gated", {"w.bin": content}, lfs=("w.bin",), gated="manual")
    make_repo(bob, "mine", {"README.md": b"# mine\n"})
    mallory = django_user_model.objects.create_user("mallory")
    make_repo(mallory, "pub", {"README.md": b"# pub\n"})
    bob_token, mallory_token = token_for(bob), token_for(mallory)
    bobs = batch(client, bob_token, "bob/mine", content)
    assert upload_through(client, bobs["actions"], content) == 200
    mallorys = batch(client, mallory_token, "mallory/pub", content)
    assert verify(client, mallory_token, mallorys["actions"], content).status_code == 422
    assert commit_lfs(client, mallory_token, "mallory/pub", content).status_code == 422
    assert verify(client, bob_token, bobs["actions"], content).status_code == 200
    assert commit_lfs(client, bob_token, "bob/mine", content).status_code == 200
    # a verify link works only for its own object and repository
    wrong = client.post(
        bobs["actions"]["verify"]["href"].replace("http://testserver", "").replace("bob/mine", "mallory/pub"),
        data=json.dumps({"oid": oid(content), "size": len(content)}),
        content_type=LFS, HTTP_AUTHORIZATION=f"Bearer {mallory_token}",
    )  # fmt: skip
    assert wrong.status_code == 400


def test_batch_costs_a_bounded_number_of_queries(client, alice, bob, bob_repo, django_assert_max_num_queries):
    """Which of many objects are stored, and which of those the caller may use, are one question
    each, not one per object."""
    contents = [b"shared %d" % i * 50 for i in range(60)]
    make_repo(
        alice,
        "open",
        {f"f{i}.bin": c for i, c in enumerate(contents)},
        lfs=tuple(f"f{i}.bin" for i in range(60)),
    )
    body = json.dumps({"operation": "upload", "objects": [{"oid": oid(c), "size": len(c)} for c in contents]})
    with django_assert_max_num_queries(20):  # one query for the stored rows, plus a fixed few
        answer = client.post("/bob/mine.git/info/lfs/objects/batch", data=body, content_type=LFS,
                             HTTP_AUTHORIZATION=f"Bearer {token_for(bob)}").json()  # fmt: skip
    assert all("actions" not in o for o in answer["objects"])


def test_s3_two_parallel_uploads_of_the_same_new_content_both_verify(client, settings, s3_store, bob):
    """Both batches come before either upload completes: one claims the address, the other is
    staged, and both uploaders' verify succeeds (S3 would keep only one object at the address)."""
    settings.MODELHUB_LFS_CHUNK_SIZE = 5 * 1024 * 1024
    content = b"new weights, twice at once" * 250_000  # 6.5 MB: multipart
    make_repo(bob, "a", {"README.md": b"# a\n"})
    make_repo(bob, "b", {"README.md": b"# b\n"})
    token = token_for(bob)
    first, second = batch(client, token, "bob/a", content), batch(client, token, "bob/b", content)
    assert upload_through(client, first["actions"], content) == 200
    assert upload_through(client, second["actions"], content) == 200
    assert verify(client, token, first["actions"], content).status_code == 200
    assert verify(client, token, second["actions"], content).status_code == 200
    assert commit_lfs(client, token, "bob/a", content).status_code == 200
    assert commit_lfs(client, token, "bob/b", content).status_code == 200
    assert stored_bytes(s3_store, oid(content)) == content
    assert s3_store.client.list_objects_v2(Bucket=s3_store.bucket, Prefix="incoming/")["KeyCount"] == 0


def test_s3_a_staged_upload_does_not_replace_one_awaiting_its_verify(client, settings, s3_store, alice, bob):
    """Bob's multipart upload sits at the address, not yet verified; Alice uploads the same bytes
    by one PUT and verifies first. Her publish must not write over Bob's object (its ticket would
    go), so Bob's verify still succeeds."""
    settings.MODELHUB_LFS_CHUNK_SIZE = 5 * 1024 * 1024
    content = b"shared by two" * 500_000  # multipart for bob
    make_repo(bob, "mine", {"README.md": b"# mine\n"})
    make_repo(alice, "hers", {"README.md": b"# hers\n"}, private=True)
    bob_token, alice_token = token_for(bob), token_for(alice)
    bobs = batch(client, bob_token, "bob/mine", content)
    assert "header" in bobs["actions"]["upload"]
    assert upload_through(client, bobs["actions"], content) == 200
    alices = batch(client, alice_token, "alice/hers", content, transfers=("basic",))
    assert "header" not in alices["actions"]["upload"]
    assert upload_through(client, alices["actions"], content) == 200
    assert verify(client, alice_token, alices["actions"], content).status_code == 200
    assert verify(client, bob_token, bobs["actions"], content).status_code == 200
    assert commit_lfs(client, bob_token, "bob/mine", content).status_code == 200


@pytest.mark.parametrize("fails", ["record_blob", "grant"])
def test_s3_a_verify_retried_after_a_database_failure_succeeds(
    client, settings, s3_store, bob, monkeypatch, fails
):
    """The staged copy is dropped only after the rows are written: a 503 in between leaves the
    upload where a retried verify finds it."""
    from django.db import OperationalError

    from hub.hfapi import lfs

    content = b"small weights" * 1000  # one PUT to the staging key
    make_repo(bob, "mine", {"README.md": b"# mine\n"})
    token = token_for(bob)
    answer = batch(client, token, "bob/mine", content)
    assert upload_through(client, answer["actions"], content) == 200
    real = getattr(lfs, fails)
    calls = []

    def once_broken(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(*args, **kwargs)

    monkeypatch.setattr(lfs, fails, once_broken)
    assert verify(client, token, answer["actions"], content).status_code == 503
    assert verify(client, token, answer["actions"], content).status_code == 200
    assert commit_lfs(client, token, "bob/mine", content).status_code == 200
    assert s3_store.client.list_objects_v2(Bucket=s3_store.bucket, Prefix="incoming/")["KeyCount"] == 0


def test_an_upload_serves_its_uploader_and_writers_not_other_pull_request_authors(
    client, alice, bob, django_user_model, fs_store
):
    """Bob uploads content he holds to Carol's public repo (for a pull request) but never commits
    it; Mallory, who cannot read the gated original, may not name it in her own pull request."""
    content = b"gated weights bob also has" * 40
    make_repo(alice, "gated", {"w.bin": content}, lfs=("w.bin",), gated="manual")
    carol = django_user_model.objects.create_user("carol")
    mallory = django_user_model.objects.create_user("mallory")
    make_repo(carol, "pub", {"README.md": b"# pub\n"})
    bob_token, mallory_token, carol_token = token_for(bob), token_for(mallory), token_for(carol)
    answer = batch(client, bob_token, "carol/pub", content)
    assert upload_through(client, answer["actions"], content) == 200
    assert verify(client, bob_token, answer["actions"], content).status_code == 200

    def pr(token, path):
        body = (
            json.dumps({"key": "header", "value": {"summary": "add"}}) + "\n"
            + json.dumps({"key": "lfsFile", "value": {"path": path, "algo": "sha256", "oid": oid(content),
                                                      "size": len(content)}}) + "\n"
        ).encode()  # fmt: skip
        return client.generic("POST", "/api/models/carol/pub/commit/main?create_pr=1", body,
                              content_type="application/x-ndjson", HTTP_AUTHORIZATION=f"Bearer {token}")  # fmt: skip

    assert pr(mallory_token, "stolen.bin").status_code == 422
    assert pr(bob_token, "mine.bin").status_code == 200  # the uploader
    assert commit_lfs(client, carol_token, "carol/pub", content, "merged.bin").status_code == 200  # a writer
