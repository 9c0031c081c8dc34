"""Notifications of new error-severity violations: a JSON webhook and/or e-mail.

Configured by ``MODELHUB_NOTIFY_WEBHOOK`` (a URL that receives a JSON POST) and
``MODELHUB_NOTIFY_EMAILS`` (comma-separated addresses, sent through Django's mail
settings). A failing receiver is logged and does not fail the analysis that found the
violation; the token-free body never carries secrets. A webhook that fails (a network
error, a timeout or a non-2xx answer) is tried again later with the same body
(``WEBHOOK_RETRY_DELAYS``) when tasks run on a worker; the log names the violations
it could not announce, so an operator can follow them up in the queue.

Each opening of a violation is announced once: ``notify_violations`` claims the violations
(``Violation.announced_at``) before it sends, so the task delivered twice — an outbox row sent
again after a send the broker had in fact accepted (``workers.enqueue``) — announces nothing the
second time. A reopened violation is announced again. The claim comes first: a worker killed
between the claim and the POST loses that one announcement (the violation is in the queue all the
same) rather than risk announcing everything twice.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Iterable

import requests
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from licenses.models import Violation

log = logging.getLogger(__name__)
WEBHOOK_TIMEOUT = 10
#: Seconds before each further attempt of a failed webhook (then it is given up, and logged).
WEBHOOK_RETRY_DELAYS = (60, 300, 1800)


def violation_payload(violations: Iterable[Violation]) -> dict:
    items = [{"model": v.repository.repo_id, **v.to_dict()} for v in violations]
    return {"event": "violations.opened", "count": len(items), "violations": items}


def _error_rows(violation_ids: list[int], only_open: bool = False) -> list[Violation]:
    rows = Violation.objects.filter(pk__in=violation_ids, severity=Violation.Severity.ERROR)
    if only_open:
        rows = rows.filter(status=Violation.Status.OPEN)
    return list(rows.select_related("repository__namespace").order_by("pk"))


def _origin(url: str) -> str:
    """Scheme and host of the webhook: its path is often the secret (Slack, Teams …)."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # a port that is no number: the host still says which receiver it was
        port = None
    return f"{parts.scheme}://{parts.hostname or ''}{f':{port}' if port else ''}"


def _post_webhook(url: str, payload: dict, ids: list[int], attempt: int) -> bool:
    try:
        resp = requests.post(url, json=payload, timeout=WEBHOOK_TIMEOUT)
        resp.raise_for_status()
        return True
    except requests.RequestException as exc:
        why = f"HTTP {exc.response.status_code}" if exc.response is not None else type(exc).__name__
        log.warning(
            "violation webhook failed: %s answered %s (attempt %d); violations %s not announced yet",
            _origin(url), why, attempt, ids,
        )  # fmt: skip
        return False


def _retry_later(ids: list[int], attempt: int) -> None:
    """Schedule attempt number ``attempt`` of the webhook for ``ids``, or say why there is none."""
    from licenses.tasks import retry_violation_webhook
    from workers.enqueue import send

    if attempt > len(WEBHOOK_RETRY_DELAYS) + 1:
        log.error(
            "violation webhook given up after %d attempts: violations %s were not announced", attempt - 1, ids
        )
        return
    if retry_violation_webhook.app.conf.task_always_eager:
        # in-process tasks run inside the request that found the violation: no waiting there
        log.warning(
            "violation webhook not retried (tasks run in-process): violations %s were not announced", ids
        )
        return
    # a broker outage must not fail the task that found the violation: send() logs it, this says what is lost
    send(
        retry_violation_webhook, (ids, attempt), {},
        lambda exc: log.warning("violation webhook retry not queued: violations %s were not announced", ids),
        countdown=WEBHOOK_RETRY_DELAYS[attempt - 2],
    )  # fmt: skip


def retry_webhook(violation_ids: list[int], attempt: int) -> bool:
    """A later attempt of a failed webhook: the violations still open, with their current body."""
    url = getattr(settings, "MODELHUB_NOTIFY_WEBHOOK", "")
    rows = _error_rows(violation_ids, only_open=True)
    if not url or not rows:
        return True
    ids = [v.pk for v in rows]
    if _post_webhook(url, violation_payload(rows), ids, attempt):
        return True
    _retry_later(ids, attempt + 1)
    return False


def claim_unannounced(violation_ids: list[int]) -> list[int]:
    """Mark the error violations among ``violation_ids`` that were not announced yet as announced
    now, and return them: of two concurrent or successive claims of one violation, one gets it.

    On PostgreSQL the second claimant waits for the first's row locks and then re-reads the rows,
    finding them claimed. On SQLite a second claimant whose read predates the first's commit cannot
    write ("database is locked"): an error, never a second announcement.
    """
    with transaction.atomic():
        claimed = list(
            Violation.objects.select_for_update()
            .filter(pk__in=violation_ids, severity=Violation.Severity.ERROR, announced_at__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        Violation.objects.filter(pk__in=claimed).update(announced_at=timezone.now())
    return claimed


def notify_violations(violation_ids: list[int]) -> int:
    """Announce these violations, those not announced yet, on every configured channel; returns
    how many channels succeeded."""
    url = getattr(settings, "MODELHUB_NOTIFY_WEBHOOK", "")
    recipients = list(getattr(settings, "MODELHUB_NOTIFY_EMAILS", []))
    if not url and not recipients:
        return 0  # nothing announces them: not marked announced either
    rows = _error_rows(claim_unannounced(violation_ids))
    if not rows:
        return 0
    payload = violation_payload(rows)
    ids = [v.pk for v in rows]
    sent = 0
    if url:
        if _post_webhook(url, payload, ids, 1):
            sent += 1
        else:
            _retry_later(ids, 2)
    if recipients:
        lines = [f"- {v['model']}: {v['rule']} — {v['message']}" for v in payload["violations"]]
        subject = f"[Modelhub] {len(rows)} new licence violation{'s' if len(rows) != 1 else ''}"
        try:
            send_mail(subject, "\n".join(lines), None, recipients)
            sent += 1
        except Exception as exc:  # SMTP errors come in many types; none may break the task
            log.warning("violation e-mail failed: %s; violations %s not announced", type(exc).__name__, ids)
    return sent
