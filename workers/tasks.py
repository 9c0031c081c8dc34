"""Generic tasks and the mirror's tasks; domain tasks live in their apps' ``tasks`` modules.

Scheduling (``CELERY_BEAT_SCHEDULE`` in settings): beat fires ``workers.mirror_dispatch``
every minute; the dispatcher starts a run for each enabled specification whose
``interval_minutes`` have passed and which has no run in progress, and re-enqueues runs
whose worker died (stale heartbeat). Doing it this way rather than with
django-celery-beat keeps the specification the single source of truth (an interval
edited in the admin or the API applies at the next tick, with no schedule rows to keep
in sync), needs no extra app or tables, and the same sweep rescues orphaned runs.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from workers.celery import app
from workers.enqueue import enqueue_on_commit_or
from workers.enqueue import send_outbox as sweep_outbox

log = logging.getLogger(__name__)


@app.task(name="workers.ping", ignore_result=False)
def ping(payload: str = "pong") -> str:
    """Round-trip probe used by readiness checks and the broker tests.

    The one task whose result is read (its round trip through the result backend is the
    probe), so it keeps it although results are ignored by default (settings.py).
    """
    return payload


@app.task(name="workers.send_outbox")
def send_outbox() -> int:
    """Beat's sweep of the task outbox: send follow-up work whose send failed after its commit (a
    broker outage) or never happened (the process died), ``workers.enqueue.send_outbox``."""
    return sweep_outbox()


@app.task(name="workers.mirror_run", bind=True, acks_late=True, max_retries=None)
def mirror_run(self, run_id: int) -> str:
    """Execute (or resume) one mirror run; safe to deliver twice.

    ``acks_late`` + ``reject_on_worker_lost`` (settings) put the message back when the
    worker dies mid-run; the run's lease makes a second delivery wait for a live holder
    (retrying until its heartbeat goes stale or the run ends) instead of running beside it.
    """
    from workers.mirror.run import execute
    from workers.models import MirrorRun

    status = MirrorRun.objects.filter(pk=run_id).values_list("status", flat=True).first()
    if status is None or status in (MirrorRun.Status.DONE, MirrorRun.Status.FAILED):
        return status or "missing"
    run = execute(run_id)
    if run is None:  # someone else holds a fresh lease: look again once it could have gone stale
        if self.request.is_eager:  # in-process there is no "later"; the holder finishes it
            return "busy"
        raise self.retry(countdown=getattr(settings, "MIRROR_STALE_AFTER", 120))
    return run.status


@app.task(name="workers.analyze_commits", acks_late=True)
def analyze_commits(commit_ids: list[int]) -> int:
    """Analyse several revisions in one message (what a bulk first import enqueues).

    Each is the hub's own per-revision task, run inline; it is idempotent (it rewrites the
    revision's one analysis row), so a redelivered chunk is harmless.
    """
    from hub.tasks import analyze_revision

    for commit_id in commit_ids:
        analyze_revision(commit_id)
    return len(commit_ids)


def start_run(spec) -> int:
    """Create a queued run for ``spec`` and enqueue it once the row is committed."""
    from workers.models import MirrorRun

    with transaction.atomic():
        run = MirrorRun.objects.create(spec=spec, upstream=spec.upstream, status=MirrorRun.Status.QUEUED)
        type(spec).objects.filter(pk=spec.pk).update(last_run_at=timezone.now())
        enqueue_on_commit_or(lambda exc: _not_sent(run.pk, exc), mirror_run, run.pk)
    return run.pk


#: How a run whose message never reached the queue is marked (``_not_sent``).
QUEUE_UNREACHABLE = "the task queue could not be reached"


def _not_sent(run_id: int, exc: Exception) -> None:
    """A run whose message never reached the queue fails at once, saying why: left ``queued`` it
    blocked every later run of its spec ("one run per spec") for good."""
    from workers.models import MirrorRun

    MirrorRun.objects.filter(pk=run_id, status=MirrorRun.Status.QUEUED).update(
        status=MirrorRun.Status.FAILED,
        finished_at=timezone.now(),
        error=f"{QUEUE_UNREACHABLE} ({type(exc).__name__}: {exc}); "
        "nothing was started: check /readyz (Redis) and run it again",
    )


def start_run_unless_active(spec) -> tuple[int, bool]:
    """``(run id, True)`` for a new run of ``spec``, or ``(the active run's id, False)`` when one is
    queued or running already.

    The check and the insert happen with the specification's row locked: eight simultaneous
    "run now" requests (or one and the dispatcher) used to start eight runs of one spec, which
    multiplied the upstream's load past the spec's own concurrency.
    """
    from workers.models import MirrorRun, MirrorSpec

    with transaction.atomic():
        MirrorSpec.objects.select_for_update().filter(pk=spec.pk).first()
        active = (
            MirrorRun.objects.filter(spec=spec, status__in=MirrorRun.ACTIVE)
            .values_list("pk", flat=True)
            .first()
        )
        if active is not None:
            return active, False
        return start_run(spec), True


@app.task(name="workers.mirror_dispatch", acks_late=True)
def mirror_dispatch() -> dict[str, int]:
    """Start due specifications and rescue runs whose worker stopped sending heartbeats."""
    from workers.models import MirrorRun, MirrorSpec

    now = timezone.now()
    started = 0
    for spec in MirrorSpec.objects.filter(enabled=True):
        if spec.last_run_at is not None and spec.last_run_at + timedelta(minutes=spec.interval_minutes) > now:
            continue
        started += start_run_unless_active(spec)[1]  # (it checks for an active run itself)
    stale = now - timedelta(seconds=getattr(settings, "MIRROR_STALE_AFTER", 120))
    # a queued run nobody picked up: its message was lost (a Redis restarted without persistence
    # loses its queue). Later than a stale heartbeat, so a run merely waiting behind a long queue
    # is rarely sent twice (and a second message only waits for the lease if it is).
    unclaimed = now - timedelta(seconds=getattr(settings, "MIRROR_QUEUED_RESCUE_AFTER", 900))
    rescued = 0
    # a queued run's heartbeat_at records its last rescue: sent again once per window, not per tick
    lost = Q(status=MirrorRun.Status.QUEUED) & (
        Q(heartbeat_at__isnull=True, started_at__lt=unclaimed) | Q(heartbeat_at__lt=unclaimed)
    )
    for run_id in MirrorRun.objects.filter(
        Q(status=MirrorRun.Status.RUNNING, heartbeat_at__lt=stale) | lost
    ).values_list("pk", flat=True):
        log.warning("mirror run %s has a stale heartbeat or was never picked up; re-enqueueing it", run_id)
        MirrorRun.objects.filter(pk=run_id, status=MirrorRun.Status.QUEUED).update(heartbeat_at=now)
        mirror_run.apply_async(args=[run_id])
        rescued += 1
    return {"started": started, "rescued": rescued}
