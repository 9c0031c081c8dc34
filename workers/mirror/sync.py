"""Bringing one repository up to date with its upstream, in two halves.

``fetch`` runs in a worker thread and does all the network work: the per-repo
``model_info`` (only when the listing did not say enough), then the chosen files,
verified (sha256 against the LFS oid, git oid against the upstream ``blobId``). Large
files are streamed into the blob store; small ones (READMEs, configs: up to ``HOLD_BYTES``
per repository) are kept in memory and stored with the rest of their batch by
``store_pending``, one durability step for the batch, before any row references them. It
touches the database only to read which contents are already stored, so a re-run or a
resumed run downloads nothing it already has.

``apply`` runs in the run loop's thread and writes everything in one transaction: the
namespace and repository (created on first sight), the blob rows, a commit carrying the
upstream sha, the repository's mirror columns and the ``MirroredRepo`` row. A kill at
any point leaves either the old state or the new one; because the check that skips
unchanged repos compares the stored upstream sha, running it twice writes nothing twice.

Upstream answers that are not failures are kept apart: a gated repository becomes
``needs-access`` (its public metadata is still recorded), a repository that disappeared
keeps its commits and is marked gone rather than deleted.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from huggingface_hub import ModelInfo
from huggingface_hub.errors import (
    DisabledRepoError,
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from hub.blobstore import BlobStoreError, get_blob_store
from hub.models import (
    Blob,
    Commit,
    Namespace,
    Ref,
    RepoFile,
    Repository,
    RevisionAnalysis,
    git_blob_sha1,
    is_reserved_namespace,
    lfs_pointer,
    reserved_message,
)
from hub.services.blobs import mark_storing
from hub.services.cards import card_data_json
from hub.services.commits import (
    MAX_README_FOR_CARD,
    AddFile,
    CommitRequest,
    DeleteFile,
    create_commit,
    refresh_denormalised,
)
from hub.services.errors import BadRequest
from hub.services.paths import validate_path
from hub.services.repos import validate_name
from workers.enqueue import send_on_commit
from workers.mirror.files import CopyOptions, UpstreamFile, choose
from workers.mirror.politeness import UpstreamGivingUp
from workers.mirror.upstream import GIT_OID_RE, FileMismatch, Upstream, sha256_hex, strip_xet, verify_git_oid
from workers.models import MirroredRepo, MirrorRun, MirrorSpec

SHA_RE = GIT_OID_RE  # a commit sha is a 40-hex git object id
METADATA_KEYS = (
    "author", "pipeline_tag", "library_name", "tags", "gated", "private", "disabled", "downloads", "likes",
    "created_at", "last_modified", "base_models", "gguf", "spaces",
)  # fmt: skip


class Outcome:
    OK = "ok"
    UNCHANGED = "unchanged"
    NEEDS_ACCESS = "needs-access"
    GONE = "gone"
    MOVED = "moved"
    FAILED = "failed"


@dataclass
class FetchedFile:
    path: str
    sha256: str
    size: int
    lfs: bool
    git_oid: str | None


#: Bytes of small files one repository's fetch may hold in memory for its batch's ``store_pending``;
#: anything beyond is stored at once, so a page of results in flight stays small (500 × this at most).
HOLD_BYTES = 256 * 1024


@dataclass
class PendingBlob:
    content: bytes
    sha256: str


@dataclass
class Fetched:
    """What a fetch brought back for one repository (or why it could not)."""

    repo_id: str
    outcome: str
    info: ModelInfo | None = None
    sha: str = ""
    #: when its content was refreshed for the garbage collector (``time.monotonic()``)
    marked_at: float = field(default_factory=time.monotonic)
    files: list[FetchedFile] = field(default_factory=list)
    siblings: list[dict] = field(default_factory=list)
    fetched: int = 0
    bytes: int = 0
    error: str = ""
    card: dict[str, Any] | None = None  # the README's metadata (``read_card``), parsed off the write path
    card_json: str | None = None  # ``card`` as JSON text, encoded once (``card_data_json``)
    #: the README's bytes until ``read_card`` has parsed them into ``card``
    readme: bytes | None = None
    #: the id this repository was asked for under, when the upstream answered for it under another
    #: one (renamed: the Hub redirects the old id); that one is recorded as moved here (``moved``)
    moved_from: str = ""
    #: for a MOVED outcome: the id the upstream now serves this repository under
    moved_to: str = ""
    #: the file being fetched, named in the error when the upstream does not serve it
    reading: str = ""
    #: small files fetched but not yet in the blob store: ``store_pending`` writes a whole batch's
    #: with one durability step, before the transaction that references them
    pending: list[PendingBlob] = field(default_factory=list)

    def read_card(self) -> None:
        """Parse the README held by ``fetch`` into ``card`` and ``card_json`` (once; then drop the bytes)."""
        if self.readme is not None:
            self.card, self.card_json = card_data_json(self.readme)
            self.readme = None


def prepare_batch(batch: Sequence[Fetched], db_lock: threading.Lock | None = None) -> None:
    """Everything a batch needs before its rows are written: its cards parsed, its small files stored.

    The cards are parsed here, one after another, rather than in the fetch threads as each README
    arrives: interleaved with the HTTP client's work, the parse cost about twice its cost back to
    back (the parser's code and tables fall out of the CPU caches between cards). See
    docs/BENCHMARKS.md, "Mirroring".
    """
    for got in batch:
        got.read_card()
    store_pending(batch, db_lock)


def store_pending(batch: Sequence[Fetched], db_lock: threading.Lock | None = None) -> None:
    """Put the batch's held-back small files in the blob store, durable, in one ``put_many``.

    Runs before the transaction that writes the rows referencing them (blobs are durable before
    any row points at them). When the batch cannot be stored it is retried repository by
    repository, so only the repositories whose files cannot be stored fail. ``db_lock``: the
    mirror loop's lock, when called from another thread than the one writing rows.
    """
    holders = [got for got in batch if got.pending and got.outcome == Outcome.OK]
    if not holders:
        return
    blobs = [blob for got in holders for blob in got.pending]
    with db_lock or contextlib.nullcontext():
        mark_storing(b.sha256 for b in blobs)  # the whole batch in one statement, before it is stored
    try:
        get_blob_store().put_many([b.content for b in blobs], expected_sha256=[b.sha256 for b in blobs])
    except (BlobStoreError, OSError) as exc:
        if len(holders) > 1:
            for got in holders:
                store_pending([got], db_lock)
            return
        got = holders[0]
        got.outcome, got.error = Outcome.FAILED, _short(exc)
    for got in holders:
        got.pending = []


def renamed(asked: str, answered: str | None) -> bool:
    """The upstream answered for ``asked`` under another id: the repository was renamed (moved).

    The Hub answers a renamed repository's old id with a redirect to the new one, which the client
    follows: the answer is the new repository's, its ``id`` the new id. A difference of case only
    is the same repository (ids are matched without case).
    """
    return bool(answered) and asked.lower() != str(answered).lower()


def moved(old_id: str, new_id: str) -> Fetched:
    """The outcome recorded for a repository the upstream now serves under ``new_id``."""
    return Fetched(
        old_id, Outcome.MOVED, moved_to=new_id,
        error=f"renamed upstream to {new_id}; this copy is kept as it was and no longer follows it",
    )  # fmt: skip


def split_repo_id(repo_id: str) -> tuple[str, str]:
    """``owner/name`` → (owner, name); the registry has no home for legacy one-segment ids."""
    if repo_id.count("/") != 1:
        raise BadRequest(f"{repo_id!r} has no owner/ prefix; the registry keeps namespace/name ids only")
    owner, name = repo_id.split("/")
    try:
        validate_name(owner)
        validate_name(name)
    except BadRequest as exc:
        raise BadRequest(f"{repo_id!r} cannot be a registry id: {exc}") from exc
    if is_reserved_namespace(owner):
        raise BadRequest(f"{repo_id!r} cannot be a registry id: {reserved_message(owner)}")
    return owner, name


def upstream_files(info: ModelInfo) -> list[UpstreamFile]:
    out = []
    for s in info.siblings or []:
        lfs = getattr(s, "lfs", None)
        sha = getattr(lfs, "sha256", None) if lfs is not None else None
        if isinstance(lfs, dict):
            sha = lfs.get("sha256") or lfs.get("oid")
        out.append(UpstreamFile(s.rfilename, getattr(s, "size", None), getattr(s, "blob_id", None), sha))
    return out


def _known_contents(files: list[UpstreamFile]) -> dict[str, tuple[str, int]]:
    """Stored contents matching upstream oids: path → (sha256, size), so nothing is fetched twice."""
    lfs = {f.lfs_sha256 for f in files if f.lfs_sha256}
    regular = {f.blob_id for f in files if f.blob_id and not f.lfs}
    known: dict[str, tuple[str, int]] = {}
    if not lfs and not regular:
        return known
    by_oid: dict[str, tuple[str, int]] = {}
    if regular:
        for oid, sha, size in (
            RepoFile.objects.filter(oid__in=regular, lfs=False)
            .values_list("oid", "sha256", "size")
            .distinct()
        ):
            by_oid[oid] = (sha, size)
    # about to be referenced, not fetched: refreshed first, so the garbage collector spares them
    # from now on, and read after, so content it collected meanwhile is fetched again
    wanted = lfs | {sha for sha, _ in by_oid.values()}
    mark_storing(wanted)
    rows = dict(Blob.objects.filter(sha256__in=wanted).values_list("sha256", "size"))
    blobs = {sha: size for sha, size in rows.items() if sha in lfs}
    by_oid = {oid: hit for oid, hit in by_oid.items() if hit[0] in rows}
    store = get_blob_store()
    for f in files:
        hit = (f.lfs_sha256, blobs[f.lfs_sha256]) if f.lfs_sha256 in blobs else by_oid.get(f.blob_id or "")
        if hit and store.stat(hit[0]) is not None:
            known[f.path] = hit
    return known


def fetch(
    up: Upstream,
    listed: ModelInfo,
    options: CopyOptions,
    *,
    need_info: bool,
    db_lock: threading.Lock | None = None,
) -> Fetched:
    """Network half of a sync; never raises for a single repository's problems.

    ``db_lock`` serialises its one database read with the loop's writes: SQLite (in
    particular the shared-cache in-memory database of the tests) answers a read that
    overlaps a write transaction with "table is locked" instead of waiting.
    """
    repo_id = listed.id
    result = Fetched(repo_id, Outcome.FAILED, info=listed)
    try:
        # what this hub refuses is refused before anything is downloaded (the commit would refuse
        # it after: a wasted fetch, blobs left behind, and the same again on every run)
        split_repo_id(repo_id)
        info = listed
        blob_meta = bool(info.siblings) and any(getattr(s, "blob_id", None) for s in info.siblings)
        wants_blob_meta = options.files != "none" and info.siblings != [] and not blob_meta
        if need_info or wants_blob_meta or info.sha is None or info.siblings is None:
            info = up.model_info(repo_id, revision=listed.sha, files_metadata=options.files != "none")
            if listed.card_data is not None and info.card_data is None:
                info.card_data = listed.card_data
        result.info = info
        sha = (info.sha or "").lower()
        if not SHA_RE.match(sha):
            raise FileMismatch(f"upstream gave no 40-hex commit sha for {repo_id} ({info.sha!r})")
        result.sha = sha
        files = upstream_files(info)
        result.siblings = [f.as_json() for f in files]
        chosen = choose(files, options, card_dict(info) if options.files != "none" else None)
        for f in chosen:
            validate_path(f.path)
        known: dict[str, tuple[str, int]] = {}
        if options.files != "none":
            with db_lock or contextlib.nullcontext():
                known = _known_contents(chosen)
        max_weight = min(options.max_file_size or settings.MAX_FILE_SIZE, settings.MAX_FILE_SIZE)
        held = 0
        # hold small files for the batch only where the store makes a batch durable at once (S3: put now)
        budget = HOLD_BYTES if get_blob_store().batch_durable else -1
        for f in chosen:
            result.reading = f.path
            if f.path in known:
                sha256, size = known[f.path]
                result.files.append(FetchedFile(f.path, sha256, size, f.lfs, None if f.lfs else f.blob_id))
                continue
            if f.lfs:
                stored = up.stream_to_store(
                    repo_id,
                    sha,
                    f.path,
                    expected_sha256=f.lfs_sha256,
                    expected_size=f.size,
                    max_bytes=max_weight,
                )
                result.files.append(FetchedFile(f.path, stored.sha256, stored.size, True, None))
                result.bytes += stored.size
            else:
                cap = (
                    max(options.small_max, f.size or 0)
                    if f.path != "README.md"
                    else settings.MAX_INLINE_FILE_SIZE
                )
                content = up.read_small(
                    repo_id, sha, f.path, max_bytes=min(cap, settings.MAX_INLINE_FILE_SIZE)
                )
                oid = verify_git_oid(f.path, content, f.blob_id)
                if f.path == "README.md" and len(content) <= MAX_README_FOR_CARD:
                    result.readme = content  # parsed with its batch (``prepare_batch``)
                digest = sha256_hex(content)
                if held + len(content) <= budget:  # stored with its batch, just before its rows
                    result.pending.append(PendingBlob(content, digest))  # marked with its batch
                    held += len(content)
                else:
                    with db_lock or contextlib.nullcontext():
                        mark_storing([digest])  # before it is stored (see mark_storing)
                    get_blob_store().put(_bytes_io(content), expected_sha256=digest)
                result.files.append(FetchedFile(f.path, digest, len(content), False, oid))
                result.bytes += len(content)
            result.fetched += 1
        result.outcome = Outcome.OK
    except GatedRepoError as exc:
        result.outcome, result.error = Outcome.NEEDS_ACCESS, _short(exc)
    except (RepositoryNotFoundError, DisabledRepoError) as exc:
        result.outcome, result.error = Outcome.GONE, _short(exc)
    except RevisionNotFoundError as exc:  # upstream moved on since the listing: the next run catches up
        result.outcome, result.error = Outcome.FAILED, _short(exc)
    except EntryNotFoundError as exc:
        # the upstream's own file list names it, its download does not exist: an inconsistent
        # upstream. Said with the file's name (the client's text is only "404 Client Error.")
        result.outcome = Outcome.FAILED
        result.error = (
            f"{result.reading}: listed by the upstream at {result.sha[:12]} but not served (404); "
            f"the revision was not written ({_short(exc)})"
        )[:500]
    except (
        HfHubHTTPError, UpstreamGivingUp, FileMismatch, BlobStoreError, OSError, ValueError,
    ) as exc:  # fmt: skip
        result.outcome, result.error = Outcome.FAILED, _short(exc)
    return result


def _bytes_io(content: bytes):
    import io

    return io.BytesIO(content)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:500]


def metadata_of(info: ModelInfo) -> dict[str, Any]:
    """The upstream facts worth keeping, JSON-safe and free of Xet hints."""
    out: dict[str, Any] = {}
    for key in METADATA_KEYS:
        value = getattr(info, key, None)
        if value is None:
            continue
        out[key] = value.isoformat() if isinstance(value, datetime) else value
    if info.safetensors is not None:
        out["safetensors"] = {"parameters": info.safetensors.parameters, "total": info.safetensors.total}
    return strip_xet(out)


def card_dict(info: ModelInfo | None) -> dict[str, Any]:
    if info is None or info.card_data is None:
        return {}
    try:
        return info.card_data.to_dict()
    except Exception:  # a card the client could not model is still a card; keep what we can
        return {}


class Conflict(Exception):
    """The local id is taken by something that is not a mirror of this upstream repository."""


def _repository_for(upstream: str, repo_id: str, *, create: bool) -> Repository | None:
    owner, name = split_repo_id(repo_id)
    repo = (
        Repository.objects.select_related("namespace")
        .filter(namespace__name__iexact=owner, repo_type=Repository.Type.MODEL, name=name)
        .first()
    )
    source = f"{upstream}/{repo_id}"
    if repo is not None:
        if repo.mirrored_from and repo.mirrored_from.lower() != source.lower():
            raise Conflict(f"{repo_id} is already mirrored from {repo.mirrored_from}")
        if not repo.mirrored_from and repo.head_id is not None:
            raise Conflict(f"{repo_id} is a local repository; it is not overwritten by a mirror")
        return repo
    if not create:
        return None
    namespace = Namespace.objects.filter(name__iexact=owner).first()
    if namespace is None:
        namespace = Namespace.objects.create(name=owner, kind=Namespace.Kind.ORG, display_name=owner)
    elif namespace.user_id is not None:
        raise Conflict(f"{owner} is a local user's namespace; upstream {repo_id} is not mirrored into it")
    return Repository.objects.create(
        namespace=namespace, name=name, repo_type=Repository.Type.MODEL, mirrored_from=source,
        upstream_id=repo_id, mirror_status=Repository.MirrorStatus.PENDING,
    )  # fmt: skip


def _private_here(repo: Repository, upstream: str, repo_id: str, private_upstream: bool) -> bool:
    """Never looser than the upstream, nor than this hub's own operator: private there is private
    here; public there follows the upstream only if the repository was private *because* the
    upstream was (its last recorded upstream state), not when it was made private here."""
    if private_upstream or not repo.private:
        return private_upstream
    last = (
        MirroredRepo.objects.filter(upstream=upstream, upstream_id=repo_id)
        .values_list("metadata", flat=True)
        .first()
    )
    return not bool((last or {}).get("private"))


def _gating_config(card: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in card.items() if k.startswith("extra_gated")}


def listed_gating(info: ModelInfo | None) -> dict[str, Any]:
    """The listed card's ``extra_gated*`` settings, without serialising the whole card when it has none.

    ``CardData`` keeps every front-matter key as an attribute; ``to_dict`` (a deep copy of the whole card)
    is only worth it for the few gated repositories.
    """
    card = info.card_data if info is not None else None
    if card is None or not any(k.startswith("extra_gated") for k in vars(card)):
        return {}
    return _gating_config(card_dict(info))


def _write_commit(repo: Repository, got: Fetched, upstream: str) -> bool:
    """Make the default branch point at the upstream sha; True when a commit was created."""
    Blob.objects.bulk_create(
        [Blob(sha256=f.sha256, size=f.size) for f in got.files], ignore_conflicts=True, batch_size=500
    )
    existing = Commit.objects.filter(repository=repo, sha=got.sha).first()
    if existing is not None:
        # The same upstream revision again: upstream moved back to it, or a spec copies more of
        # its files. The revision keeps its sha and gains the files it lacked.
        altered = _align_files(existing, got)
        moved = repo.head_id != existing.pk
        if moved:
            Ref.objects.update_or_create(
                repository=repo, kind=Ref.Kind.BRANCH, name=repo.default_branch,
                defaults={"commit": existing, "updated_at": timezone.now()},
            )  # fmt: skip
        if moved or altered:
            rows = {
                r.path: {"size": r.size, "oid": r.oid, "lfs": r.lfs, "sha256": r.sha256,
                         "pointer_size": r.pointer_size, "blob": r.blob}
                for r in RepoFile.objects.filter(commit=existing).select_related("blob")
            }  # fmt: skip
            refresh_denormalised(repo, existing, rows)
        if altered:
            _reanalyse(existing)
        return False
    current = set()
    if repo.head_id is not None:
        current = set(RepoFile.objects.filter(commit_id=repo.head_id).values_list("path", flat=True))
    wanted = {f.path for f in got.files}
    ops: list = [AddFile(f.path, f.sha256, f.size, f.lfs, f.git_oid) for f in got.files]
    ops += [DeleteFile(p) for p in sorted(current - wanted)]
    when = got.info.last_modified if got.info is not None else None
    create_commit(
        repo,
        repo.default_branch,
        CommitRequest(
            title=f"Mirror of {got.repo_id}@{got.sha[:12]}", description=f"from {upstream}", operations=ops
        ),
        author_name=(
            got.info.author if got.info is not None and got.info.author else got.repo_id.split("/")[0]
        )[:200],
        sha=got.sha,
        # upstream's date, so revision-aware licence resolution sees when the revision was made (the
        # repository's last_modified follows the head commit's date)
        created_at=when,
    )
    return True


def _align_files(commit: Commit, got: Fetched) -> bool:
    """Add the fetched files ``commit`` lacks; True when anything changed.

    A revision never loses files: its content is fixed by its sha, whichever spec fetched it.
    Removing what a narrower spec did not copy made two overlapping specs (``files: none`` and
    ``all``) rewrite the same revision on every run, and its weights 404 in between. A file whose
    content differs from the fetch (it cannot, for one sha, unless a row was wrong) is replaced.
    """
    current = {r.path: r for r in RepoFile.objects.filter(commit=commit)}
    wanted = {f.path: f for f in got.files}
    doomed = [r.pk for p, r in current.items() if p in wanted and r.sha256 != wanted[p].sha256]
    new = [f for p, f in wanted.items() if p not in current or current[p].sha256 != f.sha256]
    if doomed:
        RepoFile.objects.filter(pk__in=doomed).delete()
    rows = []
    for f in new:
        if f.lfs:
            pointer = lfs_pointer(f.sha256, f.size)
            oid, pointer_size = git_blob_sha1(pointer), len(pointer)
        else:
            oid, pointer_size = f.git_oid or "", None
        rows.append(RepoFile(
            commit=commit, path=f.path, size=f.size, oid=oid, lfs=f.lfs, sha256=f.sha256,
            pointer_size=pointer_size, blob_id=f.sha256,
        ))  # fmt: skip
    RepoFile.objects.bulk_create(rows, batch_size=500)
    return bool(doomed or new)


def _reanalyse(commit: Commit) -> None:
    """The revision's content changed under the same sha: analyse it again (after COMMIT)."""
    from hub.tasks import analyze_revision

    RevisionAnalysis.objects.update_or_create(
        commit=commit, defaults={"status": RevisionAnalysis.Status.PENDING}
    )
    send_on_commit(analyze_revision, commit.pk)  # pending: requeue_pending_analyses re-sends it


