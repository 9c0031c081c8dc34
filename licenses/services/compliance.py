"""Compliance checks on the server: registry models (or uploaded cards) judged against a policy.

The judgement itself is the engine's ``evaluate_model``; this module only finds what to
judge — the stored analysis of the requested revision, the repository's open
violations, its lineage, its weight-scan facts — and answers in the contract's shape.
A model the caller cannot see is reported exactly like one the registry does not hold.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from hub.models import Commit, FileScan, Ref, Repository, RevisionAnalysis
from hub.services.access import visible_repositories
from hub.services.errors import RevisionNotFound
from hub.services.repos import find_by_ids
from hub.services.revisions import resolve_revision
from licenses.engine.analyze import analyze_snapshot
from licenses.engine.policy import Policy, evaluate_model, unknown_model_decision
from licenses.engine.types import RepoSnapshot
from licenses.models import Violation
from licenses.services.compliance_lookup import HeadFacts, fetch_heads, open_violations, scan_facts
from licenses.services.lineage import (
    MAX_DEPTH,
    GraphNode,
    Walk,
    ancestors_many,
    cut,
    hidden_from,
    inherited_licences,
    model_ref,
    parent_ids,
)
from licenses.services.policy_cache import compile_policy, current_version, pinned_version
from licenses.services.violations import as_triaged

MAX_MODELS = 500
MAX_CARD_BYTES = 1024 * 1024
OPEN_STATUSES = (Violation.Status.OPEN, Violation.Status.ACKNOWLEDGED)


class ComplianceRequestError(ValueError):
    """The request cannot be answered as asked; ``code`` is the stable error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ModelSpec:
    id: str
    revision: str | None = None
    card: str | None = None  # README text for a model the registry does not hold


def parse_model_specs(raw: Any) -> list[ModelSpec]:
    """Accept ``"org/name"``, ``{"id", "revision"}`` and ``{"id", "card"}`` entries."""
    if not isinstance(raw, list) or not raw:
        raise ComplianceRequestError("invalid-request", "`models` must be a non-empty list")
    if len(raw) > MAX_MODELS:
        raise ComplianceRequestError("too-many-models", f"at most {MAX_MODELS} models per check")
    specs = []
    for i, item in enumerate(raw):
        if isinstance(item, str) and item.strip():
            specs.append(ModelSpec(item.strip()))
        elif isinstance(item, Mapping) and isinstance(item.get("id"), str) and item["id"].strip():
            revision, card = item.get("revision"), item.get("card")
            if revision is not None and not isinstance(revision, str):
                raise ComplianceRequestError("invalid-request", f"models[{i}].revision must be a string")
            if card is not None and (not isinstance(card, str) or len(card.encode()) > MAX_CARD_BYTES):
                raise ComplianceRequestError(
                    "invalid-request",
                    f"models[{i}].card must be README text of at most {MAX_CARD_BYTES} bytes",
                )
            specs.append(ModelSpec(item["id"].strip(), revision, card))
        else:
            raise ComplianceRequestError("invalid-request", f"models[{i}] must be an id or {{'id': ...}}")
    return specs


_PINNED = re.compile(r"([^@\s]+)@v([0-9]{1,9})")


def resolve_policy(raw: Any) -> tuple[Policy, str]:
    """A stored policy by name (its newest version), by ``name@vN`` (that version: a CI job can
    pin the version it was reviewed against), or an inline policy document.

    Compiled policies come from ``policy_cache`` (keyed by the document, so never stale).
    """
    if isinstance(raw, str):
        pinned = _PINNED.fullmatch(raw.strip())
        if pinned is not None:  # "name@vN", as every answer names the version it was judged by
            name, version = pinned.group(1), int(pinned.group(2))
            document = pinned_version(name, version)
            if document is None:
                raise ComplianceRequestError(
                    "unknown-policy", f"no policy named {name!r} with a version {version}"
                )
            return compile_policy(document, stored=True), f"{name}@v{version}"
        current = current_version(raw)
        if current is None:
            raise ComplianceRequestError("unknown-policy", f"no policy named {raw!r}")
        version, document = current
        return compile_policy(document, stored=True), f"{raw}@v{version}"
    if isinstance(raw, Mapping):
        policy = compile_policy(raw)  # PolicyError says which field is wrong
        return policy, policy.name
    raise ComplianceRequestError("invalid-request", "`policy` must be a policy name or a policy document")


