"""Read endpoints of the Hub API: repo info, listing, tree, paths-info, refs, commits, auth-check."""

from __future__ import annotations

import base64

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, JsonResponse

from hub.auth import Caller
from hub.hfapi import serialize
from hub.hfapi.http import flag, hub_view, iso, multi
from hub.models import Commit, Ref, RepoFile, Repository
from hub.services import gitobj
from hub.services.access import check_download, get_readable, get_writable, visible_repositories
from hub.services.errors import BadRequest, EntryNotFound
from hub.services.lastcommit import last_commits
from hub.services.revisions import resolve_revision, split_rev_path

TYPES = {"models": Repository.Type.MODEL, "datasets": Repository.Type.DATASET}
SORTS = {
    "downloads": "downloads", "likes": "likes", "lastModified": "last_modified", "last_modified": "last_modified",
    "createdAt": "created_at", "created_at": "created_at", "trendingScore": "downloads", "trending_score": "downloads",
    "id": "name",
}  # fmt: skip
TREE_PAGE = 1000
TREE_PAGE_EXPANDED = 50


def page_size(limit: str | None) -> int:
    cap = getattr(settings, "MODELHUB_API_PAGE_SIZE", 1000)
    try:
        wanted = int(limit) if limit else cap
    except ValueError as exc:
        raise BadRequest(f"limit={limit!r} is not a number") from exc
    return max(1, min(wanted, cap))


