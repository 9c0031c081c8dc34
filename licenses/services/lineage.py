"""The lineage graph in the database: recording edges and answering transitive questions.

Edges join lower-cased model ids, so a walk needs no joins to repositories and works
for parents the registry does not hold. Each question is one recursive CTE (portable
between PostgreSQL and SQLite); ``UNION`` rather than ``UNION ALL`` makes cycles in
bad metadata terminate instead of looping.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from hub.models import Repository
from hub.services.access import visible_repositories
from hub.services.repos import find_by_ids
from licenses.models import LineageEdge

log = logging.getLogger(__name__)

MAX_DEPTH = 64  # deeper chains than this are not real model trees


@dataclass(frozen=True)
class GraphNode:
    ref: str
    depth: int


def model_ref(repo_id: str) -> str:
    """The graph's key for a model id: lower-cased ``owner/name`` without a hub URL prefix."""
    ref = repo_id.strip().removeprefix("https://huggingface.co/").strip("/")
    return ref.lower()


def record_lineage(repository: Repository, base_models: Iterable[Mapping[str, Any]]) -> list[LineageEdge]:
    """Replace the repository's parent edges with those of its latest analysis."""
    return record_lineage_many([(repository, base_models)])


def record_lineage_many(
    items: Iterable[tuple[Repository, Iterable[Mapping[str, Any]]]],
) -> list[LineageEdge]:
    """``record_lineage`` for many repositories in two queries (the batched re-evaluation's write)."""
    from licenses.engine.kb import default_kb

    kb = default_kb()
    now = timezone.now()
    edges: list[LineageEdge] = []
    children: list[int] = []
    for repository, base_models in items:
        children.append(repository.pk)
        edges.extend(_edges_of(repository, base_models, kb, now))
    with transaction.atomic():
        LineageEdge.objects.filter(child_id__in=children).delete()
        LineageEdge.objects.bulk_create(edges, batch_size=1000)
    return edges


def _edges_of(repository: Repository, base_models: Iterable[Mapping[str, Any]], kb, now) -> list[LineageEdge]:
    """Unsaved edges from a ``lineage.base_models`` list, one per distinct parent."""
    child_ref = model_ref(repository.repo_id)
    edges = []
    seen: set[str] = set()
    limit = LineageEdge._meta.get_field("parent_ref").max_length
    for entry in base_models:
        parent_id = str(entry.get("id") or "").strip()
        if not parent_id or model_ref(parent_id) in seen:
            continue
        if len(parent_id) > limit:  # the engine refuses these; an analysis stored before it did not
            log.warning("%s: parent id of %d characters is no model id: no edge", child_ref, len(parent_id))
            continue
        seen.add(model_ref(parent_id))
        key = entry.get("license_key") or ""
        license_class = entry.get("license_class") or (kb.get(key).license_class if kb.get(key) else "")
        edges.append(
            LineageEdge(
                child=repository,
                child_ref=child_ref,
                parent_ref=model_ref(parent_id),
                parent_display=parent_id,
                relation=entry.get("relation") or LineageEdge.Relation.FINETUNE,
                relation_inferred=bool(entry.get("relation_inferred", False)),
                parent_license_key=key,
                parent_license_class=license_class,
                source=entry.get("source") or LineageEdge.Source.UNRESOLVED,
                updated_at=now,
            )
        )
    return edges


def _walk(sql: str, params: list[Any]) -> list[GraphNode]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [GraphNode(ref, depth) for ref, depth in cursor.fetchall()]


_TABLE = LineageEdge._meta.db_table


def _stop_clause(alias: str, stop: Collection[str]) -> tuple[str, list[str]]:
    """SQL that keeps a walk from going on from the refs in ``stop`` (they are still reached)."""
    if not stop:
        return "", []
    return f" AND {alias}.ref NOT IN ({', '.join(['%s'] * len(stop))})", sorted(stop)


def ancestors(repo_id: str, max_depth: int = MAX_DEPTH, stop: Collection[str] = ()) -> list[GraphNode]:
    """Every model the given one derives from, nearest first; the walk does not go on from the
    refs in ``stop`` (private models the caller may not see: what lies beyond is their card's)."""
    return ancestors_many([repo_id], max_depth, stop)[model_ref(repo_id)]


