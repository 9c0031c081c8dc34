"""Discussions and pull requests as ``huggingface_hub`` calls them.

``get_repo_discussions`` pages with ``p`` and stops when ``start + len(discussions) >= count``;
``get_discussion_details`` reads ``changes.base``, ``changes.mergeCommitId``, ``filesWithConflicts``,
``events`` and ``diff``; the POSTs answer ``newMessage``/``newStatus``/``newTitle`` events. Anyone who
can read the repository can read its discussions; changing one needs its author or write access,
merging needs write access.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse

from hub.auth import Caller
from hub.hfapi.http import caller_required, hub_view, iso, read_json
from hub.hfapi.read import TYPES
from hub.models import Discussion, DiscussionEvent, Repository
from hub.services import discussions as service
from hub.services import merge as merging
from hub.services.access import can_write, get_contributor, get_readable
from hub.services.errors import BadRequest, Forbidden

PAGE = 50
TYPE_FILTERS = {"all": None, "discussion": False, "pull_request": True}
STATUS_FILTERS = {
    "all": None,
    "open": service.OPEN_STATES,
    "closed": (Discussion.Status.CLOSED, Discussion.Status.MERGED),
}


def _who(user) -> dict[str, Any]:
    return {
        "name": user.get_username(),
        "fullname": user.get_full_name() or user.get_username(),
        "type": "user",
    }


def summary(disc: Discussion, repo: Repository, num_comments: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {
        "num": disc.num,
        "title": disc.title,
        "status": disc.status,
        "createdAt": iso(disc.created_at),
        "isPullRequest": disc.is_pull_request,
        "repo": {"name": repo.repo_id, "type": repo.repo_type},
        "pinned": False,
        "numComments": num_comments,
        "topReactions": [],
    }
    if disc.author is not None:
        out["author"] = _who(disc.author)
    return out


def event_json(event: DiscussionEvent) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": f"{event.pk:024x}",
        "type": event.type,
        "createdAt": iso(event.created_at),
        "data": event.data,
    }
    if event.author is not None:
        out["author"] = _who(event.author)
    return out


@hub_view(("GET", "POST"))
def discussions(request: HttpRequest, caller: Caller, kind: str, ns: str, name: str):
    if request.method == "POST":
        repo = get_contributor(caller, TYPES[kind], ns, name)
        body = read_json(request)
        disc = service.create_discussion(
            repo, caller.user, title=body.get("title"), description=body.get("description"),
            pull_request=bool(body.get("pullRequest")),
        )  # fmt: skip
        return JsonResponse({"num": disc.num, "url": f"/{repo.repo_id}/discussions/{disc.num}"})
    repo = get_readable(caller, TYPES[kind], ns, name)
    qs = Discussion.objects.filter(repository=repo).select_related("author").order_by("-num")
    kind_filter, status_filter = request.GET.get("type") or "all", request.GET.get("status") or "all"
    if kind_filter not in TYPE_FILTERS or status_filter not in STATUS_FILTERS:
        raise BadRequest("type must be all|discussion|pull_request and status all|open|closed")
    if TYPE_FILTERS[kind_filter] is not None:
        qs = qs.filter(is_pull_request=TYPE_FILTERS[kind_filter])
    if STATUS_FILTERS[status_filter] is not None:
        qs = qs.filter(status__in=STATUS_FILTERS[status_filter])
    if author := request.GET.get("author"):
        qs = qs.filter(author__username=author)
    try:
        page = max(0, int(request.GET.get("p") or 0))
    except ValueError as exc:
        raise BadRequest("p must be a page number") from exc
    count = qs.count()
    rows = list(qs[page * PAGE : (page + 1) * PAGE])
    comments = _comment_counts(rows)
    return JsonResponse(
        {
            "discussions": [summary(d, repo, comments.get(d.pk, 0)) for d in rows],
            "count": count,
            "start": page * PAGE,
            "numClosedDiscussions": qs.filter(status__in=STATUS_FILTERS["closed"]).count(),
        }
    )


def _comment_counts(rows: list[Discussion]) -> dict[int, int]:
    from django.db.models import Count

    counted = (
        DiscussionEvent.objects.filter(discussion__in=rows, type=DiscussionEvent.Type.COMMENT)
        .values("discussion")
        .annotate(n=Count("pk"))
    )
    return {row["discussion"]: row["n"] for row in counted}


@hub_view(("GET",))
def details(request: HttpRequest, caller: Caller, kind: str, ns: str, name: str, num: str):
    repo = get_readable(caller, TYPES[kind], ns, name)
    disc = service.get_discussion(repo, num)
    events = list(disc.events.select_related("author").order_by("created_at", "pk"))
    body = summary(disc, repo, sum(e.type == DiscussionEvent.Type.COMMENT for e in events))
    body["events"] = [event_json(e) for e in events]
    if disc.is_pull_request:
        disc.repository = repo
        st = merging.state(disc)
        body["changes"] = {
            "base": f"refs/heads/{disc.target_branch}",
            "headCommitId": st.head.sha,
            "mergeCommitId": disc.merge_commit.sha if disc.merge_commit else None,
        }
        body["filesWithConflicts"] = st.conflicts if disc.status in service.OPEN_STATES else []
        body["diff"] = merging.diff(st.changed, st.base)
    return JsonResponse(body)


def _may_change(caller: Caller, repo: Repository, disc: Discussion) -> None:
    if not (can_write(caller.user, repo) or disc.author_id == caller.user.pk):
        raise Forbidden(f"only the author of #{disc.num} or a writer of {repo.repo_id} can change it")


@hub_view(("POST",))
def change(request: HttpRequest, caller: Caller, kind: str, ns: str, name: str, num: str, action: str):
    """``comment``, ``status``, ``title`` and ``merge`` on one discussion."""
    caller_required(caller)
    repo = get_contributor(caller, TYPES[kind], ns, name)
    disc = service.get_discussion(repo, num)
    disc.repository = repo
    body = read_json(request)
    if action == "comment":
        event = service.add_comment(disc, caller.user, body.get("comment"))
        return JsonResponse({"newMessage": event_json(event)})
    if action == "merge":
        if not can_write(caller.user, repo):
            raise Forbidden(f"merging needs write access to {repo.repo_id}")
        merged = merging.merge(disc, caller.user, body.get("comment"))
        return JsonResponse({"mergeCommitId": merged.sha if merged else None})
    _may_change(caller, repo, disc)
    if action == "status":
        event = service.change_status(disc, body.get("status"), caller.user, body.get("comment"))
        return JsonResponse({"newStatus": event_json(event)})
    event = service.rename(disc, body.get("title"), caller.user)
    return JsonResponse({"newTitle": event_json(event)})
