"""What "a refused request left no partial state" means, as one comparable value.

Row counts alone would miss a refused commit that rewrote a branch, so the snapshot keeps
the branch heads and the set of blob rows too, plus every object file in the filesystem blob
store (staging files in ``tmp/`` included: a refused upload must not leave one behind).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def snapshot_state(store: Any) -> dict[str, object]:
    from hub.models import AccessRequest, Blob, Commit, FileScan, Ref, RepoFile, Repository

    root = Path(getattr(store, "root", "/nonexistent"))
    return {
        "repositories": Repository.objects.count(),
        "commits": Commit.objects.count(),
        "files": RepoFile.objects.count(),
        "refs": sorted(Ref.objects.values_list("repository_id", "kind", "name", "commit_id")),
        "blobs": sorted(Blob.objects.values_list("sha256", flat=True)),
        "scans": FileScan.objects.count(),
        "access_requests": AccessRequest.objects.count(),
        "store": sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
        if root.is_dir()
        else [],
    }