def _find_repositories(user, model_ids: Iterable[str]) -> dict[str, Repository]:
    """Visible model repositories by lower-cased id, in one indexed query."""
    visible = visible_repositories(user, Repository.Type.MODEL).select_related(
        "head", "latest_analysis__commit"
    )
    return find_by_ids(visible, model_ids)


def _find_commit(repo: Repository, revision: str | None) -> Commit | None:
    """The commit a revision names, exactly as the hub's own API resolves it (a branch before a
    tag of the same name, ``refs/tags/…``, a unique sha prefix); None when it names none. A ref
    looked up by name alone answered whichever of a same-named tag, branch or pull request the
    database returned first (a pull request's ref is named by its number: ``revision: "1"``)."""
    try:
        return resolve_revision(repo, revision)
    except RevisionNotFound:
        return repo.head if revision is None else None


class _Prefetched:
    """Everything a batch of registry checks needs, fetched with a fixed number of queries.

    Checking 50 models must not cost 300 queries: repositories, default-branch refs,
    analyses, open violations, scan facts and ancestors each come in one query for the
    whole request; only revisions that are not a branch name fall back to a lookup each.
    """

    def __init__(self, user, specs: list[ModelSpec]) -> None:
        self.user = user
        self.repos = _find_repositories(user, [s.id for s in specs])
        repo_ids = [r.pk for r in self.repos.values()]
        self.commits: dict[tuple[str, str | None], Commit | None] = {}
        self.analyses: dict[int, RevisionAnalysis] = {}
        pinned = []
        for spec in specs:
            repo = self.repos.get(spec.id.lower())
            if repo is None:
                continue
            head = repo.latest_analysis
            if (
                head is not None
                and head.commit_id == repo.head_id
                and spec.revision in (None, repo.default_branch, head.commit.sha)
            ):
                # the common case: the default branch's head (by name, or by its sha as check results
                # carry it), whose analysis the repository row points at
                self.commits[(spec.id.lower(), spec.revision)] = head.commit
                self.analyses[head.commit_id] = head
            else:
                pinned.append((spec, repo))
        if pinned:
            names = {spec.revision or repo.default_branch for spec, repo in pinned}
            # branches and tags by name in one query, a branch before a tag of the same name (as the
            # hub resolves them); shas, ``refs/…`` and the rest one lookup each
            refs: dict[tuple[int, str], Commit] = {}
            for ref in (
                Ref.objects.filter(
                    repository_id__in=[r.pk for _, r in pinned],
                    name__in=names,
                    kind__in=(Ref.Kind.BRANCH, Ref.Kind.TAG),
                )
                .select_related("commit")
                .order_by("kind")  # "branch" < "tag": the branch is kept
            ):
                refs.setdefault((ref.repository_id, ref.name), ref.commit)
            for spec, repo in pinned:
                commit = refs.get((repo.pk, spec.revision or repo.default_branch)) or _find_commit(
                    repo, spec.revision
                )
                self.commits[(spec.id.lower(), spec.revision)] = commit
            missing = [c.pk for c in self.commits.values() if c is not None and c.pk not in self.analyses]
            self.analyses.update(
                {a.commit_id: a for a in RevisionAnalysis.objects.filter(commit_id__in=missing)}
            )
        commit_ids = [c.pk for c in self.commits.values() if c is not None]
        self.violations: dict[int, list[dict[str, Any]]] = defaultdict(list)
        rows = Violation.objects.filter(repository_id__in=repo_ids, status__in=OPEN_STATUSES).order_by(
            "severity", "rule"
        )
        for v in rows:
            self.violations[v.repository_id].append(v.to_dict())
        self.scans: dict[int, dict[str, list[str]]] = defaultdict(
            lambda: {"pickle_files": [], "dangerous_files": []}
        )
        for scan in FileScan.objects.filter(commit_id__in=commit_ids).only(
            "commit_id", "path", "contains_pickle", "dangerous_imports"
        ):
            if scan.contains_pickle:
                self.scans[scan.commit_id]["pickle_files"].append(scan.path)
            if scan.dangerous_imports:
                self.scans[scan.commit_id]["dangerous_files"].append(scan.path)
        walked = ancestors_many((r.repo_id for r in self.repos.values()), MAX_DEPTH + 1)  # + the peek
        self.ancestors = {key: cut(nodes) for key, nodes in walked.items()}
        self._older_revisions(user)
        self.upstream = upstream_findings(
            user,
            {
                key: self.walk(key[0], commit.pk).nodes
                for key, commit in self.commits.items()
                if commit is not None
            },
        )

    def walk(self, key: str, commit_id: int) -> Walk:
        """The ancestors answered for a revision: its own declared ancestry, or the graph's (head)."""
        return self.lineage.get(commit_id, self.ancestors.get(key, Walk([])))

    def _older_revisions(self, user) -> None:
        """What a revision other than the head says for itself: its own findings (the queue's rows
        describe the head) and the ancestry its own card declares (the graph is the head's).

        Those findings were written when the revision was analysed and are not re-judged when a
        parent later turns private (the queue's rows are): a finding that names a model the caller
        may not see now is left out, or it would tell that model's licence.
        """
        self.findings: dict[int, list[dict[str, Any]]] = {}
        self.lineage: dict[int, Walk] = {}
        self.hidden_parents: set[str] = set()
        older = [
            (repo, analysis)
            for (key, _), commit in self.commits.items()
            if commit is not None
            and (repo := self.repos[key]).head_id != commit.pk
            and (analysis := self.analyses.get(commit.pk)) is not None
        ]
        if not older:
            return
        rows: dict[int, list[Violation]] = defaultdict(list)
        for row in Violation.objects.filter(repository_id__in={repo.pk for repo, _ in older}):
            rows[row.repository_id].append(row)
        named = {
            model_ref(str(f.get("parent")))
            for _, a in older
            for f in a.result.get("violations") or []
            if isinstance(f, Mapping) and f.get("parent")
        }
        declared = {a.commit_id: list(_declared_parents([a.result])) for _, a in older}
        hidden = hidden_from(user, named | {ref for refs in declared.values() for ref in refs})
        self.hidden_parents = hidden
        for repo, analysis in older:
            own = [f for f in analysis.result.get("violations") or [] if not _names_any(f, hidden)]
            self.findings[analysis.commit_id] = as_triaged(own, rows[repo.pk])
        self.lineage = _ancestry(declared)


