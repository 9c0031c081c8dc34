"""Putting content into the blob store and recording it as a ``Blob`` row.

The row is written after the bytes are safely stored and outside any commit's
transaction: a rejected commit leaves at most an unreferenced blob (harmless, and
reusable by the next attempt), never a row pointing at missing bytes.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import BinaryIO

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
    """The Blob row, if the content is recorded and still in the store."""
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


def store_small(content: bytes, max_bytes: int) -> StoredContent:
    """Store an inline (regular, non-LFS) file; these are capped small enough to hold in memory."""
    if len(content) > max_bytes:
        raise TooLarge(
            f"inline file of {len(content)} bytes exceeds the {max_bytes}-byte cap; upload it via LFS"
        )
    info = get_blob_store().put(io.BytesIO(content), expected_sha256=hashlib.sha256(content).hexdigest())
    record_blob(info)
    return StoredContent(info.sha256, info.size, git_blob_sha1(content))


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
