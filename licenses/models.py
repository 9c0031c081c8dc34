"""Licence-side records the server keeps: the lineage graph, violations and their triage, policies.

The lineage graph is stored as edges between *model ids* (lower-cased ``owner/name``
strings) rather than foreign keys, because a model's parent is often not in the
registry (yet): the edge still exists, records how the parent's licence was resolved
(registry, bundled table, unresolved), and a recursive CTE walks it in one query.

Violations are keyed by (repository, rule, parent) so a finding keeps its identity and
triage across revisions; ``evidence_hash`` notices when the evidence behind an
acknowledged or dismissed finding changes, which reopens it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from hub.models import Commit, Repository


class LineageEdge(models.Model):
    """``child`` declares ``parent`` as a base model with a relation."""

    class Relation(models.TextChoices):
        FINETUNE = "finetune", "Fine-tune"
        ADAPTER = "adapter", "Adapter"
        MERGE = "merge", "Merge"
        QUANTIZED = "quantized", "Quantized"

    class Source(models.TextChoices):
        REGISTRY = "registry", "Registry"
        LOCAL = "local", "Analysed together"
        BUNDLED = "bundled", "Bundled base-model table"
        UNRESOLVED = "unresolved", "Unresolved"

    child = models.ForeignKey(
        Repository, on_delete=models.CASCADE, related_name="parent_edges", db_index=False
    )  # a unique constraint leads with it
    child_ref = models.CharField(max_length=200, help_text="lower-cased owner/name of the child")
    parent_ref = models.CharField(max_length=200, help_text="lower-cased owner/name as declared")
    parent_display = models.CharField(max_length=200, help_text="the parent id as the card spells it")
    relation = models.CharField(max_length=10, choices=Relation.choices)
    relation_inferred = models.BooleanField(default=False)
    parent_license_key = models.CharField(max_length=100, blank=True)
    parent_license_class = models.CharField(max_length=40, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.UNRESOLVED)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["child", "parent_ref"], name="lineage_edge_unique")]
        indexes = [
            models.Index(fields=["parent_ref"], name="lineage_parent_idx"),
            models.Index(fields=["child_ref"], name="lineage_child_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.child_ref} —{self.relation}→ {self.parent_ref}"


class Violation(models.Model):
    """A rule finding on a repository, with its triage state."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        FALSE_POSITIVE = "false_positive", "False positive"
        RESOLVED = "resolved", "Resolved"

    class Severity(models.TextChoices):
        ERROR = "error", "Error"
        WARNING = "warning", "Warning"
        INFO = "info", "Info"

    repository = models.ForeignKey(
        Repository, on_delete=models.CASCADE, related_name="violations", db_index=False
    )  # a unique constraint leads with it
    rule = models.CharField(max_length=60)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    parent_ref = models.CharField(max_length=200, blank=True, default="")
    message = models.TextField()
    clause = models.CharField(max_length=300, blank=True)
    evidence = models.JSONField(default=list, blank=True)
    evidence_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    status_reason = models.TextField(blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # The triage (acknowledged / false positive) a finding carried when it stopped being found: if it
    # comes back with the same evidence, that human decision still holds and is restored.
    resolved_from = models.CharField(max_length=16, blank=True, default="", db_default="")
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    # When the notifications announced this opening (cleared when it reopens): a notification task
    # delivered twice (an outbox re-send after a send the broker had accepted) announces it once.
    announced_at = models.DateTimeField(null=True, blank=True)
    first_commit = models.ForeignKey(
        Commit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_commit = models.ForeignKey(
        Commit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repository", "rule", "parent_ref"], name="violation_identity"),
        ]
        indexes = [
            models.Index(fields=["status", "severity"], name="violation_queue_idx"),
            models.Index(fields=["rule", "status"], name="violation_rule_idx"),
            models.Index(fields=["-last_seen_at"], name="violation_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} on {self.repository} ({self.status})"

    def to_dict(self) -> dict:
        """The contract's ``violations[]`` shape plus triage fields."""
        return {
            "id": self.pk,
            "rule": self.rule,
            "severity": self.severity,
            "parent": self.parent_ref or None,
            "message": self.message,
            "clause": self.clause or None,
            "evidence": self.evidence,
            "status": self.status,
            "first_seen": self.first_seen_at.isoformat(),
            "last_seen": self.last_seen_at.isoformat(),
        }


class ViolationEvent(models.Model):
    """History of a violation: when it was opened, seen, triaged, reopened or resolved, by whom, why."""

    class Action(models.TextChoices):
        OPENED = "opened", "Opened"
        STATUS = "status", "Status changed"
        REOPENED = "reopened", "Reopened (evidence changed)"
        RESOLVED = "resolved", "Resolved (no longer found)"

    violation = models.ForeignKey(Violation, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=10, choices=Action.choices)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)
    commit = models.ForeignKey(Commit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]


class Policy(models.Model):
    """A named organisational policy; its content lives in numbered, immutable versions."""

    name = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "policies"
        # ``name_taken`` is the friendly check; two creations at once both pass it, so the database
        # has the last word ("SaaS" beside "saas" would be a second policy to every check)
        constraints = [models.UniqueConstraint(Lower("name"), name="policy_name_ci_unique")]

    def __str__(self) -> str:
        return self.name

    @property
    def current(self) -> PolicyVersion | None:
        return self.versions.order_by("-version").first()

    @staticmethod
    def name_taken(name: str) -> str | None:
        """The stored policy's name that ``name`` would duplicate, compared without case ("SaaS"
        beside "saas" reads as one policy to people and would be a second one to every check)."""
        return Policy.objects.filter(name__iexact=name).values_list("name", flat=True).first()

    def add_version(self, document: dict, user, comment: str = "") -> PolicyVersion:
        """Store ``document`` as the next version (versions are immutable; API PUT and admin saves).

        The policy's row is locked while the next number is chosen: two saves at once (two web
        processes) both read the same highest version, and the second insert broke the
        ``(policy, version)`` constraint, a 500 that lost that save. Now they number one after the other.
        """
        with transaction.atomic():
            Policy.objects.select_for_update().filter(pk=self.pk).values_list("pk", flat=True).first()
            latest = self.versions.aggregate(n=models.Max("version"))["n"] or 0
            return PolicyVersion.objects.create(
                policy=self,
                version=latest + 1,
                document=document,
                comment=comment,
                created_by=user if user is not None and user.is_authenticated else None,
            )


class PolicyVersion(models.Model):
    """One version of a policy document (the policy file format in the contract, as JSON)."""

    policy = models.ForeignKey(
        Policy, on_delete=models.CASCADE, related_name="versions", db_index=False
    )  # a unique constraint leads with it
    version = models.PositiveIntegerField()
    document = models.JSONField()
    comment = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["policy", "version"], name="policy_version_unique")]
        ordering = ["policy", "-version"]

    def __str__(self) -> str:
        return f"{self.policy.name} v{self.version}"
