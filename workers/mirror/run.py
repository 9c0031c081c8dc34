"""The run loop: page through the selection, sync what changed, checkpoint, resume.

A run holds a lease (``worker`` + ``heartbeat_at``): a second delivery of the same task
(``acks_late`` redelivers after a worker dies, and Redis redelivers long tasks after its
visibility timeout) waits while the holder is alive, and takes over once the heartbeat
is stale. Progress is checkpointed per page: the cursor (queue of sources, the next page
URL, how many items were emitted) and the counters as they stood at the start of the
page, saved together. A resumed run restarts the interrupted page from those counters;
repositories it had already synced are recognised by ``MirroredRepo.last_changed_run``
and counted from their stored cost, not fetched again, so the totals come out exact.

Network work runs on a thread pool of ``max_concurrency`` (the per-upstream throttle
caps it again across runs of this process); finished fetches come back on a queue and
database writes stay on this thread — one transaction per batch of new repositories
(``bulk.py``) and per changed one — which keeps SQLite happy and PostgreSQL simple.
Results are grouped in batches of ``BULK_BATCH``: on a blob thread (``prepare_batch``) a
batch's cards are parsed back to back and its small files (READMEs, configs) made durable
together (``BlobStore.put_many``, one durability step instead of one per file) while this thread
writes the rows of the batches before it, and a batch's rows are written only once its
files are durable. The next page's fetches start as soon as every fetch of the current
page is back, before its last rows are written, so the upstream is never left idle between
pages; the next page's counters move only after the current page is checkpointed.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import gc
import json
import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections
from django.db.models import Q
from django.utils import timezone
from huggingface_hub import ModelInfo
from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

from workers.mirror.bulk import import_new
from workers.mirror.files import CopyOptions
from workers.mirror.politeness import RetryPolicy
from workers.mirror.rows import bulk_writes
from workers.mirror.selection import (
    SelectionOptions,
    descendant_source,
    first_page_params,
    sources_for,
)
from workers.mirror.sync import (
    Fetched,
    Outcome,
    apply,
    fetch,
    local_states,
    moved,
    prepare_batch,
    renamed,
    touch_unchanged,
    unchanged,
)
from workers.mirror.upstream import Upstream
from workers.models import MirroredRepo, MirrorRun, MirrorSpec

log = logging.getLogger(__name__)
COUNTERS = ("listed", "changed", "fetched", "bytes", "failed")
MAX_ERRORS = 500
#: Next-page links remembered per listing, to notice an upstream whose pagination runs in a circle
#: (a loop of this many pages or fewer; the cursor is checkpointed, so the list stays short).
SEEN_LINKS = 32
#: Repositories remembered as counted (a few pages' worth): see ``Runner.recent_changed``.
RECENT_CHANGED = 5000
#: New repositories written per transaction: a whole listing page by default. Each COMMIT writes
#: every index page the batch touched, so on SQLite 200 per batch wrote 2.2 GB for a first mirror
#: of 25,109 cards and 500 wrote 1.4 GB (docs/BENCHMARKS.md, "Mirroring").
BULK_BATCH = 500
#: Batches whose files are being made durable at once (each waits on the disk, not on the CPU).
BLOB_THREADS = 2


def _failure_text(exc: BaseException) -> str:
    """What a run records of a repository's failure: the exception's type and message, bounded."""
    return f"{type(exc).__name__}: {exc}"[:500]


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def mirror_setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def claim(run_id: int, worker: str) -> MirrorRun | None:
    """Take the run's lease: it is queued, or running with a heartbeat older than the stale limit."""
    now = timezone.now()
    stale = now - timedelta(seconds=mirror_setting("MIRROR_STALE_AFTER", 120))
    free = Q(status=MirrorRun.Status.QUEUED) | Q(
        Q(status=MirrorRun.Status.RUNNING), Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=stale)
    )
    taken = (
        MirrorRun.objects.filter(pk=run_id)
        .filter(free)
        .update(status=MirrorRun.Status.RUNNING, heartbeat_at=now, worker=worker[:200])
    )
    return MirrorRun.objects.select_related("spec").get(pk=run_id) if taken else None


