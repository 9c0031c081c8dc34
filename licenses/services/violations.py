"""Storing rule findings as violations, and triaging them.

A finding's identity is (repository, rule, parent). Re-analysing a revision updates
``last_seen``; a finding that disappears is resolved automatically; a finding that was
acknowledged or marked a false positive reopens when its evidence changes, because the
judgement was about the old evidence. Every change is a ``ViolationEvent``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from hub.models import Commit, OrgMembership, Repository
from hub.models import lock_repositories as lock_repository_rows
from hub.services.access import WRITE_ROLES
from licenses.models import Violation, ViolationEvent
from licenses.services.bulk_update import update_rows

TRIAGE_STATUSES = {
    Violation.Status.OPEN,
    Violation.Status.ACKNOWLEDGED,
    Violation.Status.FALSE_POSITIVE,
    Violation.Status.RESOLVED,
}
REASON_REQUIRED = {Violation.Status.ACKNOWLEDGED, Violation.Status.FALSE_POSITIVE}


class TriageError(ValueError):
    """A triage request that cannot be carried out; the message says why."""


def triageable(user, qs: QuerySet[Violation]) -> QuerySet[Violation]:
    """The violations in ``qs`` whose status ``user`` may change: those on models the user owns
    or may write as an organisation writer or admin (superusers: all).

    One rule for the web queue and the API: seeing a violation (reading its model) is not
    enough to dismiss it, or anyone could mark a public model's finding a false positive.
    """
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs
    orgs = OrgMembership.objects.filter(user=user, role__in=WRITE_ROLES).values("org")
    return qs.filter(Q(repository__namespace__user=user) | Q(repository__namespace__in=orgs))


@dataclass
class SyncResult:
    opened: list[Violation] = field(default_factory=list)
    reopened: list[Violation] = field(default_factory=list)
    resolved: list[Violation] = field(default_factory=list)
    seen: list[Violation] = field(default_factory=list)

    @property
    def new_errors(self) -> list[Violation]:
        """Newly opened or reopened error-severity violations: what notifications announce."""
        return [v for v in self.opened + self.reopened if v.severity == Violation.Severity.ERROR]


def evidence_hash(finding: Mapping[str, Any]) -> str:
    """A stable digest of what a finding rests on (message, clause, evidence)."""
    material = {k: finding.get(k) for k in ("message", "clause", "evidence", "severity")}
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()


def _identity(finding: Mapping[str, Any]) -> tuple[str, str]:
    return str(finding["rule"]), str(finding.get("parent") or "").lower()


Finding = Mapping[str, Any]


def as_triaged(findings: Iterable[Finding], rows: Iterable[Violation]) -> list[dict[str, Any]]:
    """An older revision's own findings, with the triage the queue holds for the same evidence.

    The queue's rows describe the head. A check of a pinned revision must list that revision's
    findings, not the head's; where a reviewer judged the very same evidence (same identity and
    hash: acknowledged, or a false positive, or such a finding since gone from the head) that
    judgement applies here too. False positives are left out, as from the head's open list.
    """
    by_identity = {(v.rule, v.parent_ref): v for v in rows}
    out = []
    for finding in findings:
        row = by_identity.get(_identity(finding))
        status = Violation.Status.OPEN
        if row is not None and row.evidence_hash == evidence_hash(finding):
            if row.status in REASON_REQUIRED:
                status = row.status
            elif row.status == Violation.Status.RESOLVED and row.resolved_from in REASON_REQUIRED:
                status = row.resolved_from
        if status != Violation.Status.FALSE_POSITIVE:
            out.append({**finding, "status": str(status)})
    return out


@dataclass(frozen=True)
class FindingsOf:
    """The latest findings of one repository, as of ``commit`` (None: not tied to a revision)."""

    repository: Repository
    commit: Commit | None
    findings: Iterable[Finding]


def sync_violations(repository: Repository, commit: Commit | None, findings: Iterable[Finding]) -> SyncResult:
    """Bring the repository's stored violations in line with the latest findings."""
    return sync_violations_many([FindingsOf(repository, commit, findings)])[repository.pk]


@dataclass
class _Writes:
    """Rows one sync pass creates or changes, written with one bulk query per kind."""

    created: list[Violation] = field(default_factory=list)
    changed: list[Violation] = field(default_factory=list)
    events: list[ViolationEvent] = field(default_factory=list)


_UPDATED_FIELDS = [
    "severity",
    "message",
    "clause",
    "evidence",
    "evidence_hash",
    "last_seen_at",
    "last_commit",
    "status",
    "status_reason",
    "status_changed_at",
    "status_changed_by",
    "resolved_from",
    "announced_at",
]


