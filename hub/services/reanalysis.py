"""Stored analyses made by an older engine or knowledge base, and re-judging them.

Every analysis records the engine that made it (``RevisionAnalysis.engine_version``: the package
version and ``licenses.engine.version.engine_fingerprint``, a digest of the engine's code and
``licenses/data/``); only the fingerprint decides whether it is current. After an upgrade that changes either, the stored answers are still served —
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
    """``modelhub <package version>+<engine fingerprint>``, the stamp new analyses carry.

    The package version is there for a reader; it is cut, never the fingerprint, when the stamp
    would not fit the column (a long development version such as ``0.1.0.dev12+g1a2b3c4.d20260101``
    otherwise cut the fingerprint off, and the stamp stopped following the engine).
    """
    try:
        from importlib.metadata import version

        package = version("modelhub")
    except Exception:  # running from a checkout that was never installed
        package = "dev"
    suffix = _current_suffix()
    return f"modelhub {package}"[: ENGINE_VERSION_MAX - len(suffix)] + suffix


def _current_suffix() -> str:
    """What every stamp of the current engine ends with, whatever the package version beside it."""
    from licenses.engine.version import engine_fingerprint

    return f"+{engine_fingerprint()}"


def is_current(analysis: RevisionAnalysis) -> bool:
    """Whether ``analysis`` is the current engine's answer (a pending or running one will be).

    Only the fingerprint decides: a release that changes neither the engine nor the knowledge base
    but moves the version number (or a process that runs from a checkout, ``dev``, beside one
    installed from the wheel) judges exactly as before, and must not re-judge every repository.
    """
    if analysis.status in (RevisionAnalysis.Status.PENDING, RevisionAnalysis.Status.RUNNING):
        return True
    return analysis.engine_version.endswith(_current_suffix())


def stale_analyses(*, heads_only: bool = True) -> QuerySet[RevisionAnalysis]:
    """Finished analyses (done or failed) not made by the current engine, oldest commit first.

    ``heads_only`` keeps those of each repository's head, which every catalogue page, list and
    unpinned compliance check reads; the others answer only checks pinned to an older revision.
    """
    qs = RevisionAnalysis.objects.filter(
        status__in=(RevisionAnalysis.Status.DONE, RevisionAnalysis.Status.FAILED)
    ).exclude(engine_version__endswith=_current_suffix())
    if heads_only:
        qs = qs.filter(commit_id__in=Repository.objects.filter(head__isnull=False).values("head_id"))
    return qs.order_by("commit_id")


def stale_counts(*, heads_only: bool = True) -> dict[str, int]:
    """How many stale analyses each older engine left (``""``: made before engines were stamped)."""
    from django.db.models import Count

    rows = stale_analyses(heads_only=heads_only).order_by().values("engine_version").annotate(n=Count("pk"))
    return {r["engine_version"]: r["n"] for r in rows}
