"""The blob store interface: content addressed by sha256, written atomically.

Repositories share blobs: a file's bytes are stored once under their sha256 and
every revision that holds them points there. Writers hash while streaming, so memory
stays flat whatever the size, and an object the hub writes becomes visible only once it is
complete and its hash is known (a crash mid-write leaves nothing a reader can see).

One exception, on S3: a client's multipart upload is assembled at its content address before
the hub has hashed it (to spare a copy). Such an object is not vouched for until verify says
so and a ``Blob`` row is written; readers reach content only through ``Blob`` rows, so the
row, not the object's presence, is what says "verified".
"""

from __future__ import annotations

import hashlib
import io
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

CHUNK = 1024 * 1024
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class BlobStoreError(Exception):
    """The store could not do what was asked; ``str()`` says what and what to try."""


class BlobNotFound(BlobStoreError):
    pass


class ChecksumMismatch(BlobStoreError):
    """The bytes written do not hash to the sha256 the caller promised."""


class BlobTooLarge(BlobStoreError):
    pass


class BlobStoreUnavailable(BlobStoreError):
    """The backing service (disk, S3) failed; the operation may succeed later."""


@dataclass
class UploadSweep:
    """What a store's sweep of abandoned uploads found (and, unless a dry run, removed)."""

    objects: int = 0  # partial or never-verified upload objects (temp files, staged copies)
    bytes: int = 0
    multipart: int = 0  # S3 multipart uploads never completed or aborted


@dataclass(frozen=True)
class StoredObject:
    """One object at a content address, as the store lists it (``BlobStore.iter_objects``)."""

    sha256: str
    size: int
    modified: datetime


@dataclass(frozen=True)
class BlobInfo:
    sha256: str
    size: int


def check_sha256(sha256: str) -> str:
    if not SHA256_RE.match(sha256 or ""):
        raise BlobStoreError(f"not a sha256 hex digest: {sha256!r}")
    return sha256


def iter_chunks(stream: BinaryIO, max_bytes: int | None) -> Iterator[bytes]:
    """Yield the stream in chunks, refusing to go past ``max_bytes``."""
    total = 0
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            return
        total += len(chunk)
        if max_bytes is not None and total > max_bytes:
            raise BlobTooLarge(f"upload exceeds the size cap of {max_bytes} bytes")
        yield chunk


class HashingCounter:
    """sha256 and byte count of what passed through, computed once while streaming."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self._hash.update(chunk)
        self.size += len(chunk)

    @property
    def hexdigest(self) -> str:
        return self._hash.hexdigest()

    def verify(self, expected_sha256: str | None) -> None:
        if expected_sha256 and self.hexdigest != expected_sha256:
            raise ChecksumMismatch(
                f"content hashes to {self.hexdigest}, not the announced {expected_sha256}; nothing was stored"
            )


def verify_all(contents: Sequence[bytes], expected_sha256: Sequence[str | None] | None = None) -> list[str]:
    """The sha256 of every content, raising ChecksumMismatch (before any write) on the first that
    differs from ``expected_sha256`` (one entry per content, None to skip; ``put_many``'s argument)."""
    expected = list(expected_sha256) if expected_sha256 is not None else [None] * len(contents)
    if len(expected) != len(contents):
        raise ValueError("expected_sha256 needs one entry per content")
    digests = []
    for content, want in zip(contents, expected, strict=True):
        digest = hashlib.sha256(content).hexdigest()
        if want and digest != want:
            raise ChecksumMismatch(
                f"content hashes to {digest}, not the announced {want}; nothing of the batch was stored"
            )
        digests.append(digest)
    return digests


class BlobStore(ABC):
    """Put a stream, get a stream or a time-limited URL, stat, delete."""

    name: str = "abstract"
    #: True when ``put_many`` makes a batch durable in fewer steps than one ``put`` per content, i.e.
    #: when a writer gains by holding small contents back to store them together (the filesystem
    #: store). False for the default loop: a writer should rather ``put`` from its own threads.
    batch_durable: bool = False

    @abstractmethod
    def put(
        self, stream: BinaryIO, *, expected_sha256: str | None = None, max_bytes: int | None = None
    ) -> BlobInfo:
        """Store the stream's bytes; return their sha256 and size. Idempotent per content."""

    def put_many(
        self, contents: Sequence[bytes], *, expected_sha256: Sequence[str | None] | None = None
    ) -> list[BlobInfo]:
        """Store several small in-memory contents; every one is durable and visible when this returns.

        The point is the caller's batch: a writer about to commit database rows that reference
        many small blobs (the mirror's READMEs) needs all of them durable first, and a store may
        make that one step for the batch instead of one per blob. The default stores them one by
        one through ``put``, with ``put``'s guarantees. ``expected_sha256`` (one entry per
        content, None to skip) is checked for every content before anything is written, so a
        mismatch stores nothing.
        """
        digests = verify_all(contents, expected_sha256)
        return [
            self.put(io.BytesIO(content), expected_sha256=digest)
            for content, digest in zip(contents, digests, strict=True)
        ]

    @abstractmethod
    def open(self, sha256: str) -> BinaryIO:
        """A readable binary stream of the blob; raises BlobNotFound."""

    @abstractmethod
    def stat(self, sha256: str) -> BlobInfo | None:
        """The size of what is stored at the address, or None. Presence alone is not verification
        (see the module docstring): pair it with a ``Blob`` row."""

    @abstractmethod
    def delete(self, sha256: str) -> None:
        """Remove the blob; deleting a missing blob is not an error."""

    def url(self, sha256: str, *, expires: int = 900, filename: str | None = None) -> str | None:
        """A time-limited URL a client can GET directly, or None when the store streams itself."""
        return None

    def upload_url(self, sha256: str, size: int, *, expires: int = 900, ticket: str = "") -> str | None:
        """A time-limited URL a client can PUT this blob to, or None when uploads go through us.

        ``ticket`` names this one upload, so verification credits its bytes and no other's."""
        return None

    @abstractmethod
    def check(self) -> None:
        """Raise BlobStoreUnavailable unless the store can be read and written now (readiness)."""

    def sweep_uploads(self, before: datetime, *, dry_run: bool = False) -> UploadSweep:
        """Remove what uploads started before ``before`` left behind and nobody will finish:
        temp files of crashed writers, staged copies never verified, incomplete multipart
        uploads. ``before`` must lie beyond the life of every upload link (see the garbage
        collector in ``hub.services.garbage``). The default store keeps no such state."""
        return UploadSweep()

    def iter_objects(self) -> Iterator[StoredObject]:
        """Every object at a content address, in ascending sha256 order (consistency checks
        merge this with the ``Blob`` rows in the same order, in constant memory). Staged and
        temporary files are not content and are not listed."""
        raise NotImplementedError(f"the {self.name} blob store cannot list its objects")

    def read_range(self, sha256: str, start: int, length: int) -> bytes:
        with self.open(sha256) as fh:
            fh.seek(start)
            return fh.read(length)
