"""Resolving revisions (branch, tag, sha) and splitting ``{rev}/{path}`` URL tails.

Clients quote the revision with ``safe=""`` (``refs/pr/1`` → ``refs%2Fpr%2F1``) but
WSGI servers decode ``%2F`` before Django sees the path, so ``resolve/refs/pr/1/x.json``
is ambiguous. ``split_rev_path`` matches the longest existing ref name first. Pull requests
are only reachable as ``refs/pr/{num}``: a bare number never names one.
"""

from __future__ import annotations

import re

from hub.models import Commit, Ref, Repository
from hub.services.errors import RevisionNotFound

SHA_RE = re.compile(r"^[0-9a-f]{7,40}$")


def resolve_revision(repo: Repository, rev: str | None) -> Commit:
    """The commit ``rev`` names in ``repo`` (default branch when empty)."""
    rev = rev or repo.default_branch
    name = rev
    for prefix, kind in (
        ("refs/heads/", Ref.Kind.BRANCH),
        ("refs/tags/", Ref.Kind.TAG),
        ("refs/pr/", Ref.Kind.PR),
    ):
        if rev.startswith(prefix):
            name = rev[len(prefix) :]
            ref = Ref.objects.select_related("commit").filter(repository=repo, kind=kind, name=name).first()
            if ref:
                return ref.commit
            raise RevisionNotFound(f"Invalid rev id: {rev}")
    refs = {r.kind: r for r in Ref.objects.select_related("commit").filter(repository=repo, name=name)}
    ref = refs.get(Ref.Kind.BRANCH) or refs.get(Ref.Kind.TAG)
    if ref:
        return ref.commit
    if SHA_RE.match(rev):
        if len(rev) == 40:
            commit = Commit.objects.filter(repository=repo, sha=rev).first()
        else:
            matches = list(Commit.objects.filter(repository=repo, sha__startswith=rev)[:2])
            commit = matches[0] if len(matches) == 1 else None
        if commit:
            return commit
    raise RevisionNotFound(f"Invalid rev id: {rev}")


def ref_target(rev: str) -> tuple[str, str]:
    """(kind, name) of the ref a commit to ``rev`` moves: ``refs/pr/3`` → PR "3", else a branch."""
    if rev.startswith("refs/pr/"):
        return Ref.Kind.PR, rev[len("refs/pr/") :]
    return Ref.Kind.BRANCH, rev.removeprefix("refs/heads/")


def split_rev_path(repo: Repository, tail: str) -> tuple[str, str]:
    """Split ``rev/path/in/repo`` into (rev, path), honouring ref names that contain '/'."""
    names = Ref.objects.filter(repository=repo, name__contains="/").values_list("name", flat=True)
    candidates = sorted({*names, *(f"refs/heads/{n}" for n in names)}, key=len, reverse=True)
    for name in candidates:
        if tail == name:
            return name, ""
        if tail.startswith(name + "/"):
            return name, tail[len(name) + 1 :]
    for prefix in ("refs/heads/", "refs/tags/", "refs/pr/", "refs/convert/"):
        if tail.startswith(prefix):
            rest = tail[len(prefix) :]
            head, _, path = rest.partition("/")
            return prefix + head, path
    rev, _, path = tail.partition("/")
    return rev, path
