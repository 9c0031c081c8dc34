"""Celery tasks of the licences app: transitive re-evaluation and violation notifications."""

from __future__ import annotations

import logging

from hub.models import Repository
from licenses.services.lineage import descendants, repositories_for
from licenses.services.notify import notify_violations
from workers.celery import app

log = logging.getLogger(__name__)


@app.task(name="licenses.reevaluate_descendants", acks_late=True)
def reevaluate_descendants(repo_id: str) -> int:
    """Re-analyse the head of every model that descends (transitively) from ``repo_id``.

    A descendant's own licence does not change by this, so the re-analysis does not
    cascade: the one walk already reaches every depth. Safe to run twice.
    """
    from hub.tasks import analyze_revision

    nodes = descendants(repo_id)
    repos: dict[str, Repository] = repositories_for(nodes)
    done = 0
    for node in nodes:  # nearest first, so parents are re-judged before their children
        repo = repos.get(node.ref)
        if repo is None or repo.head_id is None:
            continue
        analyze_revision.run(repo.head_id)
        done += 1
    log.info("re-evaluated %d descendants of %s", done, repo_id)
    return done


@app.task(name="licenses.notify_new_errors", acks_late=True)
def notify_new_errors(violation_ids: list[int]) -> int:
    """Send the configured notifications for newly opened error-severity violations."""
    return notify_violations(violation_ids)
