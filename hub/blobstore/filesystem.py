"""Blob store on a local (or mounted) filesystem: the embedded default.

Objects live at ``<root>/sha256/ab/cd/<digest>``. Writes go to ``<root>/tmp`` on the
same filesystem, are fsynced, then renamed into place: rename is atomic, so a crash
leaves at most an orphan temp file (swept by ``sweep_temp``), never a torn object.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
import time
from pathlib import Path
from typing import BinaryIO

from hub.blobstore.base import (
    BlobInfo,
    BlobNotFound,
    BlobStore,
    BlobStoreUnavailable,
    HashingCounter,
    check_sha256,
    iter_chunks,
)


def _disk(fn, *args, **kwargs):
    """Run a disk operation, turning OS errors into a BlobStoreUnavailable that says what to do."""
    try:
        return fn(*args, **kwargs)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise BlobStoreUnavailable("the blob store's disk is full; free space and retry") from exc
        raise BlobStoreUnavailable(f"the blob store could not write: {exc}") from exc


class FilesystemBlobStore(BlobStore):
    name = "filesystem"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.tmp = self.root / "tmp"
        self.objects = self.root / "sha256"

    def path_for(self, sha256: str) -> Path:
        check_sha256(sha256)
        return self.objects / sha256[:2] / sha256[2:4] / sha256

    def _ensure_dirs(self) -> None:
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.objects.mkdir(parents=True, exist_ok=True)

    def put(
        self, stream: BinaryIO, *, expected_sha256: str | None = None, max_bytes: int | None = None
    ) -> BlobInfo:
        self._ensure_dirs()
        counter = HashingCounter()
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp, prefix="upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in iter_chunks(stream, max_bytes):  # errors reading the client's stream propagate
                    counter.update(chunk)
                    _disk(out.write, chunk)
                _disk(out.flush)
                _disk(os.fsync, out.fileno())
            counter.verify(expected_sha256)
            final = self.path_for(counter.hexdigest)
            _disk(final.parent.mkdir, parents=True, exist_ok=True)
            _disk(os.replace, tmp_name, final)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise
        return BlobInfo(counter.hexdigest, counter.size)

    def open(self, sha256: str) -> BinaryIO:
        try:
            return open(self.path_for(sha256), "rb")
        except FileNotFoundError as exc:
            raise BlobNotFound(f"blob {sha256} is not stored") from exc

    def stat(self, sha256: str) -> BlobInfo | None:
        try:
            return BlobInfo(sha256, self.path_for(sha256).stat().st_size)
        except FileNotFoundError:
            return None

    def delete(self, sha256: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path_for(sha256).unlink()

    def check(self) -> None:
        try:
            self._ensure_dirs()
            fd, name = tempfile.mkstemp(dir=self.tmp, prefix="ready-")
            try:
                # Write a byte, not just create the file: a full disk still has inodes for an
                # empty file, and readiness would claim the store can take uploads it cannot.
                os.write(fd, b"r")
            finally:
                os.close(fd)
                os.unlink(name)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise BlobStoreUnavailable(
                    f"the blob store's disk is full ({self.root}); free space"
                ) from exc
            raise BlobStoreUnavailable(f"cannot write to {self.root}: {exc.strerror}") from exc

    def sweep_temp(self, older_than_seconds: int = 3600) -> int:
        """Remove temp files left by crashed writers; returns how many were removed."""
        if not self.tmp.is_dir():
            return 0
        cutoff = time.time() - older_than_seconds
        removed = 0
        for entry in self.tmp.iterdir():
            with contextlib.suppress(FileNotFoundError):
                if entry.stat().st_mtime < cutoff:
                    entry.unlink()
                    removed += 1
        return removed
