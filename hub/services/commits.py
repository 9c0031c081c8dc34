"""Creating commits: the one place a repository's content changes.

A commit is all-or-nothing. Every operation is validated (paths, caps, blobs present
with the announced size) before anything is written, and the rows (Commit, its
RepoFile listing, the branch Ref, the repository's denormalised columns) are written in
one transaction with the branch row locked, so concurrent pushes to one branch
serialise and a rejected commit leaves no trace. Blob content is written before, by
the upload endpoints; an unreferenced blob is harmless.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from hub.blobstore import BlobNotFound, get_blob_store
from hub.models import (
    Blob,
    Commit,
    Ref,
    RepoFile,
    Repository,
    RepoTag,
    RevisionAnalysis,
    git_blob_sha1,
    lfs_pointer,
)
from hub.services import gitobj
from hub.services.cards import card_data, derive_tags
from hub.services.errors import (
    BadRequest,
    Conflict,
    EntryNotFound,
    PreconditionFailed,
    RepoNotFound,
    RevisionNotFound,
    TooLarge,
    Unprocessable,
)
from hub.services.paths import validate_folder, validate_path

README = "README.md"
MAX_README_FOR_CARD = 1024 * 1024


@dataclass(frozen=True)
class AddFile:
    """Put content (already in the blob store) at ``path``. ``git_oid`` is None for LFS files."""

    path: str
    sha256: str
    size: int | None
    lfs: bool
    git_oid: str | None = None


@dataclass(frozen=True)
class DeleteFile:
    path: str


@dataclass(frozen=True)
class DeleteFolder:
    path: str


Operation = AddFile | DeleteFile | DeleteFolder


@dataclass
class CommitRequest:
    title: str
    description: str = ""
    parent_commit: str | None = None
    operations: list[Operation] = field(default_factory=list)


def _file_row_values(op: AddFile, blob: Blob) -> dict[str, Any]:
    if op.lfs:
        pointer = lfs_pointer(blob.sha256, blob.size)
        return {
            "size": blob.size,
            "oid": git_blob_sha1(pointer),
            "lfs": True,
            "sha256": blob.sha256,
            "pointer_size": len(pointer),
            "blob": blob,
        }
    if op.git_oid is None:
        raise BadRequest(f"{op.path}: a regular file needs its git oid")
    return {
        "size": blob.size,
        "oid": op.git_oid,
        "lfs": False,
        "sha256": blob.sha256,
        "pointer_size": None,
        "blob": blob,
    }


def _check_caps(ops: list[Operation], blobs: dict[str, Blob]) -> None:
    total = 0
    for op in ops:
        if isinstance(op, AddFile):
            size = blobs[op.sha256].size
            if size > settings.MAX_FILE_SIZE:
                raise TooLarge(
                    f"{op.path} is {size} bytes; the per-file limit is {settings.MAX_FILE_SIZE} bytes"
                )
            total += size
    if total > settings.MAX_COMMIT_SIZE:
        raise TooLarge(
            f"this commit adds {total} bytes; the per-commit limit is {settings.MAX_COMMIT_SIZE} bytes"
        )


def not_uploaded(op: AddFile) -> Unprocessable:
    """The refusal of content that is not there for this commit: also the answer for content
    the committer may not use, so a refusal never tells that the content exists."""
    return Unprocessable(f"{op.path}: content {op.sha256} was never uploaded (or failed verification)")


def _resolve_blobs(ops: list[Operation]) -> dict[str, Blob]:
    wanted = {op.sha256 for op in ops if isinstance(op, AddFile)}
    blobs = {b.sha256: b for b in Blob.objects.filter(sha256__in=wanted)}
    for op in ops:
        if not isinstance(op, AddFile):
            continue
        blob = blobs.get(op.sha256)
        if blob is None:
            raise not_uploaded(op)
        if op.size is not None and blob.size != op.size:
            raise Unprocessable(
                f"{op.path}: announced size {op.size} but the stored content is {blob.size} bytes"
            )
    return blobs


def lock_repository(repo: Repository) -> Repository:
    """The repository's row, locked until the transaction ends, or RepoNotFound (404) when it was
    deleted meanwhile.

    Everything that changes what a repository holds (commits, pull requests, its deletion) takes this
    lock first, so they run one after the other instead of interleaving: a commit that waited for a
    deletion finds the repository gone (it used to be a 500), and a deletion no longer deadlocks with
    a commit in flight (it took the commit's rows first and the repository's last).
    """
    locked = (
        Repository.objects.select_for_update(of=("self",))
        .select_related("namespace")
        .filter(pk=repo.pk)
        .first()
    )
    if locked is None:
        raise RepoNotFound(f"{repo.repo_id} was deleted")
    return locked


def create_commit(
    repo: Repository,
    branch: str,
    request: CommitRequest,
    *,
    author=None,
    author_name: str = "",
    sha: str | None = None,
    created_at: datetime | None = None,
    ref_kind: str = Ref.Kind.BRANCH,
    existing_branch: bool = False,
) -> Commit:
    """Apply ``request`` on top of ``branch`` (created from nothing if missing) and return the commit.

    ``existing_branch`` refuses (404) a branch that does not exist once the repository is locked: a
    client committing to a branch someone deletes meanwhile must not bring it back as a new branch
    holding only this commit's files (the client named a branch with a history, not a fresh one).

    ``ref_kind`` is ``Ref.Kind.PR`` when ``branch`` is a pull request number (``refs/pr/{branch}``);
    only the default *branch* updates the repository's denormalised columns.

    ``sha`` forces the commit id (mirrors keep upstream's); otherwise the git id is computed.
    ``created_at`` keeps upstream's commit date for mirrored commits, so revision-aware licence
    resolution (a parent's licence as of the child's date) sees when the revision was really made.
    """
    ops = list(request.operations)
    for op in ops:
        if isinstance(op, DeleteFolder):
            validate_folder(op.path)
        else:
            validate_path(op.path, removing=isinstance(op, DeleteFile))
    blobs = _resolve_blobs(ops)
    _check_caps(ops, blobs)
    from hub.tasks import analyze_revision  # the task module imports services; import late

    with refusing_collected_content(ops), transaction.atomic():
        # Lock the repository row: commits to one repository are serialised.
        repo = lock_repository(repo)
        _hold_named_content({op.sha256 for op in ops if isinstance(op, AddFile)})
        ref = Ref.objects.select_related("commit").filter(repository=repo, kind=ref_kind, name=branch).first()
        if ref is None and existing_branch:
            raise RevisionNotFound(f"Invalid rev id: {branch} (the branch was deleted; create it first)")
        parent = ref.commit if ref else None
        if request.parent_commit and (
            parent is None or not parent.sha.startswith(request.parent_commit.lower())
        ):
            raise PreconditionFailed(
                f"parentCommit {request.parent_commit} is not the head of {branch}"
                f" ({parent.sha if parent else 'empty branch'}); pull and retry"
            )
        current: dict[str, dict[str, Any]] = {}
        if parent is not None:
            for row in RepoFile.objects.filter(commit=parent).select_related("blob"):
                current[row.path] = {
                    "size": row.size, "oid": row.oid, "lfs": row.lfs, "sha256": row.sha256,
                    "pointer_size": row.pointer_size, "blob": row.blob,
                    "last_commit_id": row.last_commit_id or parent.pk,
                }  # fmt: skip
        for op in ops:
            if isinstance(op, AddFile):
                values = _file_row_values(op, blobs[op.sha256])
                before = current.get(op.path)
                # Re-adding identical content does not touch the path (as in git): keep its last commit.
                same = before is not None and (before["oid"], before["lfs"]) == (
                    values["oid"],
                    values["lfs"],
                )
                values["last_commit_id"] = before["last_commit_id"] if same else None
                current[op.path] = values
            elif isinstance(op, DeleteFile):
                if current.pop(op.path, None) is None:
                    raise EntryNotFound(f"cannot delete {op.path}: no such file on {branch}")
            else:
                prefix = op.path.rstrip("/") + "/"
                doomed = [p for p in current if p.startswith(prefix)]
                if not doomed:
                    raise EntryNotFound(f"cannot delete folder {op.path}: no such folder on {branch}")
                for p in doomed:
                    del current[p]
        for path in current:  # a file and a folder cannot share a name
            parts = path.split("/")
            for depth in range(1, len(parts)):
                if "/".join(parts[:depth]) in current:
                    raise BadRequest(
                        f"{path} needs {'/'.join(parts[:depth])} to be a folder, but it is a file"
                    )
        now = timezone.now().replace(microsecond=0)
        committed_at = created_at.replace(microsecond=0) if created_at is not None else now
        message = request.title + (f"\n\n{request.description}" if request.description else "")
        if sha is None:
            tree = gitobj.tree_ids({p: v["oid"] for p, v in current.items()})[""]
            name = author.get_username() if author is not None else (author_name or "modelhub")
            email = (
                (getattr(author, "email", "") or f"{name}@users.noreply.modelhub")
                if author
                else "noreply@modelhub"
            )
            sha = gitobj.commit_id(
                tree, [parent.sha] if parent else [], name, email, committed_at.astimezone(UTC), message
            )
        commit = Commit.objects.create(
            repository=repo, sha=sha, parent=parent, title=request.title[:500], message=request.description,
            author=author, author_name=author_name, created_at=committed_at,
        )  # fmt: skip
        RepoFile.objects.bulk_create(
            [RepoFile(commit=commit, path=p, **v) for p, v in sorted(current.items())], batch_size=500
        )
        if ref is None:
            Ref.objects.create(repository=repo, kind=ref_kind, name=branch, commit=commit, updated_at=now)
        else:
            Ref.objects.filter(pk=ref.pk).update(commit=commit, updated_at=now)
        if ref_kind == Ref.Kind.BRANCH and branch == repo.default_branch:
            refresh_denormalised(repo, commit, current)
        RevisionAnalysis.objects.create(commit=commit)
        from workers.enqueue import send_on_commit

        send_on_commit(analyze_revision, commit.pk)  # pending above: hub.requeue_pending_analyses re-sends it
    return commit


def _refuse_collected(operations: Iterable[Operation]) -> None:
    """Raise Conflict (409) naming the files whose content is gone: the garbage collector took
    content this commit names (stale and unreferenced until then) between the check and the
    insert, and a file row's foreign key refused the commit. Returns when nothing is gone."""
    named = {op.path: op.sha256 for op in operations if isinstance(op, AddFile)}
    kept = set(Blob.objects.filter(sha256__in=set(named.values())).values_list("sha256", flat=True))
    gone = sorted(path for path, sha256 in named.items() if sha256 not in kept)
    if gone:
        raise Conflict(
            f"the content of {', '.join(gone)} was removed by the garbage collector while this commit "
            "was written; upload it again and retry"
        ) from None


@contextmanager
def refusing_collected_content(operations: Iterable[Operation]) -> Iterator[None]:
    """Around an outer transaction that calls ``create_commit``: the file rows' foreign keys are
    checked when the outermost transaction commits, so a collision with the garbage collector
    surfaces there; it becomes the same 409 as for a plain commit."""
    try:
        yield
    except IntegrityError:
        _refuse_collected(operations)
        raise


def _hold_named_content(shas: set[str]) -> None:
    """Lock the rows of the content a commit names against the garbage collector until the commit
    lands (PostgreSQL ``FOR KEY SHARE``: it blocks only the collector's ``FOR UPDATE``, not writers
    refreshing the row), and refuse now if any was collected since ``_resolve_blobs``."""
    if not shas:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT sha256 FROM {Blob._meta.db_table} WHERE sha256 = ANY(%s) FOR KEY SHARE",
                [sorted(shas)],
            )
            held = {row[0] for row in cursor.fetchall()}
    else:  # SQLite: the transaction's write lock keeps the collector out from the first write
        held = set(Blob.objects.filter(sha256__in=shas).values_list("sha256", flat=True))
    if shas - held:
        raise IntegrityError("named content was collected")  # mapped to 409 by the caller


