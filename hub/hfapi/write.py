"""Write endpoints of the Hub API: whoami, repos/create, settings, preupload, commit, branches, Xet."""

from __future__ import annotations

import base64
import fnmatch

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from hub.auth import Caller
from hub.hfapi.http import caller_required, endpoint, error_response, flag, hub_view, read_json
from hub.hfapi.ndjson import parse_commit_stream
from hub.hfapi.read import TYPES
from hub.models import AccessRequest, OrgMembership, Ref, RepoFile, Repository
from hub.services import discussions
from hub.services import refs as ref_service
from hub.services.access import can_write, get_contributor, get_readable, get_writable
from hub.services.blob_access import unavailable
from hub.services.blobs import should_be_lfs
from hub.services.commits import AddFile, CommitRequest, create_commit, not_uploaded
from hub.services.errors import BadRequest, Forbidden, RevisionNotFound
from hub.services.paths import validate_path
from hub.services.repos import create_repository
from hub.services.revisions import ref_target

PREFIX = {Repository.Type.MODEL: "", Repository.Type.DATASET: "datasets/"}
XET_MESSAGE = (
    "Xet storage is not supported by this hub: set HF_HUB_DISABLE_XET=1 in the environment of the "
    "huggingface_hub client (uploads then use the LFS protocol)."
)


def repo_url(request: HttpRequest, repo: Repository) -> str:
    return f"{endpoint(request)}/{PREFIX[repo.repo_type]}{repo.repo_id}"


@hub_view(("GET",))
def whoami(request: HttpRequest, caller: Caller):
    caller_required(caller)
    user = caller.user
    orgs = [
        {"type": "org", "name": m.org.name, "fullname": m.org.display_name or m.org.name, "roleInOrg": m.role}
        for m in OrgMembership.objects.filter(user=user).select_related("org")
    ]
    auth: dict = {"type": "access_token" if caller.token else "session"}
    if caller.token:
        auth["accessToken"] = {
            "displayName": caller.token.name or caller.token.prefix,
            "role": caller.token.scope,
            "createdAt": caller.token.created_at.isoformat(),
        }
    else:
        auth["accessToken"] = {"displayName": "session", "role": "write"}
    return JsonResponse(
        {
            "type": "user",
            "id": str(user.pk),
            "name": user.get_username(),
            "fullname": user.get_full_name() or user.get_username(),
            "email": user.email or None,
            "emailVerified": bool(user.email),
            "isPro": False,
            "orgs": orgs,
            "auth": auth,
        }
    )


@hub_view(("POST",))
def create_repo(request: HttpRequest, caller: Caller):
    body = read_json(request)
    repo_type = body.get("type") or "model"
    if repo_type == "space":
        raise BadRequest("Spaces are not supported by this hub")
    private = body.get("visibility") == "private" if "visibility" in body else bool(body.get("private"))
    name, organization = body.get("name"), body.get("organization")
    if isinstance(name, str) and "/" in name and not organization:
        organization, _, name = name.partition("/")
    repo, created = create_repository(
        caller, name=name, organization=organization, repo_type=repo_type, private=private, exist_ok=True
    )
    answer = {"url": repo_url(request, repo), "name": repo.repo_id, "id": f"{repo.pk:024x}"}
    if not created:
        # As the Hub: a 409 that still carries the url. ``create_repo(exist_ok=True)`` (which ``hf
        # upload`` and ``push_to_hub`` call every time) swallows the 409 and then reads ``url``.
        message = f"You already created this {repo.repo_type} repo: {repo.repo_id}"
        return error_response(409, message, extra=answer)
    return JsonResponse(answer)


@hub_view(("DELETE",))
def delete_repo(request: HttpRequest, caller: Caller):
    body = read_json(request)
    repo_type = body.get("type") or "model"
    ns = body.get("organization") or (caller.user.get_username() if caller.user else "")
    name = body.get("name") or ""
    if "/" in name:
        ns, _, name = name.partition("/")
    repo = get_writable(caller, repo_type, ns, name)
    repo.delete()
    return JsonResponse({"deleted": True})


