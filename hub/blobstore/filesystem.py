"""Blob store on a local (or mounted) filesystem: the embedded default.

Objects live at ``<root>/sha256/ab/<digest>``: one level of 256 directories, as on S3 and in
git's object store. Stores written before that used two levels (``ab/cd/<digest>``, up to 65,536
directories, so nearly every new small object also created a directory: measured on this
machine's ext4, 25,000 small files cost 1.5–2.6 s of system CPU in two levels against 0.8–0.9 s in
one). Reads still find an object at its old two-level path, and ``migrate_layout`` (``manage.py
blobstore migrate-layout``) moves old objects into place. Writes go to ``<root>/tmp`` on the
same filesystem, are fsynced, then renamed into place: rename is atomic, so a crash
leaves at most an orphan temp file (swept by ``sweep_uploads``, which the garbage collector calls), never a torn object.

``put_many`` does the same for a batch of small contents with one durability step per
phase instead of one per file: every temp file is written, then their data is made durable
at once (``syncfs`` on Linux, else an fsync of each file from a few threads so the waits
overlap), then all are renamed into place, then the renames are made durable (``syncfs``
again, else an fsync of every directory touched). A temp file is never renamed before its
data is on disk, so a crash still leaves no torn object, and when ``put_many`` returns every
object and its directory entry is on disk: rows that reference them may be committed.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import itertools
import os
import re
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, NamedTuple

from hub.blobstore.base import (
    SHA256_RE,
    BlobInfo,
    BlobNotFound,
    BlobStore,
    BlobStoreUnavailable,
    HashingCounter,
    StoredObject,
    UploadSweep,
    check_sha256,
    iter_chunks,
    verify_all,
)

#: Threads that fsync a batch's files when ``syncfs`` is not available.
FSYNC_THREADS = 8
_names = itertools.count()
_HEX2 = re.compile(r"[0-9a-f]{2}")


class LayoutMigration(NamedTuple):
    """What ``migrate_layout`` did: objects moved, old copies removed as duplicates, directories removed."""

    moved: int
    duplicates: int
    removed_dirs: int


def _load_syncfs() -> Callable[[int], int] | None:
    """libc's ``syncfs(fd)`` (Linux ≥ 2.6.39; Python's ``os.syncfs`` only arrives in 3.12), or None.

    Called through ctypes, which releases the GIL for the call: other threads keep working while
    the kernel writes the batch out.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


_SYNCFS = _load_syncfs()


def _unavailable(exc: OSError) -> BlobStoreUnavailable:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return BlobStoreUnavailable("the blob store's disk is full; free space and retry")
    return BlobStoreUnavailable(f"the blob store could not write: {exc}")


def _disk(fn, *args, **kwargs):
    """Run a disk operation, turning OS errors into a BlobStoreUnavailable that says what to do."""
    try:
        return fn(*args, **kwargs)
    except OSError as exc:
        raise _unavailable(exc) from exc


def _unlink(path: Path) -> None:
    """Remove a file; gone already is fine, any other refusal (read-only, permissions) is a
    BlobStoreUnavailable like every other write."""
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise _unavailable(exc) from exc


