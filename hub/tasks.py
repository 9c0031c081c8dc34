"""Per-commit work: licence/transparency analysis and weight-file scanning.

Enqueued with ``enqueue_on_commit`` by the commit service, so it runs only once the
commit's rows are visible (in-process in the embedded default, on a Celery worker
otherwise). Scans are cached per blob: a 10 GB file kept across a hundred commits is
scanned once.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from hub.blobstore import BlobStoreError, BlobStoreUnavailable, get_blob_store
from hub.models import Commit, FileScan, RepoFile, Repository, RevisionAnalysis
from hub.services.scanning import ScanOutcome, scan_file, wants_scan
from hub.services.snapshot import snapshot_for_commit
from hub.signals import revision_analysed
from workers.celery import app

log = logging.getLogger(__name__)

SCAN_FIELDS = (
    "file_format", "scanner", "contains_pickle", "dangerous_imports", "safetensors_dtypes", "tensor_count",
    "parameter_count", "header_metadata", "error",
)  # fmt: skip


def engine_version() -> str:
    """The stamp an analysis made now carries (``hub.services.reanalysis``)."""
    from hub.services.reanalysis import current_engine_version

    return current_engine_version()


#: Scan errors that say nothing about the content (the store was unreachable, the scanner
#: crashed): such a scan is retried, never reused for another revision.
TRANSIENT_SCAN_ERRORS = ("content unavailable", "scan failed")


def _extension(path: str) -> str:
    return path.rsplit(".", 1)[-1].lower()


def scan_revision(commit: Commit) -> list[FileScan]:
    """Scan every weight file of ``commit``, reusing earlier scans of the same blob.

    A scan is a function of the bytes (and the format the extension selects), so a blob
    scanned once is never read again, whatever revision or repository it turns up in —
    including scans that ended in a parse error, which is as much a property of the bytes.
    Lookups and writes are batched: a revision of a repository with thousands of files
    costs a fixed number of queries instead of two per file, which the soak found to make
    analysis slow down as repositories grew.
    """
    store = get_blob_store()
    rows = [r for r in RepoFile.objects.filter(commit=commit).order_by("path") if wants_scan(r.path)]
    if not rows:
        return []
    reusable: dict[tuple[str, str], FileScan] = {}
    earlier = FileScan.objects.filter(blob_id__in={r.sha256 for r in rows}).order_by("scanned_at", "pk")
    for scan in earlier:
        if not scan.error.startswith(TRANSIENT_SCAN_ERRORS):
            reusable[(scan.blob_id, _extension(scan.path))] = scan  # the latest wins
    existing = {s.path: s for s in FileScan.objects.filter(commit=commit)}
    now = timezone.now()
    scans: list[FileScan] = []
    for row in rows:
        previous = reusable.get((row.sha256, _extension(row.path)))
        if previous is not None:
            values = {f: getattr(previous, f) for f in SCAN_FIELDS}
        else:
            try:
                with store.open(row.sha256) as fh:
                    outcome = scan_file(row.path, row.size, fh)
            except BlobStoreError as exc:
                outcome = ScanOutcome("unknown", "none", error=f"content unavailable: {exc}")
            values = {f: getattr(outcome, f) for f in SCAN_FIELDS}
        scan = existing.get(row.path) or FileScan(commit=commit, path=row.path)
        for name, value in {**values, "blob_id": row.sha256, "scanned_at": now}.items():
            setattr(scan, name, value)
        scans.append(scan)
    fields = [*SCAN_FIELDS, "blob_id", "scanned_at"]
    FileScan.objects.bulk_update([s for s in scans if s.pk], fields, batch_size=500)
    # A redelivered task (acks_late) may race this one on the same revision: last write wins.
    FileScan.objects.bulk_create(
        [s for s in scans if not s.pk],
        batch_size=500,
        update_conflicts=True,
        unique_fields=["commit", "path"],
        update_fields=fields,
    )
    return scans


def scan_facts(scans: list[FileScan]) -> list[dict]:
    """Weight-scan facts in the shape the engine's ``unsafe-serialization`` rule reads."""
    return [
        {
            "path": s.path,
            "contains_pickle": s.contains_pickle,
            "dangerous": s.dangerous_imports,
            "scanner": s.scanner,
        }
        for s in scans
    ]


def _count(violations: list[dict], severity: str) -> int:
    return sum(1 for v in violations if v.get("severity") == severity)


@app.task(name="hub.analyze_revision", acks_late=True)
def analyze_revision(commit_id: int) -> str:
    """Analyse and scan one revision; stores RevisionAnalysis and FileScan rows.

    The repository may be deleted by a request while its analysis runs (nothing stops a deletion
    for a worker). Whatever then fails (scan rows naming the deleted revision, a save matching no
    row, the repository's row missing) is the deletion, not an error: the task ends as
    ``"missing"``, as one that starts after the deletion does. Any other failure is raised.
    """
    try:
        return _analyze_revision(commit_id)
    except Exception:
        if Commit.objects.filter(pk=commit_id).exists():
            raise
        log.info("revision %s was deleted while it was analysed", commit_id)
        return "missing"


