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
from datetime import timedelta
from typing import BinaryIO

from django.utils import timezone

from hub.blobstore import BlobInfo, BlobStoreUnavailable, BlobTooLarge, ChecksumMismatch, get_blob_store
from hub.models import Blob, git_blob_sha1
from hub.services.errors import BadRequest, TooLarge

#: Files at least this large, or binary, are stored as LFS files (as on the Hub).
LFS_THRESHOLD = 10 * 1024 * 1024
LFS_SUFFIXES = (
    ".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".joblib", ".h5", ".onnx", ".gguf",
    ".ggml", ".msgpack", ".npy", ".npz", ".tflite", ".mlmodel", ".model", ".zip", ".tar", ".gz", ".parquet",
    ".arrow", ".wasm", ".7z", ".xz", ".zst", ".pb", ".ot", ".tgz", ".bz2", ".rar",
)  # fmt: skip


def should_be_lfs(path: str, size: int, sample: bytes = b"", max_inline: int | None = None) -> bool:
    """The preupload answer: big files, known binary formats and binary samples go through LFS.

    ``max_inline`` is the largest file a commit accepts inline (``MAX_INLINE_FILE_SIZE``): a file
    above it must go through LFS even below the Hub's 10 MiB threshold, or the client would send
    it inline and the commit would refuse it (413)."""
    if size == 0:
        return False
    too_big = size >= LFS_THRESHOLD or (max_inline is not None and size > max_inline)
    return too_big or path.lower().endswith(LFS_SUFFIXES) or b"\0" in sample


#: ``mark_storing`` leaves rows refreshed more recently than this alone: hot shared content (the
#: default ``.gitattributes``) is then not locked by every writer. Far below the collector's
#: shortest grace period (``hub.services.garbage.minimum_grace``, 2 h), so a row it leaves alone
#: is still hours from being collectable.
REFRESH_AFTER = timedelta(minutes=15)


def mark_storing(sha256s: Iterable[str]) -> int:
    """Say that this content is about to be written or referenced: call before the write.

    Refreshes ``stored_at`` of recorded content not refreshed in the last ``REFRESH_AFTER``;
    returns how many rows it refreshed. The garbage collector deletes a row and then its bytes
    under the row's lock, and only rows stored before its cutoff; this update waits for that
    lock. So either the collector sees the fresh time and spares the content, or it finished
    first and the write that follows puts the bytes back under a new row. Written after the
    write instead, the collector could delete bytes just written and leave a commit pointing at
    nothing. Call it outside long transactions: the refreshed rows stay locked until commit.
    """
    wanted = sorted(set(sha256s))
    if not wanted:
        return 0
    now = timezone.now()
    return Blob.objects.filter(sha256__in=wanted, stored_at__lt=now - REFRESH_AFTER).update(stored_at=now)


def record_blob(info: BlobInfo) -> Blob:
    """The content's row, created after its bytes were stored.

    A row this call creates is checked against the store: if the content was taken out between
    the write and now (a refused request's clean-up, or the collector, which delete the row and
    then the bytes), the row would point at nothing, so it is removed again and the write is
    refused as retryable. One store lookup per new content; existing rows cost nothing more.
    """
    blob, created = Blob.objects.get_or_create(sha256=info.sha256, defaults={"size": info.size})
    if created and get_blob_store().stat(info.sha256) is None:
        blob.delete()
        raise BlobStoreUnavailable(
            f"content {info.sha256} was removed while it was being stored (a concurrent clean-up); retry"
        )
    return blob


def blobs_present(sha256s: Iterable[str]) -> set[str]:
    """Which of these contents are recorded and still in the store (see ``blob_present``): one
    query for the rows, then a store lookup for each recorded one only."""
    store = get_blob_store()
    recorded = Blob.objects.filter(sha256__in=set(sha256s)).values_list("sha256", flat=True)
    return {sha256 for sha256 in recorded if store.stat(sha256) is not None}


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
    mark_storing([digest])
    existed = Blob.objects.filter(sha256=digest).exists()
    info = get_blob_store().put(io.BytesIO(content), expected_sha256=digest)
    record_blob(info)
    return StoredContent(info.sha256, info.size, git_blob_sha1(content), created=not existed)


def discard_unreferenced(sha256s: Iterable[str]) -> int:
    """Take out content a refused request stored and no file references, so a refused commit leaves
    no partial state. Returns how many blobs went (see ``drop_blob_if_unreferenced`` for why a
    concurrent commit naming the same content is safe)."""
    from hub.services.garbage import drop_blob_if_unreferenced

    return sum(1 for sha256 in sorted(set(sha256s)) if drop_blob_if_unreferenced(sha256) is not None)


def store_stream(
    stream: BinaryIO, *, expected_sha256: str | None, expected_size: int | None, max_bytes: int
) -> Blob:
    """Stream an upload into the store (memory stays flat), checking hash and size."""
    limit = max_bytes if expected_size is None else min(max_bytes, expected_size)
    if expected_sha256:
        mark_storing([expected_sha256])
    try:
        info = get_blob_store().put(stream, expected_sha256=expected_sha256, max_bytes=limit)
    except BlobTooLarge as exc:
        raise TooLarge(str(exc)) from exc
    except ChecksumMismatch as exc:
        raise BadRequest(str(exc)) from exc
    if expected_size is not None and info.size != expected_size:
        raise BadRequest(f"received {info.size} bytes, {expected_size} were announced")
    return record_blob(info)
