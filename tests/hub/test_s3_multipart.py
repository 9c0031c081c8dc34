"""Presigned multipart uploads on S3 (moto server): parts PUT by a plain HTTP client, then
completed, then verified by sha256 before the blob is published."""

from __future__ import annotations

import hashlib
import os

import pytest
import requests

from hub.blobstore import BlobNotFound, ChecksumMismatch
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
    s3.complete_multipart_upload(digest, upload_id, put_parts(urls, data, part))
    assert s3.stat(digest) is None  # staged, not yet published
    info = s3.finalize_upload(digest)
    assert info.size == len(data) and s3.stat(digest).size == len(data)
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
