"""Enqueue tasks only once the surrounding transaction has committed, without losing them.

A request that rolls back must not leave a task behind that looks for rows that never existed;
``transaction.on_commit`` runs the send after COMMIT (at once when no transaction is open). The send
happens after the data is committed, so a broker that cannot be reached then must not turn the
request into an error: the client would be told its commit failed when it landed (and would retry
it). What it must not do either is lose the work. Two ways keep it:

- ``enqueue_on_commit`` — the transactional outbox. The intent is written as an ``OutboxMessage`` row
  in the same transaction as the change that needs it; after COMMIT the task is sent and the row
  deleted once the broker has accepted it. A send that fails leaves the row (with its error), and the
  beat sweep ``send_outbox`` sends it once the broker is back; a process that dies between COMMIT and
  the send leaves it too, and the sweep sends it after ``OUTBOX_GRACE_SECONDS``. A task may therefore
  run twice (a send the broker accepted but whose answer was lost, a row whose delete failed): every
  task sent this way must be idempotent, and is. Follow-up work whose only record is the message —
  re-judging descendants, announcing new errors, re-analysing a dataset's users — goes this way.
- ``send_on_commit`` — no row. Only for work whose pending state the database records already and a
  sweep of its own re-sends: analyses (``RevisionAnalysis.status`` = pending, re-sent by
  ``hub.requeue_pending_analyses``, which also covers a broker that lost messages it had accepted).

In-process mode (``task_always_eager``, the embedded default) writes no rows: the "send" runs the task
right after COMMIT, as it always did; a follow-up's error is logged, never raised into the change
that committed (as on a worker).

A mirror run's message goes through ``enqueue_on_commit_or``: the run row says when it was not sent.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from celery import Task
from django.db import DEFAULT_DB_ALIAS, DatabaseError, transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

log = logging.getLogger(__name__)

#: A row younger than this whose send has not failed is left to the process that committed it: its
#: send may be under way. Older, the process died between COMMIT and the send, and the sweep sends it.
OUTBOX_GRACE_SECONDS = 60
#: Rows one sweep looks at (oldest first); more wait for the next sweep.
OUTBOX_BATCH = 500


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


def dedupe_key(task_name: str, args: Any, kwargs: Any) -> str:
    """Rows with equal keys ask for the same run: the task and its arguments, canonically."""
    material = json.dumps([task_name, args, kwargs], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(material.encode()).hexdigest()


def _why(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def enqueue_on_commit(task: Task, *args: Any, using: str | None = None, **kwargs: Any) -> None:
    """Send ``task(*args, **kwargs)`` once the current transaction commits, through the outbox.

    Outside a transaction the row is committed at once and the send follows it: the change that
    needed it is committed already, and the row still keeps the task if the broker is down.
    """
    if task.app.conf.task_always_eager:
        # robust: the task runs here, in the committing process, and its failure is logged, not
        # raised into whatever committed. Since the analysis' receivers run inside its transaction,
        # their follow-ups run in the on-commit hooks of the commit that ran the analysis in-process:
        # raised, a failing re-evaluation turned a commit that had landed into an error.
        transaction.on_commit(lambda: send(task, args, kwargs), using=using, robust=True)
        return
    from workers.models import OutboxMessage

    alias = using or DEFAULT_DB_ALIAS
    stored_args, stored_kwargs = json.loads(json.dumps([list(args), kwargs]))  # what the sweep will send
    row = OutboxMessage.objects.using(alias).create(
        task=task.name, args=stored_args, kwargs=stored_kwargs,
        dedupe_key=dedupe_key(task.name, stored_args, stored_kwargs),
    )  # fmt: skip
    transaction.on_commit(lambda: _deliver(task, row.pk, args, kwargs, alias), using=alias)


def _deliver(task: Task, row_pk: int, args: tuple, kwargs: dict, alias: str) -> None:
    """The send after COMMIT: the row goes once the broker accepted the task, or records the failure
    so the next sweep sends it without waiting out the grace period."""
    from workers.models import OutboxMessage

    failures: list[Exception] = []
    sent = send(task, args, kwargs, failures.append)
    try:
        if sent:
            OutboxMessage.objects.using(alias).filter(pk=row_pk).delete()
        else:
            _failed(alias, [row_pk], _why(failures[0]))
    except DatabaseError as exc:  # the send's outcome stands; the row is still there for the sweep
        log.warning(
            "outbox row %s (%s) not updated after its send (%s): the sweep will send it again",
            row_pk, task.name, _why(exc),
        )  # fmt: skip


def send_on_commit(task: Task, *args: Any, using: str | None = None, **kwargs: Any) -> None:
    """Send ``task`` after COMMIT with no outbox row: only for work the database already records as
    pending and a sweep of its own re-sends (analyses; see the module's docstring)."""
    transaction.on_commit(lambda: send(task, args, kwargs), using=using)


def enqueue_on_commit_or(
    on_failure: Callable[[Exception], None], task: Task, *args: Any, using: str | None = None, **kwargs: Any
) -> None:
    """``send_on_commit``, telling ``on_failure`` when the send fails (work no sweep re-sends)."""
    transaction.on_commit(lambda: send(task, args, kwargs, on_failure), using=using)


def send_outbox(
    batch: int = OUTBOX_BATCH, grace_seconds: float = OUTBOX_GRACE_SECONDS, using: str | None = None
) -> int:
    """Send the outbox rows that were not sent after their COMMIT; returns how many tasks it sent.

    Eligible: rows whose send failed, and rows older than ``grace_seconds`` (their process died
    before sending). At most ``batch`` rows, oldest first. Rows asking for the same run (same task
    and arguments: ``reevaluate_descendants`` of one repository queued by two changes) are sent once:
    every one of them is committed, so the single run comes after all the changes that wanted it.
    The first send that fails ends the sweep (the broker is still down; the next sweep tries again),
    so an outage costs one connection timeout per sweep, not one per row.

    No transaction is open while a task is sent: each group's rows are deleted in their own
    statement right after the broker took it. Held across the sends (as it was), the sweep's
    transaction kept the database busy for the broker's round trips, and on SQLite its delete at the
    end failed ("database is locked": its read predated any write committed meanwhile), so every
    task it had sent stayed queued and was sent again by every following sweep. Two sweeps at once
    may both send a row; beat runs one at a time, and the tasks are idempotent anyway.

    Rows naming a task this process does not know (written by a version that had it) are left for
    an operator, marked once, and kept out of the batch: oldest first, enough of them would
    otherwise fill every batch and stop the outbox for good.
    """
    from workers.celery import app
    from workers.models import OutboxMessage

    alias = using or DEFAULT_DB_ALIAS
    cutoff = timezone.now() - timedelta(seconds=grace_seconds)
    due = OutboxMessage.objects.using(alias).filter(Q(attempts__gt=0) | Q(created_at__lt=cutoff))
    known = list(app.tasks.keys())
    _park_unknown(due.exclude(task__in=known))
    rows = list(due.filter(task__in=known).order_by("pk")[:batch])
    groups: dict[str, list[OutboxMessage]] = {}
    for row in rows:
        groups.setdefault(row.dedupe_key, []).append(row)
    sent = deleted = 0
    for group in groups.values():
        first = group[0]
        pks = [r.pk for r in group]
        failures: list[Exception] = []
        if not send(app.tasks[first.task], tuple(first.args), first.kwargs, failures.append):
            _failed(alias, pks, _why(failures[0]))
            break  # the broker is still unreachable: the rest wait for the next sweep
        sent += 1
        try:
            deleted += OutboxMessage.objects.using(alias).filter(pk__in=pks).delete()[0]
        except DatabaseError as exc:  # sent all the same; the next sweep sends these rows again
            log.warning("outbox rows %s (%s) sent but not deleted: %s", pks, first.task, _why(exc))
    if sent:
        log.warning(
            "sent %d tasks from the outbox (%d rows) that were not sent after their commit", sent, deleted
        )
    return sent


def _park_unknown(unknown) -> None:
    """Mark (once) the due rows naming a task no longer registered; they stay for an operator."""
    fresh = unknown.filter(attempts=0)
    for name in sorted(set(fresh.values_list("task", flat=True))):
        pks = list(fresh.filter(task=name).values_list("pk", flat=True))
        log.error("outbox rows %s name an unknown task %r: not sent", pks, name)
        fresh.filter(pk__in=pks).update(attempts=F("attempts") + 1, last_error=f"no task named {name!r}")


def _failed(alias: str, pks: list[int], why: str) -> None:
    from workers.models import OutboxMessage

    OutboxMessage.objects.using(alias).filter(pk__in=pks).update(attempts=F("attempts") + 1, last_error=why)
