"""Re-judging many repositories' violations at once, when a parent's licence changed.

A parent's relicensing changes only what the violation rules see of the parents; the
child's own licence, card facts, transparency and weight scans are untouched. So instead
of a full analysis per descendant (file scan, classification, transparency …) a chunk of
descendants is re-evaluated rules-only, in a fixed number of queries:

1. the heads, their stored analyses, file lists and weight-scan rows, in bulk;
2. the small texts the rules read (card, licence and notice files, configs), from the
   blob store, and the card's front matter parsed again (not stored: it can be large);
3. every parent named by the chunk resolved in bulk (``PrefetchedResolver``), as of each
   child's date, then the bundled table;
4. the context rebuilt with the *stored* licence finding, data disclosure and scans, the
   rules run, and the analysis' ``lineage``/``violations``/counts, the graph's edges and
   the violation rows written back (``sync_violations_many``: same semantics as one
   analysis).

A head without a finished analysis of that very commit has nothing to rebuild from; it
gets the full analysis instead. The result is the same as a full re-analysis with the
same engine (the tests compare both paths on the same data).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from hub.blobstore import BlobNotFound, get_blob_store
from hub.models import Commit, FileScan, RepoFile, Repository, RevisionAnalysis
from licenses.engine.analyze import lineage_of
from licenses.engine.basemodels import BundledBaseModels
from licenses.engine.frontmatter import FrontMatter, parse_front_matter
from licenses.engine.kb import default_kb
from licenses.engine.lineage import ChainResolver, base_model_refs
from licenses.engine.rules import build_context, evaluate_violations
from licenses.engine.rules.context import child_date, output_source_ids
from licenses.engine.snapshot import decode_capped, text_cap
from licenses.engine.types import Evidence, LicenseFinding, RepoSnapshot
from licenses.services.bulk_resolver import PrefetchedResolver
from licenses.services.bulk_update import update_json_keys
from licenses.services.lineage import descendant_heads, record_lineage_many
from licenses.services.violations import FindingsOf, sync_violations_many

log = logging.getLogger(__name__)

CHUNK_SIZE = 500  # descendants per task: ~10 queries and a few seconds of CPU each


@dataclass
class ChunkOutcome:
    """What one chunk did: counts for logs and the benchmark, ids for notifications."""

    evaluated: int = 0
    changed: int = 0
    full: list[int] = field(default_factory=list)  # head commits sent to a full analysis
    new_error_ids: list[int] = field(default_factory=list)


def plan_chunks(repo_id: str, chunk_size: int = CHUNK_SIZE) -> list[list[int]]:
    """Repository pks of every registry descendant of ``repo_id``, parents first, in chunks.

    Order does not change the outcome (re-evaluation never changes a descendant's own
    licence, which is all a child reads of its parent), but nearest-first lets a single
    worker finish the most-affected models first.
    """
    ids = [head.repository_id for head in descendant_heads(repo_id)]
    return [ids[i : i + chunk_size] for i in range(0, len(ids), chunk_size)]


def finding_from_dict(data: Mapping[str, Any]) -> LicenseFinding:
    """The stored ``license`` object back as the classifier's ``LicenseFinding``."""
    return LicenseFinding(
        key=str(data.get("key") or "unknown"),
        license_class=str(data.get("class") or "unknown"),
        spdx=data.get("spdx"),
        commercial_use=str(data.get("commercial_use") or "unknown"),
        confidence=float(data.get("confidence") or 0.0),
        evidence=tuple(
            Evidence(str(e.get("source")), str(e.get("detail"))) for e in data.get("evidence") or []
        ),
        conflicts=tuple(dict(c) for c in data.get("conflicts") or []),
        name=data.get("name"),
        reason=data.get("reason"),
    )


@dataclass
class _Head:
    repo: Repository
    commit: Commit
    analysis: RevisionAnalysis
    files: dict[str, int] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    scan: list[dict[str, Any]] = field(default_factory=list)
    front: FrontMatter | None = None
    snapshot: RepoSnapshot | None = None