def ensure_still_stored(got: Fetched) -> None:
    """Turn ``got`` FAILED if content it will reference may have been collected while it was fetched.

    Its content was refreshed (``mark_storing``) when the fetch began, and the garbage collector
    takes nothing refreshed within ``safe_window()``: a fetch written sooner needs no check. A
    slower one (large weights) refreshes everything again and makes sure each file still has its
    row or its bytes; one that lost content is fetched again on the next run, never written
    pointing at nothing.
    """
    from hub.services.garbage import safe_window

    if got.outcome != Outcome.OK or time.monotonic() - got.marked_at < safe_window():
        return
    shas = {f.sha256 for f in got.files}
    mark_storing(shas)
    rows = set(Blob.objects.filter(sha256__in=shas).values_list("sha256", flat=True))
    store = get_blob_store()
    lost = sorted(sha for sha in shas - rows if store.stat(sha) is None)
    if lost:
        got.outcome = Outcome.FAILED
        got.error = f"{len(lost)} file(s) were garbage-collected during a long fetch; fetched again next run"
    # refreshed just now: the window starts again (a repository the bulk import hands on to
    # ``apply`` is not checked twice)
    got.marked_at = time.monotonic()


def apply(got: Fetched, *, run: MirrorRun, spec: MirrorSpec | None, upstream: str, options_key: str) -> str:
    """Database half of a sync: returns the outcome recorded (may turn OK into FAILED on conflicts)."""
    store_pending([got])  # no-op when the caller stored the batch's files already
    ensure_still_stored(got)
    now = timezone.now()
    info = got.info
    card = card_dict(info)
    try:
        with transaction.atomic():
            repo = _repository_for(
                upstream, got.repo_id, create=got.outcome in (Outcome.OK, Outcome.NEEDS_ACCESS)
            )
            if repo is None:
                return got.outcome  # gone or failed before we ever had it: nothing to mark
            fields: dict[str, Any] = {"mirrored_at": now}
            if got.outcome == Outcome.OK:
                _write_commit(repo, got, upstream)
                fields.update(mirror_status=Repository.MirrorStatus.OK, mirror_error="", upstream_sha=got.sha)
            elif got.outcome == Outcome.NEEDS_ACCESS:
                fields.update(mirror_status=Repository.MirrorStatus.NEEDS_ACCESS, mirror_error=got.error)
                if repo.head_id is None and card:  # show the public metadata until access is granted
                    lic = card.get("license")
                    fields.update(card_data=card, card_license=(lic if isinstance(lic, str) else "")[:100])
            elif got.outcome == Outcome.GONE:  # kept with its commits, marked until it comes back
                fields.update(
                    mirror_status=Repository.MirrorStatus.GONE, mirror_error=f"gone upstream: {got.error}"
                )
            elif got.outcome == Outcome.MOVED:  # kept with its commits; the new id is its own repository
                fields.update(mirror_status=Repository.MirrorStatus.MOVED, mirror_error=got.error)
            else:
                fields.update(mirror_status=Repository.MirrorStatus.FAILED, mirror_error=got.error)
            private = repo.private
            if info is not None and got.outcome in (Outcome.OK, Outcome.NEEDS_ACCESS):
                gated = info.gated if isinstance(info.gated, str) else ""
                fields.update(
                    downloads=info.downloads or 0, likes=info.likes or 0, gated=gated,
                    gating_config=_gating_config(card), disabled=bool(info.disabled),
                )  # fmt: skip
                private = _private_here(repo, upstream, got.repo_id, bool(info.private))
            Repository.objects.filter(pk=repo.pk).update(**fields)
            if private != repo.private:
                repo.private = private
                repo.save(update_fields=["private"])  # whose save re-judges the descendants
            state_defaults: dict[str, Any] = {"repository": repo, "spec": spec, "updated_at": now}
            if got.outcome == Outcome.OK:
                state_defaults.update(
                    upstream_sha=got.sha, last_changed_run=run, last_fetched=got.fetched, last_bytes=got.bytes,
                    siblings=got.siblings, gone_at=None,
                    metadata={**(metadata_of(info) if info else {}), "_options": options_key},
                    upstream_last_modified=info.last_modified if info else None,
                )  # fmt: skip
            elif got.outcome == Outcome.NEEDS_ACCESS and info is not None:
                state_defaults.update(metadata=metadata_of(info), gone_at=None)
            elif got.outcome == Outcome.GONE:
                state_defaults["gone_at"] = now
            elif got.outcome == Outcome.MOVED:
                last = MirroredRepo.objects.filter(upstream=upstream, upstream_id=got.repo_id).first()
                state_defaults.update(
                    gone_at=(last.gone_at if last is not None and last.gone_at else now),
                    metadata={**(last.metadata if last is not None else {}), "moved_to": got.moved_to},
                )
            state_defaults["last_seen_run"] = (
                run if got.outcome not in (Outcome.GONE, Outcome.MOVED) else None
            )
            if spec is None:
                state_defaults.pop("spec")
            MirroredRepo.objects.update_or_create(
                upstream=upstream, upstream_id=got.repo_id, defaults=state_defaults
            )
    except (Conflict, BadRequest) as exc:
        got.outcome, got.error = Outcome.FAILED, _short(exc)
    except Exception as exc:  # a commit the hub refused (caps, paths): this repo fails, the run goes on
        got.outcome, got.error = Outcome.FAILED, _short(exc)
    return got.outcome