def ancestors_many(
    repo_ids: Iterable[str], max_depth: int = MAX_DEPTH, stop: Collection[str] = ()
) -> dict[str, list[GraphNode]]:
    """``ancestors`` of many models in one recursive query, keyed by their graph refs."""
    seeds = sorted({model_ref(r) for r in repo_ids})
    out: dict[str, list[GraphNode]] = {ref: [] for ref in seeds}
    if not seeds:
        return out
    marks = ", ".join(["%s"] * len(seeds))
    clause, stopped = _stop_clause("up", stop)
    sql = f"""
        WITH RECURSIVE up(origin, ref, depth) AS (
            SELECT child_ref, parent_ref, 1 FROM {_TABLE} WHERE child_ref IN ({marks})
            UNION
            SELECT up.origin, e.parent_ref, up.depth + 1 FROM {_TABLE} e JOIN up ON e.child_ref = up.ref
            WHERE up.depth < %s{clause}
        )
        SELECT origin, ref, MIN(depth) FROM up GROUP BY origin, ref ORDER BY origin, MIN(depth), ref
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*seeds, max_depth, *stopped])
        for origin, ref, depth in cursor.fetchall():
            out[origin].append(GraphNode(ref, depth))
    return out


def descendants(repo_id: str, max_depth: int = MAX_DEPTH, stop: Collection[str] = ()) -> list[GraphNode]:
    """Every model derived from the given one (transitively), nearest first; not beyond ``stop``."""
    clause, stopped = _stop_clause("down", stop)
    sql = f"""
        WITH RECURSIVE down(ref, depth) AS (
            SELECT child_ref, 1 FROM {_TABLE} WHERE parent_ref = %s
            UNION
            SELECT e.child_ref, down.depth + 1 FROM {_TABLE} e JOIN down ON e.parent_ref = down.ref
            WHERE down.depth < %s{clause}
        )
        SELECT ref, MIN(depth) FROM down GROUP BY ref ORDER BY MIN(depth), ref
    """
    return _walk(sql, [model_ref(repo_id), max_depth, *stopped])


def descendants_of_license_classes(
    classes: Iterable[str], max_depth: int = MAX_DEPTH, stop: Collection[str] = ()
) -> list[GraphNode]:
    """Models in the catalogue that descend, at any depth, from a parent under one of ``classes``.

    A parent's class is the one recorded on the edge when its licence was resolved (from
    the registry, the bundled table or models analysed together). ``depth`` is the
    distance to the nearest such ancestor. The walk does not go on from ``stop``.
    """
    classes = sorted(set(classes))
    if not classes:
        return []
    marks = ", ".join(["%s"] * len(classes))
    clause, stopped = _stop_clause("tainted", stop)
    sql = f"""
        WITH RECURSIVE tainted(ref, depth) AS (
            SELECT child_ref, 1 FROM {_TABLE} WHERE parent_license_class IN ({marks})
            UNION
            SELECT e.child_ref, tainted.depth + 1 FROM {_TABLE} e JOIN tainted ON e.parent_ref = tainted.ref
            WHERE tainted.depth < %s{clause}
        )
        SELECT ref, MIN(depth) FROM tainted GROUP BY ref ORDER BY MIN(depth), ref
    """
    return _walk(sql, [*classes, max_depth, *stopped])


@dataclass(frozen=True)
class DescendantSample:
    """The first descendants of each generation a viewer may see, and how many there are."""

    nodes: list[GraphNode]
    totals: dict[int, int]  # depth -> visible descendants at that (nearest) depth

    @property
    def not_shown(self) -> int:
        """Visible descendants beyond the sample."""
        return sum(self.totals.values()) - len(self.nodes)


def _down_sql(seed: str, clause: str) -> str:
    """The downward walk from the edges ``seed`` selects (``child_ref, 1``), not beyond ``clause``."""
    return f"""
        WITH RECURSIVE down(ref, depth) AS (
            {seed}
            UNION
            SELECT e.child_ref, down.depth + 1 FROM {_TABLE} e JOIN down ON e.parent_ref = down.ref
            WHERE down.depth < %s{clause}
        )"""


def _hidden_below(user, seed: str, params: list[Any], max_depth: int) -> set[str]:
    """Refs of the walk's descendants private to others than ``user``: one query (usually empty),
    a second only when there are private ones."""
    repo_table = Repository._meta.db_table
    sql = f"""{_down_sql(seed, "")}
        SELECT DISTINCT e.child_ref, r.id FROM down
        JOIN {_TABLE} e ON e.child_ref = down.ref JOIN {repo_table} r ON r.id = e.child_id
        WHERE r.private
    """  # table names are ours; every value is a query parameter
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, max_depth])
        private = dict(cursor.fetchall())
    if not private:
        return set()
    readable = set(visible_repositories(user).filter(pk__in=private.values()).values_list("pk", flat=True))
    return {ref for ref, pk in private.items() if pk not in readable}


def _ranked(seed: str, params: list[Any], max_depth: int, hidden: set[str], where: str, tail: list[Any]):
    """Rows (ref, depth, rank in its generation, generation size, total) of the visible walk."""
    clause, stopped = _stop_clause("down", hidden)
    shown = f" WHERE ref NOT IN ({', '.join(['%s'] * len(hidden))})" if hidden else ""
    sql = f"""{_down_sql(seed, clause)}, nearest AS (
            SELECT ref, MIN(depth) AS depth FROM down{shown} GROUP BY ref
        ), ranked AS (
            SELECT ref, depth,
                   ROW_NUMBER() OVER (PARTITION BY depth ORDER BY ref) AS n,
                   COUNT(*) OVER (PARTITION BY depth) AS generation,
                   ROW_NUMBER() OVER (ORDER BY depth, ref) AS position,
                   COUNT(*) OVER () AS total
            FROM nearest
        )
        SELECT ref, depth, generation, total FROM ranked WHERE {where} ORDER BY depth, ref
    """  # table names are ours; every value is a query parameter
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, max_depth, *stopped, *sorted(hidden), *tail])
        return cursor.fetchall()


def descendant_sample(repo_id: str, user, max_depth: int, per_depth: int) -> DescendantSample:
    """At most ``per_depth`` descendants per generation (by ref), with each generation's size.

    A base model with 10,000 derivatives must not cost 10,000 rows (or a 10,000-term lookup)
    to draw twelve: the database ranks and counts, and returns the sample. Descendants private
    to others are neither shown nor counted, and the walk does not go on from them (what lies
    beyond is in their private card).
    """
    seed, params = f"SELECT child_ref, 1 FROM {_TABLE} WHERE parent_ref = %s", [model_ref(repo_id)]
    hidden = _hidden_below(user, seed, params, max_depth)
    nodes: list[GraphNode] = []
    totals: dict[int, int] = {}
    for ref, depth, generation, _total in _ranked(seed, params, max_depth, hidden, "n <= %s", [per_depth]):
        nodes.append(GraphNode(ref, depth))
        totals[depth] = generation
    return DescendantSample(nodes, totals)


@dataclass(frozen=True)
class NodePage:
    """One page of a walk, nearest first, and the size of the whole walk."""

    nodes: list[GraphNode]
    total: int


def _page(seed: str, params: list[Any], user, limit: int, offset: int, max_depth: int) -> NodePage:
    hidden = _hidden_below(user, seed, params, max_depth)
    rows = _ranked(
        seed, params, max_depth, hidden, "position > %s AND position <= %s", [offset, offset + limit]
    )
    if rows:
        return NodePage([GraphNode(ref, depth) for ref, depth, _g, _t in rows], rows[0][3])
    # past the end: still say how many there are
    count = _ranked(seed, params, max_depth, hidden, "position = 1", [])
    return NodePage([], count[0][3] if count else 0)


def descendants_page(repo_id: str, user, limit: int, offset: int = 0, max_depth: int = MAX_DEPTH) -> NodePage:
    """``descendants`` the viewer may see, paged in the database (depth, then ref)."""
    seed = f"SELECT child_ref, 1 FROM {_TABLE} WHERE parent_ref = %s"
    return _page(seed, [model_ref(repo_id)], user, limit, offset, max_depth)


def derived_from_page(
    classes: Iterable[str], user, limit: int, offset: int = 0, max_depth: int = MAX_DEPTH
) -> NodePage:
    """``descendants_of_license_classes`` the viewer may see, paged in the database."""
    classes = sorted(set(classes))
    if not classes:
        return NodePage([], 0)
    marks = ", ".join(["%s"] * len(classes))
    seed = f"SELECT child_ref, 1 FROM {_TABLE} WHERE parent_license_class IN ({marks})"
    return _page(seed, classes, user, limit, offset, max_depth)


@dataclass(frozen=True)
class DescendantHead:
    """A descendant held in the registry: its repository, head commit and nearest depth."""

    repository_id: int
    head_id: int
    depth: int


def descendant_heads(repo_id: str, max_depth: int = MAX_DEPTH) -> list[DescendantHead]:
    """Registry repositories (with a head) that descend from ``repo_id``, parents before children.

    The same walk as ``descendants`` joined to the edges' child repositories in the same
    query, so the re-evaluation of 50,000 descendants starts with one statement instead
    of one walk plus a lookup of every ref.
    """
    repo_table = Repository._meta.db_table
    sql = f"""
        WITH RECURSIVE down(ref, depth) AS (
            SELECT child_ref, 1 FROM {_TABLE} WHERE parent_ref = %s
            UNION
            SELECT e.child_ref, down.depth + 1 FROM {_TABLE} e JOIN down ON e.parent_ref = down.ref
            WHERE down.depth < %s
        )
        SELECT r.id, r.head_id, MIN(down.depth) FROM down
        JOIN {_TABLE} e ON e.child_ref = down.ref
        JOIN {repo_table} r ON r.id = e.child_id
        WHERE r.head_id IS NOT NULL
        GROUP BY r.id, r.head_id ORDER BY MIN(down.depth), r.id
    """  # table names are ours; every value is a query parameter
    with connection.cursor() as cursor:
        cursor.execute(sql, [model_ref(repo_id), max_depth])
        return [DescendantHead(pk, head, depth) for pk, head, depth in cursor.fetchall()]


def invisible_refs(user, repos: Mapping[str, Repository]) -> set[str]:
    """The refs among ``repos`` (ref -> registry repository) naming private models ``user`` may not
    see: such a model is not part of anyone else's answer (lineage, check, AI-BOM). One query,
    none when every repository is public."""
    private = {ref: repo for ref, repo in repos.items() if repo.private}
    if not private:
        return set()
    pks = [repo.pk for repo in private.values()]
    visible = set(visible_repositories(user).filter(pk__in=pks).values_list("pk", flat=True))
    return {ref for ref, repo in private.items() if repo.pk not in visible}


def hidden_from(user, refs: Iterable[str]) -> set[str]:
    """The refs among ``refs`` naming registry models private to others than ``user``.

    Built for the hot compliance path: one indexed query for any number of refs (only private
    repositories are looked up, and usually there are none), a second only when an
    authenticated caller meets private ones.
    """
    wanted = {ref for ref in refs if ref}
    if not wanted:
        return set()
    private = find_by_ids(Repository.objects.filter(private=True, repo_type=Repository.Type.MODEL), wanted)
    if not private:
        return set()
    if user is None or not user.is_authenticated:
        return set(private)
    return invisible_refs(user, private)


def repositories_for(nodes: Iterable[GraphNode]) -> dict[str, Repository]:
    """The registry's repositories behind graph nodes (nodes outside the registry are left out)."""
    refs = {n.ref for n in nodes}
    if not refs:
        return {}
    found: dict[str, Repository] = {}
    edges = LineageEdge.objects.filter(child_ref__in=refs).select_related("child__namespace")
    for edge in edges:
        found[edge.child_ref] = edge.child
    missing = refs - set(found)
    if missing:  # lineage joins models: a dataset of the same name is another repository
        found.update(find_by_ids(Repository.objects.filter(repo_type=Repository.Type.MODEL), missing))
    return found
