"""A ``RepoSnapshot`` of one stored revision, for the licence engine.

The engine reads the same files from a folder (CLI) and from here (server), so the
choice of which files become ``texts`` and their caps come from the engine's own
snapshot module; content is read from the blob store.
"""

from __future__ import annotations

from typing import BinaryIO

from hub.blobstore import BlobNotFound, get_blob_store
from hub.models import Commit, RepoFile
from licenses.engine.snapshot import decode_capped, text_cap
from licenses.engine.types import RepoSnapshot


def snapshot_for_commit(commit: Commit) -> RepoSnapshot:
    repo = commit.repository
    rows = {f.path: f for f in RepoFile.objects.filter(commit=commit)}
    store = get_blob_store()
    texts: dict[str, str] = {}
    problems: dict[str, list[str]] = {}
    for path, row in rows.items():
        cap = text_cap(path)
        if not cap:
            continue
        try:
            with store.open(row.sha256) as fh:
                data = fh.read(cap + 1)
        except BlobNotFound:
            problems.setdefault(path, []).append("content missing from the blob store")
            continue
        texts[path], notes = decode_capped(data, cap, row.size)
        if notes:
            problems[path] = notes

    def open_file(name: str) -> BinaryIO:
        row = rows.get(name)
        if row is None:
            raise FileNotFoundError(name)
        try:
            return store.open(row.sha256)
        except BlobNotFound as exc:  # readers in the engine expect OSError for a missing file
            raise FileNotFoundError(f"{name}: content missing from the blob store") from exc

    extra: dict = {"commit": commit.sha}
    if problems:
        extra["text_problems"] = problems
    return RepoSnapshot(
        id=repo.repo_id,
        files={p: r.size for p, r in rows.items()},
        texts=texts,
        open_file=open_file,
        created_at=repo.created_at,
        last_modified=commit.created_at,
        sha=commit.sha,
        extra=extra,
    )
