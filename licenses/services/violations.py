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
from django.utils import timezone

from hub.models import Commit, Repository
from licenses.models import Violation, ViolationEvent

TRIAGE_STATUSES = {
    Violation.Status.OPEN,
    Violation.Status.ACKNOWLEDGED,
    Violation.Status.FALSE_POSITIVE,
    Violation.Status.RESOLVED,
}
REASON_REQUIRED = {Violation.Status.ACKNOWLEDGED, Violation.Status.FALSE_POSITIVE}


class TriageError(ValueError):
    """A triage request that cannot be carried out; the message says why."""


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


@transaction.atomic
def sync_violations(
    repository: Repository, commit: Commit | None, findings: Iterable[Mapping[str, Any]]
) -> SyncResult:
    """Bring the repository's stored violations in line with the latest findings."""
    now = timezone.now()
    result = SyncResult()
    existing = {
        (v.rule, v.parent_ref): v for v in Violation.objects.select_for_update().filter(repository=repository)
    }
    current: set[tuple[str, str]] = set()
    for finding in findings:
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
            violation = Violation.objects.create(
                repository=repository,
                rule=key[0],
                parent_ref=key[1],
                evidence_hash=digest,
                first_seen_at=now,
                first_commit=commit,
                **fields,
            )
            _event(violation, ViolationEvent.Action.OPENED, "", violation.status, commit=commit)
            result.opened.append(violation)
            continue
        changed = violation.evidence_hash != digest
        for name, value in fields.items():
            setattr(violation, name, value)
        violation.evidence_hash = digest
        previous = violation.status
        if previous == Violation.Status.RESOLVED or (changed and previous in REASON_REQUIRED):
            violation.status = Violation.Status.OPEN
            violation.status_reason = ""
            why = "found again" if previous == Violation.Status.RESOLVED else "the evidence changed"
            _event(
                violation,
                ViolationEvent.Action.REOPENED,
                previous,
                violation.status,
                reason=why,
                commit=commit,
            )
            result.reopened.append(violation)
        else:
            result.seen.append(violation)
        violation.save()
    for key, violation in existing.items():
        if key not in current and violation.status != Violation.Status.RESOLVED:
            previous = violation.status
            violation.status = Violation.Status.RESOLVED
            violation.status_changed_at = now
            violation.status_changed_by = None
            violation.save(update_fields=["status", "status_changed_at", "status_changed_by"])
            sha = commit.sha[:12] if commit else "the latest analysis"
            _event(
                violation,
                ViolationEvent.Action.RESOLVED,
                previous,
                violation.status,
                reason=f"no longer found at {sha}",
                commit=commit,
            )
            result.resolved.append(violation)
    return result


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
    return ViolationEvent.objects.create(
        violation=violation,
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        reason=reason,
        commit=commit,
    )


@transaction.atomic
def set_violation_status(violations: Iterable[Violation], status: str, user, reason: str) -> list[Violation]:
    """Triage one or many violations; acknowledging or dismissing needs a reason."""
    if status not in TRIAGE_STATUSES:
        raise TriageError(f"unknown status {status!r}; use one of {sorted(TRIAGE_STATUSES)}")
    reason = (reason or "").strip()
    if status in REASON_REQUIRED and not reason:
        raise TriageError(f"a reason is required to mark violations {status.replace('_', ' ')}")
    now = timezone.now()
    changed = []
    for violation in violations:
        if violation.status == status:
            continue
        previous = violation.status
        violation.status = status
        violation.status_reason = reason
        violation.status_changed_by = user if getattr(user, "is_authenticated", False) else None
        violation.status_changed_at = now
        violation.save(update_fields=["status", "status_reason", "status_changed_by", "status_changed_at"])
        _event(
            violation,
            ViolationEvent.Action.STATUS,
            previous,
            status,
            actor=violation.status_changed_by,
            reason=reason,
        )
        changed.append(violation)
    return changed
