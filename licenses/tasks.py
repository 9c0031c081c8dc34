"""Celery tasks of the licences app: transitive re-evaluation and violation notifications."""

from __future__ import annotations

import logging

from django.db import transaction

from licenses.services.notify import notify_violations
from licenses.services.reevaluation import CHUNK_SIZE, ChunkOutcome, plan_chunks, reevaluate_repositories
from workers.celery import app
from workers.enqueue import enqueue_on_commit

log = logging.getLogger(__name__)


@app.task(name="licenses.reevaluate_descendants", acks_late=True)
def reevaluate_descendants(repo_id: str, chunk_size: int = CHUNK_SIZE) -> int:
    """Re-judge the violations of every model that descends (transitively) from ``repo_id``.

    One recursive walk finds them; each chunk is its own task, so more workers finish a
    large family sooner (in-process tasks run them here, in depth order). A descendant's
    own licence does not change by this, so nothing cascades: the one walk already reaches
    every depth. Returns the number of descendants queued.

    The chunks go through the outbox in one transaction: a broker that fails half-way leaves the
    rest as rows the sweep sends, where a plain ``delay`` lost them (and failed this task).
    """
    chunks = plan_chunks(repo_id, chunk_size)
    with transaction.atomic():
        for chunk in chunks:
            enqueue_on_commit(reevaluate_chunk, chunk)
    queued = sum(len(c) for c in chunks)
    log.info("re-evaluating %d descendants of %s in %d chunks", queued, repo_id, len(chunks))
    return queued


@app.task(name="licenses.reevaluate_chunk", acks_late=True)
def reevaluate_chunk(repo_ids: list[int]) -> int:
    """Rules-only re-evaluation of one chunk of repositories; safe to run twice (``acks_late``).

    Heads without a finished analysis of their own are sent to the full analysis. That work and
    the announcement of new errors are written to the outbox in the transaction that stores the
    verdicts: a redelivered chunk finds nothing new, so sent after it they were lost with the broker.
    """
    from hub.tasks import analyze_revision

    def follow_up(outcome: ChunkOutcome) -> None:
        for commit_id in outcome.full:
            enqueue_on_commit(analyze_revision, commit_id)
        if outcome.new_error_ids:
            enqueue_on_commit(notify_new_errors, outcome.new_error_ids)

    outcome = reevaluate_repositories(repo_ids, follow_up=follow_up)
    log.info(
        "re-evaluated %d repositories (%d changed, %d sent to full analysis)",
        outcome.evaluated,
        outcome.changed,
        len(outcome.full),
    )
    return outcome.evaluated


@app.task(name="licenses.notify_new_errors", acks_late=True)
def notify_new_errors(violation_ids: list[int]) -> int:
    """Send the configured notifications for newly opened error-severity violations.

    Safe to deliver twice (an outbox row sent again after a send the broker had accepted): each
    opening of a violation is announced once (``notify_violations`` claims it first)."""
    return notify_violations(violation_ids)


@app.task(name="licenses.retry_violation_webhook", acks_late=True)
def retry_violation_webhook(violation_ids: list[int], attempt: int) -> bool:
    """A later attempt of a violation webhook that failed (``notify.WEBHOOK_RETRY_DELAYS``)."""
    from licenses.services.notify import retry_webhook

    return retry_webhook(violation_ids, attempt)


@app.task(name="licenses.reanalyse_dataset_users", acks_late=True)
def reanalyse_dataset_users(dataset_id: str) -> int:
    """Analyse again every model whose analysis names ``dataset_id``, after that dataset's licence
    or visibility changed here: disclosure, transparency and the data rules read it. Each head is
    its own ``analyze_revision`` task. The stored analyses stay ``done`` meanwhile: marked pending,
    every model naming a popular dataset read as ``unknown-model`` (a CI deny) until its turn."""
    from hub.tasks import analyze_revision
    from licenses.services.datasets import models_naming

    repos = [r for r in models_naming(dataset_id) if r.head_id is not None]
    for repo in repos:
        enqueue_on_commit(analyze_revision, repo.head_id)
    log.info("dataset %s changed: re-analysing %d models that name it", dataset_id, len(repos))
    return len(repos)