@transaction.atomic
def sync_violations_many(items: Iterable[FindingsOf]) -> dict[int, SyncResult]:
    """``sync_violations`` for many repositories in a fixed number of queries, keyed by repository pk.

    The batched re-evaluation of thousands of descendants calls this once per chunk; a
    single analysis calls it with one repository, so both follow the same rules. Rows are
    locked in primary-key order so that concurrent chunks cannot deadlock.
    """
    items = list(items)
    lock_repositories(i.repository.pk for i in items)
    now = timezone.now()
    existing: dict[int, dict[tuple[str, str], Violation]] = {}
    locked = Violation.objects.select_for_update().filter(repository_id__in=[i.repository.pk for i in items])
    for violation in locked.order_by("pk"):
        existing.setdefault(violation.repository_id, {})[(violation.rule, violation.parent_ref)] = violation
    writes = _Writes()
    results = {
        item.repository.pk: _plan(item, existing.get(item.repository.pk, {}), now, writes) for item in items
    }
    Violation.objects.bulk_create(writes.created, batch_size=500)
    update_rows(Violation, writes.changed, _UPDATED_FIELDS)
    for event in writes.events:
        event.violation_id = event.violation.pk  # the row was created above
    ViolationEvent.objects.bulk_create(writes.events, batch_size=500)
    refresh_open_violations(i.repository.pk for i in items)
    return results


def lock_repositories(repository_ids: Iterable[int]) -> None:
    """Lock these repositories' rows, in primary-key order, until the transaction ends.

    Everything that writes a repository's violations (an analysis, a re-evaluation chunk, a triage
    from the API or the web queue) takes these locks first, so two writers of one repository's
    violations run one after the other. Without them two first syncs both inserted the same finding
    (a unique-key error that failed the analysis' receiver or a whole re-evaluation chunk), a triage
    recorded its change from a status another had already replaced, and two recounts of
    ``open_violations`` each counted without the other's change (the catalogue's filter and the
    compliance check, which looks violations up only where the count is positive, then disagreed
    with the rows).
    """
    ids = set(repository_ids)
    if ids:
        lock_repository_rows(Repository.objects.filter(pk__in=ids))


def refresh_open_violations(repository_ids: Iterable[int]) -> None:
    """Recount ``Repository.open_violations`` for these repositories, in one UPDATE.

    The catalogue's "has open violations" filter reads that column (an index on the repository
    instead of a subquery per row), so every path that changes a violation's status ends here.
    """
    ids = sorted(set(repository_ids))
    if not ids:
        return
    counted = (
        Violation.objects.filter(repository=OuterRef("pk"), status=Violation.Status.OPEN)
        .order_by()
        .values("repository")
        .annotate(n=Count("pk"))
        .values("n")
    )
    Repository.objects.filter(pk__in=ids).update(open_violations=Coalesce(Subquery(counted), 0))


def _move(violation: Violation, status: str, now) -> None:
    """A status change the analysis made (no user); ``resolved_from`` describes only a resolution."""
    violation.status = status
    violation.status_changed_at = now
    violation.status_changed_by = None
    violation.resolved_from = ""