def _names_any(finding: Mapping[str, Any], refs: Collection[str]) -> bool:
    """Whether a finding is about (or quotes) one of ``refs``: its parent, message or evidence."""
    if not refs:
        return False
    text = f"{finding.get('parent') or ''} {finding.get('message') or ''} {finding.get('evidence') or ''}".lower()
    return any(ref in text for ref in refs)


def _unknown(
    spec: ModelSpec, policy: Policy, today: date, detail: str = "", revision: str | None = None
) -> dict:
    decision = unknown_model_decision(
        policy, spec.id, today, detail, looked_in="this registry, or not visible to the caller"
    )
    return {"model": spec.id, "revision": revision, **decision.to_dict(), "license": None, "violations": []}


def _registry_result(spec: ModelSpec, pre: _Prefetched, policy: Policy, today: date) -> dict[str, Any]:
    repo = pre.repos.get(spec.id.lower())
    if repo is None:
        return _unknown(spec, policy, today)
    commit = pre.commits.get((spec.id.lower(), spec.revision))
    if commit is None:
        return _unknown(spec, policy, today, f"revision {spec.revision!r} not found")
    analysis = pre.analyses.get(commit.pk)
    if analysis is None or analysis.status != RevisionAnalysis.Status.DONE:
        status = analysis.status if analysis else "pending"
        return _unknown(spec, policy, today, f"analysis of {commit.sha[:12]} is {status}", commit.sha)
    violations = pre.findings.get(commit.pk, pre.violations.get(repo.pk, []))
    result = analysis.result
    if commit.pk in pre.findings and pre.hidden_parents:
        # an older revision's stored lineage still carries a parent's licence from when it was
        # public: judged as one outside the registry, as the head is after its re-evaluation
        lineage = dict(result.get("lineage") or {})
        lineage["base_models"] = _unresolving(lineage.get("base_models") or [], pre.hidden_parents)
        result = {**result, "lineage": lineage}
    report = {
        **result,
        "id": repo.repo_id,
        "scan": pre.scans.get(commit.pk, {}),
        "violations": violations,
        "upstream_violations": pre.upstream.get((spec.id.lower(), spec.revision), []),
    }
    inherited = inherited_licences({0: parent_ids(report.get("lineage"))}, pre.user)[0]
    report["lineage"] = {**(report.get("lineage") or {}), "ancestors": inherited}
    decision = evaluate_model(policy, report, today)
    lineage = dict(result.get("lineage") or {})
    _set_ancestors(lineage, pre.walk(repo.repo_id.lower(), commit.pk))
    return {
        "model": repo.repo_id,
        "revision": commit.sha,
        **decision.to_dict(),
        "license": analysis.result.get("license"),
        "transparency": {"score": analysis.transparency_score},
        "lineage": lineage,
        "violations": violations,
    }


