"""The facts a compliance check needs about registry heads, read in one prepared-shape SQL query.

A single-model check used to cost four ORM queries — one of them a five-table
``select_related`` whose SQL compilation alone took longer than a whole trivial API request —
and decoded every stored analysis in full. Here one hand-written statement returns, per
requested model, only what the policy evaluator and the answer read: the head's sha, the
analysis status, its licence, lineage, transparency and disclosure, the modality hints, and
whether the repository has open violations or unsafe weight files (``EXISTS``, so those two
cost an extra query only for the models that have them).

Every value comes from the tables the analysis, the triage and the scanner write, in the
same transaction as the check: nothing is materialised, so no write path (a re-analysis, a
bulk re-evaluation, a triage) can leave a check stale.

Visibility stays ``hub.services.access``'s rule: anonymous callers get ``private = false`` in
SQL; for signed-in callers private candidates are confirmed through ``visible_repositories``
(one more query, only when a private repository matched).
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection

from hub.models import Commit, FileScan, Namespace, Repository, RevisionAnalysis
from hub.services.access import visible_repositories
from hub.services.repos import owner_name_pairs
from licenses.models import Violation
from licenses.services import prepared_sql
from licenses.services.lineage import MAX_DEPTH, GraphNode
from licenses.services.walks import ancestor_walks_cte

OPEN_STATUSES = (Violation.Status.OPEN, Violation.Status.ACKNOWLEDGED)

#: Top-level analysis keys the policy evaluator reads besides licence, lineage, transparency and
#: data (``licenses.engine.policy``: modality hints, file names, the ``found`` flag).
EXTRA_KEYS = ("multimodal", "pipeline_tag", "tags", "card", "files", "found")


@dataclass(frozen=True)
class HeadFacts:
    """One visible model repository and the compact facts of its head's stored analysis."""

    pk: int
    repo_id: str
    default_branch: str
    head_id: int | None
    head_sha: str | None
    analysis_commit_id: int | None
    status: str | None
    transparency_score: float | None
    license: dict[str, Any] | None
    lineage: dict[str, Any] | None
    score: Any
    disclosure_level: Any
    extras: dict[str, Any]
    has_violations: bool
    has_unsafe_files: bool
    #: the lineage walk, when the statement carried it (prepared, PostgreSQL), to ``MAX_DEPTH + 1``
    #: (one level past the answer, to tell a cut one); None: walk separately
    ancestors: list[GraphNode] | None = None

    @property
    def analysed_head(self) -> bool:
        """The repository's latest analysis is of its current head (the answer of a default check)."""
        return self.head_id is not None and self.analysis_commit_id == self.head_id

    def report(self, violations: list[dict[str, Any]], scan: dict[str, list[str]]) -> dict[str, Any]:
        """The analyze-JSON subset ``evaluate_model`` reads, with live violations and scan facts."""
        return {
            **self.extras,
            "id": self.repo_id,
            "license": self.license,
            "lineage": self.lineage,
            "transparency": {"score": self.score},
            "data": {"disclosure_level": self.disclosure_level},
            "scan": scan,
            "violations": violations,
        }


def _json(postgres: bool, column: str, *keys: str) -> str:
    """SQL for a JSON sub-value of ``column`` as JSON text, on PostgreSQL and SQLite alike."""
    if postgres:
        return column + "".join(f" -> '{k}'" for k in keys)
    return f"{column} -> '$.{'.'.join(keys)}'"


@functools.lru_cache(maxsize=64)
def _head_sql(postgres: bool, prepared: bool, n_names: int, public_only: bool) -> str:
    """The batch statement. Prepared, the names are one array parameter, so one statement text
    (one plan) serves every batch size; otherwise an ``IN`` list of ``n_names`` parameters."""
    repo, ns, commit = Repository._meta.db_table, Namespace._meta.db_table, Commit._meta.db_table
    analysis, scan, violation = (
        RevisionAnalysis._meta.db_table,
        FileScan._meta.db_table,
        Violation._meta.db_table,
    )
    result = functools.partial(_json, postgres, "a.result")
    extras = ", ".join(result(k) for k in EXTRA_KEYS)
    names = "= ANY(%s)" if prepared else f"IN ({', '.join(['%s'] * n_names)})"
    # Prepared (PostgreSQL only), the statement also walks the requested models' ancestors, as
    # ``lineage.ancestors_many`` does, and hands each repository its chain: one round trip.
    up = ancestor_walks_cte("up", "SELECT unnest(%s::varchar[]) AS origin", stops=0, postgres=True)
    walk = f"""
        WITH RECURSIVE {up}, nearest AS (
            SELECT origin, ref, MIN(depth) AS depth FROM up GROUP BY origin, ref
        ), chains AS (
            SELECT origin, json_agg(json_build_array(ref, depth) ORDER BY depth, ref) AS chain
            FROM nearest GROUP BY origin
        )"""
    chain = ", c.chain" if prepared else ""
    chains = " LEFT JOIN chains c ON c.origin = LOWER(o.owner || '/' || r.name)" if prepared else ""
    # On PostgreSQL the owner is looked up per candidate row (``OFFSET 0`` keeps the planner from
    # turning it into a join), so a generic plan cannot pick a hash join over every namespace.
    owner = (
        f"JOIN LATERAL (SELECT n.name AS owner FROM {ns} n WHERE n.id = r.namespace_id OFFSET 0) o ON TRUE"
        if postgres
        else f"JOIN (SELECT id, name AS owner FROM {ns}) o ON o.id = r.namespace_id"
    )
    return f"""{walk if prepared else ""}
        SELECT r.id, o.owner, r.name, r.private, r.default_branch, r.head_id, h.sha,
               a.commit_id, a.status, a.transparency_score,
               {result("license")}, {result("lineage")},
               {result("transparency", "score")}, {result("data", "disclosure_level")},
               {extras},
               EXISTS (SELECT 1 FROM {violation} v WHERE v.repository_id = r.id AND v.status IN (%s, %s)),
               EXISTS (SELECT 1 FROM {scan} s WHERE s.commit_id = r.head_id
                       AND (s.contains_pickle OR s.dangerous_imports <> '[]')){chain}
        FROM {repo} r
        {owner}
        LEFT JOIN {commit} h ON h.id = r.head_id
        LEFT JOIN {analysis} a ON a.id = r.latest_analysis_id{chains}
        WHERE UPPER(r.name) {names} AND r.repo_type = %s{" AND NOT r.private" if public_only else ""}
    """  # table names are ours; every value is a query parameter


