"""Which stored content a commit to a repository may name by its sha256.

The blob store is content-addressed and shared, so an ``lfsFile`` line names content by hash
instead of carrying it. A hash alone proves nothing: the sha256 of a gated or private file
shows in tree listings and pointers, and a commit naming it would serve the content from the
committer's own repository. So a commit to ``repo`` may name content only when

* it is already in ``repo``'s history (re-adding, reverting, moving a file),
* its author may download it from a repository holding it (dedup across readable repos), or
* an upload to ``repo`` hashed its bytes (``BlobGrant``: the uploader held the content).

The LFS batch answer follows the same rule, so "already stored" tells a caller nothing about
content it may not read: everything else is asked for and must be uploaded (and hashed).
"""

from __future__ import annotations

from collections.abc import Iterable

from hub.auth import Caller
from hub.models import BlobGrant, RepoFile, Repository
from hub.services.access import check_download, visible_repositories
from hub.services.errors import HubError


def unavailable(caller: Caller, repo: Repository, shas: Iterable[str]) -> set[str]:
    """The sha256s among ``shas`` that ``caller`` may not name in a commit to ``repo``."""
    missing = set(shas)
    if not missing:
        return missing
    granted = BlobGrant.objects.filter(repository=repo, blob_id__in=missing).values_list("blob_id", flat=True)
    missing.difference_update(granted)
    if missing:
        own = RepoFile.objects.filter(commit__repository=repo, blob_id__in=missing).values_list(
            "blob_id", flat=True
        )
        missing.difference_update(own)
    if missing:
        holders = (
            RepoFile.objects.filter(
                blob_id__in=missing, commit__repository__in=visible_repositories(caller.user)
            )
            .values_list("blob_id", "commit__repository")
            .distinct()
        )
        holders = list(holders)
        # the holding repositories in one query; only gated ones cost a check of their own
        repos = Repository.objects.select_related("namespace").in_bulk({pk for _, pk in holders})
        readable: dict[int, bool] = {}  # per holding repository: may the caller download from it?
        for sha, repo_pk in holders:
            if sha not in missing:
                continue
            if repo_pk not in readable:
                readable[repo_pk] = _may_download(caller, repos[repo_pk])
            if readable[repo_pk]:
                missing.discard(sha)
    return missing


def _may_download(caller: Caller, repo: Repository) -> bool:
    try:
        check_download(caller, repo)
    except HubError:  # gated, and the caller has no access
        return False
    return True


def grant(repo_pk: int, sha256: str) -> None:
    """Record that an upload to repository ``repo_pk`` hashed the content ``sha256`` (its ``Blob`` row exists)."""
    BlobGrant.objects.get_or_create(repository_id=repo_pk, blob_id=sha256)