def _analyze_revision(commit_id: int) -> str:
    from licenses.engine.analyze import analyze_snapshot
    from licenses.services.datasets import registry_dataset_cards
    from licenses.services.resolver import server_resolver

    commit = Commit.objects.select_related("repository__namespace").filter(pk=commit_id).first()
    if commit is None:
        return "missing"
    analysis, _ = RevisionAnalysis.objects.get_or_create(commit=commit)
    analysis.status = RevisionAnalysis.Status.RUNNING
    analysis.started_at = started = timezone.now()
    analysis.save(update_fields=["status", "started_at"])
    try:
        scans = scan_revision(commit)
        result = analyze_snapshot(
            snapshot_for_commit(commit), resolver=server_resolver(), scan=scan_facts(scans),
            dataset_cards=registry_dataset_cards,
        )  # fmt: skip
        violations = list(result.get("violations") or [])
        result["files"] = [
            {"path": s.path, "format": s.file_format, "contains_pickle": s.contains_pickle,
             "dangerous_imports": s.dangerous_imports, "parameters": s.parameter_count, "error": s.error or None}
            for s in scans
        ]  # fmt: skip
    except Exception as exc:
        if not Commit.objects.filter(pk=commit.pk).exists():
            raise  # deleted meanwhile: ``analyze_revision`` ends the task quietly
        log.exception("analysis of %s failed", commit)
        analysis.status = RevisionAnalysis.Status.FAILED
        analysis.error = f"{type(exc).__name__}: {exc}"[:2000]
        analysis.analysed_at = timezone.now()
        # A failure is this engine's answer too: unstamped, the stale sweep would retry it for ever.
        # Not a blob store outage, though: that says nothing about the revision, and stamped it was
        # retried only at the next engine change. Left unstamped, the sweep (bounded, idle queue
        # only) re-judges it once the store is back.
        outage = isinstance(exc, BlobStoreUnavailable)
        analysis.engine_version = "" if outage else engine_version()
        with transaction.atomic():
            if _superseded(analysis, started):
                return "superseded"
            analysis.save(update_fields=["status", "error", "analysed_at", "engine_version"])
        return "failed"
    lic = result.get("license") or {}
    transparency = result.get("transparency") or {}
    data = result.get("data") or {}
    analysis.result = result
    analysis.status = RevisionAnalysis.Status.DONE
    analysis.license_key = str(lic.get("key") or "")[:100]
    analysis.license_class = str(lic.get("class") or "")[:40]
    analysis.commercial_use = str(lic.get("commercial_use") or "")[:16]
    score = transparency.get("score")
    analysis.transparency_score = float(score) if isinstance(score, int | float) else None
    level = data.get("disclosure_level")
    analysis.disclosure_level = int(level) if isinstance(level, int | float) else None
    analysis.n_errors = _count(violations, "error")
    analysis.n_warnings = _count(violations, "warning")
    analysis.unsafe_files = sum(1 for s in scans if s.dangerous_imports)
    analysis.analysed_at = timezone.now()
    analysis.engine_version = engine_version()
    analysis.error = ""
    with transaction.atomic():
        # The repository's row first, then the analysis' (the order of every writer: commits, a
        # deletion, the violation writers). Saved first, the analysis' row was held while this waited
        # for a deletion holding the repository, which then waited for that row: a deadlock.
        repo = (
            Repository.objects.select_for_update(of=("self",))
            .select_related("latest_analysis")
            .filter(pk=commit.repository_id)
            .first()
        )
        if repo is None:
            return "missing"  # deleted while it was analysed
        if _superseded(analysis, started):
            return "superseded"
        analysis.save()
        is_head = repo.head_id == commit.pk
        previous = repo.latest_analysis.license_key if repo.latest_analysis else None
        if is_head:
            repo.latest_analysis = analysis
            repo.save(update_fields=["latest_analysis"])
        _announce(analysis, is_head, previous)
    return "done"


class _ReceiversFailed(Exception):
    """Raised inside the receivers' savepoint so that their writes are undone (and only theirs)."""


