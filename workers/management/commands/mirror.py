"""``manage.py mirror``: one mirror pass in the foreground, with a progress bar, without a broker.

Arguments as in the contract (``../shared/docs/contract.md``). The pass is recorded as a
``MirrorRun`` like any scheduled one (no spec; the arguments are kept in ``options``), so
it shows up in the API and the catalogue, and analysis of what it brings is enqueued the
usual way (in-process without a broker). Exit status 0 when the pass completed —
single-repository failures are listed and counted, not fatal — and 1 when the run
itself could not go on (upstream unreachable for the listing, say).
"""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from workers.mirror.run import execute
from workers.models import MirrorRun, MirrorSpec, upstream_credentials_problem


class Command(BaseCommand):
    help = "Mirror repositories from a Hub-compatible upstream once, in the foreground."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--upstream", required=True, help="e.g. https://huggingface.co")
        parser.add_argument("--repo", action="append", default=[], dest="repos", metavar="ID")
        parser.add_argument("--author", action="append", default=[], dest="authors", metavar="NAME")
        parser.add_argument("--search", default="")
        parser.add_argument("--tag", action="append", default=[], dest="tags", help="filter tag (repeatable)")
        parser.add_argument("--descendants-of", default="", help="follow base_model: children of this id")
        parser.add_argument("--top", type=int, default=None, dest="top_n", help="top N by downloads")
        parser.add_argument("--limit", type=int, default=None)
        parser.add_argument("--files", choices=[c for c, _ in MirrorSpec.Files.choices], default="small")
        parser.add_argument("--pattern", action="append", default=[], dest="patterns", help="glob (with all)")
        parser.add_argument("--max-file-size", type=int, default=None)
        parser.add_argument("--concurrency", type=int, default=4)
        parser.add_argument("--token-env", default="", help="environment variable holding the upstream token")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **opts) -> None:
        if problem := upstream_credentials_problem(opts["upstream"]):
            raise CommandError(f"--upstream: {problem}")
        if opts["token_env"] and not os.environ.get(opts["token_env"]):
            raise CommandError(f"--token-env {opts['token_env']}: that variable is not set")
        options = {
            "repo_ids": opts["repos"], "authors": opts["authors"], "search": opts["search"], "tags": opts["tags"],
            "descendants_of": opts["descendants_of"], "top_n": opts["top_n"], "limit": opts["limit"],
            "files": opts["files"], "file_patterns": opts["patterns"], "max_file_size": opts["max_file_size"],
            "token_env": opts["token_env"], "max_concurrency": opts["concurrency"],
        }  # fmt: skip
        run = MirrorRun.objects.create(upstream=opts["upstream"].rstrip("/"), options=options)
        total = (
            opts["limit"]
            or opts["top_n"]
            or (len(opts["repos"]) if opts["repos"] and not opts["authors"] else None)
        )
        bar = tqdm(total=total, unit="repo", disable=opts["no_progress"], desc="mirror", dynamic_ncols=True)

        def progress(r: MirrorRun) -> None:
            bar.update(r.listed - bar.n)
            bar.set_postfix(changed=r.changed, fetched=r.fetched, failed=r.failed, MB=round(r.bytes / 1e6, 1))

        try:
            result = execute(run.pk, progress=progress)
        finally:
            bar.close()
        if result is None:
            raise CommandError(f"run {run.pk} is held by another worker")
        for err in result.errors:
            self.stderr.write(f"{err.get('kind', 'failed')}: {err['repo']}: {err['error']}")
        summary = (
            f"run {result.pk} {result.status}: listed {result.listed}, changed {result.changed}, "
            f"fetched {result.fetched} files ({result.bytes} bytes), failed {result.failed}"
        )
        if result.status != MirrorRun.Status.DONE:
            raise CommandError(f"{summary}: {result.error}")
        self.stdout.write(summary)
