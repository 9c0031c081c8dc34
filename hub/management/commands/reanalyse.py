"""``manage.py reanalyse``: re-judge stored analyses made by an older engine or knowledge base.

After an upgrade that changes a rule, the classifier or ``licenses/data/``, every stored analysis
is the old engine's answer (``hub.services.reanalysis``). This command counts them
(``--dry-run``), re-makes them here in the foreground with progress on stderr (the default), or
sends them to the Celery workers (``--queue``). ``--limit`` bounds one invocation; running it
again continues with what is still stale, so an interrupted run loses nothing.
"""

from __future__ import annotations

import argparse
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from hub.services.reanalysis import current_engine_version, stale_analyses, stale_counts

PROGRESS_EVERY = 100


def _count(raw: str) -> int:
    """``--limit``'s value: a whole number, 0 or more (a negative one reached the queryset slice,
    which answered with a ``ValueError`` traceback)."""
    try:
        value = int(raw)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from exc
    if value < 0:
        raise argparse.ArgumentTypeError(f"{raw} is negative; give 0 or more")
    return value


class Command(BaseCommand):
    help = "Re-judge stored analyses made by an older engine or knowledge base (resumable)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count the stale analyses; change nothing")
        parser.add_argument(
            "--all-revisions",
            action="store_true",
            help="every stored revision, not only each repository's head (pinned checks read older ones)",
        )
        parser.add_argument(
            "--limit", type=_count, default=None, metavar="N", help="at most N analyses this run"
        )
        parser.add_argument(
            "--queue",
            action="store_true",
            help="send them to the Celery workers instead of running them here",
        )

    def handle(self, *args, **options) -> None:
        heads_only = not options["all_revisions"]
        counts = stale_counts(heads_only=heads_only)
        total = sum(counts.values())
        scope = "head analyses" if heads_only else "analyses"
        self.stdout.write(f"current engine: {current_engine_version()}")
        for version, n in sorted(counts.items(), key=lambda kv: -kv[1]):
            self.stdout.write(f"  {n:>8}  made by {version or '(unstamped)'}")
        if options["dry_run"] or not total:
            self.stdout.write(f"{total} stale {scope}")
            return
        limit = options["limit"]
        ids = list(stale_analyses(heads_only=heads_only).values_list("commit_id", flat=True)[:limit])
        if options["queue"]:
            self._queue(ids, scope)
        else:
            self._run(ids, scope)

    def _queue(self, ids: list[int], scope: str) -> None:
        from hub.tasks import analyze_revision
        from workers.enqueue import send

        sent = sum(1 for commit_id in ids if send(analyze_revision, (commit_id,), {}))
        self.stdout.write(self.style.SUCCESS(f"queued {sent} of {len(ids)} stale {scope}"))

    def _run(self, ids: list[int], scope: str) -> None:
        from hub.tasks import analyze_revision

        outcomes: dict[str, int] = {}
        started = time.monotonic()
        done = 0
        try:
            for commit_id in ids:
                outcome = analyze_revision.run(commit_id)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                done += 1
                if done % PROGRESS_EVERY == 0:
                    rate = done / max(time.monotonic() - started, 1e-9)
                    sys.stderr.write(f"{done}/{len(ids)} re-analysed ({rate:.0f}/s)\n")
        except KeyboardInterrupt:
            # docs/operations.md: "Ctrl-C and re-run to continue". Each analysis commits on its own,
            # so what is done stays done; say so instead of a traceback from inside the engine.
            raise CommandError(
                f"interrupted after {done} of {len(ids)} stale {scope}; "
                "run `manage.py reanalyse` again to continue with the rest"
            ) from None
        summary = ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items()))
        self.stdout.write(self.style.SUCCESS(f"re-analysed {len(ids)} stale {scope}: {summary or 'none'}"))