def run_options(run: MirrorRun) -> dict[str, Any]:
    """The run's selection and copy options: its spec's fields, or the CLI's ``options``."""
    spec = run.spec
    if spec is None:
        return dict(run.options or {})
    return {
        "repo_ids": spec.repo_ids, "authors": spec.authors, "search": spec.search, "tags": spec.tags,
        "descendants_of": spec.descendants_of, "top_n": spec.top_n, "limit": spec.limit, "files": spec.files,
        "file_patterns": spec.file_patterns, "max_file_size": spec.max_file_size, "token_env": spec.token_env,
        "max_concurrency": spec.max_concurrency,
    }  # fmt: skip


def copy_options(opts: dict[str, Any]) -> CopyOptions:
    return CopyOptions(
        files=opts.get("files") or "small",
        patterns=tuple(opts.get("file_patterns") or ()),
        max_file_size=opts.get("max_file_size"),
        small_max=mirror_setting("MIRROR_SMALL_FILE_MAX", 5 * 1024 * 1024),
    )


class LeaseLost(Exception):
    """This worker's lease on the run was taken over; everything it wrote is idempotent."""


@dataclass
class Batch:
    items: list[ModelInfo]
    need_info: bool


@dataclass
class PageWork:
    """One listed page on its way through: fetches in flight, batches being stored, then written."""

    batch: Batch
    by_id: dict[str, ModelInfo]
    states: dict[str, MirroredRepo]
    same: list[MirroredRepo] = field(default_factory=list)
    remaining: int = 0
    #: ("fetched", Fetched) from the fetch loops, ("stored", Future) from the blob threads
    events: queue.SimpleQueue[tuple[str, Any]] = field(default_factory=queue.SimpleQueue)
    held: list[Fetched] = field(default_factory=list)
    storing: collections.deque[tuple[Future, list[Fetched]]] = field(default_factory=collections.deque)