def local_states(upstream: str, repo_ids: list[str]) -> dict[str, MirroredRepo]:
    """Mirror state of the listed repositories, for the unchanged fast path (one query per page)."""
    if not repo_ids:
        return {}
    rows = (
        MirroredRepo.objects.filter(upstream=upstream, upstream_id__in=repo_ids)
        .select_related("repository")
        .only(  # what the fast path reads; the big JSON columns stay in the database
            "upstream_id", "upstream_sha", "metadata", "last_changed_run", "last_fetched", "last_bytes",
            "repository__upstream_sha", "repository__mirror_status", "repository__downloads", "repository__likes",
        )
    )  # fmt: skip
    return {r.upstream_id: r for r in rows}


def unchanged(state: MirroredRepo | None, listed: ModelInfo, options_key: str) -> bool:
    """Nothing to do for this repository: same revision, same options, and the same access rules.

    Gating and visibility change upstream without a commit; comparing the sha alone left a
    repository gated (or made private) upstream downloadable by anyone here, on every later run.
    """
    if state is None or not listed.sha:
        return False
    repo = state.repository
    meta = state.metadata or {}
    return (
        state.upstream_sha == listed.sha.lower()
        and repo.upstream_sha == state.upstream_sha
        and repo.mirror_status == Repository.MirrorStatus.OK
        and meta.get("_options") == options_key
        and meta.get("gated", False) == (listed.gated if listed.gated is not None else False)
        and bool(meta.get("private", False)) == bool(listed.private)
    )


def touch_unchanged(states: list[MirroredRepo], listed: dict[str, ModelInfo], run: MirrorRun) -> None:
    """Record that unchanged repos were seen; refresh counters that move without a commit."""
    if not states:
        return
    MirroredRepo.objects.filter(pk__in=[s.pk for s in states]).filter(
        Q(last_seen_run__isnull=True) | ~Q(last_seen_run=run)
    ).update(last_seen_run=run)
    stale = []
    for s in states:
        info = listed[s.upstream_id]
        repo = s.repository
        downloads, likes = info.downloads, info.likes
        if (downloads is not None and downloads != repo.downloads) or (
            likes is not None and likes != repo.likes
        ):
            repo.downloads = downloads if downloads is not None else repo.downloads
            repo.likes = likes if likes is not None else repo.likes
            stale.append(repo)
    if stale:
        Repository.objects.bulk_update(stale, ["downloads", "likes"], batch_size=500)