def _card_result(spec: ModelSpec, policy: Policy, today: date) -> dict[str, Any]:
    snapshot = RepoSnapshot(
        id=spec.id, files={"README.md": len(spec.card or "")}, texts={"README.md": spec.card or ""}
    )
    report = analyze_snapshot(snapshot)
    decision = evaluate_model(policy, report, today)
    return {
        "model": spec.id,
        "revision": None,
        "source": "uploaded-card",
        **decision.to_dict(),
        "license": report.get("license"),
        "lineage": report.get("lineage"),
        "violations": report.get("violations", []),
    }


class _HeadBatch:
    """The facts of a batch of default-revision checks: one query, plus one per kind of extra fact.

    ``fetch_heads`` answers every requested model, on PostgreSQL with its ancestors (elsewhere
    they take one more recursive query); open violations and unsafe-file scans take a query
    each, only when some repository in the batch has them. A spec this cannot serve (a pinned
    revision, a head whose analysis is of an older commit) goes to ``_Prefetched``, which reads
    the full stored analysis.
    """

    def __init__(self, user, specs: list[ModelSpec]) -> None:
        self.heads = fetch_heads(user, [s.id for s in specs])
        self.served = {s for s in specs if self._serves(s)}
        wanted = {s.id.lower() for s in self.served}
        used = [h for key, h in self.heads.items() if key in wanted]
        self.violations = open_violations(h.pk for h in used if h.has_violations)
        self.scans = scan_facts(h.head_id for h in used if h.has_unsafe_files and h.head_id)
        # walked one level past MAX_DEPTH (here and in ``fetch_heads``) to tell a cut answer
        walked = {h.repo_id.lower(): h.ancestors for h in used if h.ancestors is not None}
        unwalked = [h.repo_id for h in used if h.ancestors is None]
        walked.update(ancestors_many(unwalked, MAX_DEPTH + 1) if unwalked else {})
        self.ancestors = {key: cut(nodes) for key, nodes in walked.items()}
        self.upstream = upstream_findings(user, {key: w.nodes for key, w in self.ancestors.items()})
        self.inherited = inherited_licences(
            {h.repo_id.lower(): parent_ids(h.lineage) for h in used},
            user,
            walked=[node for w in self.ancestors.values() for node in w.nodes],
        )

    def _serves(self, spec: ModelSpec) -> bool:
        head = self.heads.get(spec.id.lower())
        if head is None:
            return True  # unknown (or invisible) to the caller: answered as such
        return head.analysed_head and spec.revision in (None, head.default_branch, head.head_sha)

    def result(self, spec: ModelSpec, policy: Policy, today: date) -> dict[str, Any]:
        head = self.heads.get(spec.id.lower())
        if head is None:
            return _unknown(spec, policy, today)
        if head.status != RevisionAnalysis.Status.DONE:
            detail = f"analysis of {(head.head_sha or '')[:12]} is {head.status}"
            return _unknown(spec, policy, today, detail, head.head_sha)
        return _answer(head, self, policy, today)


