"""Reclaiming storage: content no revision holds, and what abandoned uploads left behind.

Blobs are shared and never deleted with the repository that held them (another repository,
or a revision still being committed, may hold the same content). Without a collector a hub
only grows: a deleted 70 GB repository keeps its 70 GB. ``collect_garbage`` removes, each
only once it is older than a grace period that outlives every upload link:

* content no file of any revision references (``Blob`` rows with no ``RepoFile``), unless it
  was stored or granted to an uploader within the grace period (an upload whose commit has
  not arrived yet);
* expired address claims of multipart uploads (S3; the object such an upload assembled at the
  address stays until the same content is uploaded again, which verifies it in place and either
  adopts or replaces it: deleting it here would race that adoption);
* the store's own leftovers: temp files of crashed writers, staged copies never verified and
  staged multipart uploads never completed (``BlobStore.sweep_uploads``).

Why this is safe while the hub runs: every write of content, and every answer that lets a
client name stored content without uploading it (the LFS batch's "already stored", the mirror's
"known"), first calls ``mark_storing``, which refreshes ``stored_at``; fresh upload grants
protect content too. Nothing refreshed is collectable for ``safe_window()``; writers that may
take longer (a mirror fetching large weights) check again. Each deletion re-judges the row under
its lock, deletes the row, then the bytes, in one transaction. A commit locks the rows it names
and ``RepoFile`` protects its blob by foreign key, so a commit racing the collector is refused
(409, "upload it again") rather than pointed at deleted bytes, and ``record_blob`` removes a row
it creates for bytes that vanished meanwhile.

A row that cannot be judged now (SQLite busy with another writer) is skipped for the next run;
a store that refuses a delete is recorded in the report's ``errors`` and the run goes on, so one
bad object never blocks every later run.

Like ``git gc`` or a registry's garbage collection this is run on a schedule (Celery beat,
``MODELHUB_GC_EVERY``) or by hand (``manage.py blobstore gc``).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.db import OperationalError, transaction
from django.db.models import Exists, OuterRef, ProtectedError
from django.utils import timezone

from hub.blobstore import BlobStoreUnavailable, get_blob_store
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
    upload_leftovers: int = 0
    upload_leftover_bytes: int = 0
    multipart_uploads: int = 0
    skipped: int = 0  # rows that could not be judged now (busy); the next run takes them
    errors: list[str] = field(default_factory=list)  # what the store refused, for the operator

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def freed_bytes(self) -> int:
        return self.blob_bytes + self.upload_leftover_bytes


def minimum_grace() -> int:
    """No collection may touch what a still-valid upload link could complete: the LFS links
    live ``link_ttl()`` seconds; twice that leaves room for a verify in flight at expiry."""
    from hub.hfapi.lfs import link_ttl

    return 2 * link_ttl()


def safe_window() -> float:
    """Seconds after ``mark_storing`` during which the collector cannot take that content: it
    leaves rows refreshed within ``REFRESH_AFTER`` alone and takes only what is older than the
    grace period (at least ``minimum_grace()``). A writer that references content later than
    this after marking it must check again (the mirror's ``ensure_still_stored``)."""
    from hub.services.blobs import REFRESH_AFTER

    return minimum_grace() - REFRESH_AFTER.total_seconds() - 300  # five minutes to spare


def _unreferenced(cutoff: datetime):
    """Blob rows stored before ``cutoff`` that no file references and no fresh grant protects."""
    return (
        Blob.objects.filter(stored_at__lt=cutoff)
        .exclude(Exists(RepoFile.objects.filter(blob=OuterRef("pk"))))
        .exclude(Exists(BlobGrant.objects.filter(blob=OuterRef("pk"), created_at__gte=cutoff)))
    )


def drop_blob_if_unreferenced(
    sha256: str, *, stored_before: datetime | None = None, only_if_missing: bool = False
) -> int | None:
    """Delete the content and its row unless a file references it (or, with ``stored_before``,
    unless it was stored or granted since; without it, unless anyone holds a grant for it: a
    refused request takes out what it stored, never another client's verified upload of the same
    content). Returns the bytes freed, None when it stays.

    The row is locked and re-judged first, then deleted (still only if stale, so SQLite, which
    has no row locks, gets the same answer), then the bytes, all in one transaction: a failing
    store rolls the row back. A concurrent commit naming the same content has either inserted
    its file row already (the blob is referenced and stays) or its insert waits on the lock and
    then fails on the foreign key: that commit is refused rather than pointed at deleted bytes.
    A concurrent write of the same content calls ``mark_storing`` first, which waits on the
    same lock (see there).

    ``only_if_missing`` is the consistency repair's (``hub.services.consistency``): it removes rows
    whose bytes are gone, and bytes that arrived since its listing are not its to delete, so the
    store is asked again under the lock and the row stays if they are there.
    """
    with transaction.atomic():
        row = Blob.objects.select_for_update().filter(sha256=sha256).first()
        if row is None or row.files.exists():
            return None
        doomed = Blob.objects.filter(sha256=sha256)
        grants = BlobGrant.objects.filter(blob=row)
        if stored_before is not None:
            if row.stored_at >= stored_before or grants.filter(created_at__gte=stored_before).exists():
                return None
            doomed = doomed.filter(stored_at__lt=stored_before)
        elif grants.exists():  # someone else's upload of it was verified meanwhile: theirs to commit
            return None
        if only_if_missing and get_blob_store().stat(sha256) is not None:
            return None
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
    upload a client is entitled to finish). ``now`` is for tests. Never raises for the store:
    what it refused is in ``errors`` (every phase still runs), and the next run carries on.
    """
    grace = max(int(grace_seconds), minimum_grace())
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=grace)
    report = GarbageReport(grace_seconds=grace, dry_run=dry_run)
    store = get_blob_store()
    _collect_blobs(report, cutoff, dry_run)
    _collect_claims(report, cutoff, dry_run)
    try:
        swept = store.sweep_uploads(cutoff, dry_run=dry_run)
    except BlobStoreUnavailable as exc:
        report.errors.append(f"sweeping abandoned uploads: {exc}")
    else:
        report.upload_leftovers += swept.objects
        report.upload_leftover_bytes += swept.bytes
        report.multipart_uploads += swept.multipart
    if report.errors:
        log.error("garbage collection%s: %s", " (dry run)" if dry_run else "", report.as_dict())
    elif report.freed_bytes or report.claims or report.multipart_uploads or report.skipped:
        log.info("garbage collection%s: %s", " (dry run)" if dry_run else "", report.as_dict())
    return report


#: Every this many store refusals the store is asked whether it is down (then the blob phase stops)
#: or only refusing some objects (then the run goes on past them: the next run would meet the
#: same objects first, in the same order, and never get further).
CHECK_EVERY = 20


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
            if dry_run:
                freed: int | None = size
            else:
                try:
                    freed = drop_blob_if_unreferenced(sha256, stored_before=cutoff)
                except OperationalError:  # SQLite: another writer holds the database; next run
                    report.skipped += 1
                    continue
                except BlobStoreUnavailable as exc:
                    report.errors.append(f"{sha256}: {exc}")
                    if len(report.errors) % CHECK_EVERY == 0 and not _store_answers(report):
                        return
                    continue
            if freed is not None:
                report.blobs += 1
                report.blob_bytes += freed


def _store_answers(report: GarbageReport) -> bool:
    try:
        get_blob_store().check()
    except BlobStoreUnavailable as exc:
        report.errors.append(f"the store is down, collection stopped: {exc}")
        return False
    return True


def _collect_claims(report: GarbageReport, cutoff: datetime, dry_run: bool) -> None:
    """Expired address claims: each is deleted only if it is still the claim that was read, so a
    new upload that just took it over (``claim_address``) keeps it, on SQLite too."""
    claims = AddressClaim.objects.filter(expires_at__lt=cutoff).values_list("sha256", "ticket", "expires_at")
    for sha256, ticket, expires_at in list(claims):
        if dry_run:
            report.claims += 1
            continue
        try:
            gone, _ = AddressClaim.objects.filter(
                sha256=sha256, ticket=ticket, expires_at=expires_at
            ).delete()
        except OperationalError:
            report.skipped += 1
            continue
        report.claims += gone