def _load(repo_ids: Iterable[int]) -> tuple[list[_Head], list[int]]:
    """Heads with a finished analysis of the head commit, and head commits that have none."""
    heads: list[_Head] = []
    full: list[int] = []
    repos = Repository.objects.filter(pk__in=list(repo_ids), head__isnull=False).select_related(
        "namespace", "head", "latest_analysis"
    )
    for repo in repos.order_by("pk"):
        analysis = repo.latest_analysis
        if (
            analysis is None
            or analysis.commit_id != repo.head_id
            or analysis.status != RevisionAnalysis.Status.DONE
            or not isinstance(analysis.result, dict)
        ):
            full.append(repo.head_id)
            continue
        heads.append(_Head(repo, repo.head, analysis))
    by_commit = {h.commit.pk: h for h in heads}
    store = get_blob_store()
    blobs: dict[tuple[str, int], str] = {}  # identical small files (same blob, same cap) decoded once
    rows = (
        RepoFile.objects.filter(commit_id__in=list(by_commit))
        .order_by("commit_id", "pk")  # texts in the order a single analysis reads them (rows as stored)
        .values_list("commit_id", "path", "size", "sha256")
    )
    for commit_id, path, size, sha256 in rows:
        head = by_commit[commit_id]
        head.files[path] = size
        cap = text_cap(path)
        if not cap:
            continue
        if (sha256, cap) not in blobs:
            try:
                with store.open(sha256) as fh:
                    blobs[(sha256, cap)] = decode_capped(fh.read(cap + 1), cap, size)[0]
            except BlobNotFound:
                continue  # the full analysis recorded this as a card problem
        head.texts[path] = blobs[(sha256, cap)]
    scans = FileScan.objects.filter(commit_id__in=list(by_commit)).order_by("commit_id", "path")
    for s in scans.values_list("commit_id", "path", "contains_pickle", "dangerous_imports", "scanner"):
        by_commit[s[0]].scan.append(
            {"path": s[1], "contains_pickle": s[2], "dangerous": s[3], "scanner": s[4]}
        )
    for head in heads:
        head.front = parse_front_matter(head.texts.get("README.md") or "")
        head.snapshot = RepoSnapshot(
            id=head.repo.repo_id,
            files=dict(sorted(head.files.items())),
            texts=head.texts,
            created_at=head.repo.created_at,
            last_modified=head.commit.created_at,
            sha=head.commit.sha,
        )
    return heads, full


def _parent_requests(heads: list[_Head]) -> set[tuple[str, Any]]:
    """Every (model id, date) the rules' context will ask the resolver about."""
    wanted: set[tuple[str, Any]] = set()
    for head in heads:
        as_of = child_date(head.snapshot)
        metadata = head.front.metadata or {}
        for ref in base_model_refs(metadata, head.snapshot):
            wanted.add((ref.id, as_of))
        for name in output_source_ids(head.front.body or ""):
            if "/" in name:
                wanted.add((name, as_of))
    return wanted


def reevaluate_repositories(
    repo_ids: Iterable[int], follow_up: Callable[[ChunkOutcome], None] | None = None
) -> ChunkOutcome:
    """Re-run the violation rules for the heads of ``repo_ids`` and store what they find.

    ``follow_up`` is called with the outcome inside the transaction that writes it, so the work it
    enqueues (outbox rows) commits with the verdicts that need it.
    """
    outcome = ChunkOutcome()
    heads, outcome.full = _load(repo_ids)
    kb = default_kb()
    resolver = ChainResolver(PrefetchedResolver(_parent_requests(heads)), BundledBaseModels.load())
    changed: list[RevisionAnalysis] = []
    relinked: list[tuple[Repository, list[dict[str, Any]]]] = []
    synced: list[FindingsOf] = []
    for head in heads:
        result = head.analysis.result
        data = result.get("data") or {}
        ctx = build_context(
            head.snapshot,
            head.front,
            finding_from_dict(result.get("license") or {}),
            resolver,
            datasets=data.get("dataset_licenses") or (),
            scan=head.scan,
            kb=kb,
        )
        violations = [v.to_dict() for v in evaluate_violations(ctx)]
        lineage = lineage_of(ctx)
        if lineage != result.get("lineage"):
            relinked.append((head.repo, lineage["base_models"]))
        if violations != result.get("violations") or lineage != result.get("lineage"):
            result["violations"], result["lineage"] = violations, lineage
            head.analysis.n_errors = sum(1 for v in violations if v.get("severity") == "error")
            head.analysis.n_warnings = sum(1 for v in violations if v.get("severity") == "warning")
            changed.append(head.analysis)
        synced.append(FindingsOf(head.repo, head.commit, violations))
    with transaction.atomic():
        # A commit that landed meanwhile is being (or was) analysed in full: leave those repositories to it.
        heads_now = dict(
            Repository.objects.select_for_update()
            .filter(pk__in=[h.repo.pk for h in heads])
            .order_by("pk")
            .values_list("pk", "head_id")
        )
        stale = [h for h in heads if heads_now.get(h.repo.pk) != h.commit.pk]
        if stale:
            gone_repos, gone_commits = {h.repo.pk for h in stale}, {h.commit.pk for h in stale}
            changed = [a for a in changed if a.commit_id not in gone_commits]
            relinked = [r for r in relinked if r[0].pk not in gone_repos]
            synced = [f for f in synced if f.repository.pk not in gone_repos]
        update_json_keys(
            RevisionAnalysis, changed, "result", ["violations", "lineage"], ["n_errors", "n_warnings"]
        )
        if relinked:
            record_lineage_many(relinked)
        results = sync_violations_many(synced)
        outcome.evaluated = len(synced)
        outcome.changed = len(changed)
        outcome.new_error_ids = [v.pk for r in results.values() for v in r.new_errors]
        if follow_up is not None:
            follow_up(outcome)
    return outcome