def _answer(head: HeadFacts, batch: _HeadBatch, policy: Policy, today: date) -> dict[str, Any]:
    violations = batch.violations.get(head.pk, [])
    report = head.report(violations, batch.scans.get(head.head_id, {}))
    report["upstream_violations"] = batch.upstream.get(head.repo_id.lower(), [])
    report["lineage"] = {**(head.lineage or {}), "ancestors": batch.inherited.get(head.repo_id.lower(), [])}
    decision = evaluate_model(policy, report, today)
    lineage = dict(head.lineage or {})
    _set_ancestors(lineage, batch.ancestors.get(head.repo_id.lower(), Walk([])))
    return {
        "model": head.repo_id,
        "revision": head.head_sha,
        **decision.to_dict(),
        "license": head.license,
        "transparency": {"score": head.transparency_score},
        "lineage": lineage,
        "violations": violations,
    }


def _set_ancestors(lineage: dict[str, Any], walk: Walk) -> None:
    """``lineage.ancestors`` of a check result, and ``lineage.ancestors_truncated: true`` when the
    walk was cut at ``MAX_DEPTH`` (ancestors lie further; absent otherwise)."""
    lineage["ancestors"] = [{"id": n.ref, "depth": n.depth} for n in walk.nodes]
    if walk.truncated:
        lineage["ancestors_truncated"] = True
    else:
        lineage.pop("ancestors_truncated", None)


def check_models(specs: Iterable[ModelSpec], policy: Policy, user, today: date | None = None) -> list[dict]:
    """One result per requested model, in request order."""
    today = today or date.today()
    specs = list(specs)
    registry = [s for s in specs if s.card is None]
    batch = _HeadBatch(user, registry)
    pinned = [s for s in registry if s not in batch.served]
    pre = _Prefetched(user, pinned) if pinned else None
    out = []
    for spec in specs:
        if spec.card is not None:
            out.append(_card_result(spec, policy, today))
        elif spec in batch.served:
            out.append(batch.result(spec, policy, today))
        else:
            out.append(_registry_result(spec, pre, policy, today))
    return _without_invisible_lineage(out, user)


def bom_reports(results: Iterable[Mapping[str, Any]], user) -> list[dict[str, Any]]:
    """Analyze-JSON reports (with revision and verdict) for the models of check results.

    Models that are unknown to the caller are left out: a BOM lists what is known. The
    lookups are the check's own batch ones, so a BOM of 500 models costs a fixed number of
    queries rather than three per model.
    """
    results = [r for r in results if r.get("model")]
    specs = [ModelSpec(str(r["model"]), r.get("revision")) for r in results]
    pre = _Prefetched(user, specs)
    reports = []
    for spec, result in zip(specs, results, strict=True):
        repo = pre.repos.get(spec.id.lower())
        commit = pre.commits.get((spec.id.lower(), spec.revision))
        analysis = pre.analyses.get(commit.pk) if commit is not None else None
        if repo is None or analysis is None or analysis.status != RevisionAnalysis.Status.DONE:
            continue
        report = {**analysis.result, "id": repo.repo_id, "revision": commit.sha}
        if result.get("verdict"):
            report["verdict"] = result["verdict"]
        reports.append(report)
    return _without_invisible_lineage(reports, user)


