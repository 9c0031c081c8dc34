"""Reclaiming storage: content no revision holds, and what abandoned uploads left behind.

Blobs are shared and never deleted with the repository that held them (another repository,
or a revision still being committed, may hold the same content). Without a collector a hub
only grows: a deleted 70 GB repository keeps its 70 GB. ``collect_garbage`` removes, each
only once it is older than a grace period that outlives every upload link:

* content no file of any revision references (``Blob`` rows with no ``RepoFile``), unless it
  was stored or granted to an uploader within the grace period (an upload whose commit has
  not arrived yet);
* the address claims of multipart uploads whose clients never verified, and the unverified
  objects those uploads assembled at the content address (S3);
* the store's own leftovers: temp files of crashed writers, staged copies never verified,
  incomplete multipart uploads (``BlobStore.sweep_uploads``).

Why the grace period makes this safe while the hub runs: every way a commit can name content
without uploading it in the same request passes either through the content's ``RepoFile`` rows
(referenced: never collected), a fresh upload (``record_blob`` refreshes ``stored_at``) or an
upload grant (fresh grants protect the blob). Each deletion also happens under the ``Blob``
row's lock after re-checking, and ``RepoFile`` protects its blob by foreign key, so a commit
racing the collector is refused rather than pointed at deleted bytes.

Like ``git gc`` or a registry's garbage collection this is run on a schedule (Celery beat,
``MODELHUB_GC_EVERY``) or by hand (``manage.py blobstore gc``).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, ProtectedError
from django.utils import timezone

from hub.blobstore import get_blob_store
from hub.models import AddressClaim, Blob, BlobGrant, RepoFile

log = logging.getLogger(__name__)

#: Blobs looked at per database round trip.
BATCH = 500


@dataclass
class GarbageReport:
    """What one collection removed (or, in a dry run, would remove)."""

    grace_seconds: int
    dry_run: bool
    blobs: int = 0
    blob_bytes: int = 0
    claims: int = 0
    unverified_objects: int = 0
    unverified_bytes: int = 0
    upload_leftovers: int = 0
    upload_leftover_bytes: int = 0
    multipart_uploads: int = 0

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def freed_bytes(self) -> int:
        return self.blob_bytes + self.unverified_bytes + self.upload_leftover_bytes


def minimum_grace() -> int:
    """No collection may touch what a still-valid upload link could complete: the LFS links
    live ``link_ttl()`` seconds; twice that leaves room for a verify in flight at expiry."""
    from hub.hfapi.lfs import link_ttl

    return 2 * link_ttl()


def _unreferenced(cutoff: datetime):
    """Blob rows stored before ``cutoff`` that no file references and no fresh grant protects."""
    return (
        Blob.objects.filter(stored_at__lt=cutoff)
        .exclude(Exists(RepoFile.objects.filter(blob=OuterRef("pk"))))
        .exclude(Exists(BlobGrant.objects.filter(blob=OuterRef("pk"), created_at__gte=cutoff)))
    )


def drop_blob_if_unreferenced(sha256: str, *, stored_before: datetime | None = None) -> int | None:
    """Delete the content and its row unless a file references it (or, with ``stored_before``,
    unless it was stored or granted since). Returns the bytes freed, None when it stays.

    The row is locked and re-judged first, then deleted (still only if stale, so SQLite, which
    has no row locks, gets the same answer), then the bytes, all in one transaction: a failing
    store rolls the row back. A concurrent commit naming the same content has either inserted
    its file row already (the blob is referenced and stays) or its insert waits on the lock and
    then fails on the foreign key: that commit is refused rather than pointed at deleted bytes.
    A concurrent write of the same content calls ``mark_storing`` first, which waits on the
    same lock (see there).
    """
    with transaction.atomic():
        row = Blob.objects.select_for_update().filter(sha256=sha256).first()
        if row is None or row.files.exists():
            return None
        doomed = Blob.objects.filter(sha256=sha256)
        if stored_before is not None:
            fresh_grant = BlobGrant.objects.filter(blob=row, created_at__gte=stored_before).exists()
            if row.stored_at >= stored_before or fresh_grant:
                return None
            doomed = doomed.filter(stored_at__lt=stored_before)
        try:
            _, deleted = doomed.delete()
        except ProtectedError:  # a file row arrived after the check
            return None
        if not deleted.get(Blob._meta.label):
            return None
        get_blob_store().delete(sha256)
        return row.size


def collect_garbage(
    *, grace_seconds: int, dry_run: bool = False, now: datetime | None = None
) -> GarbageReport:
    """Remove unreferenced content and abandoned uploads older than ``grace_seconds``.

    ``grace_seconds`` below ``minimum_grace()`` is raised to it (a shorter one could delete an
    upload a client is entitled to finish). ``now`` is for tests. Raises
    ``BlobStoreUnavailable`` if the store fails; what was removed until then stays removed and
    is logged, and the next run carries on.
    """
    grace = max(int(grace_seconds), minimum_grace())
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=grace)
    report = GarbageReport(grace_seconds=grace, dry_run=dry_run)
    store = get_blob_store()
    try:
        _collect_blobs(report, cutoff, dry_run)
        _collect_claims(report, cutoff, dry_run, store)
        swept = store.sweep_uploads(cutoff, dry_run=dry_run)
        report.upload_leftovers += swept.objects
        report.upload_leftover_bytes += swept.bytes
        report.multipart_uploads += swept.multipart
    finally:
        if report.freed_bytes or report.claims or report.multipart_uploads:
            log.info("garbage collection%s: %s", " (dry run)" if dry_run else "", report.as_dict())
    return report


def _collect_blobs(report: GarbageReport, cutoff: datetime, dry_run: bool) -> None:
    after = ""
    while True:
        batch = list(
            _unreferenced(cutoff)
            .filter(sha256__gt=after)
            .order_by("sha256")
            .values_list("sha256", "size")[:BATCH]
        )
        if not batch:
            return
        after = batch[-1][0]
        for sha256, size in batch:
            freed = size if dry_run else drop_blob_if_unreferenced(sha256, stored_before=cutoff)
            if freed is not None:
                report.blobs += 1
                report.blob_bytes += freed


def _collect_claims(report: GarbageReport, cutoff: datetime, dry_run: bool, store) -> None:
    """Expired address claims; an unverified object their upload assembled at the address goes
    with them. The claim row is locked while its object is judged: a new upload of the same
    content either took the claim over before (the row is gone from this query) or waits and
    then, finding no row to take over, is staged instead of assembled at the address."""
    drop = getattr(store, "drop_unverified", None)
    for sha256 in list(
        AddressClaim.objects.filter(expires_at__lt=cutoff).order_by("sha256").values_list("sha256", flat=True)
    ):
        with transaction.atomic():
            claim = (
                AddressClaim.objects.select_for_update().filter(sha256=sha256, expires_at__lt=cutoff).first()
            )
            if claim is None:
                continue
            if drop is not None and not Blob.objects.filter(sha256=sha256).exists():
                freed = drop(sha256, claim.ticket, dry_run=dry_run)
                if freed:
                    report.unverified_objects += 1
                    report.unverified_bytes += freed
            if not dry_run:
                claim.delete()
            report.claims += 1
