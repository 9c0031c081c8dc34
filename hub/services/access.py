"""Who may see, download and change a repository.

One rule everywhere (API, resolve, listings, search, the native API): a private
repository does not exist for someone who cannot read it, so every lookup goes through
``visible_repositories`` or ``get_readable`` and answers RepoNotFound, never 403.
Gating is a second layer on top of visibility: metadata stays public, file content
needs an accepted access request (or write access).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from hub.auth import Caller
from hub.models import AccessRequest, Namespace, OrgMembership, Repository
from hub.services.errors import Forbidden, GatedRepo, RepoNotFound, Unauthorized

WRITE_ROLES = (OrgMembership.Role.WRITE, OrgMembership.Role.ADMIN)


def _is_staff(user) -> bool:
    return bool(user is not None and user.is_active and user.is_superuser)


def visible_repositories(user, repo_type: str | None = None) -> QuerySet[Repository]:
    """Repositories ``user`` (None = anonymous) may know exist."""
    qs = Repository.objects.select_related("namespace")
    if repo_type:
        qs = qs.filter(repo_type=repo_type)
    if _is_staff(user):
        return qs
    if user is None or not user.is_authenticated:
        return qs.filter(private=False)
    member = OrgMembership.objects.filter(org=OuterRef("namespace"), user=user)
    return qs.filter(Q(private=False) | Q(namespace__user=user) | Exists(member))


def can_read(user, repo: Repository) -> bool:
    if not repo.private or _is_staff(user):
        return True
    if user is None or not user.is_authenticated:
        return False
    if repo.namespace.user_id == user.pk:
        return True
    return OrgMembership.objects.filter(org=repo.namespace_id, user=user).exists()


def can_write_namespace(user, namespace: Namespace) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if _is_staff(user) or namespace.user_id == user.pk:
        return True
    return OrgMembership.objects.filter(org=namespace, user=user, role__in=WRITE_ROLES).exists()


def can_write(user, repo: Repository) -> bool:
    return can_write_namespace(user, repo.namespace)


def get_readable(caller: Caller, repo_type: str, namespace: str, name: str) -> Repository:
    """The repository if it exists and ``caller`` may see it; RepoNotFound otherwise (never 403)."""
    repo = (
        Repository.objects.select_related("namespace")
        .filter(repo_type=repo_type, namespace__name=namespace, name=name)
        .first()
    )
    if repo is None or not can_read(caller.user, repo):
        raise RepoNotFound(f"Repository Not Found for {repo_type}s/{namespace}/{name}.")
    return repo


def _readable_by_a_user(caller: Caller, repo_type: str, namespace: str, name: str, doing: str) -> Repository:
    """The repository if ``caller`` is a signed-in user who can read it, before any finer check.

    A bad token is a 401 whatever the repository; anonymous callers see private repos as
    missing (404) and readable ones as needing a login (401), so neither leaks existence.
    """
    if caller.user is None:
        if caller.bad_token:
            raise Unauthorized("Invalid credentials in Authorization header")
        repo = get_readable(caller, repo_type, namespace, name)
        raise Unauthorized(f"You must be authenticated to {doing} {repo.repo_id}.")
    return get_readable(caller, repo_type, namespace, name)


def get_writable(caller: Caller, repo_type: str, namespace: str, name: str) -> Repository:
    """The repository if ``caller`` may push to it; 401 when anonymous, 403 for read-only callers."""
    repo = _readable_by_a_user(caller, repo_type, namespace, name, "write to")
    if not caller.can_write or not can_write(caller.user, repo):
        raise Forbidden(f"You don't have write access to {repo.repo_id} (or your token is read-only).")
    return repo


def check_download(caller: Caller, repo: Repository) -> None:
    """Raise GatedRepo unless ``caller`` may fetch file content of ``repo`` (already readable)."""
    if not repo.gated:
        return
    user = caller.user
    if user is not None and (can_write(user, repo) or _accepted(user, repo)):
        return
    msg = (
        f"Access to model {repo.repo_id} is restricted. You must have access to it and be authenticated to "
        "access it. Please log in."
        if user is None
        else f"Access to model {repo.repo_id} is restricted and you are not in the authorized list. "
        "Request access on the model's page."
    )
    raise GatedRepo(msg, status=401 if user is None else 403)


def _accepted(user, repo: Repository) -> bool:
    return AccessRequest.objects.filter(
        repository=repo, user=user, status=AccessRequest.Status.ACCEPTED
    ).exists()


def get_contributor(caller: Caller, repo_type: str, namespace: str, name: str) -> Repository:
    """The repository if ``caller`` may propose changes to it (open or push to a pull request).

    As on the Hub, proposing needs only read access (plus a write-scoped token and, on a gated
    repository, access to its files): the changes land on ``refs/pr/N``, never on a branch, and
    uploading content-addressed blobs grants nothing until a commit a caller may make names them
    (and naming stored content by hash needs the right to it: ``hub.services.blob_access``).
    """
    if caller.user is None:
        if caller.bad_token:
            raise Unauthorized("Invalid credentials in Authorization header")
        repo = get_readable(caller, repo_type, namespace, name)
        raise Unauthorized(f"You must be authenticated to contribute to {repo.repo_id}.")
    repo = get_readable(caller, repo_type, namespace, name)
    if not caller.can_write:
        raise Forbidden("this token is read-only; create a token with --write")
    check_download(caller, repo)
    return repo


def can_admin(user, repo: Repository) -> bool:
    """Owner of the repository's personal namespace, admin of its organisation, or staff."""
    if user is None or not user.is_authenticated:
        return False
    if _is_staff(user) or repo.namespace.user_id == user.pk:
        return True
    return OrgMembership.objects.filter(
        org=repo.namespace_id, user=user, role=OrgMembership.Role.ADMIN
    ).exists()


def get_administrable(caller: Caller, repo_type: str, namespace: str, name: str) -> Repository:
    """The repository if ``caller`` administers it: 401 anonymous, 404 unreadable, 403 otherwise."""
    repo = _readable_by_a_user(caller, repo_type, namespace, name, "manage")
    if not can_admin(caller.user, repo):
        raise Forbidden(f"Only admins of {repo.namespace.name} can manage access to {repo.repo_id}.")
    return repo
