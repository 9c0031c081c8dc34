"""Reactions of the licences app to hub events: lineage edges, violations, re-evaluation."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import pre_delete
from django.dispatch import receiver

from hub.models import Repository
from hub.signals import revision_analysed, visibility_changed
from licenses.services.lineage import record_lineage
from licenses.services.violations import sync_violations
from workers.enqueue import enqueue_on_commit

log = logging.getLogger(__name__)


#: Files a repository holds before anything is put in it (``create_repo`` commits ``.gitattributes``).
HOUSEKEEPING = (".gitattributes", ".gitignore")


def has_content(commit) -> bool:
    """Whether a revision holds anything beyond Git housekeeping files.

    The commit that creating a repository makes by itself is analysed like any other, and has no
    licence: queueing (and alerting) a ``missing-license`` error for it, seconds before the real
    upload, sent an error alert for every new model. An emptied repository's findings resolve.
    """
    return commit.files.exclude(path__in=HOUSEKEEPING).exists()


@receiver(revision_analysed, dispatch_uid="licenses.on_revision_analysed")
def on_revision_analysed(sender, analysis, is_head: bool, previous_license_key: str | None, **kwargs) -> None:
    """Keep the graph and the violation queue in step with each repository's head revision.

    Only the head counts: the catalogue, the graph and the triage queue describe what a
    repository is now. When the head's licence changed — or the repository was analysed
    for the first time, so children that arrived before it were judged without it — every
    descendant is re-judged, because their violations depend on it.

    One transaction (``analyze_revision`` sends the signal inside its own): the edges, the
    violations and the outbox rows of the notification and the re-judging commit together.
    """
    if not is_head:
        return
    from licenses.tasks import notify_new_errors, reevaluate_chunk, reevaluate_descendants

    commit = analysis.commit
    result = analysis.result or {}
    base_models = (result.get("lineage") or {}).get("base_models") or []
    with transaction.atomic():
        repo = Repository.objects.select_for_update(of=("self",)).filter(pk=commit.repository_id).first()
        if repo is None:
            return
        # Still the repository's latest analysis? This runs after the analysis was stored, outside
        # its lock: meanwhile a newer commit's analysis may have been stored and its findings synced
        # (two workers finishing one after the other). Writing these older findings and edges then
        # left the queue and the graph describing a revision that is no longer the head, until the
        # next commit. The newest analysis alone writes them, one at a time per repository.
        stored = repo.latest_analysis_id == analysis.pk
        if stored:
            record_lineage(repo, base_models)
            findings = (result.get("violations") or []) if has_content(commit) else []
            synced = sync_violations(repo, commit, findings)
            if synced.new_errors:
                enqueue_on_commit(notify_new_errors, [v.pk for v in synced.new_errors])
        else:
            log.info(
                "analysis of %s is no longer its repository's latest: its findings are not stored", commit
            )
        # The licence change is announced either way: the newer analysis compares itself with this
        # one, so a change this one made (and the newer kept) would otherwise never re-judge the
        # descendants. Re-evaluation reads the repository as it is when it runs.
        if previous_license_key != analysis.license_key:
            log.info(
                "licence of %s changed %s → %s", repo.repo_id, previous_license_key, analysis.license_key
            )
            enqueue_on_commit(reevaluate_descendants, repo.repo_id)
            _dataset_changed(repo)
    # After the edges are committed: a parent relicensed (or made private, or deleted) since this
    # analysis read it, before those edges existed, was re-evaluated without this child (its walk
    # follows the edges), and this analysis stored what the parent was. Whichever comes second —
    # the parent's walk or this look — sees the other, so the child is judged on the parent as it is.
    if stored and parents_moved(commit, base_models):
        log.info("a parent of %s changed while it was analysed: re-evaluating it", commit)
        enqueue_on_commit(reevaluate_chunk, [repo.pk])


def parents_moved(commit, base_models: list[dict]) -> bool:
    """Whether a registry parent now resolves differently from what the analysis recorded: another
    licence, no longer resolvable (private, deleted), or newly in the registry."""
    from licenses.services.resolver import DatabaseResolver

    resolver = DatabaseResolver()
    as_of = commit.created_at.date()
    for entry in base_models:
        parent_id = str(entry.get("id") or "")
        if not parent_id:
            continue
        record = resolver.resolve(parent_id, as_of)
        if entry.get("source") == DatabaseResolver.source:
            if record is None or record.license_key != (entry.get("license_key") or "unknown"):
                return True
        elif record is not None:
            return True
    return False


def _dataset_changed(repo: Repository) -> None:
    """A dataset's licence (or whether others may see it) changed: the models naming it are
    analysed again, since their disclosure and data rules read it (``licenses.services.datasets``)."""
    if repo.repo_type == Repository.Type.DATASET:
        from licenses.tasks import reanalyse_dataset_users

        enqueue_on_commit(reanalyse_dataset_users, repo.repo_id)


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
    _dataset_changed(repository)


@receiver(pre_delete, sender=Repository, dispatch_uid="licenses.on_repository_deleted")
def on_repository_deleted(sender, instance: Repository, **kwargs) -> None:
    """Re-judge every descendant of a model that is being deleted, by any route (Hub API, native
    API, admin, its namespace's deletion).

    Its children resolved their parent's licence from it; once it is gone they must read as
    children of a model outside the registry, or their verdicts, violations and BOMs keep showing
    a licence nothing holds any more until some unrelated commit happens to re-analyse them.
    ``pre_delete`` because the id is read from the namespace, which a cascade may delete too; the
    task runs after the deletion commits (and not at all if it rolls back). The lineage edges
    naming it as a parent are the children's, so the walk still finds them.
    """
    if instance.repo_type == Repository.Type.DATASET:
        _dataset_changed(instance)
    if instance.repo_type != Repository.Type.MODEL:
        return
    from licenses.tasks import reevaluate_descendants

    log.info("%s deleted: re-evaluating its descendants", instance.repo_id)
    enqueue_on_commit(reevaluate_descendants, instance.repo_id)
