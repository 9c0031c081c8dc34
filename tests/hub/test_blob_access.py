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


def test_s3_stored_content_is_asked_for_as_a_staged_put(client, settings, s3_store, alice, bob):
    """On S3 a multipart upload would be assembled at the content address, which holds the stored
    copy: the batch asks for one staged PUT instead, and verify never vouches for the stored copy."""
    settings.MODELHUB_LFS_CHUNK_SIZE = 5 * 1024 * 1024
    big = SECRET * 6000  # over one part, so new content would be multipart
    make_repo(alice, "secret", {"w.bin": big}, lfs=("w.bin",), private=True)
    make_repo(bob, "mine", {"README.md": b"# mine\n"})
    token = token_for(bob)
    answer = batch(client, token, "bob/mine", big)
    upload = answer["actions"]["upload"]
    assert "header" not in upload  # one PUT, not parts
    assert verify(client, token, answer["actions"], big).status_code == 422  # nothing staged: no proof
    assert requests.put(upload["href"], data=big, timeout=30).status_code == 200
    assert verify(client, token, answer["actions"], big).status_code == 200
    assert commit_lfs(client, token, "bob/mine", big).status_code == 200
