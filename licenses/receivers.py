"""Reactions of the licences app to hub events: lineage edges, violations, re-evaluation."""

from __future__ import annotations

import logging

from django.dispatch import receiver

from hub.signals import revision_analysed, visibility_changed
from licenses.services.lineage import record_lineage
from licenses.services.violations import sync_violations
from workers.enqueue import enqueue_on_commit

log = logging.getLogger(__name__)


@receiver(revision_analysed, dispatch_uid="licenses.on_revision_analysed")
def on_revision_analysed(sender, analysis, is_head: bool, previous_license_key: str | None, **kwargs) -> None:
    """Keep the graph and the violation queue in step with each repository's head revision.

    Only the head counts: the catalogue, the graph and the triage queue describe what a
    repository is now. When the head's licence changed — or the repository was analysed
    for the first time, so children that arrived before it were judged without it — every
    descendant is re-judged, because their violations depend on it.
    """
    if not is_head:
        return
    from licenses.tasks import notify_new_errors, reevaluate_descendants

    commit = analysis.commit
    repo = commit.repository
    result = analysis.result or {}
    record_lineage(repo, (result.get("lineage") or {}).get("base_models") or [])
    synced = sync_violations(repo, commit, result.get("violations") or [])
    if synced.new_errors:
        enqueue_on_commit(notify_new_errors, [v.pk for v in synced.new_errors])
    if previous_license_key != analysis.license_key:
        log.info("licence of %s changed %s → %s", repo.repo_id, previous_license_key, analysis.license_key)
        enqueue_on_commit(reevaluate_descendants, repo.repo_id)


@receiver(visibility_changed, dispatch_uid="licenses.on_visibility_changed")
def on_visibility_changed(sender, repository, **kwargs) -> None:
    """Re-judge every descendant when a repository becomes private or public.

    Descendants resolve only public parents: made private, a parent's licence must stop showing
    (and stop deciding violations) through its public children's lineage, analysis, violations and
    compliance answers; made public, it must start to.
    """
    from licenses.tasks import reevaluate_descendants

    log.info("visibility of %s changed (private=%s)", repository.repo_id, repository.private)
    enqueue_on_commit(reevaluate_descendants, repository.repo_id)
