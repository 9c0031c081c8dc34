"""Committing a folder from disk: used by ``seed_demo`` and by scripts that import repositories.

Only files whose content changed are written; a folder identical to the branch head
makes no commit at all, which is what makes ``seed_demo`` idempotent.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.conf import settings

from hub.blobstore import get_blob_store
from hub.models import Commit, RepoFile, Repository
from hub.services.blobs import mark_storing, record_blob, should_be_lfs, store_small
from hub.services.commits import AddFile, CommitRequest, DeleteFile, create_commit
from hub.services.revisions import resolve_revision


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def folder_files(folder: Path) -> dict[str, Path]:
    return {
        p.relative_to(folder).as_posix(): p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(folder).parts
    }


def commit_folder(
    repo: Repository, folder: Path, *, author=None, message: str = "Import folder", branch: str = "main",
    keep: tuple[str, ...] = (".gitattributes",),
) -> Commit | None:  # fmt: skip
    """Make ``branch`` hold exactly the files of ``folder`` (plus ``keep``); None when nothing changed."""
    head = resolve_revision(repo, branch)
    current = {f.path: f for f in RepoFile.objects.filter(commit=head)}
    wanted = folder_files(folder)
    ops: list = []
    for rel, path in wanted.items():
        digest = _sha256(path)
        existing = current.get(rel)
        if existing is not None and existing.sha256 == digest:
            continue
        size = path.stat().st_size
        with open(path, "rb") as fh:
            sample = fh.read(512)
        if should_be_lfs(rel, size, sample, max_inline=settings.MAX_INLINE_FILE_SIZE):
            mark_storing([digest])
            with open(path, "rb") as fh:
                info = get_blob_store().put(fh, expected_sha256=digest, max_bytes=settings.MAX_FILE_SIZE)
            record_blob(info)
            ops.append(AddFile(rel, info.sha256, info.size, lfs=True))
        else:
            stored = store_small(path.read_bytes(), settings.MAX_INLINE_FILE_SIZE)
            ops.append(AddFile(rel, stored.sha256, stored.size, lfs=False, git_oid=stored.git_oid))
    ops += [DeleteFile(p) for p in current if p not in wanted and p not in keep]
    if not ops:
        return None
    return create_commit(repo, branch, CommitRequest(title=message, operations=ops), author=author)
