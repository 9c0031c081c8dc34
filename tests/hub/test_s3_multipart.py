"""Presigned uploads on S3 (moto server): parts PUT by a plain HTTP client, completed at the content
address (never over an existing object), then verified by sha256 in place; and the races around it."""

from __future__ import annotations

import hashlib
import os

import pytest
import requests

from hub.blobstore import BlobNotFound, BlobStoreUnavailable, ChecksumMismatch
from hub.blobstore.s3 import S3BlobStore


@pytest.fixture
def s3(s3_bucket, moto_s3_endpoint):
    return S3BlobStore(s3_bucket, endpoint_url=moto_s3_endpoint)


def put_parts(urls: list[str], data: bytes, part: int) -> list[tuple[int, str]]:
    parts = []
    for number, url in enumerate(urls, start=1):
        resp = requests.put(url, data=data[(number - 1) * part : number * part], timeout=30)
        resp.raise_for_status()
        parts.append((number, resp.headers["ETag"]))
    return parts


def test_multipart_upload_is_verified_and_published(s3):
    part = 5 * 1024 * 1024
    data = os.urandom(2 * part + 123)
    digest = hashlib.sha256(data).hexdigest()
    upload_id, urls = s3.start_multipart_upload(digest, len(data), part)
    assert len(urls) == 3
    assert s3.complete_multipart_upload(digest, upload_id, put_parts(urls, data, part)) is True
    key = s3.key_for(digest)
    assembled = s3.client.head_object(Bucket=s3.bucket, Key=key)
    assert assembled["ETag"].endswith('-3"')  # assembled at the content address itself
    info = s3.finalize_upload(digest)
    assert info.size == len(data) and s3.stat(digest).size == len(data)
    # No server-side copy: the verified object is the very one the client assembled.
    assert s3.client.head_object(Bucket=s3.bucket, Key=key)["ETag"] == assembled["ETag"]
    assert s3.client.list_objects_v2(Bucket=s3.bucket, Prefix=s3.staging_key_for(digest))["KeyCount"] == 0
    with s3.open(digest) as body:
        assert hashlib.sha256(body.read()).hexdigest() == digest


def test_multipart_upload_with_wrong_content_is_discarded(s3):
    part = 5 * 1024 * 1024
    data = os.urandom(part + 1)
    claimed = hashlib.sha256(b"something else").hexdigest()
    upload_id, urls = s3.start_multipart_upload(claimed, len(data), part)
    s3.complete_multipart_upload(claimed, upload_id, put_parts(urls, data, part))
    with pytest.raises(ChecksumMismatch):
        s3.finalize_upload(claimed)
    assert s3.stat(claimed) is None
    with pytest.raises(BlobNotFound):
        s3.finalize_upload(claimed)


@pytest.mark.parametrize("size", [0, 1000, 16 * 1024 * 1024 + 7, 40 * 1024 * 1024])
def test_put_with_known_hash_small_and_multipart(s3, size):
    import io

    data = os.urandom(size)
    digest = hashlib.sha256(data).hexdigest()
    assert s3.put(io.BytesIO(data), expected_sha256=digest).size == size
    with s3.open(digest) as body:
        assert body.read() == data
    wrong = hashlib.sha256(data + b"x").hexdigest()
    with pytest.raises(ChecksumMismatch):
        s3.put(io.BytesIO(data), expected_sha256=wrong)
    assert s3.stat(wrong) is None


def multipart(s3, sha256: str, data: bytes, part: int = 5 * 1024 * 1024) -> tuple[str, list[str], bool]:
    """A client's whole multipart upload of ``data`` announced as ``sha256``: (id, part URLs, assembled)."""
    upload_id, urls = s3.start_multipart_upload(sha256, len(data), part)
    return upload_id, urls, s3.complete_multipart_upload(sha256, upload_id, put_parts(urls, data, part))


def stored_bytes(s3, sha256: str) -> bytes:
    with s3.open(sha256) as body:
        return body.read()


def test_completion_never_overwrites_a_verified_blob(s3):
    import io

    data = os.urandom(6 * 1024 * 1024)
    digest = hashlib.sha256(data).hexdigest()
    s3.put(io.BytesIO(data), expected_sha256=digest)
    _, urls, assembled = multipart(s3, digest, os.urandom(len(data)))
    assert assembled is False  # refused (If-None-Match) and aborted
    assert stored_bytes(s3, digest) == data
    # The aborted upload's part URLs are dead: they cannot be replayed into the address either.
    assert not requests.put(urls[0], data=b"x" * 100, timeout=30).ok  # S3: 404 NoSuchUpload
    assert s3.finalize_upload(digest).size == len(data) and stored_bytes(s3, digest) == data


def test_two_clients_racing_on_one_new_oid(s3):
    """The first completion wins the address; the second is aborted, whatever it carried. A bad
    winner is deleted at verify (the honest client's retry then succeeds), never published."""
    data = os.urandom(6 * 1024 * 1024)
    digest = hashlib.sha256(data).hexdigest()
    first = multipart(s3, digest, os.urandom(len(data)))  # wrong bytes under the right oid
    second = multipart(s3, digest, data)
    assert (first[2], second[2]) == (True, False)
    with pytest.raises(ChecksumMismatch):
        s3.finalize_upload(digest)
    assert s3.stat(digest) is None
    assert multipart(s3, digest, data)[2] is True  # the retry
    assert s3.finalize_upload(digest).size == len(data) and stored_bytes(s3, digest) == data


