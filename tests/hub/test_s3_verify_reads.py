"""Verify's read-back on S3: ranges read in place into a few reused buffers, and every way a
range can come back wrong (too long, too short, broken half-way) is a BlobStoreUnavailable,
never a wrong hash or a connection handed back to the pool with unread bytes on it."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from hub.blobstore import BlobStoreUnavailable
from hub.blobstore import s3 as s3_module
from hub.blobstore.s3 import S3BlobStore, _read_into


@pytest.fixture
def s3(s3_bucket, moto_s3_endpoint):
    return S3BlobStore(s3_bucket, endpoint_url=moto_s3_endpoint)


def test_ranges_arrive_in_order_through_a_bounded_set_of_buffers(s3, monkeypatch):
    monkeypatch.setattr(s3_module, "VERIFY_RANGE", 1024 * 1024)
    monkeypatch.setattr(s3_module, "PREFETCH", 2)
    data = os.urandom(7 * 1024 * 1024 + 4321)
    s3.client.put_object(Bucket=s3.bucket, Key="obj", Body=data)
    head = s3.client.head_object(Bucket=s3.bucket, Key="obj")
    seen, buffers = [], set()
    for view in s3._prefetched_ranges("obj", len(data), etag=head["ETag"]):
        seen.append(bytes(view))  # a view is only valid until the next one is requested
        buffers.add(id(view.obj))
    assert b"".join(seen) == data
    assert len(seen) == 8
    assert len(buffers) <= 3  # PREFETCH + 1, however large the object
    assert s3._hash("obj", head) == hashlib.sha256(data).hexdigest()


class _Raw:
    """Stands in for urllib3's response: ``_fp`` is what http.client's response would be."""

    def __init__(self, chunks: list[bytes | Exception]) -> None:
        self._fp = self
        self.chunks = chunks
        self.released = False

    def readinto(self, view: memoryview) -> int:
        if not self.chunks:
            return 0
        chunk = self.chunks.pop(0)
        if isinstance(chunk, Exception):
            raise chunk
        view[: len(chunk)] = chunk
        return len(chunk)

    def release_conn(self) -> None:
        self.released = True


class _Body:
    def __init__(self, raw: _Raw) -> None:
        self._raw_stream = raw
        self.closed = False

    def read(self) -> bytes:  # pragma: no cover - only the fallback path reads this way
        raise AssertionError("the in-place path must not copy")

    def close(self) -> None:
        self.closed = True


def test_a_full_range_is_read_in_place_and_the_connection_reused():
    raw = _Raw([b"abc", b"defg"])
    body = _Body(raw)
    view = memoryview(bytearray(7))
    _read_into({"Body": body, "ContentLength": 7}, view)
    assert bytes(view) == b"abcdefg"
    assert raw.released and not body.closed


def test_a_range_answered_with_another_length_is_refused_unread():
    raw = _Raw([b"x" * 12])
    body = _Body(raw)
    with pytest.raises(BlobStoreUnavailable, match="range"):
        _read_into({"Body": body, "ContentLength": 12}, memoryview(bytearray(7)))  # e.g. Range ignored
    assert body.closed and not raw.released and raw.chunks  # nothing read, connection not pooled


@pytest.mark.parametrize(
    "chunks", [[b"abc"], [b"abc", TimeoutError("stalled")], [b"abc", ConnectionResetError("reset")]]
)
def test_a_body_ending_early_or_breaking_is_unavailable(chunks):
    raw = _Raw(chunks)
    body = _Body(raw)
    with pytest.raises(BlobStoreUnavailable):
        _read_into({"Body": body, "ContentLength": 7}, memoryview(bytearray(7)))
    assert not raw.released


def test_bodies_without_readinto_are_copied():
    class Plain:
        def __init__(self, data: bytes) -> None:
            self.stream = io.BytesIO(data)

        def read(self) -> bytes:
            return self.stream.read()

        def close(self) -> None:
            pass

    view = memoryview(bytearray(5))
    _read_into({"Body": Plain(b"hello"), "ContentLength": 5}, view)
    assert bytes(view) == b"hello"
    with pytest.raises(BlobStoreUnavailable):
        _read_into({"Body": Plain(b"hell"), "ContentLength": 5}, memoryview(bytearray(5)))
