"""Creating and deleting branches and tags."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from hub.models import Ref, Repository
from hub.services.commits import lock_repository
from hub.services.errors import BadRequest, Conflict, Forbidden, RevisionNotFound
from hub.services.revisions import SHA_RE, resolve_revision

INVALID_REF_CHARS = set(" ~^:?*[\\") | {chr(c) for c in range(32)} | {chr(127)}


def validate_ref_name(name: str) -> str:
    if (
        not name
        or len(name) > 255
        or any(ch in INVALID_REF_CHARS for ch in name)
        or ".." in name
        or name.startswith(("/", "-", "refs/"))
        or name.endswith(("/", ".lock", "."))
        or "//" in name
        or (len(name) == 40 and SHA_RE.match(name))
    ):
        raise BadRequest(f"invalid branch or tag name {name!r}")
    return name


def create_ref(
    repo: Repository, kind: str, name: str, starting_point: str | None, exist_ok: bool = False
) -> Ref:
    validate_ref_name(name)
    commit = resolve_revision(repo, starting_point or repo.default_branch)
    existing = Ref.objects.filter(repository=repo, kind=kind, name=name).first()
    if existing is not None:
        if exist_ok:
            return existing
        raise Conflict(f"{kind} {name} already exists")
    try:
        with transaction.atomic():
            return Ref.objects.create(repository=repo, kind=kind, name=name, commit=commit)
    except IntegrityError as exc:
        raise Conflict(f"{kind} {name} already exists") from exc


def delete_ref(repo: Repository, kind: str, name: str) -> None:
    """Delete a branch or tag, after any commit in flight on the repository (its lock is taken
    first, as a commit takes it): a commit then either lands before the deletion or finds the
    branch gone, never lands on a branch deleted under it."""
    if kind == Ref.Kind.BRANCH and name == repo.default_branch:
        raise Forbidden("the default branch cannot be deleted")
    with transaction.atomic():
        lock_repository(repo)
        deleted, _ = Ref.objects.filter(repository=repo, kind=kind, name=name).delete()
    if not deleted:
        raise RevisionNotFound(f"no {kind} named {name}")
