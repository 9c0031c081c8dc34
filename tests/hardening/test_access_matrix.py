"""Access-control matrix: every URL pattern × every kind of caller × public / gated / private.

The route table is walked from ``django.urls.get_resolver()``: a route that is neither in
``REPO_ROUTES`` / ``GLOBAL_ROUTES`` (exercised below) nor in ``PUBLIC_BY_DESIGN`` (with the
reason it needs no matrix) fails ``test_every_route_is_in_the_matrix``, so a new endpoint
cannot be forgotten. Rules checked, per surface (Hub API, native API, catalogue pages):

- private and not a reader: the answer is the answer for a repository that does not exist
  (status, X-Error-Code, header names, body once the names are swapped);
- gated and not approved: metadata visible, file content 401 (anonymous) / 403 (signed in)
  with ``X-Error-Code: GatedRepo``;
- writes: 401 anonymous, 403 for read tokens and strangers, accepted for write tokens and staff;
- revoked tokens: 401 on both APIs, nothing on pages (they are session-only);
- lists, search, counts, dashboards: the private repository never appears and its presence
  changes no byte of what a non-reader receives.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.hardening.accesskit import (
    ABSENT,
    CALLERS,
    HIDDEN,
    HIDDEN_MARKER,
    ORG,
    STATES,
    World,
    body_of,
    build_world,
    header_shape,
    normalise_body,
)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

ABSENT_DATA = "zq-absent-data"
LEAK_NEEDLES = (HIDDEN, "zq-hidden-data", HIDDEN_MARKER, "zq-hidden-lib")
INLINE_POLICY = {"name": "p", "use": {"commercial": False}, "licenses": {"unknown": "warn"}}


@dataclass(frozen=True)
class Req:
    method: str
    path: str
    data: object = None
    content_type: str = "application/json"


@dataclass(frozen=True)
class Route:
    """How to call one repository-scoped route, and what kind of access it needs."""

    surface: str  # hf | native | frontend
    #: meta (anyone who sees the repo) | content (file bytes: gating applies) | write (push rights)
    #: | contribute (discussions: read + write-scoped credential + gate passed) | manage (repo admins)
    #: | request (signed-in readers) | static (same answer for everyone)
    access: str
    build: Callable[[str, str], Req]  # (kind, repo name) -> request
    kinds: tuple[str, ...] = ("model",)
    #: Statuses a missing repository may get: lookups that answer in the body (compliance) differ.
    missing_status: tuple[int, ...] = (401, 404)


def _hf(kind: str) -> str:
    return "models" if kind == "model" else "datasets"


def _ds(kind: str) -> str:
    return "" if kind == "model" else "datasets/"


NDJSON_412 = json.dumps({"key": "header", "value": {"summary": "x", "parentCommit": "0" * 40}}) + "\n"

#: Repository-scoped routes. Write requests are chosen so that an authorised caller passes the
#: access check and then fails validation (or changes nothing), keeping the world identical.
REPO_ROUTES: dict[str, Route] = {
    "hf-info": Route("hf", "meta", lambda k, n: Req("GET", f"/api/{_hf(k)}/{ORG}/{n}"), ("model", "dataset")),
    "hf-info-rev": Route("hf", "meta", lambda k, n: Req("GET", f"/api/{_hf(k)}/{ORG}/{n}/revision/main")),
    "hf-tree": Route("hf", "meta", lambda k, n: Req("GET", f"/api/{_hf(k)}/{ORG}/{n}/tree/main")),
    "hf-paths-info": Route(
        "hf",
        "meta",
        lambda k, n: Req(
            "POST",
            f"/api/{_hf(k)}/{ORG}/{n}/paths-info/main",
            "paths=config.json",
            "application/x-www-form-urlencoded",
        ),
    ),
    "hf-refs": Route("hf", "meta", lambda k, n: Req("GET", f"/api/{_hf(k)}/{ORG}/{n}/refs")),
    "hf-commits": Route("hf", "meta", lambda k, n: Req("GET", f"/api/{_hf(k)}/{ORG}/{n}/commits/main")),
    "hf-auth-check": Route("hf", "content", lambda k, n: Req("GET", f"/api/{_hf(k)}/{ORG}/{n}/auth-check")),
    "hf-auth-check-write": Route(
        "hf", "write", lambda k, n: Req("GET", f"/api/{_hf(k)}/{ORG}/{n}/auth-check/write")
    ),
    "hf-settings": Route("hf", "write", lambda k, n: Req("PUT", f"/api/{_hf(k)}/{ORG}/{n}/settings", {})),
    "hf-preupload": Route(
        "hf",
        "write",
        lambda k, n: Req(
            "POST", f"/api/{_hf(k)}/{ORG}/{n}/preupload/main", {"files": [{"path": "a.txt", "size": 1}]}
        ),
    ),
    "hf-commit": Route(
        "hf",
        "write",
        lambda k, n: Req("POST", f"/api/{_hf(k)}/{ORG}/{n}/commit/main", NDJSON_412, "application/x-ndjson"),
        ("model", "dataset"),
    ),
    "hf-branch": Route("hf", "write", lambda k, n: Req("DELETE", f"/api/{_hf(k)}/{ORG}/{n}/branch/no-such")),
    "hf-tag": Route(
        "hf", "write", lambda k, n: Req("POST", f"/api/{_hf(k)}/{ORG}/{n}/tag/main", {"tag": ""})
    ),
    "hf-access-request": Route(
        "hf", "request", lambda k, n: Req("POST", f"/api/{_hf(k)}/{ORG}/{n}/user-access-request", {})
    ),
    "hf-access-list": Route(
        "hf", "manage", lambda k, n: Req("GET", f"/api/{_hf(k)}/{ORG}/{n}/user-access-request/pending")
    ),
    "hf-access-handle": Route(
        "hf", "manage", lambda k, n: Req("POST", f"/api/{_hf(k)}/{ORG}/{n}/user-access-request/handle", {})
    ),
    "hf-access-grant": Route(
        "hf",
        "manage",
        lambda k, n: Req("POST", f"/api/{_hf(k)}/{ORG}/{n}/user-access-request/grant", {"user": "zq-nobody"}),
    ),
    "hf-discussions": Route("hf", "meta", lambda k, n: Req("GET", f"/api/{_hf(k)}/{ORG}/{n}/discussions")),
    "hf-discussions POST": Route(
        "hf", "contribute", lambda k, n: Req("POST", f"/api/{_hf(k)}/{ORG}/{n}/discussions", {"title": None})
    ),
    "hf-discussion": Route("hf", "meta", lambda k, n: Req("GET", f"/api/{_hf(k)}/{ORG}/{n}/discussions/999")),
    "hf-discussion-change": Route(
        "hf",
        "contribute",
        lambda k, n: Req("POST", f"/api/{_hf(k)}/{ORG}/{n}/discussions/999/comment", {"comment": "x"}),
    ),
    "hf-resolve": Route("hf", "content", lambda k, n: Req("GET", f"/{ORG}/{n}/resolve/main/config.json")),
    "hf-resolve-ds": Route(
        "hf",
        "content",
        lambda k, n: Req("GET", f"/datasets/{ORG}/{n}/resolve/main/config.json"),
        ("dataset",),
    ),
    "hf-lfs-batch": Route(
        "hf",
        "contribute",
        lambda k, n: Req(
            "POST", f"/{ORG}/{n}.git/info/lfs/objects/batch", {"operation": "upload", "objects": []}
        ),
    ),
    "hf-lfs-batch-ds": Route(
        "hf",
        "contribute",
        lambda k, n: Req(
            "POST", f"/datasets/{ORG}/{n}.git/info/lfs/objects/batch", {"operation": "upload", "objects": []}
        ),
        ("dataset",),
    ),
    "hf-lfs-verify": Route(
        "hf",
        "contribute",
        lambda k, n: Req("POST", f"/{ORG}/{n}.git/info/lfs/objects/verify", {"oid": "0" * 64}),
    ),
    "hf-lfs-verify-ds": Route(
        "hf",
        "contribute",
        lambda k, n: Req("POST", f"/datasets/{ORG}/{n}.git/info/lfs/objects/verify", {"oid": "0" * 64}),
        ("dataset",),
    ),
    "hf-xet": Route("hf", "static", lambda k, n: Req("GET", f"/api/{_hf(k)}/{ORG}/{n}/xet-read-token/main")),
    "hf-repo-delete": Route(
        "hf", "write", lambda k, n: Req("DELETE", "/api/repos/delete", {"name": f"{ORG}/{n}", "type": k})
    ),
    "repo-detail": Route(
        "native", "meta", lambda k, n: Req("GET", f"/api/v1/repos/{ORG}/{n}?type={k}"), ("model", "dataset")
    ),
    "repo-detail PATCH": Route("native", "write", lambda k, n: Req("PATCH", f"/api/v1/repos/{ORG}/{n}", {})),
    "repo-revisions": Route("native", "meta", lambda k, n: Req("GET", f"/api/v1/repos/{ORG}/{n}/revisions")),
    "repo-refs": Route("native", "meta", lambda k, n: Req("GET", f"/api/v1/repos/{ORG}/{n}/refs")),
    "repo-files": Route("native", "meta", lambda k, n: Req("GET", f"/api/v1/repos/{ORG}/{n}/files")),
    "repo-analysis": Route("native", "meta", lambda k, n: Req("GET", f"/api/v1/repos/{ORG}/{n}/analysis")),
    "repo-analysis POST": Route(
        "native", "write", lambda k, n: Req("POST", f"/api/v1/repos/{ORG}/{n}/analysis?revision=no-such")
    ),
    "repo-scans": Route("native", "meta", lambda k, n: Req("GET", f"/api/v1/repos/{ORG}/{n}/scans")),
    "model-bom": Route("native", "meta", lambda k, n: Req("GET", f"/api/v1/models/{ORG}/{n}/bom")),
    "lineage-ancestors": Route(
        "native", "meta", lambda k, n: Req("GET", f"/api/v1/lineage/{ORG}/{n}/ancestors")
    ),
    "lineage-descendants": Route(
        "native", "meta", lambda k, n: Req("GET", f"/api/v1/lineage/{ORG}/{n}/descendants")
    ),
    "compliance-check": Route(
        "native",
        "meta",
        lambda k, n: Req(
            "POST", "/api/v1/compliance/check", {"models": [f"{ORG}/{n}"], "policy": INLINE_POLICY}
        ),
        missing_status=(200, 400),
    ),
    "compliance-bom": Route(
        "native",
        "meta",
        lambda k, n: Req(
            "POST", "/api/v1/compliance/bom", {"models": [f"{ORG}/{n}"], "policy": INLINE_POLICY}
        ),
        missing_status=(200, 400),
    ),
    "frontend:model": Route("frontend", "meta", lambda k, n: Req("GET", f"/{ORG}/{n}")),
    "frontend:tree": Route("frontend", "meta", lambda k, n: Req("GET", f"/{ORG}/{n}/tree/main")),
    "frontend:commit": Route("frontend", "meta", lambda k, n: Req("GET", f"/{ORG}/{n}/commit/main")),
    "frontend:dataset": Route(
        "frontend", "meta", lambda k, n: Req("GET", f"/datasets/{ORG}/{n}"), ("dataset",)
    ),
    "frontend:dataset-tree": Route(
        "frontend", "meta", lambda k, n: Req("GET", f"/datasets/{ORG}/{n}/tree/main"), ("dataset",)
    ),
    "frontend:dataset-commit": Route(
        "frontend", "meta", lambda k, n: Req("GET", f"/datasets/{ORG}/{n}/commit/main"), ("dataset",)
    ),
    "frontend:path": Route("frontend", "meta", lambda k, n: Req("GET", f"/{ORG}/{n}/blob/main/config.json")),
    "frontend:dataset-path": Route(
        "frontend",
        "meta",
        lambda k, n: Req("GET", f"/datasets/{ORG}/{n}/tree/main/config.json"),
        ("dataset",),
    ),
}

#: Routes that are not about one repository: lists, search, counts, dashboards, accounts.
#: Each is requested by every caller; non-readers must get no trace of the private repository,
#: byte for byte the same answer as when it does not exist.
LIST_REQUESTS: dict[str, list[Req]] = {
    "hf-list": [
        Req("GET", "/api/models?search=zq"),
        Req("GET", f"/api/models?author={ORG}&full=true"),
        Req("GET", "/api/datasets?search=zq&expand=siblings"),
        Req("GET", "/api/models?filter=zq-hidden-lib"),
    ],
    "repo-list": [Req("GET", "/api/v1/repos?search=zq"), Req("GET", "/api/v1/repos?type=dataset")],
    "violation-list": [
        Req("GET", "/api/v1/violations"),
        Req("GET", "/api/v1/violations?rule=missing-license"),
    ],
    "lineage-derived-from": [Req("GET", "/api/v1/lineage/derived-from?class=noncommercial")],
    "frontend:home": [Req("GET", "/")],
    "frontend:models": [
        Req("GET", "/models"),
        Req("GET", "/models?search=zq"),
        Req("GET", "/models?license_class=unknown"),
    ],
    "frontend:licences": [Req("GET", "/licenses")],
    "frontend:licence": [Req("GET", "/licenses/cc-by-nc-4.0"), Req("GET", "/licenses/none")],
    "frontend:violations": [Req("GET", "/violations"), Req("GET", "/violations?rule=missing-license")],
    "frontend:models-csv": [Req("GET", "/models.csv"), Req("GET", "/models.csv?search=zq")],
    "frontend:violations-csv": [Req("GET", "/violations.csv?status=all")],
    "frontend:dashboard": [Req("GET", "/dashboard")],
    "frontend:dashboard-mirror-runs": [Req("GET", "/dashboard/mirror-runs")],
    "frontend:compliance": [Req("GET", "/compliance")],
}

#: Routes that answer the same to everyone, or whose credential is not a user: why no matrix.
PUBLIC_BY_DESIGN: dict[str, str] = {
    "healthz": "liveness probe, no data",
    "readyz": "readiness probe: names of failed parts only",
    "api-schema": "the OpenAPI document of the native API, no data",
    "api-docs": "Swagger UI page for the schema",
    "api-ping": "service identity and version only",
    "hf-validate-yaml": "stateless YAML check of a body the caller sends",
    "hf-lfs-upload": "the credential is the signed upload token in the URL (bad signatures: see below)",
    "hf-lfs-complete": "the credential is the signed completion token in the URL (see below)",
    "policy-list": "organisation policies are readable by all; changes need staff (checked below)",
    "policy-detail": "as policy-list (checked below)",
    "policy-versions": "as policy-list",
    "mirror-spec-list": "mirror configuration is readable by all; changes need staff (checked below)",
    "mirror-spec-detail": "as mirror-spec-list",
    "mirror-spec-run": "starting a run needs staff (checked below)",
    "mirror-run-list": "mirror run history; it names upstream ids, not local private repositories",
    "mirror-run-detail": "as mirror-run-list",
    "frontend:login": "the login form",
    "frontend:logout": "ends the caller's own session",
}

#: Routes with their own tests in this file (not repository-scoped, not plain lists).
SPECIAL = {
    "hf-whoami": "test_whoami_needs_a_valid_credential",
    "whoami": "test_whoami_needs_a_valid_credential",
    "hf-repo-create": "test_create_repo_only_where_the_caller_may_write",
    "violation-detail": "test_violation_of_a_private_repo_is_missing",
    "violation-triage": "test_violation_of_a_private_repo_is_missing",
    "frontend:violation": "test_violation_of_a_private_repo_is_missing",
    "frontend:violations-triage": "test_violation_of_a_private_repo_is_missing",
    "frontend:password": "the caller's own password, the current one required (tests/frontend/test_password_change.py)",
    "frontend:tokens": "test_account_pages_are_the_callers_own",
    "frontend:token-revoke": "test_account_pages_are_the_callers_own",
    "frontend:organisations": "test_account_pages_are_the_callers_own",
    "admin:*": "test_admin_is_staff_only",
    "frontend:pull-request": "test_a_private_repos_pull_request_page_is_missing",
    "frontend:dataset-pull-request": "test_a_private_repos_pull_request_page_is_missing",
}


def route_names() -> set[str]:
    """Every named route of the project; the whole Django admin counts as one (``admin:*``)."""
    names: set[str] = set()

    def walk(patterns, namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.namespace == "admin":
                    names.add("admin:*")
                    continue
                walk(p.url_patterns, f"{namespace}{p.namespace}:" if p.namespace else namespace)
            elif isinstance(p, URLPattern):
                names.add(f"{namespace}{p.name}" if p.name else f"<unnamed {p.pattern}>")

    walk(get_resolver().url_patterns, "")
    return names


def test_every_route_is_in_the_matrix():
    covered = (
        {r.split(" ")[0] for r in REPO_ROUTES} | set(LIST_REQUESTS) | set(PUBLIC_BY_DESIGN) | set(SPECIAL)
    )
    names = route_names()
    assert not names - covered, f"routes missing from the access matrix: {sorted(names - covered)}"
    assert not covered - names, f"matrix entries for routes that no longer exist: {sorted(covered - names)}"


# --------------------------------------------------------------------------------------------------


@pytest.fixture
def world(django_user_model, settings, tmp_path) -> Iterator[World]:
    from django.core.cache import cache

    from hub.blobstore import get_blob_store

    settings.BLOB_STORE = "filesystem"
    settings.BLOB_ROOT = tmp_path / "blobs"
    settings.MODELHUB_API_RATE = "100000/min"
    get_blob_store.cache_clear()
    cache.clear()
    yield build_world(django_user_model)
    get_blob_store.cache_clear()


@dataclass(frozen=True)
class Identity:
    role: str  # anonymous | other | member | admin
    scope: str  # session | read | write | none
    invalid: bool = False


def identity(world: World, caller: str, surface: str, method: str) -> Identity:
    """Who the server should see: pages read the session only; the Hub API takes cookies only for reads."""
    spec = world.callers[caller]
    role_of = {
        "other": "other",
        "member": "member",
        "admin": "admin",
        "read-token": "member",
        "write-token": "member",
        "revoked-token": "member",
    }
    if surface == "frontend" or spec.token is None:
        if spec.session is None or (surface == "hf" and method not in ("GET", "HEAD")):
            return Identity("anonymous", "none")
        return Identity(role_of[caller], "session")
    if caller == "revoked-token":
        return Identity("anonymous", "none", invalid=True)
    return Identity(role_of[caller], "read" if caller == "read-token" else "write")


def send(world: World, caller: str, req: Req, surface: str):
    client = world.client(caller)
    headers = world.headers(caller)
    if req.method == "GET":
        return client.get(req.path, **headers)
    data = req.data
    if isinstance(data, dict | list):
        data = json.dumps(data)
    return client.generic(req.method, req.path, data or "", content_type=req.content_type, **headers)


def expected(route: Route, who: Identity, state: str) -> str:
    """'hidden' (answer as for a missing repo), 'ok', 'gated-401', 'gated-403', '401', '403' or 'static'."""
    readers = ("member", "admin")
    if route.access == "static":
        return "static"
    if who.invalid and route.surface in ("hf", "native"):
        return "401"
    if state == "private" and who.role not in readers:
        return "hidden"
    if route.access == "content" and state == "gated" and who.role not in readers:
        return "gated-401" if who.role == "anonymous" else "gated-403"
    if route.access in ("write", "contribute", "manage") and who.role == "anonymous":
        return "401"
    if route.access == "write" and (who.role not in readers or who.scope == "read"):
        return "403"
    if route.access == "manage" and who.role != "admin":
        return "403"  # the member has write, not admin, rights on the organisation
    if route.access == "contribute":
        if who.scope == "read":
            return "403"
        if state == "gated" and who.role not in readers:
            return "gated-403"
    if route.access == "request":
        return "401" if who.role == "anonymous" else ("ok" if state == "gated" else "403")  # 403: not gated
    return "ok"


def check(world: World, name: str, route: Route, kind: str, state: str, caller: str) -> list[str]:
    repo_name = world.name(state, kind)
    req = route.build(kind, repo_name)
    if name == "hf-repo-delete" and expected(route, identity(world, caller, "hf", "DELETE"), state) == "ok":
        # An authorised delete really deletes: aim it at a throw-away twin so the world stays whole.
        from tests.hardening.accesskit import org_repo

        twin = org_repo(
            world.users["owner"],
            f"zq-twin-{caller}",
            {"a.txt": b"a"},
            private=state == "private",
            gated="manual" if state == "gated" else "",
            kind=kind,
        )
        req = route.build(kind, twin.name)
    who = identity(world, caller, route.surface, req.method)
    want = expected(route, who, state)
    resp = send(world, caller, req, route.surface)
    got = resp.status_code
    where = f"{name} {req.method} {req.path} as {caller} on {state} {kind}: want {want}, got {got}"
    errors: list[str] = []
    if got >= 500:
        return [f"{where} (server error)"]
    body = body_of(resp)
    if want == "hidden":
        absent = ABSENT if kind == "model" else ABSENT_DATA
        twin = send(world, caller, route.build(kind, absent), route.surface)
        if header_shape(resp) != header_shape(twin):
            errors.append(
                f"{where}: differs from a missing repo: {header_shape(resp)} vs {header_shape(twin)}"
            )
        elif normalise_body(body, (repo_name, absent)) != normalise_body(body_of(twin)):
            errors.append(f"{where}: body differs from a missing repo's: {body[:200]!r}")
        if got not in route.missing_status:
            errors.append(f"{where}: a hidden repo must answer 404 (or 401 before any lookup)")
    elif want == "ok":
        if (
            got in (401, 403)
            or (got == 404 and resp.headers.get("X-Error-Code") == "RepoNotFound")
            or (route.surface == "frontend" and got != 200)
        ):
            errors.append(f"{where}: refused {body[:200]!r}")
    elif want.startswith("gated"):
        if got != int(want[-3:]) or resp.headers.get("X-Error-Code") != "GatedRepo":
            errors.append(f"{where} code={resp.headers.get('X-Error-Code')}")
    elif want in ("401", "403") and got != int(want):
        errors.append(f"{where}: {body[:200]!r}")
    visible_404 = want != "hidden" and route.surface in ("hf", "native") and got == 404
    if visible_404 and resp.headers.get("X-Error-Code") == "RepoNotFound":
        errors.append(f"{where}: a visible repository answered RepoNotFound")
    if want in ("hidden", "gated-401", "gated-403", "401", "403") and b"zq-secret" in body:
        errors.append(f"{where}: the refusal carries private content")
    return errors


@pytest.mark.parametrize("surface", ["hf", "native", "frontend"])
def test_repository_routes_matrix(world, surface):
    """Every repository-scoped route × caller × state; all failures reported at once."""
    errors: list[str] = []
    cells = 0
    for name, route in REPO_ROUTES.items():
        if route.surface != surface:
            continue
        for kind in route.kinds:
            for state in STATES:
                for caller in CALLERS:
                    errors += check(world, name, route, kind, state, caller)
                    cells += 1
    assert cells >= 7 * 3 * 2
    assert not errors, f"{len(errors)} of {cells} cells failed:\n" + "\n".join(errors)


def test_static_route_answers_everyone_alike(world):
    """The Xet endpoint refuses before looking anything up: one answer for every repo and caller."""
    route = REPO_ROUTES["hf-xet"]
    shapes = {
        (header_shape(r), normalise_body(body_of(r), (world.name(s), "X")))
        for s in STATES
        for c in CALLERS
        if c != "revoked-token"  # refused before routing to the view, like every Hub API call with it
        if (r := send(world, c, route.build("model", world.name(s)), "hf"))
    }
    assert len(shapes) == 1


# ------------------------------------------------------------------------ lists, search and counts


#: Pages that read a bearer token as well as the session (the CSV exports scripts pull).
TOKEN_PAGES = frozenset({"frontend:models-csv", "frontend:violations-csv"})


def _list_answers(world: World, callers: tuple[str, ...]) -> dict[tuple[str, str, str], str]:
    out = {}
    for name, reqs in LIST_REQUESTS.items():
        surface = "frontend" if name.startswith("frontend:") else "api"
        for req in reqs:
            for caller in callers:
                if caller == "read-token" and (surface != "frontend" or name in TOKEN_PAGES):
                    continue  # a member's read token rightly sees the private repo through the APIs
                resp = send(world, caller, req, surface)
                assert resp.status_code < 500, (name, req, caller, resp.status_code)
                out[(name, req.path, caller)] = normalise_body(body_of(resp))
    return out


def test_lists_search_and_counts_never_show_a_private_repo(world):
    """Non-readers: no trace of the private repos anywhere; their presence changes no byte."""
    from hub.models import Repository

    non_readers = ("anonymous", "other", "revoked-token", "read-token")  # pages ignore tokens (not the CSVs)
    with_private = _list_answers(world, non_readers)
    leaks = [
        f"{key} mentions {needle}"
        for key, text in with_private.items()
        for needle in LEAK_NEEDLES
        if needle in text
    ]
    assert not leaks, "\n".join(leaks)

    # Readers do see them, so the needles above can be found when they are there.
    hf = send(world, "write-token", Req("GET", "/api/models?search=zq"), "hf").content.decode()
    native = send(world, "admin", Req("GET", "/api/v1/repos?search=zq"), "native").content.decode()
    page = send(world, "member", Req("GET", "/models?search=zq"), "frontend").content.decode()
    assert HIDDEN in hf and HIDDEN in native and HIDDEN in page

    Repository.objects.filter(private=True).delete()
    from django.core.cache import cache

    cache.clear()
    without = _list_answers(world, non_readers)
    changed = [key for key in with_private if with_private[key] != without[key]]
    diff = ""
    if changed:
        lines = difflib.unified_diff(
            with_private[changed[0]].splitlines(), without[changed[0]].splitlines(), lineterm="", n=1
        )
        diff = "\n".join(list(lines)[:40])
    assert not changed, f"answers that change when a private repo exists: {changed}\n{diff}"


# ------------------------------------------------------------------------------- special routes


@pytest.mark.parametrize("path", ["/api/whoami-v2", "/api/v1/whoami"])
def test_whoami_needs_a_valid_credential(world, path):
    for caller in ("anonymous", "revoked-token"):
        assert send(world, caller, Req("GET", path), "api").status_code == 401, caller
    for caller, user in (
        ("read-token", "mia"),
        ("write-token", "mia"),
        ("other", "mallory"),
        ("admin", "root"),
    ):
        resp = send(world, caller, Req("GET", path), "api")
        assert resp.status_code == 200 and user in resp.content.decode(), (caller, resp.content[:200])


def test_create_repo_only_where_the_caller_may_write(world):
    from hub.models import Repository

    before = Repository.objects.count()
    want = {"anonymous": 401, "revoked-token": 401, "read-token": 403, "other": 403}
    for caller, status in want.items():
        resp = send(
            world, caller, Req("POST", "/api/repos/create", {"name": "new", "organization": ORG}), "hf"
        )
        assert resp.status_code == status, (caller, resp.status_code, resp.content[:200])
    assert Repository.objects.count() == before
    for caller in ("write-token", "admin"):
        resp = send(
            world,
            caller,
            Req("POST", "/api/repos/create", {"name": f"new-{caller}", "organization": ORG}),
            "hf",
        )
        assert resp.status_code == 200, (caller, resp.content[:200])
    assert Repository.objects.count() == before + 2


@pytest.mark.parametrize("kind", ["model", "dataset"])
def test_a_private_repos_pull_request_page_is_missing(world, kind):
    """``/{repo}/discussions/{N}`` shows pull request N's files: to non-readers of a private repository
    exactly what a repository that does not exist answers; to readers, the page."""
    from hub.models import Ref

    prefix = "" if kind == "model" else "datasets/"
    for state in ("public", "private"):
        repo = world.repos[(kind, state)]
        Ref.objects.create(repository=repo, kind=Ref.Kind.PR, name="1", commit=repo.head)
    private = world.repos[(kind, "private")]
    absent = ABSENT if kind == "model" else ABSENT_DATA
    public = world.repos[(kind, "public")]
    assert (
        send(
            world, "anonymous", Req("GET", f"/{prefix}{ORG}/{public.name}/discussions/1"), "frontend"
        ).status_code
        == 200
    )
    assert (
        send(
            world, "member", Req("GET", f"/{prefix}{ORG}/{private.name}/discussions/1"), "frontend"
        ).status_code
        == 200
    )
    for caller in ("anonymous", "other"):
        hidden = send(world, caller, Req("GET", f"/{prefix}{ORG}/{private.name}/discussions/1"), "frontend")
        missing = send(world, caller, Req("GET", f"/{prefix}{ORG}/{absent}/discussions/1"), "frontend")
        assert hidden.status_code == missing.status_code == 404
        assert normalise_body(body_of(hidden), (private.name, absent)) == normalise_body(body_of(missing))


def test_violation_of_a_private_repo_is_missing(world):
    """Detail and triage of a private repo's violation answer exactly as for an id that does not exist."""
    from licenses.models import Violation

    hidden = Violation.objects.filter(repository=world.repos[("model", "private")]).first()
    assert hidden is not None, "the private model should carry a missing-license violation"
    absent = Violation.objects.order_by("-pk").first().pk + 1000
    cases = [
        ("api", lambda pk: Req("GET", f"/api/v1/violations/{pk}")),
        ("api", lambda pk: Req("POST", "/api/v1/violations/triage", {"ids": [pk], "status": "acknowledged"})),
        ("frontend", lambda pk: Req("GET", f"/violations/{pk}")),
        (
            "frontend",
            lambda pk: Req(
                "POST",
                "/violations/triage",
                f"ids={pk}&status=acknowledged",
                "application/x-www-form-urlencoded",
            ),
        ),
    ]
    errors = []
    for surface, build in cases:
        for caller in ("anonymous", "other", "revoked-token"):
            if surface == "frontend" and caller == "revoked-token":
                continue
            a = send(world, caller, build(hidden.pk), surface)
            b = send(world, caller, build(absent), surface)
            swap = (
                (f"/{hidden.pk}", f"/{absent}")
                if "triage" not in build(0).path
                else (f"[{hidden.pk}]", f"[{absent}]")
            )
            same = header_shape(a) == header_shape(b) and normalise_body(body_of(a), swap) == normalise_body(
                body_of(b)
            )
            if not same or a.status_code >= 500:
                errors.append(
                    f"{build(hidden.pk)} as {caller}: {a.status_code} vs {b.status_code}: "
                    f"{body_of(a)[:300]!r} vs {body_of(b)[:300]!r}"
                )
        seen = send(world, "admin", build(hidden.pk), surface)
        if seen.status_code == 404 or seen.status_code >= 500:
            errors.append(f"{build(hidden.pk)} as admin: {seen.status_code}")
    hidden.refresh_from_db()
    assert hidden.status == Violation.Status.OPEN or not errors
    assert not errors, "\n".join(errors)