def decode_cursor(raw: str | None) -> int:
    if not raw:
        return 0
    try:
        return max(0, int(base64.urlsafe_b64decode(raw.encode() + b"==").decode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("invalid cursor") from exc


def next_link(request: HttpRequest, offset: int) -> str:
    params = request.GET.copy()
    params["cursor"] = base64.urlsafe_b64encode(str(offset).encode()).decode().rstrip("=")
    return f'<{request.build_absolute_uri(request.path)}?{params.urlencode()}>; rel="next"'


@hub_view(("GET", "HEAD"))
def repo_info(request: HttpRequest, caller: Caller, kind: str, ns: str, name: str, rev: str | None = None):
    repo = get_readable(caller, TYPES[kind], ns, name)
    commit = resolve_revision(repo, rev)
    expand = multi(request, "expand")
    if expand and (flag(request, "blobs") or flag(request, "securityStatus")):
        raise BadRequest("`expand` cannot be combined with `blobs` or `securityStatus`")
    if expand and (problem := serialize.unknown_expand(TYPES[kind], expand)):
        raise BadRequest(problem)
    data = serialize.repo_info(repo, commit, blobs=flag(request, "blobs"), expand=expand or None)
    return JsonResponse(data)


@hub_view(("GET",))
def list_repos(request: HttpRequest, caller: Caller, kind: str):
    full, expand = flag(request, "full"), multi(request, "expand")
    if problem := serialize.unknown_expand(TYPES[kind], expand):
        raise BadRequest(problem)
    qs = visible_repositories(caller.user, TYPES[kind]).select_related("head")
    for term in request.GET.getlist("search"):
        if "/" in term:
            owner, _, rest = term.partition("/")
            qs = qs.filter(namespace__name__iexact=owner, name__icontains=rest)
        else:
            qs = qs.filter(Q(name__icontains=term) | Q(namespace__name__icontains=term))
    if author := request.GET.get("author"):
        qs = qs.filter(namespace__name__iexact=author)
    for tag in request.GET.getlist("filter"):
        qs = qs.filter(tag_rows__tag=tag)
    for key in ("pipeline_tag", "library"):
        if value := request.GET.get(key):
            qs = qs.filter(tag_rows__tag=value)
    if "gated" in request.GET:
        qs = qs.exclude(gated="") if flag(request, "gated") else qs.filter(gated="")
    sort = SORTS.get(request.GET.get("sort") or "", "last_modified" if request.GET.get("sort") else "name")
    descending = request.GET.get("direction", "-1") != "1" and sort != "name"
    qs = qs.order_by(f"-{sort}" if descending else sort, "-pk" if descending else "pk").distinct()
    size = page_size(request.GET.get("limit"))
    offset = decode_cursor(request.GET.get("cursor"))
    page = list(qs.prefetch_related("tag_rows")[offset : offset + size + 1])
    more = len(page) > size
    page = page[:size]
    files: dict[int, list[str]] = {}
    if full or "siblings" in expand:
        heads = [r.head_id for r in page if r.head_id]
        for commit_id, path in (
            RepoFile.objects.filter(commit_id__in=heads).order_by("path").values_list("commit_id", "path")
        ):
            files.setdefault(commit_id, []).append(path)
    weights: dict[int, dict] = {}
    if "safetensors" in expand:  # list_models(expand=["safetensors"]): parameter counts, as on the Hub
        weights = serialize.safetensors_summaries([r.head_id for r in page if r.head_id])
    body = [
        serialize.list_entry(
            r,
            files.get(r.head_id),
            full=full,
            with_card=flag(request, "cardData"),
            expand=expand or None,
            safetensors=weights.get(r.head_id),
        )
        for r in page
    ]
    response = JsonResponse(body, safe=False)
    if more:
        response["Link"] = next_link(request, offset + size)
    return response


def _files(commit: Commit) -> list[RepoFile]:
    return list(RepoFile.objects.filter(commit=commit).order_by("path"))


def _add_last_commits(files, entries: list[dict]) -> None:
    """``expand=true``: each entry's ``lastCommit``, the last commit that changed the path."""
    found = last_commits(files, entries)
    for entry in entries:
        if (last := found.get(entry["path"])) is not None:
            entry["lastCommit"] = {"id": last.sha, "title": last.title, "date": iso(last.created_at)}


@hub_view(("GET",))
def tree(request: HttpRequest, caller: Caller, kind: str, ns: str, name: str, tail: str):
    repo = get_readable(caller, TYPES[kind], ns, name)
    rev, folder = split_rev_path(repo, tail)
    commit = resolve_revision(repo, rev)
    files = _files(commit)
    folder = folder.strip("/")
    if folder and not any(f.path.startswith(folder + "/") for f in files):
        raise EntryNotFound(f"{folder} does not exist on {rev}", commit=commit.sha)
    entries = serialize.tree_entries(files, folder, flag(request, "recursive"))
    expanded = flag(request, "expand")
    size = TREE_PAGE_EXPANDED if expanded else TREE_PAGE
    offset = decode_cursor(request.GET.get("cursor"))
    page = entries[offset : offset + size]
    if expanded:
        _add_last_commits(files, page)
    response = JsonResponse(page, safe=False)
    response["X-Repo-Commit"] = commit.sha
    if offset + size < len(entries):
        response["Link"] = next_link(request, offset + size)
    return response


@hub_view(("POST",))
def paths_info(request: HttpRequest, caller: Caller, kind: str, ns: str, name: str, rev: str):
    repo = get_readable(caller, TYPES[kind], ns, name)
    commit = resolve_revision(repo, rev)
    paths = request.POST.getlist("paths")
    if not paths and request.content_type == "application/json":
        import json

        try:
            body = json.loads(request.body or b"{}")
        except ValueError as exc:
            raise BadRequest(f"the body is not valid JSON: {exc}") from exc
        paths = (body.get("paths") if isinstance(body, dict) else None) or []
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise BadRequest("paths must be a list of strings")
    if len(paths) > 1000:
        raise BadRequest("at most 1000 paths per call")
    files = {f.path: f for f in _files(commit)}
    tree_oids = gitobj.tree_ids({p: f.oid for p, f in files.items()})
    out = [e for p in paths if (e := serialize.path_entry(files, tree_oids, p.strip("/")))]
    if request.POST.get("expand", "").lower() == "true":
        _add_last_commits(files.values(), out)
    response = JsonResponse(out, safe=False)
    response["X-Repo-Commit"] = commit.sha
    return response


@hub_view(("GET",))
def refs(request: HttpRequest, caller: Caller, kind: str, ns: str, name: str):
    repo = get_readable(caller, TYPES[kind], ns, name)
    out: dict[str, list] = {"branches": [], "converts": [], "tags": []}
    if flag(request, "include_prs"):
        out["pullRequests"] = []
    for ref in Ref.objects.filter(repository=repo).select_related("commit").order_by("name"):
        if ref.kind == Ref.Kind.PR:
            if "pullRequests" in out:
                entry = {"name": ref.name, "ref": f"refs/pr/{ref.name}", "targetCommit": ref.commit.sha}
                out["pullRequests"].append(entry)
            continue
        prefix = "refs/heads/" if ref.kind == Ref.Kind.BRANCH else "refs/tags/"
        key = "branches" if ref.kind == Ref.Kind.BRANCH else "tags"
        out[key].append({"name": ref.name, "ref": prefix + ref.name, "targetCommit": ref.commit.sha})
    return JsonResponse(out)


@hub_view(("GET",))
def commits(request: HttpRequest, caller: Caller, kind: str, ns: str, name: str, rev: str):
    repo = get_readable(caller, TYPES[kind], ns, name)
    commit: Commit | None = resolve_revision(repo, rev)
    offset = decode_cursor(request.GET.get("cursor"))
    size = page_size(request.GET.get("limit") or "50")
    history: list[Commit] = []
    index = 0
    while commit is not None and len(history) < size + 1:
        if index >= offset:
            history.append(commit)
        index += 1
        commit = commit.parent
    out = [
        {
            "id": c.sha,
            "title": c.title,
            "message": c.message,
            "date": iso(c.created_at),
            "authors": [{"user": c.author.get_username() if c.author else (c.author_name or "modelhub")}],
        }
        for c in history[:size]
    ]
    response = JsonResponse(out, safe=False)
    if len(history) > size:
        response["Link"] = next_link(request, offset + size)
    return response


@hub_view(("GET",))
def auth_check(request: HttpRequest, caller: Caller, kind: str, ns: str, name: str, write: bool = False):
    if write:
        get_writable(caller, TYPES[kind], ns, name)
    else:
        check_download(caller, get_readable(caller, TYPES[kind], ns, name))
    return JsonResponse({"ok": True})
