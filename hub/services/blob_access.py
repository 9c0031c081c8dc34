"""Which stored content a commit to a repository may name by its sha256.

The blob store is content-addressed and shared, so an ``lfsFile`` line names content by hash
instead of carrying it. A hash alone proves nothing: the sha256 of a gated or private file
shows in tree listings and pointers, and a commit naming it would serve the content from the
committer's own repository. So a commit to ``repo`` may name content only when

* it is already in ``repo``'s history (re-adding, reverting, moving a file),
* its author may download it from a repository holding it (dedup across readable repos), or
* an upload to ``repo`` hashed its bytes (``BlobGrant``): for the uploader, and for the
  repository's writers (a pull-request author holds nothing by another contributor's upload).

The LFS batch answer follows the same rule, so "already stored" tells a caller nothing about
content it may not read: everything else is asked for and must be uploaded (and hashed).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from hub.auth import Caller
from hub.models import AddressClaim, BlobGrant, RepoFile, Repository
from hub.services.access import can_write, check_download, visible_repositories
from hub.services.errors import HubError


def unavailable(caller: Caller, repo: Repository, shas: Iterable[str]) -> set[str]:
    """The sha256s among ``shas`` that ``caller`` may not name in a commit to ``repo``."""
    missing = set(shas)
    if not missing:
        return missing
    grants = BlobGrant.objects.filter(repository=repo, blob_id__in=missing)
    if not can_write(caller.user, repo):
        grants = grants.filter(user=caller.user) if caller.user is not None else grants.none()
    missing.difference_update(grants.values_list("blob_id", flat=True))
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


def grant(repo_pk: int, sha256: str, user_pk: int | None) -> None:
    """Record that ``user_pk``'s upload to repository ``repo_pk`` hashed the content ``sha256``
    (its ``Blob`` row exists)."""
    BlobGrant.objects.get_or_create(repository_id=repo_pk, blob_id=sha256, user_id=user_pk)


def claim_address(sha256: str, ticket: str, seconds: int) -> bool:
    """Whether the upload ``ticket`` may assemble at the content address (see ``AddressClaim``):
    True for the first claim, or when the previous one expired. Atomic on both databases (a
    primary-key insert, else a conditional update of an expired row)."""
    now = timezone.now()
    expires = now + timedelta(seconds=seconds)
    try:
        with transaction.atomic():
            AddressClaim.objects.create(sha256=sha256, ticket=ticket, expires_at=expires)
        return True
    except IntegrityError:
        taken = AddressClaim.objects.filter(sha256=sha256, expires_at__lt=now).update(
            ticket=ticket, expires_at=expires
        )
        return taken == 1


def release_address(sha256: str, ticket: str) -> None:
    """The upload ``ticket`` is verified (or gone): its claim is no longer needed."""
    AddressClaim.objects.filter(sha256=sha256, ticket=ticket).delete()
