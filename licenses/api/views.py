"""Views of the licences API. Thin: parse, call a service, shape the answer."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from hub.api.drf import MAX_PAGE_SIZE, BoundedLimitOffsetPagination
from hub.auth import BearerTokenAuthentication
from hub.services.access import visible_repositories
from licenses.api import serializers as s
from licenses.api.errors import ApiError
from licenses.api.permissions import StaffForUnsafe, WriteScopeForUnsafe
from licenses.api.throttling import PerTokenRateThrottle
from licenses.engine.bom import FORMATS as BOM_FORMATS
from licenses.engine.bom import MEDIA_TYPES as BOM_MEDIA_TYPES
from licenses.engine.bom import BomError, export_bom
from licenses.engine.policy import PolicyError, load_policy
from licenses.engine.rules import RULES
from licenses.models import Policy, PolicyVersion, Violation
from licenses.services.compliance import (
    ComplianceRequestError,
    bom_ancestors,
    bom_reports,
    check_models,
    parse_model_specs,
    resolve_policy,
)
from licenses.services.lineage import (
    NodePage,
    Walk,
    ancestor_walk,
    derived_from_page,
    descendants_page,
    invisible_refs,
    repositories_for,
)
from licenses.services.violations import TriageError, set_violation_status, triageable

#: Deepest JSON body walked for NUL characters; deeper bodies are refused outright.
MAX_BODY_DEPTH = 64
#: What ``<slug:name>`` in the policy URLs matches (Django's slug converter).
SLUG = re.compile(r"[-a-zA-Z0-9_]+")


def _has_nul(value, depth: int = 0) -> bool:
    """Whether a parsed JSON value holds a NUL character anywhere (keys included).

    PostgreSQL cannot store or compare text (or jsonb) containing NUL: left to reach the
    database, one such character in a model id, filter or policy document is a 500.
    """
    if depth > MAX_BODY_DEPTH:
        raise ApiError("invalid-request", f"the request body nests deeper than {MAX_BODY_DEPTH} levels", 400)
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k, depth + 1) or _has_nul(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v, depth + 1) for v in value)
    return False


class LicensesAPIView(APIView):
    authentication_classes = [BearerTokenAuthentication, SessionAuthentication]
    throttle_classes = [PerTokenRateThrottle]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        params = [v for values in request.query_params.lists() for v in [values[0], *values[1]]]
        if _has_nul([*params, *kwargs.values()]) or (
            request.method not in ("GET", "HEAD", "OPTIONS") and _has_nul(request.data)
        ):
            raise ApiError("invalid-request", "the request contains a NUL character (\\x00)", 400)


class ApiPingView(LicensesAPIView):
    """A trivial authenticated, throttled endpoint: liveness of the API stack itself.

    It is also the baseline the compliance benchmark measures checks against.
    """

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response({"status": "ok"})


CHECK_EXAMPLE = {
    "models": ["acme/llama-3.1-support-bot", {"id": "acme/tiny-bert", "revision": "main"}],
    "policy": {
        "name": "commercial-saas",
        "use": {
            "commercial": True,
            "distribution": "saas",
            "monthly_active_users": 5000000,
            "regions": ["EU"],
        },
        "licenses": {"deny_classes": ["noncommercial"], "unknown": "deny"},
    },
}


def _user(request):
    """The signed-in user, or None for anonymous callers (the services' convention)."""
    return request.user if request.user.is_authenticated else None


def _check_request(request) -> tuple[list, object, str]:
    """Models and policy of a compliance-check body, or the API's 400 saying what is wrong."""
    body = request.data if isinstance(request.data, dict) else {}
    try:
        specs = parse_model_specs(body.get("models"))
        policy, label = resolve_policy(body.get("policy"))
    except ComplianceRequestError as exc:
        raise ApiError(exc.code, str(exc), status.HTTP_400_BAD_REQUEST) from exc
    except PolicyError as exc:
        raise ApiError("invalid-policy", str(exc), status.HTTP_400_BAD_REQUEST) from exc
    return specs, policy, label


class ComplianceCheckView(LicensesAPIView):
    """Judge models against a policy: a verdict per model, with reasons, obligations and lineage."""

    @extend_schema(
        request=s.ComplianceCheckRequest,
        responses={200: s.ComplianceCheckResponse},
        examples=[OpenApiExample("two models, inline policy", value=CHECK_EXAMPLE, request_only=True)],
        summary="Check models against a policy",
    )
    def post(self, request):
        specs, policy, policy_label = _check_request(request)
        return Response({"policy": policy_label, "results": check_models(specs, policy, _user(request))})


BOM_FORMAT = OpenApiParameter(
    "bom_format",
    OpenApiTypes.STR,
    enum=sorted(BOM_FORMATS),
    description="spdx3 | spdx2 | cyclonedx",
    required=True,
)


#: One 200 per media type the formats are served as (``bom.MEDIA_TYPES``).
BOM_RESPONSES = {(200, media): OpenApiTypes.OBJECT for media in dict.fromkeys(BOM_MEDIA_TYPES.values())}


def _bom_response(request, reports) -> Response:
    fmt = request.query_params.get("bom_format", "")
    hub_url = request.build_absolute_uri("/").rstrip("/")
    try:
        document = export_bom(fmt, reports, bom_ancestors(reports, _user(request)), hub_url=hub_url)
    except BomError as exc:
        raise ApiError("invalid-bom", str(exc), 400) from exc
    response = Response(document, content_type=BOM_MEDIA_TYPES[fmt])  # DRF still renders it as JSON
    response["Content-Disposition"] = f'attachment; filename="ai-bom.{fmt}.json"'
    return response


class _SpdxJSON(JSONRenderer):
    media_type = "application/spdx+json"


class _CycloneDXJSON(JSONRenderer):
    media_type = "application/vnd.cyclonedx+json"


#: A BOM is JSON whatever a client asks for it as: plain JSON, or its format's media type; a
#: browser (``*/*``) gets it too, as a file, never DRF's HTML page around it.
BOM_RENDERERS = [JSONRenderer, _SpdxJSON, _CycloneDXJSON]


class ComplianceBomView(LicensesAPIView):
    """The AI-BOM of a compliance check: the checked models with their verdicts."""

    renderer_classes = BOM_RENDERERS

    @extend_schema(request=s.ComplianceCheckRequest, parameters=[BOM_FORMAT], responses=BOM_RESPONSES)
    def post(self, request):
        specs, policy, _ = _check_request(request)
        user = _user(request)
        reports = bom_reports(check_models(specs, policy, user), user)
        if not reports and request.query_params.get("bom_format", "") in BOM_FORMATS:
            raise ApiError(
                "not-found",
                "none of the requested models is an analysed model of the registry you may see: "
                "a BOM lists registry models (check uploaded cards with /compliance/check)",
                404,
            )
        return _bom_response(request, reports)


class ModelBomView(LicensesAPIView):
    """The AI-BOM of one model at its current head (or ``?revision=``)."""

    renderer_classes = BOM_RENDERERS

    @extend_schema(
        parameters=[BOM_FORMAT, OpenApiParameter("revision", OpenApiTypes.STR)],
        responses=BOM_RESPONSES,
    )
    def get(self, request, owner: str, name: str):
        user = _user(request)
        reports = bom_reports(
            [{"model": f"{owner}/{name}", "revision": request.query_params.get("revision")}], user
        )
        if not reports:
            raise ApiError("not-found", f"no analysed model {owner}/{name}", 404)
        return _bom_response(request, reports)


class PolicyListView(LicensesAPIView, generics.ListAPIView):
    """List policies; POST creates one (staff)."""

    permission_classes = [StaffForUnsafe]
    serializer_class = s.PolicySerializer
    queryset = Policy.objects.order_by("name")

    @extend_schema(request=s.PolicyWriteSerializer, responses={201: s.PolicySerializer})
    def post(self, request):
        data = _validated(s.PolicyWriteSerializer, request)
        policy_doc = _checked_policy(data["document"])
        if not SLUG.fullmatch(str(policy_doc["name"])):  # stored policies are addressed by name in URLs
            raise ApiError(
                "invalid-policy",
                f"name: {policy_doc['name']!r} cannot name a stored policy; use letters, digits, '-' and '_' "
                "(it becomes /api/v1/policies/<name>)",
                400,
            )
        if (existing := Policy.name_taken(policy_doc["name"])) is not None:
            raise ApiError("policy-exists", f"policy {existing!r} exists; PUT a new version", 409)
        try:
            with transaction.atomic():
                policy = Policy.objects.create(
                    name=policy_doc["name"], description=data.get("description", "")
                )
                policy.add_version(policy_doc, request.user, data.get("comment", ""))
        except IntegrityError as exc:  # created by another request since the check (any case)
            existing = Policy.name_taken(policy_doc["name"]) or policy_doc["name"]
            raise ApiError("policy-exists", f"policy {existing!r} exists; PUT a new version", 409) from exc
        return Response(s.PolicySerializer(policy).data, status=status.HTTP_201_CREATED)


class PolicyDetailView(LicensesAPIView):
    """A policy and its newest version; PUT stores a new version (versions are immutable)."""

    permission_classes = [StaffForUnsafe]

    @extend_schema(responses={200: s.PolicySerializer})
    def get(self, request, name: str):
        return Response(s.PolicySerializer(get_object_or_404(Policy, name=name)).data)

    @extend_schema(request=s.PolicyWriteSerializer, responses={200: s.PolicySerializer})
    def put(self, request, name: str):
        policy = get_object_or_404(Policy, name=name)
        data = _validated(s.PolicyWriteSerializer, request)
        if not isinstance(data["document"], dict):  # a JSON number or list: 400, not a TypeError (500)
            raise ApiError("invalid-policy", "document must be a JSON object", 400)
        document = _checked_policy({**data["document"], "name": name})
        with transaction.atomic():
            # locked and read again: a PUT saving meanwhile (another web process) must not have its
            # description overwritten with what this request read before it
            policy = get_object_or_404(Policy.objects.select_for_update(), pk=policy.pk)
            policy.add_version(document, request.user, data.get("comment", ""))
            if "description" in data:
                policy.description = data["description"]
            policy.updated_at = timezone.now()
            policy.save()
        return Response(s.PolicySerializer(policy).data)


class PolicyVersionsView(LicensesAPIView, generics.ListAPIView):
    """Every version of a policy, newest first."""

    serializer_class = s.PolicyVersionSerializer

    def get_queryset(self):
        policy = get_object_or_404(Policy, name=self.kwargs["name"])  # as GET /policies/{name} answers
        return PolicyVersion.objects.filter(policy=policy).order_by("-version")


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    if not serializer.is_valid():
        raise ApiError("invalid-request", "the request is invalid", 400, serializer.errors)
    return serializer.validated_data


def _checked_policy(document) -> dict:
    if not isinstance(document, dict):
        raise ApiError("invalid-policy", "document must be a JSON object", 400)
    try:
        load_policy(document)
    except PolicyError as exc:
        raise ApiError("invalid-policy", str(exc), 400) from exc
    return document


RULE_IDS = [rule.RULE_ID for rule in RULES]
VIOLATION_FILTERS = [
    OpenApiParameter("rule", OpenApiTypes.STR, enum=RULE_IDS, description="a contract rule id"),
    OpenApiParameter("severity", OpenApiTypes.STR, enum=[c for c, _ in Violation.Severity.choices]),
    OpenApiParameter(
        "status",
        OpenApiTypes.STR,
        enum=[*(c for c, _ in Violation.Status.choices), "all"],
        description="one status, or `all` (as in the web queue); default: every status",
    ),
    OpenApiParameter("organisation", OpenApiTypes.STR, description="namespace of the model"),
    OpenApiParameter("model", OpenApiTypes.STR, description="owner/name (anything else is a 400)"),
]


def visible_violations(request):
    user = _user(request)
    repos = visible_repositories(user)
    return Violation.objects.filter(repository__in=repos).select_related(
        "repository__namespace", "status_changed_by"
    )


class ViolationListView(LicensesAPIView, generics.ListAPIView):
    """The triage queue: violations on models the caller can see, filtered."""

    serializer_class = s.ViolationSerializer

    @extend_schema(parameters=VIOLATION_FILTERS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        qs = visible_violations(self.request)
        params = self.request.query_params
        # a value no row can have is a typo: say so, rather than answer an empty queue
        for param, allowed in (
            ("rule", RULE_IDS),
            ("severity", Violation.Severity.values),
            ("status", [*Violation.Status.values, "all"]),
        ):
            if params.get(param) and params[param] not in allowed:
                raise ApiError(
                    "invalid-request",
                    f"unknown {param} {params[param]!r}; use one of {', '.join(allowed)}",
                    400,
                )
        for param in ("rule", "severity", "status"):
            if params.get(param) and params[param] != "all":
                qs = qs.filter(**{param: params[param]})
        if params.get("organisation"):
            qs = qs.filter(repository__namespace__name__iexact=params["organisation"])
        if params.get("model"):
            if params["model"].count("/") != 1:  # ignored, it answered every model's violations
                raise ApiError(
                    "invalid-request", f"model {params['model']!r} is not an id of the form owner/name", 400
                )
            owner, name = params["model"].split("/", 1)
            qs = qs.filter(repository__namespace__name__iexact=owner, repository__name__iexact=name)
        return qs.order_by("-last_seen_at", "pk")


class ViolationDetailView(LicensesAPIView, generics.RetrieveAPIView):
    """One violation with its history."""

    serializer_class = s.ViolationDetailSerializer

    def get_queryset(self):
        return visible_violations(self.request).prefetch_related("events__actor")


class ViolationTriageView(LicensesAPIView):
    """Bulk triage: acknowledge, mark false positive (reason required), reopen or resolve."""

    permission_classes = [WriteScopeForUnsafe]

    @extend_schema(
        request=s.TriageRequest,
        responses={200: s.ViolationSerializer(many=True)},
        examples=[
            OpenApiExample(
                "dismiss two findings",
                value={
                    "ids": [12, 13],
                    "status": "false_positive",
                    "reason": "parent relicensed, see ticket 42",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request):
        data = _validated(s.TriageRequest, request)
        found = list(visible_violations(request).filter(pk__in=data["ids"]))
        missing = sorted(set(data["ids"]) - {v.pk for v in found})
        if missing:
            raise ApiError("not-found", f"no violations with ids {missing}", 404)
        allowed = {
            v.pk for v in triageable(request.user, Violation.objects.filter(pk__in=[v.pk for v in found]))
        }
        refused = sorted({v.pk for v in found} - allowed)
        if refused:  # all or nothing: a bulk request never half-applies
            raise ApiError(
                "permission-denied",
                f"violations {refused} are on models you cannot write to; only the owner or an "
                "organisation writer or admin may triage them",
                403,
            )
        try:
            set_violation_status(found, data["status"], request.user, data["reason"])
        except TriageError as exc:
            raise ApiError("invalid-triage", str(exc), 400) from exc
        return Response(s.ViolationSerializer(found, many=True).data)


#: Set on a lineage answer cut at the depth limit (``MAX_DEPTH`` levels): models lie further.
TRUNCATED_HEADER = "X-Lineage-Truncated"


def _graph_response(walk: Callable[..., Walk], request, *, upward: bool) -> Response:
    """The nodes of ``walk(stop=…)`` the caller may know of (``X-Lineage-Truncated`` when cut).

    A private model the caller cannot see is answered as a model outside the registry when it is
    an ancestor (a public card names it; answering differently would tell that it exists) and left
    out as a descendant; in both cases the walk does not go on from it, since what lies beyond is
    in its private card.
    """
    walked = walk()
    repos = repositories_for(walked.nodes)
    hidden = invisible_refs(_user(request), repos)
    if hidden:
        walked = walk(stop=hidden)
    nodes, out = walked.nodes, []
    for node in nodes:
        repo = None if node.ref in hidden else repos.get(node.ref)
        if node.ref in hidden and not upward:
            continue
        out.append(
            {"id": repo.repo_id if repo else node.ref, "depth": node.depth, "in_registry": repo is not None}
        )
    response = Response(out)
    if walked.truncated:
        response[TRUNCATED_HEADER] = "true"
    return response


LINEAGE_PAGING = [
    OpenApiParameter("limit", OpenApiTypes.INT, description="page size (default and most 1000)"),
    OpenApiParameter("offset", OpenApiTypes.INT),
]

#: Response headers of the lineage walks, in the OpenAPI schema (``response=[200]``: on answers).
LINEAGE_TRUNCATED = OpenApiParameter(
    TRUNCATED_HEADER,
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    response=[200],
    enum=["true"],
    description='present ("true") when the walk was cut at its depth bound (MAX_DEPTH, 64 levels): '
    "models lie further; absent otherwise",
)
LINEAGE_TOTAL = OpenApiParameter(
    "X-Total-Count",
    OpenApiTypes.INT,
    location=OpenApiParameter.HEADER,
    response=[200],
    description="visible models in the whole walk, every page (descendants and derived-from; not ancestors)",
)


def _paged_graph_response(page_of: Callable[[int, int], NodePage], request) -> Response:
    """One page of a downward walk (nearest first), the walk's size in ``X-Total-Count`` and the
    neighbouring pages in ``Link``. Paged in the database: a base model with 50,000 derivatives
    answers a page of 1,000 rows, not 50,000."""
    paginator = BoundedLimitOffsetPagination()
    paginator.default_limit = MAX_PAGE_SIZE
    limit, offset = paginator.get_limit(request), paginator.get_offset(request)
    page = page_of(limit, offset)
    repos = repositories_for(page.nodes)
    body = [
        {
            "id": repos[n.ref].repo_id if n.ref in repos else n.ref,
            "depth": n.depth,
            "in_registry": n.ref in repos,
        }
        for n in page.nodes
    ]
    response = Response(body)
    response["X-Total-Count"] = str(page.total)
    if page.truncated:
        response[TRUNCATED_HEADER] = "true"
    url = request.build_absolute_uri()
    links = []
    if offset + limit < page.total:
        links.append(f'<{replace_query_param(url, "offset", offset + limit)}>; rel="next"')
    if offset > 0:
        links.append(f'<{replace_query_param(url, "offset", max(0, offset - limit))}>; rel="prev"')
    if links:
        response["Link"] = ", ".join(links)
    return response


class LineageView(LicensesAPIView):
    """Ancestors or descendants of a model, transitively, nearest first."""

    direction = "ancestors"

    @extend_schema(
        parameters=[*LINEAGE_PAGING, LINEAGE_TRUNCATED, LINEAGE_TOTAL],
        responses={200: s.GraphNodeSerializer(many=True)},
    )
    def get(self, request, owner: str, name: str):
        user = _user(request)
        repo = visible_repositories(user).filter(namespace__name__iexact=owner, name__iexact=name).first()
        if repo is None:
            raise ApiError("not-found", f"no model {owner}/{name}", 404)
        if self.direction == "ancestors":  # bounded by the parents a card may name and the depth
            return _graph_response(functools.partial(ancestor_walk, repo.repo_id), request, upward=True)
        return _paged_graph_response(functools.partial(descendants_page, repo.repo_id, user), request)


class TaintedModelsView(LicensesAPIView):
    """Models that descend, at any depth, from a parent under the given licence classes."""

    @extend_schema(
        parameters=[
            OpenApiParameter("class", OpenApiTypes.STR, many=True, description="e.g. noncommercial"),
            *LINEAGE_PAGING,
            LINEAGE_TRUNCATED,
            LINEAGE_TOTAL,
        ],
        responses={200: s.GraphNodeSerializer(many=True)},
    )
    def get(self, request):
        classes = request.query_params.getlist("class") or ["noncommercial"]
        return _paged_graph_response(functools.partial(derived_from_page, classes, _user(request)), request)