@hub_view(("PUT",))
def repo_settings(request: HttpRequest, caller: Caller, kind: str, ns: str, name: str):
    repo = get_writable(caller, TYPES[kind], ns, name)
    body = read_json(request)
    fields = []
    if "gated" in body:
        gated = body["gated"]
        if gated not in (False, "auto", "manual"):
            raise BadRequest('gated must be false, "auto" or "manual"')
        repo.gated = gated or ""
        fields.append("gated")
    if "private" in body or "visibility" in body:
        repo.private = body.get("visibility") == "private" if "visibility" in body else bool(body["private"])
        fields.append("private")
    if fields:
        repo.save(update_fields=fields)
    return JsonResponse({"private": repo.private, "gated": repo.gated or False})


def _ignored(path: str, patterns: list[str]) -> bool:
    name = path.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(name, p) for p in patterns)


def _repo_for_commit(
    request: HttpRequest, caller: Caller, kind: str, ns: str, name: str, rev: str
) -> Repository:
    """Writers commit anywhere; a reader may open a pull request or push to one of their own."""
    if flag(request, "create_pr") or ref_target(rev)[0] == Ref.Kind.PR:
        return get_contributor(caller, TYPES[kind], ns, name)
    return get_writable(caller, TYPES[kind], ns, name)


@hub_view(("POST",))
def preupload(request: HttpRequest, caller: Caller, kind: str, ns: str, name: str, rev: str):
    repo = _repo_for_commit(request, caller, kind, ns, name, rev)
    body = read_json(request)
    files = body.get("files")
    if not isinstance(files, list) or len(files) > 1000:
        raise BadRequest("files must be a list of at most 1000 entries")
    ref_kind, ref_name = ref_target(rev)
    ref = Ref.objects.filter(repository=repo, kind=ref_kind, name=ref_name).select_related("commit").first()
    current = {}
    if ref:
        # Validate before querying: a NUL byte is refused here, not by the database driver.
        paths = [validate_path(f.get("path") if isinstance(f, dict) else None) for f in files]
        current = {r.path: r for r in RepoFile.objects.filter(commit=ref.commit, path__in=paths)}
    gitignore = str(body.get("gitIgnore") or "")
    patterns = [ln.strip() for ln in gitignore.splitlines() if ln.strip() and not ln.startswith("#")]
    out = []
    for entry in files:
        if not isinstance(entry, dict):
            raise BadRequest("each file must be an object")
        path = validate_path(entry.get("path"))
        try:
            size = int(entry.get("size") or 0)
        except (TypeError, ValueError, OverflowError) as exc:
            raise BadRequest(f"{path}: size must be a number of bytes") from exc
        try:
            sample = base64.b64decode(entry.get("sample") or "")[:512]
        except (TypeError, ValueError):  # not base64, or not even a string: no sample
            sample = b""
        lfs = should_be_lfs(path, size, sample, max_inline=settings.MAX_INLINE_FILE_SIZE)
        remote = current.get(path)
        oid = None
        if remote is not None:
            oid = remote.sha256 if lfs else remote.oid
        out.append(
            {
                "path": path,
                "uploadMode": "lfs" if lfs else "regular",
                "shouldIgnore": _ignored(path, patterns),
                "oid": oid,
            }
        )
    return JsonResponse({"files": out, "commitOid": ref.commit.sha if ref else None})


def _parse_commit(request: HttpRequest, caller: Caller, repo) -> CommitRequest:
    """The NDJSON commit, refused (422) if it names content by sha256 that ``caller`` may not use
    in ``repo`` (see ``hub.services.blob_access``), with the answer for content never uploaded:
    the refusal must not tell that the content exists."""
    parsed = parse_commit_stream(request)
    named = [op for op in parsed.operations if isinstance(op, AddFile) and op.lfs]
    refused = unavailable(caller, repo, {op.sha256 for op in named})
    for op in named:
        if op.sha256 in refused:
            raise not_uploaded(op)
    return parsed


