"""The native REST API for repositories, revisions, files and analysis results.

Thin views over the same services as the Hub-compatible API, so visibility rules are
identical: a private repository is a 404 to anyone who cannot read it.
"""

from __future__ import annotations

from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hub.api import serializers as s
from hub.auth import BearerTokenAuthentication, Caller
from hub.models import ApiToken, Commit, FileScan, Ref, RepoFile, Repository, RevisionAnalysis
from hub.services.access import get_readable, get_writable, visible_repositories
from hub.services.errors import HubError
from hub.services.repos import create_repository
from hub.services.revisions import resolve_revision
from licenses.api.errors import ApiError

#: ``GET /api/v1/repos?sort=``: descending except ``name``; the Hub API's spellings are accepted too.
SORTS = ("last_modified", "created_at", "downloads", "likes", "name")
SORT_ALIASES = {"lastModified": "last_modified", "createdAt": "created_at"}

TYPE_PARAM = OpenApiParameter(
    "type", str, enum=["model", "dataset"], description="repository type (default model)"
)
REV_PARAM = OpenApiParameter(
    "revision", str, description="branch, tag or commit sha (default: the default branch)"
)


def caller_of(request: Request) -> Caller:
    user = request.user if request.user and request.user.is_authenticated else None
    token = request.auth if isinstance(request.auth, ApiToken) else None
    return Caller(user, token)


class HubErrorsMixin:
    """Service errors become the API's error body, with the Hub error code when there is one."""

    authentication_classes = [BearerTokenAuthentication, SessionAuthentication]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if "\x00" in request.path or any("\x00" in v for _, vs in request.query_params.lists() for v in vs):
            raise ApiError("invalid-request", "NUL bytes are not allowed in paths or parameters", 400)

    def handle_exception(self, exc):
        if isinstance(exc, HubError):
            code = exc.code or {400: "invalid-request", 401: "not-authenticated", 403: "permission-denied",
                                409: "conflict", 412: "conflict", 413: "too-large"}.get(exc.status, "error")  # fmt: skip
            exc = ApiError(code, exc.message, exc.status)
        return super().handle_exception(exc)

    def repo(self, write: bool = False) -> Repository:
        kind = self.request.query_params.get("type") or Repository.Type.MODEL
        getter = get_writable if write else get_readable
        return getter(caller_of(self.request), kind, self.kwargs["owner"], self.kwargs["name"])