def bom_ancestors(reports: Iterable[Mapping[str, Any]], user) -> list[dict[str, Any]]:
    """Analyze-JSON reports of every registry model the BOM's models derive from, at their heads.

    A BOM that stops at the direct parents hides where a licence came from: a fine-tune of a
    fine-tune of Llama carries Llama's terms. The walk follows the declared parents level by level
    (one query per level, at most ``MAX_DEPTH`` levels), through models the caller may see and whose
    analysis is done; it stops at anything else (a private model reads as one outside the registry,
    and nothing beyond it is shown). A card names a parent without a revision, so an ancestor is
    described at its default branch's head.
    """
    reports = list(reports)
    seen = {model_ref(str(r.get("id") or "")) for r in reports}
    frontier = _declared_parents(reports)
    found: list[dict[str, Any]] = []
    for _ in range(MAX_DEPTH):
        frontier = {ref: raw for ref, raw in frontier.items() if ref and ref not in seen}
        if not frontier:
            break
        seen.update(frontier)
        level = []
        for repo in _find_repositories(user, frontier.values()).values():
            head = repo.latest_analysis
            if head is None or head.commit_id != repo.head_id or head.status != RevisionAnalysis.Status.DONE:
                continue
            level.append({**head.result, "id": repo.repo_id, "revision": head.commit.sha})
        found.extend(level)
        frontier = _declared_parents(level)
    return _without_invisible_lineage(found, user)


