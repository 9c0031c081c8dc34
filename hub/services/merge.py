"""Merging a pull request, its conflicts and its diff, compared file by file against its base.

Revisions are full file listings (``RepoFile`` rows), so a three-way merge is a comparison of
three dictionaries: the PR's changes are the paths whose content differs between its base
commit and its head; a path conflicts when the target branch changed it too, to something
else. A clean merge applies the PR's changes on top of the target's head as one new commit
(a squash merge), through the ordinary, atomic commit service.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from django.db import transaction

from hub.blobstore import BlobNotFound, get_blob_store
from hub.models import Commit, Discussion, DiscussionEvent, Ref, RepoFile, lfs_pointer
from hub.services.commits import (
    AddFile,
    CommitRequest,
    DeleteFile,
    Operation,
    create_commit,
    refusing_collected_content,
)
from hub.services.discussions import OPEN_STATES, add_comment, add_event, lock_discussion
from hub.services.errors import BadRequest, Conflict

#: Text files up to this size get a line diff; larger ones are summarised.
MAX_DIFF_BYTES = 256 * 1024


@dataclass(frozen=True)
class Entry:
    """What a path holds in one revision; equal entries mean identical content."""

    oid: str
    lfs: bool
    sha256: str
    size: int


Listing = dict[str, Entry]


def listing(commit: Commit | None) -> Listing:
    if commit is None:
        return {}
    rows = RepoFile.objects.filter(commit=commit).values_list("path", "oid", "lfs", "sha256", "size")
    return {p: Entry(oid, lfs, sha, size) for p, oid, lfs, sha, size in rows}


def changes(base: Listing, head: Listing) -> dict[str, Entry | None]:
    """Paths whose content differs from ``base`` to ``head`` (None: deleted in ``head``)."""
    return {p: head.get(p) for p in base.keys() | head.keys() if base.get(p) != head.get(p)}


@dataclass
class PullRequestState:
    head: Commit
    target: Commit | None  # None once the target branch has been deleted
    changed: dict[str, Entry | None]
    conflicts: list[str]
    base: Listing
    target_files: Listing


def state(disc: Discussion) -> PullRequestState:
    """The PR's changes against its base and the paths the target branch changed differently."""
    repo = disc.repository
    head = (
        Ref.objects.select_related("commit").get(repository=repo, kind=Ref.Kind.PR, name=str(disc.num)).commit
    )
    target_ref = (
        Ref.objects.select_related("commit")
        .filter(repository=repo, kind=Ref.Kind.BRANCH, name=disc.target_branch)
        .first()
    )
    target = target_ref.commit if target_ref else None
    base, mine, theirs = listing(disc.base_commit), listing(head), listing(target)
    changed = changes(base, mine)
    conflicts = sorted(p for p, e in changed.items() if theirs.get(p) not in (base.get(p), e))
    return PullRequestState(head, target, changed, conflicts, base, theirs)


def merge(disc: Discussion, author, comment: object = None) -> Commit | None:
    """Merge ``disc`` into its target branch; 409 naming the conflicting files when it cannot.

    Returns the merge commit, or None when the target already holds every change.
    """
    if not disc.is_pull_request:
        raise BadRequest(f"#{disc.num} is a discussion, not a pull request")
    ops: list[Operation] = []  # filled under the lock; read by the refusal only if the commit fails
    with refusing_collected_content(ops), transaction.atomic():
        disc = lock_discussion(disc)  # the status and both heads as they are now (see there)
        if disc.status not in OPEN_STATES:
            raise Conflict(f"pull request #{disc.num} is {disc.status}")
        st = state(disc)
        if st.target is None:
            raise Conflict(f"the target branch {disc.target_branch} no longer exists")
        if st.conflicts:
            raise Conflict(
                f"pull request #{disc.num} conflicts with {disc.target_branch}: " + ", ".join(st.conflicts)
            )
        for path, entry in sorted(st.changed.items()):
            if entry is None:
                if path in st.target_files:
                    ops.append(DeleteFile(path))
            elif st.target_files.get(path) != entry:
                ops.append(
                    AddFile(path, entry.sha256, entry.size, entry.lfs, None if entry.lfs else entry.oid)
                )
        merged = None
        if ops:
            request = CommitRequest(
                title=disc.title, description=f"Merge pull request #{disc.num}", parent_commit=st.target.sha,
                operations=ops,
            )  # fmt: skip
            merged = create_commit(disc.repository, disc.target_branch, request, author=author)
        disc.status = Discussion.Status.MERGED
        disc.merge_commit = merged
        disc.save(update_fields=["status", "merge_commit"])
        add_event(disc, DiscussionEvent.Type.STATUS, author, {"status": "merged"})
        if str(comment or "").strip():
            add_comment(disc, author, comment)
    return merged


def _git_text(entry: Entry | None) -> bytes | None:
    """What git holds for the path: the pointer of an LFS file, the content of a small one."""
    if entry is None:
        return b""
    if entry.lfs:
        return lfs_pointer(entry.sha256, entry.size)
    if entry.size > MAX_DIFF_BYTES:
        return None
    try:
        with get_blob_store().open(entry.sha256) as fh:
            return fh.read(MAX_DIFF_BYTES + 1)
    except BlobNotFound:
        return None


def diff(changed: dict[str, Entry | None], base: Listing) -> str:
    """A git-style unified diff of the PR's changes (pointer diffs for LFS files, as git shows them)."""
    out: list[str] = []
    for path in sorted(changed):
        old, new = base.get(path), changed[path]
        out.append(f"diff --git a/{path} b/{path}\n")
        if old is None:
            out.append("new file mode 100644\n")
        elif new is None:
            out.append("deleted file mode 100644\n")
        before, after = _git_text(old), _git_text(new)
        if before is None or after is None or b"\0" in before or b"\0" in after:
            out.append(f"Binary files a/{path} and b/{path} differ\n")
            continue
        try:
            a, b = before.decode().splitlines(keepends=True), after.decode().splitlines(keepends=True)
        except UnicodeDecodeError:
            out.append(f"Binary files a/{path} and b/{path} differ\n")
            continue
        out.extend(
            line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
            for line in difflib.unified_diff(
                a, b, "/dev/null" if old is None else f"a/{path}", "/dev/null" if new is None else f"b/{path}"
            )
        )
    return "".join(out)