def test_account_pages_are_the_callers_own(world):
    from hub.auth import mint_token

    _, row = mint_token(world.users["member"], scope="read", name="mine")
    for path in ("/settings/tokens", "/settings/organizations"):
        resp = send(world, "anonymous", Req("GET", path), "frontend")
        assert resp.status_code == 302 and "/login" in resp["Location"], path
        resp = send(world, "write-token", Req("GET", path), "frontend")  # a token is not a session
        assert resp.status_code == 302, path
    # Someone else's token cannot be revoked, and the answer is that of a token that does not exist.
    other = send(
        world, "other", Req("POST", f"/settings/tokens/{row.pk}/revoke", "", "text/plain"), "frontend"
    )
    none = send(
        world, "other", Req("POST", f"/settings/tokens/{row.pk + 999}/revoke", "", "text/plain"), "frontend"
    )
    assert other.status_code == none.status_code and other.status_code in (403, 404)
    row.refresh_from_db()
    assert row.revoked_at is None
    page = send(world, "other", Req("GET", "/settings/organizations"), "frontend").content.decode()
    assert ORG not in page and HIDDEN not in page
    page = send(world, "member", Req("GET", "/settings/organizations"), "frontend").content.decode()
    assert ORG in page


def test_admin_is_staff_only(world):
    for caller in ("anonymous", "other", "member", "write-token"):
        resp = send(world, caller, Req("GET", "/admin/hub/repository/"), "frontend")
        assert resp.status_code == 302 and "login" in resp["Location"], caller
    assert send(world, "admin", Req("GET", "/admin/hub/repository/"), "frontend").status_code == 200


def test_signed_upload_links_reject_forged_tokens(world):
    for path in ("/api/lfs/upload/forged", "/api/lfs/complete/forged"):
        method = "PUT" if "upload" in path else "POST"
        resp = send(world, "write-token", Req(method, path, b"x", "application/octet-stream"), "hf")
        assert resp.status_code == 403, path


@pytest.mark.parametrize(
    "req",
    [
        Req("PUT", "/api/v1/policies/zq", {"document": INLINE_POLICY}),
        Req("POST", "/api/v1/mirror/specs", {"name": "zq", "upstream": "http://127.0.0.1:9"}),
        Req("POST", "/api/v1/mirror/specs/zq/run", {}),
    ],
    ids=["policy-put", "mirror-spec-create", "mirror-run"],
)
def test_staff_only_changes(world, req):
    for caller, status in (
        ("anonymous", (401, 403)),
        ("revoked-token", (401,)),
        ("other", (403,)),
        ("read-token", (403,)),
        ("write-token", (403,)),
    ):
        resp = send(world, caller, req, "api")
        assert resp.status_code in status, (caller, resp.status_code, resp.content[:200])
