"""Notifications of new error-severity violations: a JSON webhook and/or e-mail.

Configured by ``MODELHUB_NOTIFY_WEBHOOK`` (a URL that receives a JSON POST) and
``MODELHUB_NOTIFY_EMAILS`` (comma-separated addresses, sent through Django's mail
settings). A failing receiver is logged and does not fail the analysis that found the
violation; the token-free body never carries secrets.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import requests
from django.conf import settings
from django.core.mail import send_mail

from licenses.models import Violation

log = logging.getLogger(__name__)
WEBHOOK_TIMEOUT = 10


def violation_payload(violations: Iterable[Violation]) -> dict:
    items = [{"model": v.repository.repo_id, **v.to_dict()} for v in violations]
    return {"event": "violations.opened", "count": len(items), "violations": items}


def notify_violations(violation_ids: list[int]) -> int:
    """Announce these violations on every configured channel; returns how many channels succeeded."""
    rows = list(
        Violation.objects.filter(pk__in=violation_ids, severity=Violation.Severity.ERROR)
        .select_related("repository__namespace")
        .order_by("pk")
    )
    if not rows:
        return 0
    payload = violation_payload(rows)
    sent = 0
    url = getattr(settings, "MODELHUB_NOTIFY_WEBHOOK", "")
    if url:
        try:
            resp = requests.post(url, json=payload, timeout=WEBHOOK_TIMEOUT)
            resp.raise_for_status()
            sent += 1
        except requests.RequestException as exc:
            log.warning("violation webhook failed: %s", type(exc).__name__)
    recipients = list(getattr(settings, "MODELHUB_NOTIFY_EMAILS", []))
    if recipients:
        lines = [f"- {v['model']}: {v['rule']} — {v['message']}" for v in payload["violations"]]
        subject = f"[Modelhub] {len(rows)} new licence violation{'s' if len(rows) != 1 else ''}"
        try:
            send_mail(subject, "\n".join(lines), None, recipients)
            sent += 1
        except Exception as exc:  # SMTP errors come in many types; none may break the task
            log.warning("violation e-mail failed: %s", type(exc).__name__)
    return sent