class FilesystemBlobStore(BlobStore):
    name = "filesystem"
    batch_durable = True

    def __init__(self, root: Path, *, sync_mode: str = "syncfs") -> None:
        """``sync_mode``: how ``put_many`` makes a batch durable — ``syncfs`` (one call per phase;
        falls back to ``fsync`` where libc has none) or ``fsync`` (each file, then each directory)."""
        if sync_mode not in ("syncfs", "fsync"):
            raise ValueError(f"sync_mode {sync_mode!r}: use 'syncfs' or 'fsync'")
        self.sync_mode = sync_mode
        self.root = Path(root)
        self.tmp = self.root / "tmp"
        self.objects = self.root / "sha256"

    def path_for(self, sha256: str) -> Path:
        """Where the object is written: ``sha256/ab/<digest>``."""
        check_sha256(sha256)
        return self.objects / sha256[:2] / sha256

    def legacy_path_for(self, sha256: str) -> Path:
        """Where a store laid out before the one-level layout kept the object: ``sha256/ab/cd/<digest>``."""
        check_sha256(sha256)
        return self.objects / sha256[:2] / sha256[2:4] / sha256

    def _ensure_dirs(self) -> None:
        """The store's folders; a disk that refuses them (read-only, no permission, full) is a
        BlobStoreUnavailable like any other write, so callers answer 503, not 500."""
        _disk(self.tmp.mkdir, parents=True, exist_ok=True)
        _disk(self.objects.mkdir, parents=True, exist_ok=True)

    def put(
        self, stream: BinaryIO, *, expected_sha256: str | None = None, max_bytes: int | None = None
    ) -> BlobInfo:
        self._ensure_dirs()
        counter = HashingCounter()
        fd, tmp_name = _disk(tempfile.mkstemp, dir=self.tmp, prefix="upload-")
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

    def put_many(
        self, contents: Sequence[bytes], *, expected_sha256: Sequence[str | None] | None = None
    ) -> list[BlobInfo]:
        """Store small contents with one durability step per phase for the whole batch (module docstring)."""
        digests = verify_all(contents, expected_sha256)
        infos = [BlobInfo(d, len(c)) for d, c in zip(digests, contents, strict=True)]
        todo = {d: c for d, c in zip(digests, contents, strict=True)}  # the same content once
        if not todo:
            return infos
        self._ensure_dirs()
        staged: list[tuple[int, str, str]] = []  # (fd, temp path, sha256)
        try:
            for digest, content in todo.items():
                staged.append(self._stage(digest, content))
            self._durable_data([fd for fd, _, _ in staged])
            for fd, _, _ in staged:
                os.close(fd)
            staged = [(-1, name, digest) for _, name, digest in staged]
            objects = str(self.objects)
            touched: set[str] = set()
            for _, name, digest in staged:
                leaf = f"{objects}/{digest[:2]}"
                final = f"{leaf}/{digest}"
                try:  # the directory usually exists: try first rather than stat every time
                    os.replace(name, final)
                except FileNotFoundError:
                    touched.update(self._make_leaf(leaf))
                    _disk(os.replace, name, final)
                except OSError as exc:
                    raise _unavailable(exc) from exc
                touched.add(leaf)
            staged = []
            self._durable_names(touched)
        except BaseException:
            for fd, name, _ in staged:
                if fd >= 0:
                    with contextlib.suppress(OSError):
                        os.close(fd)
                with contextlib.suppress(OSError):
                    os.unlink(name)
            raise
        return infos

    def _stage(self, digest: str, content: bytes) -> tuple[int, str, str]:
        """Write ``content`` to a new temp file (not yet durable); returns its open fd and path."""
        name = f"{self.tmp}/batch-{os.getpid()}-{threading.get_ident()}-{next(_names)}"
        fd = _disk(os.open, name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(content)
            while view:
                view = view[_disk(os.write, fd, view) :]
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(name)
            raise
        return fd, name, digest

    @staticmethod
    def _make_leaf(leaf: str) -> list[str]:
        """Create ``ab/`` under the objects dir; returns the directories whose entries changed."""
        try:
            os.mkdir(leaf)
        except FileExistsError:
            return []
        except OSError as exc:
            raise _unavailable(exc) from exc
        return [os.path.dirname(leaf)]  # its new entry must be made durable

    def _durable_data(self, fds: list[int]) -> None:
        """Make the staged files' data durable: one ``syncfs``, or an fsync of each from a few threads."""
        if _SYNCFS is not None and self.sync_mode == "syncfs":
            self._syncfs(fds[0])
            return
        self._fsync_all(fds)

    def _durable_names(self, directories: set[str]) -> None:
        """Make the renames (and new directories) durable: one ``syncfs``, or an fsync per directory."""
        if _SYNCFS is not None and self.sync_mode == "syncfs":
            fd = _disk(os.open, self.objects, os.O_RDONLY)
            try:
                self._syncfs(fd)
            finally:
                os.close(fd)
            return
        fds = [_disk(os.open, d, os.O_RDONLY) for d in directories]
        try:
            self._fsync_all(fds)
        finally:
            for fd in fds:
                os.close(fd)

    @staticmethod
    def _syncfs(fd: int) -> None:
        if _SYNCFS(fd) != 0:
            err = ctypes.get_errno()
            raise _unavailable(OSError(err, os.strerror(err)))

    @staticmethod
    def _fsync_all(fds: list[int]) -> None:
        if len(fds) == 1:
            _disk(os.fsync, fds[0])
            return
        with ThreadPoolExecutor(min(FSYNC_THREADS, len(fds)), thread_name_prefix="blob-fsync") as pool:
            list(pool.map(lambda fd: _disk(os.fsync, fd), fds))  # the waits overlap; errors re-raised here

    def _lookup_paths(self, sha256: str) -> tuple[Path, Path, Path]:
        """Where a reader looks, in order: the current path, the old one, then the current again.

        The third look covers ``migrate_layout`` renaming the object after the first look missed
        it and before the second: the rename is atomic, so one of the three finds it.
        """
        current = self.path_for(sha256)
        return current, self.legacy_path_for(sha256), current

    def open(self, sha256: str) -> BinaryIO:
        for path in self._lookup_paths(sha256):
            try:
                return open(path, "rb")
            except FileNotFoundError:
                continue
        raise BlobNotFound(f"blob {sha256} is not stored")

    def stat(self, sha256: str) -> BlobInfo | None:
        for path in self._lookup_paths(sha256):
            try:
                return BlobInfo(sha256, path.stat().st_size)
            except FileNotFoundError:
                continue
        return None

    def delete(self, sha256: str) -> None:
        # A migration running at the same moment can move the old copy into place after the
        # first unlink: the object then outlives this call as an unreferenced file (space, not
        # wrong content, since its address is its hash); the next delete removes it.
        for path in (self.path_for(sha256), self.legacy_path_for(sha256)):
            _unlink(path)

    def migrate_layout(self, *, on_move: Callable[[int], None] | None = None) -> LayoutMigration:
        """Move objects from the old two-level layout (``ab/cd/<digest>``) to ``ab/<digest>``.

        Safe to run while the hub serves and writes, and to run again after a crash: each move is
        one atomic rename within a filesystem, readers try the new path and then the old one, and
        an object already present at the new path (written again since) makes the old copy a
        duplicate of the same bytes, which is removed. Emptied ``cd/`` directories are removed;
        one that a concurrent writer fills again is left. The renames are made durable before it
        returns. ``on_move`` is called with the running count every 1,000 objects.
        """
        moved = duplicates = removed_dirs = 0
        if not self.objects.is_dir():
            return LayoutMigration(0, 0, 0)
        for top in sorted(self.objects.iterdir()):
            if not (top.is_dir() and _HEX2.fullmatch(top.name)):
                continue
            for sub in sorted(top.iterdir()):
                if not (sub.is_dir() and _HEX2.fullmatch(sub.name)):
                    continue  # an object in the current layout, or something that is not ours
                for entry in sub.iterdir():
                    if not SHA256_RE.match(entry.name) or entry.name[:4] != top.name + sub.name:
                        continue  # not an object of this directory: leave it for a person to look at
                    final = top / entry.name
                    if final.exists():
                        _disk(entry.unlink)
                        duplicates += 1
                    else:
                        _disk(os.replace, entry, final)
                        moved += 1
                    if on_move is not None and (moved + duplicates) % 1000 == 0:
                        on_move(moved + duplicates)
                with contextlib.suppress(OSError):  # not empty: something else is in it, keep it
                    sub.rmdir()
                    removed_dirs += 1
        if moved or duplicates or removed_dirs:
            self._durable_names({str(p) for p in self.objects.iterdir() if p.is_dir()} | {str(self.objects)})
        return LayoutMigration(moved, duplicates, removed_dirs)

    def iter_objects(self) -> Iterator[StoredObject]:
        """Objects in both layouts (``ab/<digest>`` and the older ``ab/cd/<digest>``), one
        two-hex-digit folder at a time, sorted: memory holds one folder's names, not the store's.
        An object at both paths (a ``migrate-layout`` in progress) is listed once."""
        if not self.objects.is_dir():
            return
        try:
            for top in sorted(d for d in os.listdir(self.objects) if _HEX2.fullmatch(d)):
                found: dict[str, Path] = {}
                for entry in os.scandir(self.objects / top):
                    if entry.is_dir(follow_symlinks=False) and _HEX2.fullmatch(entry.name):
                        for leaf in os.scandir(entry.path):
                            if SHA256_RE.match(leaf.name) and leaf.name.startswith(top + entry.name):
                                found.setdefault(leaf.name, Path(leaf.path))
                    elif SHA256_RE.match(entry.name) and entry.name.startswith(top):
                        found[entry.name] = Path(entry.path)  # the current path wins
                for digest in sorted(found):
                    with contextlib.suppress(FileNotFoundError):  # deleted while listed
                        st = found[digest].stat()
                        yield StoredObject(digest, st.st_size, datetime.fromtimestamp(st.st_mtime, tz=UTC))
        except OSError as exc:
            raise _unavailable(exc) from exc

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

    def sweep_uploads(self, before: datetime, *, dry_run: bool = False) -> UploadSweep:
        """Temp files of writers that crashed before their rename (uploads stream into ``tmp/``);
        a file still being written is newer than ``before``, which lies beyond any upload's life."""
        found = UploadSweep()
        if not self.tmp.is_dir():
            return found
        cutoff = before.timestamp()
        try:
            for entry in self.tmp.iterdir():
                with contextlib.suppress(FileNotFoundError):
                    stat = entry.stat()
                    if stat.st_mtime >= cutoff or not entry.is_file():
                        continue
                    if not dry_run:
                        _unlink(entry)
                    found.objects += 1
                    found.bytes += stat.st_size
        except OSError as exc:  # the folder cannot be listed or read (permissions, a failing disk)
            raise _unavailable(exc) from exc
        return found