class Runner:
    """One execution of a run (a fresh start or a resumption), on the current thread."""

    def __init__(self, run: MirrorRun, *, worker: str, progress: Callable[[MirrorRun], None] | None = None):
        self.run = run
        self.spec: MirrorSpec | None = run.spec
        self.worker = worker
        self.progress = progress
        opts = run_options(run)
        self.selection = SelectionOptions.from_mapping(opts)
        self.copy = copy_options(opts)
        self.options_key = self.copy.key()
        token_env = opts.get("token_env") or ""
        self.concurrency = max(
            1, int(opts.get("max_concurrency") or mirror_setting("MIRROR_MAX_CONCURRENCY", 4))
        )
        self.upstream = Upstream(
            run.upstream,
            token=os.environ.get(token_env) if token_env else None,
            max_concurrency=self.concurrency,
            policy=RetryPolicy(
                max_attempts=mirror_setting("MIRROR_MAX_ATTEMPTS", 6),
                base_delay=mirror_setting("MIRROR_BACKOFF_BASE", 0.5),
                max_delay=mirror_setting("MIRROR_BACKOFF_MAX", 30.0),
                max_retry_after=mirror_setting("MIRROR_MAX_RETRY_AFTER", 300.0),
            ),
            timeout=mirror_setting("MIRROR_TIMEOUT", 30.0),
        )
        self.page_size = mirror_setting("MIRROR_PAGE_SIZE", 500)
        self.heartbeat_every = mirror_setting("MIRROR_HEARTBEAT", 5.0)
        self._last_flush = 0.0
        self.blob_writer: ThreadPoolExecutor | None = None  # set by ``go`` for the run's duration
        self.db_lock = threading.Lock()  # the loop's writes vs the fetch threads' few reads (SQLite)
        # repositories this process counted as changed lately: a listing sorted by downloads can
        # shift while it is paged and list one twice, near a page boundary; counted once
        self.recent_changed: dict[str, None] = {}  # insertion-ordered: the oldest goes first

    # -- cursor --------------------------------------------------------------------------
    def load_cursor(self) -> dict[str, Any]:
        if self.run.cursor:
            cursor = json.loads(self.run.cursor)
            base = cursor.get("base") or {}
            for name in COUNTERS:  # resume from the counters as they were when the page began
                setattr(self.run, name, int(base.get(name, 0)))
            self.run.errors = list(self.run.errors or [])[: int(base.get("errors", 0))]
            return cursor
        depth = mirror_setting("MIRROR_DESCENDANT_DEPTH", 3)
        return {
            "queue": sources_for(self.selection, descendant_depth=depth), "i": 0, "next": None, "offset": 0,
            "emitted": 0, "truncated": False, "seen_parents": [self.selection.descendants_of] if self.selection.descendants_of else [],
        }  # fmt: skip

    def checkpoint(self, cursor: dict[str, Any]) -> None:
        cursor["base"] = {name: getattr(self.run, name) for name in COUNTERS}
        cursor["base"]["errors"] = len(self.run.errors or [])
        self.run.cursor = json.dumps(cursor)
        self.flush(force=True, fields=["cursor"])

    def flush(self, *, force: bool = False, fields: list[str] | None = None) -> None:
        """Save live counters (and the heartbeat) at most every heartbeat interval unless forced."""
        now = time.monotonic()
        if not force and now - self._last_flush < self.heartbeat_every:
            return
        self._last_flush = now
        self.run.heartbeat_at = timezone.now()
        with self.db_lock:
            held = MirrorRun.objects.filter(pk=self.run.pk, worker=self.worker).update(
                heartbeat_at=self.run.heartbeat_at, errors=self.run.errors,
                **{name: getattr(self.run, name) for name in COUNTERS},
                **{f: getattr(self.run, f) for f in fields or []},
            )  # fmt: skip
        if not held:  # another worker took the run over (we looked dead): stop, it carries on
            raise LeaseLost(f"run {self.run.pk} is now held by another worker")
        self.report()

    def report(self) -> None:
        if self.progress is not None:
            self.progress(self.run)

    # -- batches -------------------------------------------------------------------------
    def next_batch(self, cursor: dict[str, Any]) -> tuple[Batch | None, dict[str, Any]]:
        """The next page of the current source and the cursor after it (not yet saved)."""
        queue = cursor["queue"]
        limit = self.selection.limit
        while cursor["i"] < len(queue):
            if limit is not None and cursor["emitted"] >= limit:
                cursor["truncated"] = True
                return None, cursor
            source = queue[cursor["i"]]
            room = None if limit is None else limit - cursor["emitted"]
            if source["kind"] == "ids":
                ids = source["ids"][cursor["offset"] : cursor["offset"] + self.page_size]
                if not ids:
                    cursor = {**cursor, "i": cursor["i"] + 1, "offset": 0, "next": None, "seen": []}
                    continue
                ids = ids if room is None else ids[:room]
                after = {
                    **cursor,
                    "offset": cursor["offset"] + len(ids),
                    "emitted": cursor["emitted"] + len(ids),
                }
                return Batch([ModelInfo(id=i, siblings=None) for i in ids], need_info=True), after
            max_items = source.get("max")
            if max_items is not None and cursor["offset"] >= max_items:
                cursor = {**cursor, "i": cursor["i"] + 1, "offset": 0, "next": None, "seen": []}
                continue
            if cursor["next"]:
                page = self.upstream.list_page(cursor["next"])
            elif cursor["offset"] == 0:
                size = self.page_size if max_items is None else min(self.page_size, max_items)
                page = self.upstream.list_page(self.upstream.list_url(), first_page_params(source, size))
            else:  # the source's last page is done
                cursor = {**cursor, "i": cursor["i"] + 1, "offset": 0, "next": None, "seen": []}
                continue
            items = page.items
            if max_items is not None:
                items = items[: max(0, max_items - cursor["offset"])]
            if room is not None:
                items = items[:room]
            after = {
                **cursor,
                "offset": cursor["offset"] + len(items),
                "emitted": cursor["emitted"] + len(items),
            }
            if page.next_url and (max_items is None or after["offset"] < max_items):
                seen = list(cursor.get("seen") or ())
                if page.next_url in seen or page.next_url == cursor["next"]:
                    # the upstream's Link pagination runs in a circle: following it would list the
                    # same repositories for ever (the heartbeat stays fresh, so nothing stops it)
                    raise ValueError(
                        f"the upstream's next-page link {page.next_url} was already followed in this "
                        "listing: its pagination loops; the run stops here"
                    )
                after["next"] = page.next_url
                after["seen"] = [*seen[-(SEEN_LINKS - 1) :], page.next_url]
            else:
                after = {**after, "i": cursor["i"] + 1, "offset": 0, "next": None, "seen": []}
            if source.get("descend"):
                after = self._enqueue_children(after, items, source)
            return Batch(items, need_info=False), after
        return None, cursor

    def _enqueue_children(
        self, cursor: dict[str, Any], items: list[ModelInfo], source: dict
    ) -> dict[str, Any]:
        seen = set(cursor.get("seen_parents") or [])
        queue = list(cursor["queue"])
        for item in items:
            if item.id not in seen:
                seen.add(item.id)
                queue.append(descendant_source(item.id, self.selection.tags, depth=source["descend"]))
        return {**cursor, "queue": queue, "seen_parents": sorted(seen)}

    # -- processing ----------------------------------------------------------------------
    def _remember_changed(self, repo_id: str) -> None:
        self.recent_changed[repo_id] = None
        if len(self.recent_changed) > RECENT_CHANGED:
            del self.recent_changed[next(iter(self.recent_changed))]

    def record(self, got: Fetched, outcome: str) -> None:
        if outcome == Outcome.OK:
            if got.repo_id not in self.recent_changed:  # a repeat is work done, not a second change
                self._remember_changed(got.repo_id)
                self.run.changed += 1
            self.run.fetched += got.fetched
            self.run.bytes += got.bytes
            return
        if outcome == Outcome.FAILED:
            self.run.failed += 1
        if len(self.run.errors) < MAX_ERRORS:
            self.run.errors.append({"repo": got.repo_id, "kind": outcome, "error": got.error})

    def start(self, batch: Batch, pool: ThreadPoolExecutor) -> PageWork:
        """Sort a page into unchanged and to-fetch, and start its fetches; no counter moves yet.

        Called while the previous page's last rows are still being written, so the upstream
        stays busy; the page's counters and its unchanged repos are recorded by ``begin`` once the
        previous page is checkpointed (a checkpoint holds the counters as the next page starts).
        """
        items = batch.items
        by_id = {i.id: i for i in items}
        with self.db_lock:
            states = local_states(self.run.upstream, list(by_id))
        page = PageWork(batch, by_id, states)
        work: queue.SimpleQueue[ModelInfo] = queue.SimpleQueue()
        for item in items:
            state = states.get(item.id)
            if not batch.need_info and unchanged(state, item, self.options_key):
                page.same.append(state)
            else:
                page.remaining += 1
                work.put(item)
        # ``max_concurrency`` loops take the page's items from a queue and put each result on the
        # page's queue as it completes: no future, no pool wake-up per item, and results are taken
        # one at a time in completion order (not by a pass over every pending future).
        for _ in range(min(self.concurrency, page.remaining)):
            pool.submit(self._fetch_loop, work, page.events, batch.need_info)
        return page

    def begin(self, page: PageWork) -> None:
        """Count the page as listed and record its unchanged repositories."""
        self.run.listed += len(page.batch.items)
        for state in page.same:
            if state.last_changed_run_id == self.run.pk and state.upstream_id not in self.recent_changed:
                # synced by this run before an interruption (not just now, listed a second time)
                self._remember_changed(state.upstream_id)
                self.run.changed += 1
                self.run.fetched += state.last_fetched
                self.run.bytes += state.last_bytes
        with self.db_lock:
            touch_unchanged(page.same, page.by_id, self.run)

    def pump(self, page: PageWork, *, until_written: bool) -> None:
        """Take the page's results until all are back (or, ``until_written``, all written).

        Results are grouped in batches; a batch's cards are parsed and its small files made durable
        in one step on a blob thread (``prepare_batch``) while this thread keeps taking results and writing the
        rows of earlier batches; a batch's rows are written once its files are durable, in order.
        """
        while page.remaining or (until_written and page.storing):
            try:
                kind, payload = page.events.get(timeout=self.heartbeat_every)
            except queue.Empty:
                self.flush()  # slow upstream: keep the heartbeat going
                continue
            if kind == "fetched":
                page.remaining -= 1
                got: Fetched | None = payload
                if got.moved_from:  # the old id's copy is recorded as moved, whatever the new one's fate
                    page.held.append(moved(got.moved_from, got.repo_id))
                if page.batch.need_info and got.outcome == Outcome.OK:
                    with self.db_lock:
                        current = self._already_current(got)
                    if current:
                        got = None
                if got is not None:
                    page.held.append(got)
                if page.held and (len(page.held) >= BULK_BATCH or not page.remaining):
                    stored = self.blob_writer.submit(prepare_batch, page.held, self.db_lock)
                    stored.add_done_callback(lambda f, q=page.events: q.put(("stored", f)))
                    page.storing.append((stored, page.held))
                    page.held = []
            while page.storing and page.storing[0][0].done():
                stored, ready = page.storing.popleft()
                stored.result()  # blob errors are per repository (outcome FAILED); anything else is raised
                self._write(ready, page.states)
            self.flush()

    def _write(self, ready: list[Fetched], states: dict[str, MirroredRepo]) -> None:
        """Write a batch whose files are durable: new repositories in bulk, the others one by one."""
        fresh: list[Fetched] = []  # new here: written in bulk (see bulk.py)
        for got in ready:
            if got.outcome == Outcome.OK and got.repo_id not in states:
                fresh.append(got)
            else:
                self._apply_one(got)
        if fresh:
            self._apply_bulk(fresh)

    def _apply_one(self, got: Fetched) -> None:
        with self.db_lock:
            outcome = apply(
                got, run=self.run, spec=self.spec, upstream=self.run.upstream, options_key=self.options_key
            )
        self.record(got, outcome)
        self.report()

    def _apply_bulk(self, batch: list[Fetched]) -> None:
        try:
            with self.db_lock:
                imported, rest = import_new(
                    batch,
                    run=self.run,
                    spec=self.spec,
                    upstream=self.run.upstream,
                    options_key=self.options_key,
                )
        except (
            DatabaseError
        ) as exc:  # one bad row sinks the batch: redo it one by one, so only that one fails
            log.warning("bulk import of %d repos failed (%s); writing them one by one", len(batch), exc)
            imported, rest = [], batch
        for got in imported:
            self.record(got, Outcome.OK)
        self.report()
        for got in rest:
            self._apply_one(got)

    def _already_current(self, got: Fetched) -> bool:
        """Explicit ids need a ``model_info`` to learn the sha; an unchanged one stops there."""
        state = local_states(self.run.upstream, [got.repo_id]).get(got.repo_id)
        if got.info is None or not unchanged(state, got.info, self.options_key):
            return False
        if state.last_changed_run_id == self.run.pk:
            self.run.changed += 1
            self.run.fetched += state.last_fetched
            self.run.bytes += state.last_bytes
        touch_unchanged([state], {got.repo_id: got.info}, self.run)
        return True

    def _fetch(self, item: ModelInfo, need_info: bool) -> Fetched:
        try:
            if need_info:  # learn the sha first: an unchanged explicit repo costs one request
                info = self.upstream.model_info(item.id, files_metadata=self.copy.files != "none")
                # renamed upstream: the old id redirects, and the answer is the new repository's. It
                # is synced under its new id; the copy under the old one is recorded as moved
                # (``pump``), instead of staying "up to date" while it no longer follows anything
                moved_from = item.id if renamed(item.id, info.id) else ""
                repo_id = info.id if moved_from else item.id
                with self.db_lock:
                    state = local_states(self.run.upstream, [repo_id]).get(repo_id)
                    current = state is not None and unchanged(state, info, self.options_key)
                if current:
                    got = Fetched(repo_id, Outcome.OK, info=info, sha=(info.sha or "").lower())
                else:
                    got = fetch(self.upstream, info, self.copy, need_info=False, db_lock=self.db_lock)
                got.moved_from = moved_from
                return got
            return fetch(self.upstream, item, self.copy, need_info=False, db_lock=self.db_lock)
        except GatedRepoError as exc:
            return Fetched(item.id, Outcome.NEEDS_ACCESS, info=item, error=_failure_text(exc))
        except RepositoryNotFoundError as exc:
            return Fetched(item.id, Outcome.GONE, error=_failure_text(exc))
        except Exception as exc:
            return Fetched(item.id, Outcome.FAILED, error=_failure_text(exc))

    def _fetch_loop(self, work: queue.SimpleQueue, events: queue.SimpleQueue, need_info: bool) -> None:
        """Fetch the page's items until none is left; every item gets exactly one result."""
        try:
            while True:
                try:
                    item = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    got = self._fetch(item, need_info)
                except BaseException as exc:  # the page waits for one result per item, whatever happens
                    got = Fetched(item.id, Outcome.FAILED, error=_failure_text(exc))
                events.put(("fetched", got))
        finally:
            connections.close_all()  # this thread's connection; the loop's thread keeps its own

    def sweep_gone(self) -> None:
        """After a complete listing, check the spec's repos that were not listed this time."""
        if self.spec is None:
            return
        missing = MirroredRepo.objects.filter(
            spec=self.spec, upstream=self.run.upstream, gone_at__isnull=True
        ).filter(Q(last_seen_run__isnull=True) | ~Q(last_seen_run=self.run))
        for state in missing.iterator():
            try:
                info = self.upstream.model_info(state.upstream_id)
                if not renamed(state.upstream_id, info.id):
                    continue  # still there, only no longer selected: left as it is
                got = moved(state.upstream_id, info.id)  # the old id redirects to the new one
            except GatedRepoError as exc:
                got = Fetched(state.upstream_id, Outcome.NEEDS_ACCESS, error=str(exc)[:500])
            except RepositoryNotFoundError as exc:
                got = Fetched(state.upstream_id, Outcome.GONE, error=str(exc).splitlines()[0][:500])
            except Exception as exc:
                # counted and listed like any repository that keeps failing (its status stays as it
                # was: whether it is gone is not known); the next run's sweep asks again
                log.warning("sweep of %s failed: %s", state.upstream_id, exc)
                self.record(
                    Fetched(state.upstream_id, Outcome.FAILED, error=_failure_text(exc)), Outcome.FAILED
                )
                continue
            self.record(
                got, apply(got, run=self.run, spec=self.spec, upstream=self.run.upstream, options_key="")
            )

    @staticmethod
    @contextlib.contextmanager
    def _long_lived_frozen() -> Iterator[None]:
        """Keep the process's long-lived objects out of the cyclic collector for the run.

        A first import allocates enough to trigger several full collections, and each walked the
        ~120,000 objects of the loaded modules and Django's registries while holding the GIL
        (~80 ms each; the fetch threads wait meanwhile). ``gc.freeze`` moves what exists now to
        the permanent generation and ``gc.unfreeze`` hands it back afterwards, so nothing stays
        exempt beyond the run; reference counting frees everything as before. A process that
        froze its objects itself (e.g. after a fork) is left as it was.
        """
        if gc.get_freeze_count():
            yield
            return
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()

    def go(self) -> MirrorRun:
        cursor = self.load_cursor()
        self.flush(force=True)
        with (
            self._long_lived_frozen(),
            bulk_writes(),
            ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="mirror") as pool,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="mirror-list") as lister,
            ThreadPoolExecutor(max_workers=BLOB_THREADS, thread_name_prefix="mirror-blobs") as blobs,
        ):
            self.blob_writer = blobs
            batch, after = self.next_batch(cursor)
            page = self.start(batch, pool) if batch is not None else None
            while page is not None:
                # list the next page while this one is synced: the listing is pure network work
                upcoming = lister.submit(self.next_batch, copy.deepcopy(after))
                self.begin(page)
                self.pump(page, until_written=False)
                # every fetch of this page is back: start the next page's before writing the last
                # rows of this one, so the upstream is not left idle between pages
                next_batch, next_after = upcoming.result()
                following = self.start(next_batch, pool) if next_batch is not None else None
                self.pump(page, until_written=True)
                cursor = after
                self.checkpoint(cursor)
                page, after = following, next_after
            cursor = after
        if not cursor.get("truncated") and not self.selection.top_n:
            self.sweep_gone()
        self.run.status = MirrorRun.Status.DONE
        self.run.finished_at = timezone.now()
        self.checkpoint(cursor)
        MirrorRun.objects.filter(pk=self.run.pk).update(
            status=self.run.status, finished_at=self.run.finished_at
        )
        return self.run


def execute(run_id: int, *, worker: str | None = None, progress: Callable[[MirrorRun], None] | None = None):
    """Run (or resume) ``run_id`` here; None when another live worker holds it."""
    me = worker or worker_id()
    run = claim(run_id, me)
    if run is None:
        return None
    try:
        return Runner(run, worker=me, progress=progress).go()
    except LeaseLost:
        log.warning("mirror run %s was taken over by another worker", run_id)
        return MirrorRun.objects.get(pk=run_id)
    except Exception as exc:
        log.exception("mirror run %s failed", run_id)
        # the failure may be the database connection itself (killed, server restarted): drop a
        # broken connection so the record of the failure goes through a new one
        close_old_connections()
        MirrorRun.objects.filter(pk=run_id).update(
            status=MirrorRun.Status.FAILED,
            finished_at=timezone.now(),
            error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        run.refresh_from_db()
        return run
