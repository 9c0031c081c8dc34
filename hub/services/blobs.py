"""Putting content into the blob store and recording it as a ``Blob`` row.

The row is written after the bytes are safely stored and outside any commit's
transaction, never a row pointing at missing bytes. Inline files a refused commit stored
are taken out again (``discard_unreferenced``), so a refusal leaves no partial state.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from django.db import transaction

from hub.blobstore import BlobInfo, BlobTooLarge, ChecksumMismatch, get_blob_store
from hub.models import Blob, git_blob_sha1
from hub.services.errors import BadRequest, TooLarge

#: Files at least this large, or binary, are stored as LFS files (as on the Hub).
LFS_THRESHOLD = 10 * 1024 * 1024
LFS_SUFFIXES = (
    ".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".joblib", ".h5", ".onnx", ".gguf",
    ".ggml", ".msgpack", ".npy", ".npz", ".tflite", ".mlmodel", ".model", ".zip", ".tar", ".gz", ".parquet",
    ".arrow", ".wasm", ".7z", ".xz", ".zst", ".pb", ".ot", ".tgz", ".bz2", ".rar",
)  # fmt: skip


def should_be_lfs(path: str, size: int, sample: bytes = b"") -> bool:
    """The preupload answer: big files, known binary formats and binary samples go through LFS."""
    if size == 0:
        return False
    return size >= LFS_THRESHOLD or path.lower().endswith(LFS_SUFFIXES) or b"\0" in sample


def record_blob(info: BlobInfo) -> Blob:
    blob, _ = Blob.objects.get_or_create(sha256=info.sha256, defaults={"size": info.size})
    return blob


def blob_present(sha256: str) -> Blob | None:
    """The Blob row, if the content is recorded (verified) and still in the store. Both are needed:
    on S3 an unverified client upload can sit at the address without a row."""
    blob = Blob.objects.filter(sha256=sha256).first()
    if blob is None:
        return None
    if get_blob_store().stat(sha256) is None:
        return None
    return blob


@dataclass(frozen=True)
class StoredContent:
    sha256: str
    size: int
    git_oid: str  # sha1 of the git blob of the content itself
    #: This call added the content (row and bytes): a refused commit takes it out again.
    created: bool = False


def store_small(content: bytes, max_bytes: int) -> StoredContent:
    """Store an inline (regular, non-LFS) file; these are capped small enough to hold in memory."""
    if len(content) > max_bytes:
        raise TooLarge(
            f"inline file of {len(content)} bytes exceeds the {max_bytes}-byte cap; upload it via LFS"
        )
    digest = hashlib.sha256(content).hexdigest()
    existed = Blob.objects.filter(sha256=digest).exists()
    info = get_blob_store().put(io.BytesIO(content), expected_sha256=digest)
    record_blob(info)
    return StoredContent(info.sha256, info.size, git_blob_sha1(content), created=not existed)


def discard_unreferenced(sha256s: Iterable[str]) -> int:
    """Take out content a refused request stored and no file references, so a refused commit leaves
    no partial state. Returns how many blobs went.

    The row is locked first. A concurrent commit naming the same content has either inserted its
    file row already (the blob is referenced and stays) or its insert waits on this lock and then
    fails on the foreign key: that commit is refused rather than pointed at deleted bytes.
    """
    removed = 0
    for sha256 in sorted(set(sha256s)):
        with transaction.atomic():
            row = Blob.objects.select_for_update().filter(sha256=sha256).first()
            if row is None or row.files.exists():
                continue
            get_blob_store().delete(sha256)
            row.delete()
            removed += 1
    return removed


def store_stream(
    stream: BinaryIO, *, expected_sha256: str | None, expected_size: int | None, max_bytes: int
) -> Blob:
    """Stream an upload into the store (memory stays flat), checking hash and size."""
    limit = max_bytes if expected_size is None else min(max_bytes, expected_size)
    try:
        info = get_blob_store().put(stream, expected_sha256=expected_sha256, max_bytes=limit)
    except BlobTooLarge as exc:
        raise TooLarge(str(exc)) from exc
    except ChecksumMismatch as exc:
        raise BadRequest(str(exc)) from exc
    if expected_size is not None and info.size != expected_size:
        raise BadRequest(f"received {info.size} bytes, {expected_size} were announced")
    return record_blob(info)
