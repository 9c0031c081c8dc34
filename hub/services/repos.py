"""Creating repositories (with the Hub's initial ``.gitattributes`` commit) and their settings."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.db.models.functions import Upper

from hub.auth import Caller
from hub.models import Namespace, Repository, namespace_for_user
from hub.services.access import can_write_namespace
from hub.services.blobs import store_small
from hub.services.commits import AddFile, CommitRequest, create_commit
from hub.services.errors import BadRequest, Conflict, Forbidden, Unauthorized

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")

#: What the Hub commits first in every new repository: LFS patterns for weight formats.
GITATTRIBUTES = "".join(
    f"*.{ext} filter=lfs diff=lfs merge=lfs -text\n"
    for ext in (
        "7z", "arrow", "bin", "bz2", "ckpt", "ftz", "gz", "h5", "joblib", "mlmodel", "model", "msgpack", "npy",
        "npz", "onnx", "ot", "parquet", "pb", "pickle", "pkl", "pt", "pth", "rar", "safetensors", "tar", "tflite",
        "tgz", "wasm", "xz", "zip", "zst", "gguf",
    )
).encode()  # fmt: skip


def is_valid_name(name: object) -> bool:
    """The repository name rule, which user names follow too (a user's name is its namespace)."""
    return (
        isinstance(name, str)
        and NAME_RE.fullmatch(name) is not None
        and not name.endswith((".git", "."))
        and ".." not in name
    )


def validate_name(name: object) -> str:
    if not is_valid_name(name):
        raise BadRequest(
            f"invalid repository name {name!r}: use letters, digits, '-', '_' and '.', at most 96 characters"
        )
    return name


def create_repository(
    caller: Caller,
    *,
    name: str,
    organization: str | None = None,
    repo_type: str = Repository.Type.MODEL,
    private: bool = False,
    exist_ok: bool = False,
) -> tuple[Repository, bool]:
    """Create ``organization or caller``/``name`` with an initial commit; (repo, created)."""
    if caller.user is None:
        raise Unauthorized(
            "Invalid credentials in Authorization header" if caller.bad_token else "Login required"
        )
    if not caller.can_write:
        raise Forbidden("this token is read-only; create a token with --write")
    if repo_type not in Repository.Type.values:
        raise BadRequest(f"unsupported repository type {repo_type!r}: use model or dataset")
    validate_name(name)
    if organization:
        validate_name(organization)
        namespace = Namespace.objects.filter(name=organization).first()
        if namespace is None or not can_write_namespace(caller.user, namespace):
            raise Forbidden(f"you cannot create repositories in {organization!r}")
    else:
        namespace = namespace_for_user(caller.user)
    existing = Repository.objects.filter(namespace=namespace, repo_type=repo_type, name=name).first()
    if existing is not None:
        if exist_ok:
            return existing, False
        raise Conflict(f"You already created this {repo_type} repo: {namespace.name}/{name}")
    try:
        with transaction.atomic():
            repo = Repository.objects.create(
                namespace=namespace, name=name, repo_type=repo_type, private=private, created_by=caller.user
            )
            content = store_small(GITATTRIBUTES, settings.MAX_INLINE_FILE_SIZE)
            create_commit(
                repo,
                repo.default_branch,
                CommitRequest(
                    title="initial commit",
                    operations=[
                        AddFile(".gitattributes", content.sha256, content.size, False, content.git_oid)
                    ],
                ),
                author=caller.user,
            )
    except IntegrityError as exc:  # a concurrent create of the same name
        raise Conflict(f"{namespace.name}/{name} already exists") from exc
    return repo, True


def owner_name_pairs(repo_ids: Iterable[str]) -> set[tuple[str, str]]:
    """Lower-cased (owner, name) of every well-formed ``owner/name`` id; malformed ones dropped."""
    pairs = set()
    for repo_id in repo_ids:
        owner, _, name = repo_id.lower().partition("/")
        if owner and name:
            pairs.add((owner, name))
    return pairs


def find_by_ids(queryset: QuerySet[Repository], repo_ids: Iterable[str]) -> dict[str, Repository]:
    """Repositories of ``queryset`` named by ``owner/name`` ids (any case), keyed by lower-cased id.

    One indexed query for any number of ids: ``UPPER(name) IN (...)`` is served by
    ``hub_repo_name_upper_idx``, whereas an OR of (owner, name) pairs across the namespace join
    (or a query per id) scans. Owners are matched on the few candidate rows; Hub names are
    ASCII, so Python's and the database's upper-casing agree.
    """
    pairs = owner_name_pairs(repo_ids)
    if not pairs:
        return {}
    candidates = (
        queryset.alias(upper_name=Upper("name"))
        .filter(upper_name__in=sorted({name.upper() for _, name in pairs}))
        .select_related("namespace")
    )
    return {r.repo_id.lower(): r for r in candidates if (r.namespace.name.lower(), r.name.lower()) in pairs}
