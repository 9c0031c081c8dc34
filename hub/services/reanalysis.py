"""Stored analyses made by an older engine or knowledge base, and re-judging them.

Every analysis records the engine that made it (``RevisionAnalysis.engine_version``: the package
version and ``licenses.engine.version.engine_fingerprint``, a digest of the engine's code and
``licenses/data/``). After an upgrade that changes either, the stored answers are still served —
a registry must keep answering — but each says it is from an older engine (``engine_current`` in
the API, a note on the model page) until it is re-judged, by ``manage.py reanalyse`` in the
foreground or by beat's bounded ``hub.reanalyse_stale`` in the background.

Staleness is itself the progress record: an analysis re-made by the current engine stops being
stale, so either way of re-judging can stop at any point and continue where it left off, and
running both at once costs at most a duplicate analysis (analysis is idempotent).
"""

from __future__ import annotations

from functools import lru_cache

from django.db.models import QuerySet

from hub.models import Repository, RevisionAnalysis

#: What ``engine_version`` can hold (``RevisionAnalysis.engine_version`` is 40 characters).
ENGINE_VERSION_MAX = 40


@lru_cache(maxsize=1)
def current_engine_version() -> str:
    """``modelhub <package version>+<engine fingerprint>``, the stamp new analyses carry."""
    from licenses.engine.version import engine_fingerprint

    try:
        from importlib.metadata import version

        package = version("modelhub")
    except Exception:  # running from a checkout that was never installed
        package = "dev"
    return f"modelhub {package}+{engine_fingerprint()}"[:ENGINE_VERSION_MAX]


def is_current(analysis: RevisionAnalysis) -> bool:
    """Whether ``analysis`` is the current engine's answer (a pending or running one will be)."""
    if analysis.status in (RevisionAnalysis.Status.PENDING, RevisionAnalysis.Status.RUNNING):
        return True
    return analysis.engine_version == current_engine_version()


def stale_analyses(*, heads_only: bool = True) -> QuerySet[RevisionAnalysis]:
    """Finished analyses (done or failed) not made by the current engine, oldest commit first.

    ``heads_only`` keeps those of each repository's head, which every catalogue page, list and
    unpinned compliance check reads; the others answer only checks pinned to an older revision.
    """
    qs = RevisionAnalysis.objects.filter(
        status__in=(RevisionAnalysis.Status.DONE, RevisionAnalysis.Status.FAILED)
    ).exclude(engine_version=current_engine_version())
    if heads_only:
        qs = qs.filter(commit_id__in=Repository.objects.filter(head__isnull=False).values("head_id"))
    return qs.order_by("commit_id")


def stale_counts(*, heads_only: bool = True) -> dict[str, int]:
    """How many stale analyses each older engine left (``""``: made before engines were stamped)."""
    from django.db.models import Count

    rows = stale_analyses(heads_only=heads_only).order_by().values("engine_version").annotate(n=Count("pk"))
    return {r["engine_version"]: r["n"] for r in rows}