def read_readme(files: dict[str, dict[str, Any]]) -> bytes | None:
    entry = files.get(README)
    if not entry or entry["size"] > MAX_README_FOR_CARD:
        return None
    try:
        with get_blob_store().open(entry["sha256"]) as fh:
            return fh.read(MAX_README_FOR_CARD)
    except BlobNotFound:
        return None


def refresh_denormalised(repo: Repository, commit: Commit, files: dict[str, dict[str, Any]]) -> None:
    """Point the repository's list/search columns at ``commit`` (the head of its default branch)."""
    meta = card_data(read_readme(files))
    tags = derive_tags(meta, files.keys())
    lic = meta.get("license")
    repo.head = commit
    repo.last_modified = commit.created_at
    repo.updated_at = timezone.now()
    repo.card_data = meta
    repo.library_name = str(meta.get("library_name") or "")[:100]
    repo.pipeline_tag = str(meta.get("pipeline_tag") or "")[:100]
    repo.card_license = (lic if isinstance(lic, str) else (lic[0] if isinstance(lic, list) and lic else ""))[
        :100
    ]
    repo.save(
        update_fields=[
            "head",
            "last_modified",
            "updated_at",
            "card_data",
            "library_name",
            "pipeline_tag",
            "card_license",
        ]
    )
    RepoTag.objects.filter(repository=repo).delete()
    RepoTag.objects.bulk_create([RepoTag(repository=repo, tag=t, position=i) for i, t in enumerate(tags)])
