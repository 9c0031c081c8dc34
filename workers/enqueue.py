"""Enqueue tasks only once the surrounding transaction has committed.

A request that rolls back must not leave a task behind that looks for rows that
never existed; ``transaction.on_commit`` runs the send after COMMIT, or at once when
no transaction is open.

The send happens after the data is committed, so a broker that cannot be reached then
must not turn the request into an error: the client would be told its commit failed
when it landed (and would retry it). The failure is logged and the work stays recorded
as pending in the database (``RevisionAnalysis.status``), where the periodic
``hub.requeue_pending_analyses`` sweep finds it once the broker is back. Work no sweep
re-sends (a mirror run) says so through ``enqueue_on_commit_or``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerUnavailable

log = logging.getLogger(__name__)


def send(
    task: Task,
    args: tuple,
    kwargs: dict,
    on_failure: Callable[[Exception], None] | None = None,
    **options: Any,
) -> bool:
    """Publish ``task`` (``options`` go to ``apply_async``: ``countdown`` …); False (logged, and
    ``on_failure`` told) when it could not be sent.

    Not only the broker's own error: with Redis as the result backend too, Celery reports an
    unreachable Redis from the backend as ``RuntimeError`` ("Retry limit exceeded while trying to
    reconnect to the Celery result store backend"), which escaped and turned committed commits and
    "run now" requests into 500s. Whatever the send raises, the data is committed already.
    """
    try:
        task.apply_async(args=args, kwargs=kwargs, **options)
    except Exception as exc:  # see above: nothing raised here may fail the committed request
        if task.app.conf.task_always_eager:
            raise  # in-process, the "send" ran the task itself: its own error is no queue outage
        unexpected = not isinstance(exc, BrokerUnavailable | RuntimeError | ConnectionError | OSError)
        log.warning(
            "task queue unavailable, %s%r not sent: %s: %s",
            task.name, args, type(exc).__name__, exc, exc_info=unexpected,
        )  # fmt: skip
        if on_failure is not None:
            on_failure(exc)
        return False
    return True


def enqueue_on_commit(task: Task, *args: Any, using: str | None = None, **kwargs: Any) -> None:
    transaction.on_commit(lambda: send(task, args, kwargs), using=using)


def enqueue_on_commit_or(
    on_failure: Callable[[Exception], None], task: Task, *args: Any, using: str | None = None, **kwargs: Any
) -> None:
    """``enqueue_on_commit``, telling ``on_failure`` when the send fails (work no sweep re-sends)."""
    transaction.on_commit(lambda: send(task, args, kwargs, on_failure), using=using)
