"""``manage.py blobstore migrate-layout``: move a filesystem store's objects to the one-level layout.

Stores created before the one-level layout keep objects at ``sha256/ab/cd/<digest>``. The hub
reads them there without this command; running it once (safe while the hub runs, and safe to
repeat) moves them to ``sha256/ab/<digest>`` so lookups stop taking the fallback path and the
store stops carrying thousands of near-empty directories. S3 stores already use one level.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from hub.blobstore import get_blob_store


class Command(BaseCommand):
    help = "Maintenance of the blob store."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser(
            "migrate-layout",
            help="move filesystem objects from sha256/ab/cd/<digest> to sha256/ab/<digest> (idempotent)",
        )

    def handle(self, *args, **options) -> None:
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
