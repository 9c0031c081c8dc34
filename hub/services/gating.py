"""Reviewing access requests to gated repositories: list, accept, reject, cancel, grant.

Decisions move one ``AccessRequest`` row between pending, accepted and rejected (``cancel``
sends it back to pending, which also revokes access); ``check_download`` reads the same row,
so a decision takes effect on the next download. Who may decide is
``hub.services.access.get_administrable``; the rules here are the Hub's (``models-gated.md``
and the client's documented errors): the repository must be gated (400), the user and the
request must exist (404), and a request cannot be moved to the status it already has (404).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from hub.models import AccessRequest, Repository
from hub.services.errors import BadRequest, Conflict, EntryNotFound

STATUSES = tuple(AccessRequest.Status.values)


def _require_gated(repo: Repository) -> None:
    if not repo.gated:
        raise BadRequest(f"{repo.repo_id} is not a gated repository")


def requests_with_status(repo: Repository, status: str) -> QuerySet[AccessRequest]:
    _require_gated(repo)
    if status not in STATUSES:
        raise BadRequest(f"status must be one of {', '.join(STATUSES)}")
    return (
        AccessRequest.objects.filter(repository=repo, status=status)
        .select_related("user")
        .order_by("created_at", "pk")
    )


def _user(username: object):
    user = get_user_model().objects.filter(username=str(username or "")).first()
    if user is None:
        raise EntryNotFound(f"user {username!r} does not exist")
    return user


def handle(
    repo: Repository,
    decided_by,
    *,
    status: object,
    username: object = None,
    request_id: object = None,
    rejection_reason: object = None,
) -> AccessRequest:
    """Move one request (named by user or by id) to ``status``."""
    _require_gated(repo)
    if status not in STATUSES:
        raise BadRequest(f"status must be one of {', '.join(STATUSES)}")
    if rejection_reason is not None and status != AccessRequest.Status.REJECTED:
        raise BadRequest("rejectionReason is only for rejections")
    with transaction.atomic():
        qs = AccessRequest.objects.select_for_update().filter(repository=repo)
        if username is not None:
            req = qs.filter(user=_user(username)).first()
        else:
            req = qs.filter(pk=_request_pk(request_id)).first()
        if req is None:
            raise EntryNotFound("no access request from this user for this repository")
        if req.status == status:
            raise EntryNotFound(f"this access request is already {status}")
        req.status = status
        req.decided_at = None if status == AccessRequest.Status.PENDING else timezone.now()
        req.decided_by = None if status == AccessRequest.Status.PENDING else decided_by
        req.rejection_reason = str(rejection_reason or "") if status == AccessRequest.Status.REJECTED else ""
        req.save(update_fields=["status", "decided_at", "decided_by", "rejection_reason"])
    return req


def _request_pk(raw: object) -> int:
    try:
        return int(str(raw), 16)
    except ValueError as exc:
        raise EntryNotFound(f"no access request {raw!r}") from exc


def request_id(req: AccessRequest) -> str:
    """The opaque id the client passes back as ``requestId`` (hex, like the Hub's object ids)."""
    return f"{req.pk:024x}"


def grant(repo: Repository, decided_by, username: object) -> AccessRequest:
    """Accept ``username`` without a request of theirs; 409 when already accepted."""
    _require_gated(repo)
    user = _user(username)
    with transaction.atomic():
        req, created = AccessRequest.objects.select_for_update().get_or_create(
            repository=repo,
            user=user,
            defaults={
                "status": AccessRequest.Status.ACCEPTED,
                "decided_at": timezone.now(),
                "decided_by": decided_by,
            },
        )
        if not created:
            if req.status == AccessRequest.Status.ACCEPTED:
                raise Conflict(f"{user.get_username()} already has access to {repo.repo_id}")
            req.status = AccessRequest.Status.ACCEPTED
            req.decided_at, req.decided_by, req.rejection_reason = timezone.now(), decided_by, ""
            req.save(update_fields=["status", "decided_at", "decided_by", "rejection_reason"])
    return req
