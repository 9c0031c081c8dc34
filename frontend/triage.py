"""The violation triage queue: which violations a viewer sees, filters, and who may triage.

Visibility follows the repositories (a violation on a private model exists only for
those who can read it). Changing a status goes through the licence service
``set_violation_status`` so every change lands in the history with actor and reason;
only users who can write to the model's namespace may triage its violations.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import QueryDict

from hub.models import Namespace, Repository
from hub.services.access import visible_repositories
from licenses.models import Violation
from licenses.services.violations import set_violation_status, triageable


@dataclass(frozen=True)
class QueueFilters:
    rule: str = ""
    severity: str = ""
    status: str = "open"
    org: str = ""
    model: str = ""

    @classmethod
    def from_query(cls, params: QueryDict) -> QueueFilters:
        status = params.get("status", "open").strip()
        return cls(
            rule=params.get("rule", "").strip()[:60],
            severity=params.get("severity", "").strip()[:8],
            status=status if status in {*Violation.Status.values, "all"} else "open",
            org=params.get("org", "").strip()[:96],
            model=params.get("model", "").strip()[:200],
        )


def visible_violations(user) -> QuerySet[Violation]:
    repos = visible_repositories(user).values("pk")
    return Violation.objects.filter(repository__in=repos).select_related("repository__namespace")


def queue(user, f: QueueFilters) -> QuerySet[Violation]:
    qs = visible_violations(user)
    if f.rule:
        qs = qs.filter(rule=f.rule)
    if f.severity:
        qs = qs.filter(severity=f.severity)
    if f.status != "all":
        qs = qs.filter(status=f.status)
    if f.org:
        qs = qs.filter(repository__namespace__name__iexact=f.org)
    if f.model:
        owner, _, name = f.model.partition("/")
        qs = qs.filter(repository__namespace__name__iexact=owner, repository__name__iexact=name)
    return qs.order_by("severity", "-last_seen_at", "-pk")


def triage(user, ids: list[int], status: str, reason: str) -> tuple[list[Violation], int]:
    """Apply ``status`` to the chosen violations the user may change; returns (changed, refused count)."""
    chosen = visible_violations(user).filter(pk__in=set(ids))
    allowed = list(triageable(user, chosen))
    changed = set_violation_status(allowed, status, user, reason)
    # refused: seen but not changeable (ids that name nothing visible are not a permission matter)
    return changed, chosen.count() - len(allowed)


def organisations_with_violations(user) -> list[str]:
    # One filter() call, so both conditions hold for the same repository: an organisation whose only
    # violations are on private repositories the user cannot see must not be listed.
    repos = visible_repositories(user).values("pk")
    return list(
        Namespace.objects.filter(repositories__in=repos, repositories__violations__isnull=False)
        .distinct()
        .order_by("name")
        .values_list("name", flat=True)
    )


def repository_ids(qs: QuerySet[Repository]) -> list[int]:
    return list(qs.values_list("pk", flat=True))
