"""Each opening of an error violation is announced once, however often the notification task runs.

The task outbox sends a task again when it cannot know the broker took it (``workers.enqueue``), so
``notify_new_errors`` may be delivered twice; the second delivery must not mail and POST again.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from licenses.models import Violation
from licenses.services import notify
from licenses.services.violations import sync_violations
from tests.licenses.factories import relabel_error

FINDING = {"rule": "relicensed-derivative", "severity": "error", "message": "m", "parent": "base/model"}


@pytest.fixture
def posted(settings, monkeypatch) -> list[dict]:
    """The webhook's receiver (every POST body) and an e-mail list, both configured."""
    bodies: list[dict] = []

    class Answer:
        status_code = 204

        def raise_for_status(self) -> None:
            pass

    monkeypatch.setattr(
        notify.requests, "post", lambda url, json=None, timeout=None: bodies.append(json) or Answer()
    )
    settings.MODELHUB_NOTIFY_WEBHOOK = "https://hooks.example.org/modelhub"
    settings.MODELHUB_NOTIFY_EMAILS = ["legal@example.org"]
    return bodies


@pytest.mark.django_db
def test_a_notification_delivered_twice_announces_once(posted, mailoutbox):
    from licenses.tasks import notify_new_errors

    violation = relabel_error()
    assert notify_new_errors([violation.pk]) == 2  # webhook and e-mail
    assert notify_new_errors([violation.pk]) == 0  # the duplicate delivery
    assert [[v["id"] for v in body["violations"]] for body in posted] == [[violation.pk]]
    assert len(mailoutbox) == 1
    violation.refresh_from_db()
    assert violation.announced_at is not None


@pytest.mark.django_db
def test_a_reopened_violation_is_announced_again(posted, mailoutbox):
    repo = relabel_error().repository
    Violation.objects.filter(repository=repo).delete()
    opened = sync_violations(repo, repo.head, [FINDING]).new_errors
    notify.notify_violations([v.pk for v in opened])
    assert sync_violations(repo, repo.head, []).resolved  # the finding went away ...
    reopened = sync_violations(repo, repo.head, [FINDING]).new_errors  # ... and came back
    assert [v.pk for v in reopened] == [v.pk for v in opened]
    assert Violation.objects.get(pk=opened[0].pk).announced_at is None
    notify.notify_violations([v.pk for v in reopened])
    assert len(posted) == 2 and len(mailoutbox) == 2


@pytest.mark.django_db
def test_with_no_channel_configured_nothing_is_marked_announced(settings):
    settings.MODELHUB_NOTIFY_WEBHOOK = ""
    settings.MODELHUB_NOTIFY_EMAILS = []
    violation = relabel_error()
    assert notify.notify_violations([violation.pk]) == 0
    violation.refresh_from_db()
    assert violation.announced_at is None


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_at_once_claim_each_violation_once():
    """Two workers run the duplicate deliveries at the same moment (PostgreSQL's row locks decide)."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers: SQLite refuses the second one instead (database is locked)")
    ids = [relabel_error(f"acme/relabel-{i}").pk for i in range(20)]
    start = threading.Barrier(2)
    claims: list[list[int]] = []

    def claim() -> None:
        from django.db import connections

        try:
            start.wait()
            claims.append(notify.claim_unannounced(ids))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claims[0] + claims[1]) == sorted(ids)  # every violation claimed, none twice