def _loads(text: Any) -> Any:
    return json.loads(text) if isinstance(text, str) else text


def _is_staff(user) -> bool:
    return bool(user is not None and user.is_active and user.is_superuser)


def fetch_heads(user, model_ids: Iterable[str]) -> dict[str, HeadFacts]:
    """Visible model repositories named by ``owner/name`` ids (any case), keyed by lower-cased id.

    Served by ``hub_repo_name_upper_idx``; owners are matched on the few candidate rows (Hub
    names are ASCII, so Python's and the database's upper-casing agree).
    """
    pairs = owner_name_pairs(model_ids)
    if not pairs:
        return {}
    anonymous = user is None or not user.is_authenticated
    names = sorted({name.upper() for _, name in pairs})
    prepared = prepared_sql.enabled()
    params = [*OPEN_STATUSES, *([names] if prepared else names), Repository.Type.MODEL]
    if prepared:
        # one level past the bound: the check tells an ancestry cut there (``lineage.cut``)
        params = [sorted({f"{owner}/{name}" for owner, name in pairs}), MAX_DEPTH + 1, *params]
    postgres = connection.vendor == "postgresql"
    rows = prepared_sql.fetchall(
        _head_sql(postgres, prepared, 0 if prepared else len(names), anonymous), params
    )
    found: dict[str, HeadFacts] = {}
    private: list[int] = []
    for row in rows:
        (pk, owner, name, is_private, branch, head_id, sha, a_commit, status, t_score) = row[:10]
        if (owner.lower(), name.lower()) not in pairs:
            continue
        lic, lineage, score, level = row[10:14]
        extra = row[14 : 14 + len(EXTRA_KEYS)]
        has_v, has_s, *chain = row[14 + len(EXTRA_KEYS) :]
        extras = {k: v for k, v in zip(EXTRA_KEYS, map(_loads, extra), strict=True) if v is not None}
        walked = [GraphNode(ref, depth) for ref, depth in _loads(chain[0]) or ()] if prepared else None
        found[f"{owner}/{name}".lower()] = HeadFacts(
            pk, f"{owner}/{name}", branch, head_id, sha, a_commit, status, t_score,
            _loads(lic), _loads(lineage), _loads(score), _loads(level), extras, bool(has_v), bool(has_s),
            walked,
        )  # fmt: skip
        if is_private:
            private.append(pk)
    if private and not _is_staff(user):
        readable = set(visible_repositories(user).filter(pk__in=private).values_list("pk", flat=True))
        hidden = set(private) - readable
        found = {k: f for k, f in found.items() if f.pk not in hidden}
    return found


def open_violations(repository_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """Open and acknowledged violations of these repositories (contract shape), most severe first."""
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    ids = sorted(set(repository_ids))
    if ids:
        rows = Violation.objects.filter(repository_id__in=ids, status__in=OPEN_STATUSES).order_by(
            "severity", "rule"
        )
        for v in rows:
            out[v.repository_id].append(v.to_dict())
    return out


def scan_facts(commit_ids: Iterable[int]) -> dict[int, dict[str, list[str]]]:
    """Pickle and dangerous-import file paths of these revisions' weight scans."""
    out: dict[int, dict[str, list[str]]] = defaultdict(lambda: {"pickle_files": [], "dangerous_files": []})
    ids = sorted(set(commit_ids))
    if ids:
        scans = FileScan.objects.filter(commit_id__in=ids).only(
            "commit_id", "path", "contains_pickle", "dangerous_imports"
        )
        for scan in scans:
            if scan.contains_pickle:
                out[scan.commit_id]["pickle_files"].append(scan.path)
            if scan.dangerous_imports:
                out[scan.commit_id]["dangerous_files"].append(scan.path)
    return out