def _announce(analysis: RevisionAnalysis, is_head: bool, previous: str | None) -> None:
    """Send ``revision_analysed`` inside the transaction that stores the analysis.

    What the receivers write (lineage, violations) and the follow-up work they enqueue (re-judging
    the descendants when the licence changed, announcing new errors: outbox rows) commit with the
    analysis, or not at all. Sent after the COMMIT instead, a broker outage, or a worker dying
    between the two, lost that work for good: the redelivered analysis finds the licence already
    recorded, so "changed" is never seen again. A failing receiver must not undo the stored
    analysis: the receivers run in a savepoint that is rolled back, alone, when one fails.
    """
    try:
        with transaction.atomic():
            failed = [
                (receiver, outcome)
                for receiver, outcome in revision_analysed.send_robust(
                    sender=RevisionAnalysis, analysis=analysis, is_head=is_head, previous_license_key=previous
                )
                if isinstance(outcome, Exception)
            ]
            if failed:
                raise _ReceiversFailed(failed)
    except _ReceiversFailed as exc:
        for receiver, outcome in exc.args[0]:
            log.error("revision_analysed receiver %r failed for %s: %r", receiver, analysis.commit, outcome)


def _superseded(analysis: RevisionAnalysis, started) -> bool:
    """Whether a run of this analysis that started after ours (``started``) exists; locks the row.

    Two runs of one revision overlap when a message is delivered twice or the analysis is sent
    again while it runs, as a parent's re-evaluation does for a child whose analysis has not been
    stored yet. The later run read the later data (the parent's new licence); the earlier one,
    finishing last, used to store its older result over it, and the child passed with a parent
    that no longer allowed it. The later run stores; the earlier one leaves it to it.
    """
    newest = (
        RevisionAnalysis.objects.select_for_update()
        .filter(pk=analysis.pk)
        .values_list("started_at", flat=True)
    )
    latest_start = newest.first()
    if latest_start is not None and latest_start > started:
        log.info("analysis of %s superseded by a run that started later: not stored", analysis.commit_id)
        return True
    return False


#: Pending analyses younger than this are left alone: their message may still be on its way.
REQUEUE_GRACE_SECONDS = 60
REQUEUE_BATCH = 500


def _queue_length(queue: str = "celery") -> int:
    """Messages waiting in the broker's queue (not those a worker has reserved)."""
    with app.connection_for_write() as conn:
        try:
            return conn.default_channel.queue_declare(queue=queue, passive=True).message_count
        except conn.channel_errors:  # the queue was never declared (a fresh broker): empty
            return 0


@app.task(name="hub.requeue_pending_analyses")
def requeue_pending_analyses() -> int:
    """Re-enqueue analyses whose message was lost (the broker was down when the commit was made).

    The commit's rows, including its ``pending`` RevisionAnalysis, are committed before the
    message is sent (``enqueue_on_commit``), so a broker outage loses the message, never the
    work. The sweep runs only when the queue is empty: then a pending analysis is either
    reserved by a worker right now (a duplicate is harmless, analysis is idempotent) or its
    message is gone. Returns how many it sent.
    """
    from datetime import timedelta

    from workers.enqueue import send

    if app.conf.task_always_eager or _queue_length() > 0:
        return 0
    cutoff = timezone.now() - timedelta(seconds=REQUEUE_GRACE_SECONDS)
    ids = list(
        RevisionAnalysis.objects.filter(status=RevisionAnalysis.Status.PENDING, commit__created_at__lt=cutoff)
        .order_by("commit_id")
        .values_list("commit_id", flat=True)[:REQUEUE_BATCH]
    )
    sent = sum(1 for commit_id in ids if send(analyze_revision, (commit_id,), {}))
    if sent:
        log.warning("re-enqueued %d pending analyses whose messages were lost", sent)
    return sent


@app.task(name="hub.collect_garbage")
def collect_garbage() -> dict:
    """The scheduled garbage collection (``hub.services.garbage``); returns what it removed."""
    from django.conf import settings

    from hub.services.garbage import collect_garbage as collect

    return collect(grace_seconds=settings.GC_GRACE).as_dict()


@app.task(name="hub.reanalyse_stale")
def reanalyse_stale(batch: int | None = None) -> int:
    """Send up to ``batch`` head analyses made by an older engine or knowledge base to be made again.

    Bounded and polite: only when the broker's queue is empty (uploads and mirror runs go first,
    and a batch still waiting is not sent twice), at most ``MODELHUB_REANALYSE_BATCH`` per run.
    Resumable without a cursor: a re-made analysis is no longer stale. The stored analyses stay
    ``done`` meanwhile, so every page and check keeps its (older) answer until the new one lands.
    Returns how many it sent.
    """
    from django.conf import settings

    from hub.services.reanalysis import stale_analyses
    from workers.enqueue import send

    if app.conf.task_always_eager or _queue_length() > 0:
        return 0
    limit = batch if batch is not None else settings.REANALYSE_BATCH
    ids = list(stale_analyses().values_list("commit_id", flat=True)[:limit])
    sent = sum(1 for commit_id in ids if send(analyze_revision, (commit_id,), {}))
    if sent:
        log.info("re-analysing %d analyses made by an older engine", sent)
    return sent