def _declared_parents(reports: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """The parents the reports' cards declare, as graph ref -> id as written."""
    return {
        model_ref(str(p["id"])): str(p["id"])
        for r in reports
        for p in (r.get("lineage") or {}).get("base_models") or []
        if isinstance(p, Mapping) and p.get("id")
    }


#: Findings of an ancestor that say its licence is not the terms that reach its descendants.
CARRIED_RULES = (
    "relicensed-derivative", "use-restrictions-dropped", "no-derivatives", "incompatible-parents",
    "noncommercial-upstream-data",
)  # fmt: skip


def upstream_findings(user, walked: Mapping[Any, list[GraphNode]]) -> dict[Any, list[dict[str, Any]]]:
    """Open error findings of the carried-licence kind on each key's ancestors, nearest first.

    A fine-tune relabelled ``apache-2.0`` from a Llama base passes on "apache-2.0"; its own child
    is judged against that label and passed although it still carries Llama's terms. The child
    cannot be judged by rules on its own pair, so the ancestor's open finding is reported with
    it (``upstream-violation``, warn). Ancestors the caller may not see, and anything as deep or
    deeper (it may be reached only through them), are not looked at; a parent merely outside the
    registry stops nothing (a made-up second base model must not silence the warning). One query
    for a batch with ancestors, two more only when some of them have open violations.
    """
    refs = {node.ref for nodes in walked.values() for node in nodes}
    if not refs:
        return {}
    visible = visible_repositories(user, Repository.Type.MODEL).select_related("namespace")
    seen = find_by_ids(visible.only("pk", "name", "open_violations", "namespace__name"), refs)
    repos = {ref: repo for ref, repo in seen.items() if repo.open_violations}
    if not repos:
        return {}
    # a model outside the registry has no parents here, so nothing lies beyond it; a private one
    # does (its card's): stop at the nearest such ancestor (a name in a public card: no leak)
    hidden = hidden_from(user, refs - seen.keys())
    kept: dict[Any, list[GraphNode]] = {}
    for key, nodes in walked.items():
        limit = min((n.depth for n in nodes if n.ref in hidden), default=None)
        kept[key] = [n for n in nodes if n.ref in repos and (limit is None or n.depth < limit)]
    if not any(kept.values()):
        return {}
    by_repo: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = Violation.objects.filter(
        repository_id__in=[r.pk for r in repos.values()], status=Violation.Status.OPEN,
        severity=Violation.Severity.ERROR, rule__in=CARRIED_RULES,
    ).order_by("rule", "parent_ref")  # fmt: skip
    for v in rows:
        by_repo[v.repository_id].append(
            {"rule": v.rule, "parent": v.parent_ref or None, "message": v.message, "clause": v.clause or None}
        )
    out: dict[Any, list[dict[str, Any]]] = {}
    for key, nodes in kept.items():
        found = [
            {"model": repos[n.ref].repo_id, "depth": n.depth, **finding}
            for n in nodes
            for finding in by_repo.get(repos[n.ref].pk, [])
        ]
        if found:
            out[key] = found
    return out


def _ancestry(declared: Mapping[Any, list[str]], stop: Collection[str] = ()) -> dict[Any, Walk]:
    """Every ancestor reached through the given declared parents (graph refs, depth 1), nearest
    first, in one walk for all; the walk goes on from no ref in ``stop`` (those are still listed).

    Walking from a revision's own declared parents, rather than from the model in the graph,
    answers for that revision: the graph holds only the head's edges. The parents' walks reach
    ``MAX_DEPTH`` levels above them, one more than is answered: ``truncated`` when some lay there.
    """
    above = ancestors_many({ref for refs in declared.values() for ref in refs if ref not in stop}, stop=stop)
    out = {}
    for key, parents in declared.items():
        depth = dict.fromkeys(parents, 1)
        for parent in parents:
            for node in above.get(parent, []):
                depth[node.ref] = min(depth.get(node.ref, node.depth + 1), node.depth + 1)
        out[key] = cut(
            GraphNode(ref, d) for ref, d in sorted(depth.items(), key=lambda item: (item[1], item[0]))
        )
    return out


def _lineage_refs(result: Mapping[str, Any]) -> list[str]:
    lineage = result.get("lineage") or {}
    parents = [model_ref(pid) for pid in parent_ids(lineage)]
    return parents + [str(a.get("id") or "") for a in lineage.get("ancestors") or []]


def _unresolving(parents: Iterable[Mapping[str, Any]], hidden: Collection[str]) -> list[Mapping[str, Any]]:
    """Declared parents with those in ``hidden`` as they read when nothing resolves them
    (``analyze.lineage_of``): a model the caller may not see reads like one outside the registry."""
    return [
        {**p, "license_key": None, "license_class": None, "source": "unresolved", "as_of": None}
        if model_ref(str(p.get("id") or "")) in hidden
        else p
        for p in parents
    ]


def _without_invisible_lineage(results: list[dict[str, Any]], user) -> list[dict[str, Any]]:
    """Check results or BOM reports as the caller may know them: a private parent or ancestor the
    caller cannot see reads exactly like a model outside the registry (its name is in a public
    card; reading differently would tell that it exists), and nothing beyond it is shown (that is
    in its private card). Usually one query for the whole batch; a second walk only for results
    that reach such a model."""
    hidden = hidden_from(user, (ref for r in results for ref in _lineage_refs(r)))
    if not hidden:
        return results
    walked = _ancestry(
        {
            n: list(_declared_parents([r]))
            for n, r in enumerate(results)
            if any(str(a.get("id") or "") in hidden for a in (r.get("lineage") or {}).get("ancestors") or [])
        },
        stop=hidden,
    )
    for n, result in enumerate(results):
        lineage = result.get("lineage")
        if not lineage:
            continue
        kept = dict(lineage)
        if "base_models" in lineage:
            parents = _unresolving(lineage["base_models"], hidden)
            kept["base_models"] = parents
            if "unresolved" in lineage:
                kept["unresolved"] = [p["id"] for p in parents if p.get("source") == "unresolved"]
        if n in walked:
            _set_ancestors(kept, walked[n])
        result["lineage"] = kept
    return results


def analysis_as_seen_by(result: Mapping[str, Any], user) -> dict[str, Any]:
    """A stored analysis ``result`` as ``user`` may know it (see :func:`_without_invisible_lineage`).

    Stored analyses resolve public parents only, and a parent made private re-judges its
    children, but that runs as a task after the change: until it has (seconds, or as long as a
    broker outage lasts), the child's stored lineage still holds the parent's licence. Every
    reader of stored lineage redacts at read time, so the window shows nothing.
    """
    return _without_invisible_lineage([dict(result)], user)[0]