@hub_view(("POST",))
def commit(request: HttpRequest, caller: Caller, kind: str, ns: str, name: str, rev: str):
    """The NDJSON commit, to a branch, to a new pull request (``create_pr=1``) or to ``refs/pr/N``."""
    repo = _repo_for_commit(request, caller, kind, ns, name, rev)
    ref_kind, ref_name = ref_target(rev)
    pr_url = None
    if flag(request, "create_pr"):
        if ref_kind != Ref.Kind.BRANCH:
            raise BadRequest("a pull request targets a branch, not another pull request")
        parsed = _parse_commit(request, caller, repo)
        disc, new = discussions.commit_as_new_pull_request(repo, ref_name, parsed, caller.user)
        pr_url = f"{repo_url(request, repo)}/discussions/{disc.num}"
    elif ref_kind == Ref.Kind.PR:
        disc = discussions.pull_request_for_ref(repo, ref_name)
        if not (can_write(caller.user, repo) or disc.author_id == caller.user.pk):
            raise Forbidden(f"only the author of pull request #{disc.num} or a writer can push to it")
        new = discussions.push_to_pull_request(repo, disc, _parse_commit(request, caller, repo), caller.user)
    else:
        if not Ref.objects.filter(repository=repo, kind=Ref.Kind.BRANCH, name=ref_name).exists():
            raise RevisionNotFound(
                f"Invalid rev id: {rev} (commits go to an existing branch; create it first)"
            )
        new = create_commit(
            repo, ref_name, _parse_commit(request, caller, repo), author=caller.user, existing_branch=True
        )
    return JsonResponse(
        {
            "success": True,
            "commitOid": new.sha,
            "commitUrl": f"{repo_url(request, repo)}/commit/{new.sha}",
            "commitMessage": new.title,
            "pullRequestUrl": pr_url,
        }
    )


@hub_view(("POST", "DELETE"))
def branch(request: HttpRequest, caller: Caller, kind: str, ns: str, name: str, branch: str):
    repo = get_writable(caller, TYPES[kind], ns, name)
    if request.method == "DELETE":
        ref_service.delete_ref(repo, Ref.Kind.BRANCH, branch)
        return JsonResponse({"deleted": True})
    body = read_json(request) if request.content_type == "application/json" else {}
    ref_service.create_ref(
        repo, Ref.Kind.BRANCH, branch, body.get("startingPoint"), exist_ok=bool(body.get("exist_ok"))
    )
    return JsonResponse({"created": True})


@hub_view(("POST", "DELETE"))
def tag(request: HttpRequest, caller: Caller, kind: str, ns: str, name: str, rev: str):
    """POST creates the tag ``body.tag`` at ``rev``; DELETE (``delete_tag``) removes the tag named ``rev``."""
    repo = get_writable(caller, TYPES[kind], ns, name)
    if request.method == "DELETE":
        ref_service.delete_ref(repo, Ref.Kind.TAG, rev)
        return JsonResponse({"deleted": True})
    body = read_json(request)
    ref_service.create_ref(repo, Ref.Kind.TAG, str(body.get("tag") or ""), rev)
    return JsonResponse({"created": True})


@hub_view(("GET", "POST"))
def xet_token(request: HttpRequest, caller: Caller, **kwargs):
    raise BadRequest(XET_MESSAGE)


@hub_view(("POST",))
def request_access(request: HttpRequest, caller: Caller, kind: str, ns: str, name: str):
    """Ask for access to a gated repository (auto-gated: accepted at once)."""
    caller_required(caller)
    repo = get_readable(caller, TYPES[kind], ns, name)
    if not repo.gated:
        raise Forbidden(f"{repo.repo_id} is not gated")
    fields = read_json(request) if request.content_type == "application/json" else {}
    status = AccessRequest.Status.ACCEPTED if repo.gated == "auto" else AccessRequest.Status.PENDING
    req, created = AccessRequest.objects.get_or_create(
        repository=repo, user=caller.user, defaults={"status": status, "fields": fields}
    )
    return JsonResponse({"status": req.status}, status=201 if created else 200)


@hub_view(("POST",))
def validate_yaml(request: HttpRequest, caller: Caller):
    """The card check the client runs before uploading a README: YAML problems become warnings."""
    from licenses.engine.frontmatter import parse_front_matter

    body = read_json(request)
    content = body.get("content")
    if not isinstance(content, str):
        raise BadRequest("content must be the README text")
    front = parse_front_matter(content)
    return JsonResponse({"warnings": [{"message": p} for p in front.problems]})
