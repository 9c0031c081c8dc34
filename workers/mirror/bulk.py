"""First import of many new repositories at once: the same rows as one-by-one, written in bulk.

A first pass over a large upstream is almost entirely *new* repositories, and writing
each through ``create_commit`` costs a transaction (an fsync on SQLite) and ~25 queries
per repository — about 20× the cost of fetching its card. For repositories that do not
exist locally yet there is no parent, no branch to lock and nothing to diff, so the
rows ``create_commit`` + ``refresh_denormalised`` would write (Repository with its
denormalised card columns, Commit carrying the upstream sha, RepoFile listing, the
``main`` Ref, RepoTags, a pending RevisionAnalysis whose task is enqueued after COMMIT)
are written here with a handful of bulk INSERTs per batch, from the same building blocks
(``card_data``, ``derive_tags``, ``lfs_pointer``, ``validate_path``). Repositories that
exist already — changed upstream, or colliding with a local one — go through the
ordinary path in ``sync.apply``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Lower
from django.utils import timezone

from hub.models import (
    Blob,
    Commit,
    Namespace,
    Ref,
    RepoFile,
    Repository,
    RepoTag,
    RevisionAnalysis,
    git_blob_sha1,
    lfs_pointer,
)
from hub.services.cards import derive_tags
from hub.services.errors import BadRequest
from hub.services.paths import validate_path
from workers.enqueue import send_on_commit
from workers.mirror.rows import JSONText, insert
from workers.mirror.sync import (
    Fetched,
    Outcome,
    ensure_still_stored,
    listed_gating,
    metadata_of,
    prepare_batch,
    split_repo_id,
)
from workers.models import MirroredRepo, MirrorRun, MirrorSpec

#: Revisions per analysis message: a first import enqueues thousands; one message each costs
#: more than writing the rows (Celery's publish is ~5 ms of CPU), and a first import of thousands still
#: spreads its chunks over every analysis worker.
ANALYSIS_CHUNK = 100


class NamespaceRow(NamedTuple):
    """The three columns of a namespace the import reads (model instances cost more than the rows)."""

    pk: int
    name: str
    user_id: int | None


def _namespaces(owners: set[str]) -> dict[str, NamespaceRow]:
    """Existing namespaces by lower-cased name (names are unique case-insensitively)."""
    rows = (
        Namespace.objects.annotate(lname=Lower("name"))
        .filter(lname__in=owners)
        .values_list("pk", "name", "user_id")
    )
    return {name.lower(): NamespaceRow(pk, name, user_id) for pk, name, user_id in rows}


def _first_license(meta: dict) -> str:
    lic = meta.get("license")
    return (lic if isinstance(lic, str) else (lic[0] if isinstance(lic, list) and lic else ""))[:100]


def _file_row(commit_id: int, f) -> dict:
    if f.lfs:
        pointer = lfs_pointer(f.sha256, f.size)
        oid, pointer_size = git_blob_sha1(pointer), len(pointer)
    else:
        oid, pointer_size = f.git_oid or "", None
    return dict(
        commit_id=commit_id, path=f.path, size=f.size, oid=oid, lfs=f.lfs, sha256=f.sha256,
        pointer_size=pointer_size, blob_id=f.sha256,
    )  # fmt: skip


def import_new(
    batch: Sequence[Fetched], *, run: MirrorRun, spec: MirrorSpec | None, upstream: str, options_key: str
) -> tuple[list[Fetched], list[Fetched]]:
    """Write the repositories of ``batch`` that are new here; returns (imported, left for one-by-one)."""
    from workers.tasks import analyze_commits

    prepare_batch(batch)  # cards parsed, blobs durable before any row references them (no-op when done)
    candidates: dict[tuple[str, str], Fetched] = {}
    rest: list[Fetched] = []
    for got in batch:
        ensure_still_stored(got)
        if got.outcome != Outcome.OK:  # its files could not be stored
            rest.append(got)
            continue
        try:
            owner, name = split_repo_id(got.repo_id)
            if got.card_json is None:  # NaN/Infinity in a card: let the careful path judge
                json.dumps(got.card or {}, allow_nan=False)
            for f in got.files:
                validate_path(f.path)
                if f.size > settings.MAX_FILE_SIZE:
                    raise BadRequest(f"{f.path} is larger than the hub's per-file limit")
        except (BadRequest, ValueError):
            rest.append(got)  # the one-by-one path reports it
            continue
        key = (owner.lower(), name)
        if key in candidates:
            rest.append(got)
        else:
            candidates[key] = got
    if not candidates:
        return [], rest
    now = timezone.now()
    with transaction.atomic():
        owners = {owner for owner, _ in candidates}
        namespaces = _namespaces(owners)
        missing = sorted(owners - set(namespaces))
        if missing:
            display = {owner: got.repo_id.split("/")[0] for (owner, _), got in candidates.items()}
            insert(
                Namespace,
                [dict(name=display[o], kind=Namespace.Kind.ORG, display_name=display[o]) for o in missing],
                ignore_conflicts=True,
            )
            namespaces = _namespaces(owners)
        taken = set(
            Repository.objects.filter(
                namespace_id__in=[ns.pk for ns in namespaces.values()],
                name__in={name for _, name in candidates},
            ).values_list("namespace_id", "name")
        )
        fresh: list[tuple[Fetched, NamespaceRow, str]] = []
        for (owner, name), got in candidates.items():
            ns = namespaces.get(owner)
            if ns is None or ns.user_id is not None or (ns.pk, name) in taken:
                rest.append(got)  # a user's namespace or an existing repository: the careful path decides
            else:
                fresh.append((got, ns, name))
        if not fresh:
            return [], rest
        blobs = {f.sha256: f.size for got, _, _ in fresh for f in got.files}
        insert(Blob, [{"sha256": k, "size": v} for k, v in blobs.items()], ignore_conflicts=True)
        repo_rows: list[dict] = []
        for got, ns, name in fresh:
            info = got.info
            meta = got.card or {}
            when: datetime = ((info.last_modified if info is not None else None) or now).replace(
                microsecond=0
            )
            gated = info.gated if info is not None and isinstance(info.gated, str) else ""
            repo_rows.append(
                dict(
                    namespace_id=ns.pk, name=name, repo_type=Repository.Type.MODEL, created_at=now, updated_at=now,
                    last_modified=when, card_data=JSONText(got.card_json) if got.card_json is not None else meta, library_name=str(meta.get("library_name") or "")[:100],
                    pipeline_tag=str(meta.get("pipeline_tag") or "")[:100], card_license=_first_license(meta),
                    downloads=(info.downloads or 0) if info else 0, likes=(info.likes or 0) if info else 0,
                    gated=gated, gating_config=listed_gating(info), private=bool(info.private) if info else False,
                    disabled=bool(info.disabled) if info else False, mirrored_from=f"{upstream}/{got.repo_id}",
                    upstream_id=got.repo_id, upstream_sha=got.sha, mirror_status=Repository.MirrorStatus.OK,
                    mirrored_at=now,
                )
            )  # fmt: skip
        repo_ids = insert(Repository, repo_rows, returning=True)
        commit_ids = insert(
            Commit,
            [
                dict(
                    repository_id=rid, sha=got.sha, title=f"Mirror of {got.repo_id}@{got.sha[:12]}",
                    message=f"from {upstream}", author_name=((got.info.author if got.info else "") or ns.name)[:200],
                    created_at=row["last_modified"],
                )
                for rid, row, (got, ns, _) in zip(repo_ids, repo_rows, fresh, strict=True)
            ],
            returning=True,
        )  # fmt: skip
        insert(
            RepoFile,
            [
                _file_row(cid, f)
                for cid, (got, _, _) in zip(commit_ids, fresh, strict=True)
                for f in got.files
            ],
        )
        branch = Repository._meta.get_field("default_branch").get_default()
        insert(
            Ref,
            [
                dict(repository_id=rid, kind=Ref.Kind.BRANCH, name=branch, commit_id=cid, updated_at=now)
                for rid, cid in zip(repo_ids, commit_ids, strict=True)
            ],
        )
        # one UPDATE: each new repository has exactly one commit, its head
        Repository.objects.filter(pk__in=repo_ids).update(
            head=Subquery(Commit.objects.filter(repository=OuterRef("pk")).values("pk")[:1])
        )
        insert(
            RepoTag,
            [
                dict(repository_id=rid, tag=t, position=i)
                for rid, (got, _, _) in zip(repo_ids, fresh, strict=True)
                for i, t in enumerate(derive_tags(got.card or {}, [f.path for f in got.files]))
            ],
        )
        insert(RevisionAnalysis, [dict(commit_id=cid) for cid in commit_ids])
        insert(
            MirroredRepo,
            [
                dict(
                    repository_id=rid, spec_id=spec.pk if spec else None, upstream=upstream, upstream_id=got.repo_id,
                    upstream_sha=got.sha, upstream_last_modified=got.info.last_modified if got.info else None,
                    metadata={**(metadata_of(got.info) if got.info else {}), "_options": options_key},
                    siblings=got.siblings, last_seen_run_id=run.pk, last_changed_run_id=run.pk,
                    last_fetched=got.fetched, last_bytes=got.bytes, updated_at=now,
                )
                for rid, (got, _, _) in zip(repo_ids, fresh, strict=True)
            ],
        )  # fmt: skip
        ids = commit_ids
        for start in range(0, len(ids), ANALYSIS_CHUNK):
            # the rows above are pending analyses: hub.requeue_pending_analyses re-sends a lost chunk's
            send_on_commit(analyze_commits, ids[start : start + ANALYSIS_CHUNK])
    for got, _, _ in fresh:
        got.outcome = Outcome.OK
    return [got for got, _, _ in fresh], rest