def test_stale_part_url_cannot_touch_a_verified_blob(s3):
    data = os.urandom(6 * 1024 * 1024)
    digest = hashlib.sha256(data).hexdigest()
    _, urls, _ = multipart(s3, digest, data)
    s3.finalize_upload(digest)
    assert not requests.put(urls[1], data=b"y" * 1000, timeout=30).ok  # S3: 404 NoSuchUpload
    assert stored_bytes(s3, digest) == data


def test_single_put_url_never_targets_the_content_address(s3):
    """A presigned PUT can be replayed until it expires, so it points at the staging key: a replay
    after verification reaches only the staging key, and verifying that fails without touching
    the published blob."""
    data = os.urandom(4096)
    digest = hashlib.sha256(data).hexdigest()
    url = s3.upload_url(digest, len(data))
    assert s3.staging_key_for(digest) in url and s3.key_for(digest) not in url
    assert requests.put(url, data=data, timeout=30).ok
    assert s3.finalize_upload(digest).size == len(data)
    assert requests.put(url, data=b"z" * len(data), timeout=30).ok  # the stale link, replayed
    assert stored_bytes(s3, digest) == data
    with pytest.raises(ChecksumMismatch):
        s3.finalize_upload(digest)
    assert stored_bytes(s3, digest) == data


def test_hub_write_replaces_an_unverified_upload(s3):
    """Presence of a client's object proves nothing: a put with the right bytes writes over it
    instead of taking it as the blob, and then the object verifies."""
    import io

    data = os.urandom(6 * 1024 * 1024)
    digest = hashlib.sha256(data).hexdigest()
    assert multipart(s3, digest, os.urandom(len(data)))[2] is True  # never verified
    assert s3.put(io.BytesIO(data), expected_sha256=digest).size == len(data)
    assert stored_bytes(s3, digest) == data
    assert s3.finalize_upload(digest).size == len(data)


def test_verification_spares_an_object_replaced_meanwhile(s3):
    """Verify pins its reads and its delete to the ETag it saw first: when the hub writes the right
    bytes over a bad upload while it is being hashed, verify fails (retry) and deletes nothing."""
    import io

    data = os.urandom(6 * 1024 * 1024)
    digest = hashlib.sha256(data).hexdigest()
    multipart(s3, digest, os.urandom(len(data)))
    seen = s3.client.head_object(Bucket=s3.bucket, Key=s3.key_for(digest))
    s3.put(io.BytesIO(data), expected_sha256=digest)  # lands between verify's HEAD and its reads
    with pytest.raises(BlobStoreUnavailable):
        s3._verify_in_place(digest, seen)
    assert stored_bytes(s3, digest) == data


@pytest.mark.django_db
def test_completion_endpoint_aborts_when_the_blob_was_verified_meanwhile(client, settings, s3_store, alice):
    """Through the LFS API: a client holding a multipart upload of an oid that became a verified blob
    meanwhile (another client, another route) completes to 200 without its bytes being assembled;
    its upload is aborted. Its bytes were never hashed, so verify does not vouch for them (422,
    "not uploaded"; a retry is asked for a staged PUT) unless the caller may use the stored
    content anyway: here once it is in a repository the caller can read."""
    import io
    import json

    from hub.services.blobs import record_blob
    from tests.hub.conftest import make_repo, token_for

    settings.MODELHUB_LFS_CHUNK_SIZE = 5 * 1024 * 1024
    make_repo(alice, "mp", {"README.md": b"# mp\n"})
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token_for(alice)}"}
    data = os.urandom(6 * 1024 * 1024)
    digest = hashlib.sha256(data).hexdigest()
    lfs = {"content_type": "application/vnd.git-lfs+json", **auth}
    batch = client.post(
        "/alice/mp.git/info/lfs/objects/batch",
        data=json.dumps({"operation": "upload", "transfers": ["basic", "multipart"],
                         "objects": [{"oid": digest, "size": len(data)}]}), **lfs,
    ).json()  # fmt: skip
    actions = batch["objects"][0]["actions"]
    header = actions["upload"]["header"]
    urls = [header[k] for k in sorted(header) if k != "chunk_size"]
    parts = put_parts(urls, os.urandom(len(data)), int(header["chunk_size"]))  # wrong bytes
    record_blob(s3_store.put(io.BytesIO(data), expected_sha256=digest))  # verified meanwhile
    done = client.post(
        actions["upload"]["href"].replace("http://testserver", ""),
        data=json.dumps({"oid": digest, "parts": [{"partNumber": n, "etag": e} for n, e in parts]}),
        content_type="application/json",
    )
    assert done.status_code == 200, done.content
    assert s3_store.client.list_multipart_uploads(Bucket=s3_store.bucket).get("Uploads", []) == []
    assert stored_bytes(s3_store, digest) == data
    verify = client.post(
        actions["verify"]["href"].replace("http://testserver", ""),
        data=json.dumps({"oid": digest, "size": len(data)}), **lfs,
    )  # fmt: skip
    assert verify.status_code == 422 and "was not uploaded" in verify.json()["error"]
    make_repo(alice, "holder", {"w.bin": data}, lfs=("w.bin",))
    verify = client.post(
        actions["verify"]["href"].replace("http://testserver", ""),
        data=json.dumps({"oid": digest, "size": len(data)}), **lfs,
    )  # fmt: skip
    assert verify.status_code == 200 and verify.json()["size"] == len(data)
