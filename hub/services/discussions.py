"""Discussions and pull requests: numbering, the timeline, status changes, commits to ``refs/pr/N``.

A pull request is a ``Discussion`` plus a ``Ref`` of kind PR named by its number, so every
read path (``resolve``, ``tree``, ``paths-info``, ``model_info``) serves ``refs/pr/N`` through
the ordinary revision lookup, and a commit to it goes through the ordinary commit service.
Merging is in ``hub.services.merge``.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from hub.models import Commit, Discussion, DiscussionEvent, Ref, Repository
from hub.services.commits import CommitRequest, create_commit, lock_repository, refusing_collected_content
from hub.services.errors import BadRequest, Conflict, EntryNotFound, RevisionNotFound
from hub.services.revisions import resolve_revision

TITLE_MIN, TITLE_MAX = 1, 200
COMMENT_MAX = 64 * 1024
OPEN_STATES = (Discussion.Status.OPEN, Discussion.Status.DRAFT)


def _title(raw: object) -> str:
    title = str(raw or "").strip()
    if not TITLE_MIN <= len(title) <= TITLE_MAX:
        raise BadRequest(f"a title must be {TITLE_MIN} to {TITLE_MAX} characters")
    return title


def add_event(discussion: Discussion, kind: str, author, data: dict) -> DiscussionEvent:
    return DiscussionEvent.objects.create(discussion=discussion, type=kind, author=author, data=data)


def add_comment(discussion: Discussion, author, text: object) -> DiscussionEvent:
    """A comment event; ``latest``/``history`` carry the raw text as the client reads it."""
    from django.utils.html import escape, linebreaks

    raw = str(text or "").strip()
    if not raw:
        raise BadRequest("a comment cannot be empty")
    if len(raw) > COMMENT_MAX:
        raise BadRequest(f"a comment is at most {COMMENT_MAX} characters")
    version = {
        "raw": raw,
        "html": linebreaks(escape(raw)),
        "updatedAt": timezone.now().isoformat().replace("+00:00", "Z"),
        "author": {"name": author.get_username()} if author else {},
    }
    data = {"edited": False, "hidden": False, "latest": version, "history": [version], "numEdits": 0}
    return add_event(discussion, DiscussionEvent.Type.COMMENT, author, data)


def _create(repo: Repository, author, *, title: str, pull_request: bool, status: str, **extra) -> Discussion:
    """A new discussion with the next number of ``repo`` (the repository row is locked by the caller)."""
    last = Discussion.objects.filter(repository=repo).aggregate(n=Max("num"))["n"] or 0
    return Discussion.objects.create(
        repository=repo, num=last + 1, title=title, author=author, is_pull_request=pull_request,
        status=status, **extra,
    )  # fmt: skip


def create_discussion(
    repo: Repository, author, *, title: object, description: object, pull_request: bool
) -> Discussion:
    """A discussion, or an empty (draft) pull request against the default branch, as the client's
    ``create_discussion``/``create_pull_request`` open them."""
    title = _title(title)
    with transaction.atomic():
        repo = lock_repository(repo)
        if pull_request:
            base = resolve_revision(repo, repo.default_branch)
            disc = _create(
                repo, author, title=title, pull_request=True, status=Discussion.Status.DRAFT,
                target_branch=repo.default_branch, base_commit=base,
            )  # fmt: skip
            Ref.objects.create(repository=repo, kind=Ref.Kind.PR, name=str(disc.num), commit=base)
        else:
            disc = _create(repo, author, title=title, pull_request=False, status=Discussion.Status.OPEN)
        if str(description or "").strip():
            add_comment(disc, author, description)
    return disc


def commit_as_new_pull_request(
    repo: Repository, target_branch: str, request: CommitRequest, author
) -> tuple[Discussion, Commit]:
    """``create_commit(create_pr=True)``: a new PR from ``parentCommit`` (or the target's head) with
    this commit on it. All or nothing: a refused commit leaves no pull request behind."""
    if not Ref.objects.filter(repository=repo, kind=Ref.Kind.BRANCH, name=target_branch).exists():
        raise RevisionNotFound(f"Invalid rev id: {target_branch} (a pull request targets an existing branch)")
    with refusing_collected_content(request.operations), transaction.atomic():
        locked = lock_repository(repo)
        base = resolve_revision(locked, request.parent_commit or target_branch)
        disc = _create(
            locked, author, title=_title(request.title), pull_request=True, status=Discussion.Status.OPEN,
            target_branch=target_branch, base_commit=base,
        )  # fmt: skip
        Ref.objects.create(repository=locked, kind=Ref.Kind.PR, name=str(disc.num), commit=base)
        if request.description.strip():
            add_comment(disc, author, request.description)
        commit = create_commit(repo, str(disc.num), request, author=author, ref_kind=Ref.Kind.PR)
        add_event(disc, DiscussionEvent.Type.COMMIT, author, {"oid": commit.sha, "subject": commit.title})
    return disc, commit


def get_discussion(repo: Repository, num: int | str) -> Discussion:
    try:
        number = int(num)
    except (TypeError, ValueError) as exc:
        raise EntryNotFound(f"no discussion {num!r}") from exc
    disc = Discussion.objects.filter(repository=repo, num=number).select_related("author").first()
    if disc is None:
        raise EntryNotFound(f"Discussion {number} not found in {repo.repo_id}")
    return disc


def pull_request_for_ref(repo: Repository, name: str) -> Discussion:
    disc = Discussion.objects.filter(repository=repo, num=int(name) if name.isdigit() else -1).first()
    if disc is None or not disc.is_pull_request:
        raise RevisionNotFound(f"Invalid rev id: refs/pr/{name}")
    return disc


def lock_discussion(disc: Discussion) -> Discussion:
    """``disc`` read again with its repository locked (inside a transaction).

    A merge, a status change and a push to a pull request each decide from the pull request's
    status; read before the lock, a close racing a merge could save "closed" over "merged" (merged
    is final), a push could land on a pull request merged meanwhile (its changes never merged, the
    client told it succeeded), and two merges of one pull request both went ahead. Under the
    repository's lock (which commits take too) they see each other's outcome.
    """
    lock_repository(disc.repository)
    return Discussion.objects.select_related("repository__namespace", "author", "base_commit").get(pk=disc.pk)


def push_to_pull_request(repo: Repository, disc: Discussion, request: CommitRequest, author) -> Commit:
    """A commit on ``refs/pr/N`` (the client's ``revision="refs/pr/N"``), recorded on the timeline."""
    with refusing_collected_content(request.operations), transaction.atomic():
        disc = lock_discussion(disc)
        if disc.status not in OPEN_STATES:
            raise Conflict(f"pull request #{disc.num} is {disc.status}; open a new one")
        commit = create_commit(repo, str(disc.num), request, author=author, ref_kind=Ref.Kind.PR)
        add_event(disc, DiscussionEvent.Type.COMMIT, author, {"oid": commit.sha, "subject": commit.title})
    return commit


def change_status(disc: Discussion, new_status: object, author, comment: object = None) -> DiscussionEvent:
    """Close or re-open; a merged pull request stays merged."""
    if new_status not in (Discussion.Status.OPEN, Discussion.Status.CLOSED):
        raise BadRequest('status must be "open" or "closed"')
    with transaction.atomic():
        disc = lock_discussion(disc)
        if disc.status == Discussion.Status.MERGED:
            raise Conflict(f"pull request #{disc.num} is merged; its status cannot change")
        disc.status = new_status
        disc.save(update_fields=["status"])
        event = add_event(disc, DiscussionEvent.Type.STATUS, author, {"status": new_status})
        if str(comment or "").strip():
            add_comment(disc, author, comment)
    return event


def rename(disc: Discussion, new_title: object, author) -> DiscussionEvent:
    title = _title(new_title)
    with transaction.atomic():
        event = add_event(disc, DiscussionEvent.Type.TITLE, author, {"from": disc.title, "to": title})
        disc.title = title
        disc.save(update_fields=["title"])
    return event
