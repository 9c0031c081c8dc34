"""``lastCommit`` of tree and paths-info entries: the last commit that changed each path.

The commit service carries ``RepoFile.last_commit`` forward from parent to child (NULL when
the row's own commit changed the path), so a file's answer is already on its row, and a
directory's is the newest of its files'. A page costs one query for the commits it names,
whatever the length of the history or the size of the revision.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hub.models import Commit, RepoFile


def _changed_in(row: RepoFile) -> int:
    return row.last_commit_id or row.commit_id


def last_commits(files: Iterable[RepoFile], entries: list[dict[str, Any]]) -> dict[str, Commit]:
    """``path → commit`` for the tree/paths-info ``entries`` (dicts with ``type`` and ``path``).

    ``files`` is the revision's full listing (a directory's last commit is its newest file's).
    """
    wanted_dirs = {e["path"] for e in entries if e["type"] == "directory"}
    wanted_files = {e["path"] for e in entries if e["type"] == "file"}
    per_file: dict[str, int] = {}
    per_dir: dict[str, set[int]] = {d: set() for d in wanted_dirs}
    for row in files:
        changed = _changed_in(row)
        if row.path in wanted_files:
            per_file[row.path] = changed
        if wanted_dirs:
            parts = row.path.split("/")
            for depth in range(1, len(parts)):
                ids = per_dir.get("/".join(parts[:depth]))
                if ids is not None:
                    ids.add(changed)
    ids = set(per_file.values()).union(*per_dir.values()) if per_dir else set(per_file.values())
    commits = {c.pk: c for c in Commit.objects.filter(pk__in=ids).only("pk", "sha", "title", "created_at")}
    out = {path: commits[pk] for path, pk in per_file.items() if pk in commits}
    for path, candidates in per_dir.items():
        known = [commits[pk] for pk in candidates if pk in commits]
        if known:
            out[path] = max(known, key=lambda c: (c.created_at, c.pk))
    return out
