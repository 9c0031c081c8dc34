"""Request and response shapes of the licences API (also the OpenAPI schema's source)."""

from __future__ import annotations

from rest_framework import serializers

from licenses.models import Policy, PolicyVersion, Violation, ViolationEvent


class ComplianceCheckRequest(serializers.Serializer):
    models = serializers.ListField(
        child=serializers.JSONField(),
        help_text='ids ("org/name"), {"id", "revision"} objects, or {"id", "card"} with README text',
    )
    policy = serializers.JSONField(help_text="a stored policy's name, or an inline policy document")


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    clause = serializers.CharField(allow_blank=True, required=False)


class ObligationSerializer(serializers.Serializer):
    code = serializers.CharField()
    text = serializers.CharField()


class ComplianceResultSerializer(serializers.Serializer):
    model = serializers.CharField()
    revision = serializers.CharField(allow_null=True)
    verdict = serializers.ChoiceField(choices=["allow", "warn", "deny"])
    reasons = ReasonSerializer(many=True)
    obligations = ObligationSerializer(many=True)
    license = serializers.JSONField(allow_null=True)
    lineage = serializers.JSONField(required=False)
    violations = serializers.JSONField()
    exception = serializers.JSONField(allow_null=True, required=False)


class ComplianceCheckResponse(serializers.Serializer):
    policy = serializers.CharField()
    results = ComplianceResultSerializer(many=True)


class PolicyVersionSerializer(serializers.ModelSerializer):
    # null when the version was made by a script or its author was deleted (documented as nullable)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = PolicyVersion
        fields = ["version", "document", "comment", "created_by", "created_at"]


class PolicySerializer(serializers.ModelSerializer):
    current = PolicyVersionSerializer(read_only=True)

    class Meta:
        model = Policy
        fields = ["name", "description", "created_at", "updated_at", "current"]


class PolicyWriteSerializer(serializers.Serializer):
    document = serializers.JSONField(help_text="the policy file format (contract.md), as JSON")
    description = serializers.CharField(required=False, allow_blank=True)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=300)


class ViolationEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = ViolationEvent
        fields = ["action", "from_status", "to_status", "actor", "reason", "at"]


class ViolationSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="repository.repo_id", read_only=True)
    parent = serializers.CharField(source="parent_ref", read_only=True)
    status_changed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Violation
        fields = [
            "id",
            "model",
            "rule",
            "severity",
            "parent",
            "message",
            "clause",
            "evidence",
            "status",
            "status_reason",
            "status_changed_by",
            "status_changed_at",
            "first_seen_at",
            "last_seen_at",
        ]


class ViolationDetailSerializer(ViolationSerializer):
    events = ViolationEventSerializer(many=True, read_only=True)

    class Meta(ViolationSerializer.Meta):
        fields = [*ViolationSerializer.Meta.fields, "events"]


#: Violation ids are BigAutoField: anything outside 1..2**63-1 cannot name one, and passing it on
#: to the database overflows the driver (a 500 found by fuzzing, tests/hardening/test_api_fuzz.py).
MAX_ID = 2**63 - 1


class TriageRequest(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1, max_length=1000
    )
    status = serializers.ChoiceField(choices=Violation.Status.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class GraphNodeSerializer(serializers.Serializer):
    id = serializers.CharField()
    depth = serializers.IntegerField()
    in_registry = serializers.BooleanField()