@extend_schema(tags=["repositories"])
class RepositoryListView(HubErrorsMixin, generics.ListCreateAPIView):
    """List the repositories you can see (search and filters), or create one."""

    serializer_class = s.RepositorySerializer

    @extend_schema(
        parameters=[
            TYPE_PARAM,
            OpenApiParameter("search", str, description="substring of owner/name"),
            OpenApiParameter("author", str, description="owner namespace"),
            OpenApiParameter("license", str, description="analysed licence key (e.g. apache-2.0)"),
            OpenApiParameter("license_class", str, description="analysed licence class (e.g. noncommercial)"),
            OpenApiParameter("tag", str, many=True, description="tags, all must match"),
            OpenApiParameter("sort", str, enum=["last_modified", "created_at", "downloads", "likes", "name"]),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        qs = visible_repositories(caller_of(self.request).user, params.get("type") or Repository.Type.MODEL)
        qs = qs.select_related("head", "latest_analysis").prefetch_related("tag_rows")
        if term := params.get("search"):
            qs = qs.filter(Q(name__icontains=term) | Q(namespace__name__icontains=term))
        if author := params.get("author"):
            qs = qs.filter(namespace__name__iexact=author)
        if lic := params.get("license"):
            qs = qs.filter(license_key=lic)
        if cls := params.get("license_class"):
            qs = qs.filter(license_class=cls)
        for tag in params.getlist("tag"):
            qs = qs.filter(tag_rows__tag=tag)
        raw = params.get("sort") or "last_modified"
        sort = SORT_ALIASES.get(raw, raw)
        if sort not in SORTS:
            raise ApiError(
                "invalid-request",
                f"sort {raw!r}: use one of {', '.join(SORTS)} (newest or most first; name A-Z)",
                400,
            )
        order = {"name": ("namespace__name", "name")}.get(sort) or (f"-{sort}",)
        return qs.order_by(*order, "pk").distinct()

    @extend_schema(request=s.RepositoryCreateSerializer, responses={201: s.RepositorySerializer})
    def post(self, request, *args, **kwargs):
        body = s.RepositoryCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        repo, _ = create_repository(
            caller_of(request), name=data["name"], organization=data.get("organization") or None,
            repo_type=data["type"], private=data["private"],
        )  # fmt: skip
        repo.refresh_from_db()
        return Response(s.RepositorySerializer(repo).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["repositories"], parameters=[TYPE_PARAM])
class RepositoryDetailView(HubErrorsMixin, APIView):
    """One repository; PATCH changes visibility, gating or description (write access)."""

    @extend_schema(responses=s.RepositorySerializer)
    def get(self, request, owner: str, name: str):
        return Response(s.RepositorySerializer(self.repo()).data)

    @extend_schema(request=s.RepositoryUpdateSerializer, responses=s.RepositorySerializer)
    def patch(self, request, owner: str, name: str):
        repo = self.repo(write=True)
        body = s.RepositoryUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        for field, value in body.validated_data.items():
            setattr(repo, field, value)
        if body.validated_data:
            repo.save(update_fields=list(body.validated_data))
        return Response(s.RepositorySerializer(repo).data)


@extend_schema(tags=["repositories"], parameters=[TYPE_PARAM, REV_PARAM])
class RevisionListView(HubErrorsMixin, generics.ListAPIView):
    """The history of a revision (newest first): each commit with its parent."""

    serializer_class = s.CommitSerializer

    def get_queryset(self):
        repo = self.repo()
        head = resolve_revision(repo, self.request.query_params.get("revision"))
        return (
            Commit.objects.filter(repository=repo, created_at__lte=head.created_at)
            .select_related("parent", "author")
            .order_by("-created_at", "-pk")
        )


@extend_schema(tags=["repositories"], parameters=[TYPE_PARAM])
class RefListView(HubErrorsMixin, generics.ListAPIView):
    """Branches and tags."""

    serializer_class = s.RefSerializer
    pagination_class = None

    def get_queryset(self):
        return Ref.objects.filter(repository=self.repo()).select_related("commit").order_by("kind", "name")


@extend_schema(tags=["repositories"], parameters=[TYPE_PARAM, REV_PARAM])
class FileListView(HubErrorsMixin, generics.ListAPIView):
    """Every file of a revision with its size, git oid and sha256."""

    serializer_class = s.RepoFileSerializer

    def get_queryset(self):
        repo = self.repo()
        commit = resolve_revision(repo, self.request.query_params.get("revision"))
        return RepoFile.objects.filter(commit=commit).order_by("path")


@extend_schema(tags=["analysis"], parameters=[TYPE_PARAM, REV_PARAM])
class AnalysisView(HubErrorsMixin, APIView):
    """The licence/transparency analysis and file scans of a revision; POST re-runs it."""

    @extend_schema(responses=s.AnalysisSerializer)
    def get(self, request, owner: str, name: str):
        repo = self.repo()
        commit = resolve_revision(repo, request.query_params.get("revision"))
        analysis, _ = RevisionAnalysis.objects.get_or_create(commit=commit)
        data = s.AnalysisSerializer(analysis).data
        if isinstance(data.get("result"), dict):
            from licenses.services.compliance import analysis_as_seen_by

            data["result"] = analysis_as_seen_by(data["result"], request.user)
        return Response(data)

    @extend_schema(
        request=None, responses={202: inline_serializer("Requeued", {"status": serializers.CharField()})}
    )
    def post(self, request, owner: str, name: str):
        from hub.tasks import analyze_revision
        from workers.enqueue import send_on_commit

        repo = self.repo(write=True)
        commit = resolve_revision(repo, request.query_params.get("revision"))
        RevisionAnalysis.objects.update_or_create(commit=commit, defaults={"status": "pending"})
        send_on_commit(analyze_revision, commit.pk)  # pending: requeue_pending_analyses re-sends it
        return Response({"status": "queued"}, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["analysis"], parameters=[TYPE_PARAM, REV_PARAM])
class FileScanListView(HubErrorsMixin, generics.ListAPIView):
    """Security scans of the weight files of a revision (pickle imports, safetensors headers)."""

    serializer_class = s.FileScanSerializer
    pagination_class = None

    def get_queryset(self):
        repo = self.repo()
        commit = resolve_revision(repo, self.request.query_params.get("revision"))
        return FileScan.objects.filter(commit=commit).order_by("path")


@extend_schema(tags=["tokens"], responses={200: OpenApiTypes.OBJECT})
class WhoAmIView(HubErrorsMixin, APIView):
    """Who the token or session belongs to, and the token's scope."""

    def get(self, request):
        caller = caller_of(request)
        if caller.user is None:
            raise ApiError("not-authenticated", "send Authorization: Bearer <token>", 401)
        return Response(
            {
                "username": caller.user.get_username(),
                "scope": caller.token.scope if caller.token else "session",
                "token_prefix": caller.token.prefix if caller.token else None,
            }
        )
