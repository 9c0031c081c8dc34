"""Do the database and the blob store agree? Checking, and repairing what can be repaired.

The database and the blob store are two systems, backed up by two tools at two moments (a
``pg_dump``, a copy of the bucket or folder). Restored together they disagree by whatever
changed between the two moments:

* **rows without bytes** — content recorded in the dump but uploaded after the store was copied.
  Files of those revisions cannot be downloaded, and the analysis of a revision whose card is
  missing reads nothing. Nothing brings the bytes back but the content itself: an upload of the
  same file repairs it (the LFS batch asks for content it cannot find in the store), a mirror's
  next fetch of a changed repository too. Rows no file references are simply removed.
* **bytes without rows** — content stored after the dump was taken. Nothing refers to it and the
  garbage collector, which walks rows, never sees it: storage leaks. Repair hashes each such
  object and, when the bytes match their address, records it as content (a ``Blob`` row stored
  now), so the collector takes it after its grace period like any other unreferenced content — by
  its own protocol, which is safe against concurrent uploads. An object whose bytes do not match
  its address is corrupt: it is reported, never adopted.
* **sizes that differ** between row and object (a truncated copy): reported as corrupt.

Objects younger than the grace period are left out of the orphan count: an upload stores the
bytes before it records the row, so a young object without a row is usually one in flight.

The check walks the rows in sha256 order and the store's listing in the same order, merging the
two: memory stays flat whatever the store holds. On S3 that is one LIST request per 1,000 objects.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from hub.blobstore import BlobNotFound, BlobStore, BlobStoreUnavailable, get_blob_store
from hub.blobstore.base import StoredObject
from hub.models import Blob, RepoFile
from hub.services.garbage import drop_blob_if_unreferenced

log = logging.getLogger(__name__)

#: Rows read per database round trip.
BATCH = 2000
#: Examples kept per kind of finding (the counts are complete).
EXAMPLES = 20
HASH_CHUNK = 8 * 1024 * 1024


@dataclass
class ConsistencyReport:
    """What a check found (and, with ``repair``, did)."""

    rows: int = 0
    objects: int = 0
    missing: int = 0  # rows whose bytes the store does not hold
    missing_referenced: int = 0  # ... of which files of revisions still name the content
    missing_examples: list[dict] = field(default_factory=list)  # {sha256, size, files: [repo@rev:path]}
    size_mismatch: int = 0
    size_mismatch_examples: list[str] = field(default_factory=list)
    orphans: int = 0  # objects without a row, older than the grace period
    orphan_bytes: int = 0
    orphan_examples: list[str] = field(default_factory=list)
    young_orphans: int = 0  # objects without a row, younger: probably uploads in flight
    corrupt_orphans: list[str] = field(default_factory=list)  # bytes that do not hash to their address
    removed_rows: int = 0  # repair: unreferenced rows without bytes, removed
    kept_rows: int = 0  # repair: ... kept, an upload of the content touched them within the grace
    adopted: int = 0  # repair: orphans recorded as content (the collector takes them after its grace)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def consistent(self) -> bool:
        return not (self.missing or self.size_mismatch or self.orphans or self.corrupt_orphans)


def _rows() -> Iterator[tuple[str, int]]:
    """Every ``Blob`` row as (sha256, size), ascending, in keyset pages."""
    last = ""
    while True:
        page = list(
            Blob.objects.filter(sha256__gt=last).order_by("sha256").values_list("sha256", "size")[:BATCH]
        )
        if not page:
            return
        yield from page
        last = page[-1][0]


def _files_naming(sha256: str, limit: int = 5) -> list[str]:
    rows = (
        RepoFile.objects.filter(blob_id=sha256)
        .select_related("commit__repository__namespace")
        .order_by("-commit_id")[:limit]
    )
    return [f"{r.commit.repository.repo_id}@{r.commit.sha[:12]}:{r.path}" for r in rows]


def _hashes_to_address(store: BlobStore, obj: StoredObject) -> bool:
    digest = hashlib.sha256()
    try:
        with store.open(obj.sha256) as fh:
            while chunk := fh.read(HASH_CHUNK):
                digest.update(chunk)
    except BlobNotFound:
        return False
    return digest.hexdigest() == obj.sha256


def check_consistency(
    *, grace_seconds: int, repair: bool = False, now: datetime | None = None
) -> ConsistencyReport:
    """Compare every ``Blob`` row with the store's objects; with ``repair``, mend what can be mended
    (see the module docstring). Safe while the hub serves: repairs go through the same row-level
    rules as uploads and the collector."""
    store = get_blob_store()
    report = ConsistencyReport()
    young_after = (now or timezone.now()) - timedelta(seconds=grace_seconds)
    rows, objects = _rows(), store.iter_objects()
    row, obj = next(rows, None), next(objects, None)
    missing: list[tuple[str, int]] = []
    while row is not None or obj is not None:
        if obj is None or (row is not None and row[0] < obj.sha256):
            report.rows += 1
            missing.append(row)
            if len(missing) >= BATCH:
                _missing(report, missing, repair, young_after)
                missing = []
            row = next(rows, None)
        elif row is None or obj.sha256 < row[0]:
            report.objects += 1
            _orphan(report, store, obj, young_after, repair)
            obj = next(objects, None)
        else:
            report.rows += 1
            report.objects += 1
            if row[1] != obj.size:
                report.size_mismatch += 1
                if len(report.size_mismatch_examples) < EXAMPLES:
                    report.size_mismatch_examples.append(f"{row[0]}: row {row[1]} bytes, stored {obj.size}")
            row, obj = next(rows, None), next(objects, None)
    _missing(report, missing, repair, young_after)
    return report


def _missing(
    report: ConsistencyReport, rows: list[tuple[str, int]], repair: bool, young_after: datetime
) -> None:
    """Rows the listing did not show: confirmed one by one (stored since the listing passed?), then
    one query for which of them files still name (a restore can leave every row without bytes).

    ``repair`` removes an unreferenced one through the collector's own deletion
    (:func:`hub.services.garbage.drop_blob_if_unreferenced` with the grace period as its cutoff):
    under the row's lock, only if no file names it and neither ``stored_at`` nor any grant is
    younger than the grace period. An upload of the same content (the documented mend) first
    refreshes ``stored_at`` (``mark_storing``), then writes the bytes, then commits files naming
    the row; a repair that ignored ``stored_at`` and judged the store before taking the lock
    deleted that row between the write and the commit, and the client's commit was refused (409,
    upload again). The store is asked again under the lock (``only_if_missing``): bytes stored
    since the listing are not this repair's to delete. One deletion protocol serves both, so a rule added to the collector's (grants
    were one) cannot be missed here.
    """
    store = get_blob_store()
    gone = [(sha256, size) for sha256, size in rows if store.stat(sha256) is None]
    if not gone:
        return
    named = set(
        RepoFile.objects.filter(blob_id__in=[sha256 for sha256, _ in gone])
        .values_list("blob_id", flat=True)
        .distinct()
    )
    for sha256, size in gone:
        report.missing += 1
        if sha256 in named:
            report.missing_referenced += 1
        elif repair:
            # judged again under the row's lock: a commit may have named it, an upload marked it
            # (stored_at), granted it or stored its bytes meanwhile
            try:
                dropped = drop_blob_if_unreferenced(sha256, stored_before=young_after, only_if_missing=True)
            except BlobStoreUnavailable as exc:  # the row is kept (rolled back); the next run retries
                report.errors.append(f"removing {sha256}: {exc}")
                continue
            if dropped is not None:
                report.removed_rows += 1
            elif Blob.objects.filter(sha256=sha256).exists():
                report.kept_rows += 1
        if len(report.missing_examples) < EXAMPLES:
            files = _files_naming(sha256) if sha256 in named else []
            report.missing_examples.append({"sha256": sha256, "size": size, "files": files})


def _orphan(
    report: ConsistencyReport, store: BlobStore, obj: StoredObject, young_after: datetime, repair: bool
) -> None:
    if obj.modified >= young_after:
        report.young_orphans += 1
        return
    if Blob.objects.filter(sha256=obj.sha256).exists():  # recorded since the rows passed it
        return
    report.orphans += 1
    report.orphan_bytes += obj.size
    if len(report.orphan_examples) < EXAMPLES:
        report.orphan_examples.append(obj.sha256)
    if not repair:
        return
    if not _hashes_to_address(store, obj):
        report.corrupt_orphans.append(obj.sha256)
        return
    now = timezone.now()
    _, created = Blob.objects.get_or_create(
        sha256=obj.sha256, defaults={"size": obj.size, "created_at": now, "stored_at": now}
    )
    report.adopted += int(created)
