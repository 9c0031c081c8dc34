"""REST API of the mirror: specifications (edited by staff) and runs (with live counters).

``/api/v1/mirror/specs`` lists and creates specifications, ``/specs/<name>`` reads,
changes or deletes one, ``/specs/<name>/run`` starts a run now (202, the run to poll),
``/runs`` lists runs (``?spec=<name>``, ``?status=``) newest first and ``/runs/<id>``
shows one with the counters the worker updates as it goes. Reads are open like the
rest of the native API; changes need a staff user (a write-scoped token for tokens).
"""

from __future__ import annotations

import re

from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from hub.auth import BearerTokenAuthentication
from licenses.api.errors import ApiError
from licenses.api.permissions import StaffForUnsafe
from workers.models import MirrorRun, MirrorSpec, upstream_credentials_problem

REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")


def _strings(value, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise serializers.ValidationError(f"{what} must be a list of non-empty strings")
    return [v.strip() for v in value]


class MirrorSpecSerializer(serializers.ModelSerializer):
    last_run = serializers.SerializerMethodField()

    class Meta:
        model = MirrorSpec
        fields = [
            "name", "upstream", "token_env", "repo_ids", "authors", "search", "tags", "descendants_of", "top_n",
            "limit", "files", "file_patterns", "max_file_size", "interval_minutes", "max_concurrency", "enabled",
            "created_at", "last_run_at", "last_run",
        ]  # fmt: skip
        read_only_fields = ["created_at", "last_run_at", "last_run"]

    def get_last_run(self, spec: MirrorSpec) -> dict | None:
        run = spec.runs.order_by("-started_at", "-pk").first()
        return MirrorRunSerializer(run).data if run else None

    def validate_repo_ids(self, value):
        ids = _strings(value, "repo_ids")
        bad = [i for i in ids if not REPO_ID.match(i)]
        if bad:
            raise serializers.ValidationError(f"not owner/name ids: {', '.join(bad[:5])}")
        return ids

    def validate_authors(self, value):
        return _strings(value, "authors")

    def validate_tags(self, value):
        return _strings(value, "tags")

    def validate_file_patterns(self, value):
        return _strings(value, "file_patterns")

    def validate_interval_minutes(self, value: int) -> int:
        if value < 1:
            raise serializers.ValidationError("at least 1 minute")
        return value

    def validate_max_concurrency(self, value: int) -> int:
        if not 1 <= value <= 32:
            raise serializers.ValidationError("between 1 and 32")
        return value

    def validate_upstream(self, value: str) -> str:
        if problem := upstream_credentials_problem(value):
            raise serializers.ValidationError(problem)
        return value.rstrip("/")


class MirrorRunSerializer(serializers.ModelSerializer):
    spec = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = MirrorRun
        fields = [
            "id", "spec", "upstream", "status", "started_at", "finished_at", "heartbeat_at", "listed", "changed",
            "fetched", "bytes", "failed", "errors", "error", "options",
        ]  # fmt: skip
        read_only_fields = fields


class MirrorAPIView(APIView):
    authentication_classes = [BearerTokenAuthentication, SessionAuthentication]
    permission_classes = [StaffForUnsafe]


class SpecListView(MirrorAPIView, generics.ListCreateAPIView):
    serializer_class = MirrorSpecSerializer
    queryset = MirrorSpec.objects.order_by("name")


class SpecDetailView(MirrorAPIView, generics.RetrieveUpdateDestroyAPIView):
    serializer_class = MirrorSpecSerializer
    queryset = MirrorSpec.objects.all()
    lookup_field = "name"

    @transaction.atomic
    def perform_destroy(self, instance: MirrorSpec) -> None:
        """Not while a run of it is queued or running: the run's row went with the spec while its
        worker went on ("lease lost", and a history without the run that wrote the repositories)."""
        MirrorSpec.objects.select_for_update().filter(pk=instance.pk).first()  # as run-now takes it
        active = instance.runs.filter(status__in=MirrorRun.ACTIVE).first()
        if active is not None:
            raise ApiError(
                "conflict",
                f"run {active.pk} of {instance.name} is {active.status}; disable the spec and delete it "
                "once the run has finished",
                status.HTTP_409_CONFLICT,
            )
        super().perform_destroy(instance)


class SpecRunView(MirrorAPIView):
    """Start a run of this specification now (unless one is already queued or running)."""

    @extend_schema(request=None, responses={202: MirrorRunSerializer, 409: MirrorRunSerializer})
    def post(self, request, name: str):
        from workers.tasks import QUEUE_UNREACHABLE, start_run_unless_active

        spec = get_object_or_404(MirrorSpec, name=name)
        run_id, started = start_run_unless_active(spec)
        run = MirrorRun.objects.get(pk=run_id)
        if started and run.status == MirrorRun.Status.FAILED and run.error.startswith(QUEUE_UNREACHABLE):
            raise ApiError("queue-unavailable", run.error, status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response(
            MirrorRunSerializer(run).data,
            status=status.HTTP_202_ACCEPTED if started else status.HTTP_409_CONFLICT,
        )


class RunListView(MirrorAPIView, generics.ListAPIView):
    serializer_class = MirrorRunSerializer

    def get_queryset(self):
        qs = MirrorRun.objects.select_related("spec").order_by("-started_at", "-pk")
        if spec := self.request.query_params.get("spec"):
            qs = qs.filter(spec__name=spec)
        if run_status := self.request.query_params.get("status"):
            qs = qs.filter(status=run_status)
        return qs


class RunDetailView(MirrorAPIView, generics.RetrieveAPIView):
    serializer_class = MirrorRunSerializer
    queryset = MirrorRun.objects.select_related("spec")
