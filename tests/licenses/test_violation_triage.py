"""Violations: identity across revisions, auto-resolve, reopen on changed evidence, triage history."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from hub.models import Namespace, Repository
from licenses.models import Violation, ViolationEvent
from licenses.services.violations import TriageError, set_violation_status, sync_violations

pytestmark = pytest.mark.django_db

RELICENSED = {
    "rule": "relicensed-derivative",
    "severity": "error",
    "parent": "Base/NC",
    "message": "declares apache-2.0 but its parent is non-commercial",
    "clause": "§1",
    "evidence": [{"source": "metadata", "detail": "license: apache-2.0"}],
}
NOTICE = {"rule": "missing-notice", "severity": "warning", "parent": "base/nc", "message": "no notice"}


@pytest.fixture
def repository():
    ns = Namespace.objects.create(name="org", kind=Namespace.Kind.ORG)
    return Repository.objects.create(namespace=ns, name="child")


@pytest.fixture
def reviewer():
    return get_user_model().objects.create_user("reviewer", password="x")


def test_first_sync_opens_with_history(repository):
    result = sync_violations(repository, None, [RELICENSED, NOTICE])
    assert len(result.opened) == 2
    assert [v.rule for v in result.new_errors] == ["relicensed-derivative"]
    v = Violation.objects.get(rule="relicensed-derivative")
    assert v.parent_ref == "base/nc" and v.status == "open"
    assert list(v.events.values_list("action", flat=True)) == ["opened"]


def test_resync_same_findings_is_a_no_op_for_status(repository):
    sync_violations(repository, None, [RELICENSED])
    first_seen = Violation.objects.get().first_seen_at
    result = sync_violations(repository, None, [RELICENSED])
    assert result.opened == [] and result.reopened == [] and len(result.seen) == 1
    v = Violation.objects.get()
    assert v.first_seen_at == first_seen and v.last_seen_at >= first_seen
    assert Violation.objects.count() == 1


def test_disappearing_finding_resolves_and_reappearing_reopens(repository):
    sync_violations(repository, None, [RELICENSED, NOTICE])
    result = sync_violations(repository, None, [NOTICE])
    assert [v.rule for v in result.resolved] == ["relicensed-derivative"]
    assert Violation.objects.get(rule="relicensed-derivative").status == "resolved"
    result = sync_violations(repository, None, [RELICENSED, NOTICE])
    assert [v.rule for v in result.reopened] == ["relicensed-derivative"]
    assert Violation.objects.get(rule="relicensed-derivative").status == "open"


def test_acknowledged_stays_acknowledged_until_evidence_changes(repository, reviewer):
    sync_violations(repository, None, [RELICENSED])
    v = Violation.objects.get()
    set_violation_status([v], "acknowledged", reviewer, "legal approved, ticket 42")
    sync_violations(repository, None, [RELICENSED])
    assert Violation.objects.get().status == "acknowledged"

    changed = {**RELICENSED, "evidence": [{"source": "file:LICENSE", "detail": "LICENSE is MIT"}]}
    result = sync_violations(repository, None, [changed])
    assert [x.pk for x in result.reopened] == [v.pk]
    v.refresh_from_db()
    assert v.status == "open"
    actions = list(v.events.values_list("action", "to_status", "reason"))
    assert actions[-1] == ("reopened", "open", "the evidence changed")


def test_triage_needs_a_reason_and_records_who(repository, reviewer):
    sync_violations(repository, None, [RELICENSED, NOTICE])
    qs = Violation.objects.all()
    with pytest.raises(TriageError, match="reason is required"):
        set_violation_status(qs, "false_positive", reviewer, "  ")
    with pytest.raises(TriageError, match="unknown status"):
        set_violation_status(qs, "ignored", reviewer, "x")
    changed = set_violation_status(qs, "false_positive", reviewer, "parent licence misread by the card")
    assert len(changed) == 2
    event = ViolationEvent.objects.filter(action="status").first()
    assert event.actor == reviewer and event.from_status == "open" and event.to_status == "false_positive"
    assert set(Violation.objects.values_list("status_changed_by__username", flat=True)) == {"reviewer"}
    # resolving needs no reason
    assert len(set_violation_status(qs, "resolved", reviewer, "")) == 2
