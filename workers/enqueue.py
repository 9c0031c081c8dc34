"""Enqueue tasks only once the surrounding transaction has committed.

A request that rolls back must not leave a task behind that looks for rows that
never existed; ``transaction.on_commit`` runs the send after COMMIT, or at once when
no transaction is open.

The send happens after the data is committed, so a broker that cannot be reached then
must not turn the request into an error: the client would be told its commit failed
when it landed (and would retry it). The failure is logged and the work stays recorded
as pending in the database (``RevisionAnalysis.status``), where the periodic
``hub.requeue_pending_analyses`` sweep finds it once the broker is back.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerUnavailable

log = logging.getLogger(__name__)


def send(task: Task, args: tuple, kwargs: dict) -> bool:
    """Publish ``task``; False (logged) when the broker cannot be reached."""
    try:
        task.apply_async(args=args, kwargs=kwargs)
    except BrokerUnavailable as exc:
        log.warning("broker unavailable, %s%r left for the pending-work sweep: %s", task.name, args, exc)
        return False
    return True


def enqueue_on_commit(task: Task, *args: Any, using: str | None = None, **kwargs: Any) -> None:
    transaction.on_commit(lambda: send(task, args, kwargs), using=using)
