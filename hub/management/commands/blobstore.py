"""``manage.py blobstore``: maintenance of the blob store.

``gc`` removes content no revision references and what abandoned uploads left behind (see
``hub.services.garbage``; Celery beat runs the same daily). ``--dry-run`` only counts.

``check`` compares the database's content rows with the store's objects (after a restore from a
database dump and a store copy taken at different moments: ``hub.services.consistency``);
``--repair`` removes rows no file needs whose bytes are gone and records orphaned objects as
content so the collector reclaims them. Exit status 1 while something remains that only an
upload (or the store's backup) can mend.

``migrate-layout`` moves a filesystem store's objects to the one-level layout.

Stores created before the one-level layout keep objects at ``sha256/ab/cd/<digest>``. The hub
reads them there without this command; running it once (safe while the hub runs, and safe to
repeat) moves them to ``sha256/ab/<digest>`` so lookups stop taking the fallback path and the
store stops carrying thousands of near-empty directories. S3 stores already use one level.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat

from hub.blobstore import get_blob_store


class Command(BaseCommand):
    help = "Maintenance of the blob store."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        gc = sub.add_parser(
            "gc", help="delete unreferenced content and abandoned uploads older than the grace period"
        )
        gc.add_argument(
            "--grace",
            type=int,
            default=None,
            metavar="SECONDS",
            help="only what is older than this (default MODELHUB_GC_GRACE; never below twice the upload link life)",
        )
        gc.add_argument("--dry-run", action="store_true", help="count what would go; delete nothing")
        check = sub.add_parser(
            "check",
            help="compare content rows with the store's objects (after a restore); --repair mends what it can",
        )
        check.add_argument(
            "--grace",
            type=int,
            default=None,
            metavar="SECONDS",
            help="objects without a row younger than this are uploads in flight (default MODELHUB_GC_GRACE)",
        )
        check.add_argument(
            "--repair",
            action="store_true",
            help="remove unreferenced rows whose bytes are gone; record orphaned objects whose bytes hash right",
        )
        sub.add_parser(
            "migrate-layout",
            help="move filesystem objects from sha256/ab/cd/<digest> to sha256/ab/<digest> (idempotent)",
        )

    def handle(self, *args, **options) -> None:
        if options["action"] == "gc":
            self.collect(options["grace"], options["dry_run"])
            return
        if options["action"] == "check":
            self.check_store(options["grace"], options["repair"])
            return
        from hub.blobstore.filesystem import FilesystemBlobStore

        store = get_blob_store()
        if not isinstance(store, FilesystemBlobStore):
            raise CommandError(
                f"the {store.name} blob store has one layout only; there is nothing to migrate"
            )
        done = store.migrate_layout(on_move=lambda n: self.stderr.write(f"{n:,} objects so far"))
        self.stdout.write(
            f"moved {done.moved:,} objects; removed {done.duplicates:,} old copies already present "
            f"at the new path and {done.removed_dirs:,} emptied directories"
        )

    def collect(self, grace: int | None, dry_run: bool) -> None:
        from django.conf import settings

        from hub.services.garbage import collect_garbage

        done = collect_garbage(grace_seconds=settings.GC_GRACE if grace is None else grace, dry_run=dry_run)
        verb = "would remove" if dry_run else "removed"
        self.stdout.write(
            f"{verb} {done.blobs:,} unreferenced blobs ({_size(done.blob_bytes)}), "
            f"{done.upload_leftovers:,} upload leftovers ({_size(done.upload_leftover_bytes)}), "
            f"{done.multipart_uploads:,} incomplete multipart uploads and {done.claims:,} expired address claims; "
            f"grace {done.grace_seconds:,} s"
            + (f"; {done.skipped:,} rows busy, left for the next run" if done.skipped else "")
        )
        if done.errors:
            shown = "\n  ".join(done.errors[:5])
            more = f"\n  … and {len(done.errors) - 5} more" if len(done.errors) > 5 else ""
            raise CommandError(
                f"the blob store refused {len(done.errors)} operation(s); what was removed stays removed, "
                f"fix the store and run it again:\n  {shown}{more}"
            )

    def check_store(self, grace: int | None, repair: bool) -> None:
        from django.conf import settings

        from hub.services.consistency import check_consistency

        done = check_consistency(grace_seconds=settings.GC_GRACE if grace is None else grace, repair=repair)
        self.stdout.write(f"{done.rows:,} content rows, {done.objects:,} stored objects")
        self.stdout.write(
            f"rows without bytes: {done.missing:,} ({done.missing_referenced:,} named by files of revisions)"
        )
        for ex in done.missing_examples:
            self.stdout.write(
                f"  {ex['sha256']} ({_size(ex['size'])}) " + (", ".join(ex["files"]) or "no file")
            )
        self.stdout.write(f"sizes that differ: {done.size_mismatch:,}")
        for line in done.size_mismatch_examples:
            self.stdout.write(f"  {line}")
        self.stdout.write(
            f"objects without rows: {done.orphans:,} ({_size(done.orphan_bytes)}), "
            f"and {done.young_orphans:,} younger than the grace period (uploads in flight, left alone)"
        )
        for sha256 in done.orphan_examples:
            self.stdout.write(f"  {sha256}")
        if repair:
            self.stdout.write(
                f"repaired: removed {done.removed_rows:,} unreferenced rows without bytes "
                f"(kept {done.kept_rows:,} an upload is mending), recorded "
                f"{done.adopted:,} orphaned objects as content (the collector reclaims them after its grace)"
            )
            for sha256 in done.corrupt_orphans:
                self.stdout.write(f"  corrupt (bytes do not hash to the address, left in place): {sha256}")
        remaining = done.missing_referenced + done.size_mismatch + len(done.corrupt_orphans)
        if not repair:
            remaining += (done.missing - done.missing_referenced) + done.orphans
        if remaining:
            raise CommandError(
                f"{remaining:,} inconsistencies remain"
                + ("" if repair else "; --repair mends unreferenced rows and orphaned objects")
                + (
                    "; files whose content is gone must be uploaded again (or the store restored from a later copy)"
                    if done.missing_referenced
                    else ""
                )
            )
        self.stdout.write(self.style.SUCCESS("database and blob store agree"))


def _size(n: int) -> str:
    return filesizeformat(n).replace("\xa0", " ")