def _plan(item: FindingsOf, existing: dict[tuple[str, str], Violation], now, writes: _Writes) -> SyncResult:
    """Decide, for one repository, what opens, reopens, stays or resolves; queue the writes."""
    repository, commit = item.repository, item.commit
    result = SyncResult()
    current: set[tuple[str, str]] = set()
    for finding in item.findings:
        key = _identity(finding)
        if key in current:
            continue
        current.add(key)
        digest = evidence_hash(finding)
        fields = {
            "severity": finding.get("severity") or Violation.Severity.WARNING,
            "message": finding.get("message") or "",
            "clause": (finding.get("clause") or "")[:300],
            "evidence": finding.get("evidence") or [],
            "last_seen_at": now,
            "last_commit": commit,
        }
        violation = existing.get(key)
        if violation is None:
            violation = Violation(
                repository=repository,
                rule=key[0],
                parent_ref=key[1],
                evidence_hash=digest,
                first_seen_at=now,
                first_commit=commit,
                **fields,
            )
            writes.created.append(violation)
            writes.events.append(
                _new_event(violation, ViolationEvent.Action.OPENED, "", violation.status, commit=commit)
            )
            result.opened.append(violation)
            continue
        changed = violation.evidence_hash != digest
        for name, value in fields.items():
            setattr(violation, name, value)
        violation.evidence_hash = digest
        previous = violation.status
        triaged = violation.resolved_from
        if previous == Violation.Status.RESOLVED and triaged in REASON_REQUIRED and not changed:
            # gone for a while (a parent private, a licence flipped and back) and back unchanged: the
            # reviewer's decision was about exactly this evidence, so it stands
            _move(violation, triaged, now)
            writes.events.append(
                _new_event(
                    violation,
                    ViolationEvent.Action.STATUS,
                    previous,
                    triaged,
                    reason=f"found again with the evidence triaged before; kept {triaged.replace('_', ' ')}",
                    commit=commit,
                )
            )
            result.seen.append(violation)
        elif previous == Violation.Status.RESOLVED or (changed and previous in REASON_REQUIRED):
            _move(violation, Violation.Status.OPEN, now)
            violation.status_reason = ""
            violation.announced_at = None  # a new opening, to be announced again
            why = "found again" if previous == Violation.Status.RESOLVED else "the evidence changed"
            writes.events.append(
                _new_event(
                    violation,
                    ViolationEvent.Action.REOPENED,
                    previous,
                    violation.status,
                    reason=why,
                    commit=commit,
                )
            )
            result.reopened.append(violation)
        else:
            result.seen.append(violation)
        writes.changed.append(violation)
    for key, violation in existing.items():
        if key not in current and violation.status != Violation.Status.RESOLVED:
            previous = violation.status
            _move(violation, Violation.Status.RESOLVED, now)
            violation.resolved_from = previous if previous in REASON_REQUIRED else ""
            writes.changed.append(violation)
            sha = commit.sha[:12] if commit else "the latest analysis"
            writes.events.append(
                _new_event(
                    violation,
                    ViolationEvent.Action.RESOLVED,
                    previous,
                    violation.status,
                    reason=f"no longer found at {sha}",
                    commit=commit,
                )
            )
            result.resolved.append(violation)
    return result


def _new_event(
    violation: Violation,
    action: str,
    from_status: str,
    to_status: str,
    *,
    actor=None,
    reason: str = "",
    commit: Commit | None = None,
) -> ViolationEvent:
    """An unsaved event (bulk-created by the caller once its violation has a primary key)."""
    return ViolationEvent(
        violation=violation,
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        reason=reason,
        commit=commit,
    )


def _event(
    violation: Violation,
    action: str,
    from_status: str,
    to_status: str,
    *,
    actor=None,
    reason: str = "",
    commit: Commit | None = None,
) -> ViolationEvent:
    event = _new_event(violation, action, from_status, to_status, actor=actor, reason=reason, commit=commit)
    event.save()
    return event


#: What a triage reads and writes of a violation (copied from the locked row before deciding).
_TRIAGE_FIELDS = ("status", "status_reason", "status_changed_by_id", "status_changed_at", "resolved_from")


@transaction.atomic
def set_violation_status(violations: Iterable[Violation], status: str, user, reason: str) -> list[Violation]:
    """Triage one or many violations; acknowledging or dismissing needs a reason."""
    if status not in TRIAGE_STATUSES:
        raise TriageError(f"unknown status {status!r}; use one of {sorted(TRIAGE_STATUSES)}")
    reason = (reason or "").strip()
    if status in REASON_REQUIRED and not reason:
        raise TriageError(f"a reason is required to mark violations {status.replace('_', ' ')}")
    violations = list(violations)
    lock_repositories(v.repository_id for v in violations)
    # the rows as they are now, locked: the caller read them before the lock, perhaps before another
    # triage or an analysis changed them (the change and its history must start from the real status)
    fresh = Violation.objects.select_for_update().filter(pk__in=[v.pk for v in violations]).order_by("pk")
    current = {v.pk: v for v in fresh}
    now = timezone.now()
    changed = []
    for violation in violations:
        row = current.get(violation.pk)
        if row is None:  # its repository was deleted meanwhile
            continue
        for name in _TRIAGE_FIELDS:
            setattr(violation, name, getattr(row, name))
        if violation.status == status:
            continue
        previous = violation.status
        violation.status = status
        violation.status_reason = reason
        violation.status_changed_by = user if getattr(user, "is_authenticated", False) else None
        violation.resolved_from = ""
        violation.status_changed_at = now
        violation.save(
            update_fields=[
                "status",
                "status_reason",
                "status_changed_by",
                "status_changed_at",
                "resolved_from",
            ]
        )
        _event(
            violation,
            ViolationEvent.Action.STATUS,
            previous,
            status,
            actor=violation.status_changed_by,
            reason=reason,
        )
        changed.append(violation)
    refresh_open_violations(v.repository_id for v in changed)
    return changed
