"""The lineage graph in the database: recording edges and answering transitive questions.

Edges join lower-cased model ids, so a walk needs no joins to repositories and works
for parents the registry does not hold. Each question is one recursive CTE
(``services/walks.py``: on PostgreSQL each model is visited once, at its nearest depth, so
cliques and cycles in bad metadata cost the edges reached, not edges × depth).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from hub.models import Repository
from hub.services.access import visible_repositories
from hub.services.repos import find_by_ids
from licenses.engine.ancestry import MAX_DEPTH as _ENGINE_MAX_DEPTH
from licenses.engine.ancestry import inherited_ancestors, model_ref
from licenses.models import LineageEdge
from licenses.services.walks import ancestor_walks_cte, walk_cte

log = logging.getLogger(__name__)

MAX_DEPTH = _ENGINE_MAX_DEPTH  # deeper chains than this are not real model trees (64)


@dataclass(frozen=True)
class GraphNode:
    ref: str
    depth: int


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


_TABLE = LineageEdge._meta.db_table


#: The seed of a downward walk: the children of the model whose ref is the parameter.
_CHILDREN_OF = f"SELECT child_ref AS ref FROM {_TABLE} WHERE parent_ref = %s"


def _children_of_classes(n: int) -> str:
    """The seed of a walk from every edge whose parent's licence class is one of ``n`` parameters."""
    return f"SELECT child_ref AS ref FROM {_TABLE} WHERE parent_license_class IN ({', '.join(['%s'] * n)})"


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _nodes(rows) -> list[GraphNode]:
    return [GraphNode(ref, depth) for ref, depth in rows]


@dataclass(frozen=True)
class Walk:
    """A walk's models, nearest first, and whether models lie beyond its depth limit."""

    nodes: list[GraphNode]
    truncated: bool = False


def cut(nodes: Iterable[GraphNode], max_depth: int = MAX_DEPTH) -> Walk:
    """A walk made one level deeper than ``max_depth`` (the peek), as answered: the nodes down to
    ``max_depth``, and whether any lay beyond (the answer was cut at the bound)."""
    nodes = list(nodes)
    return Walk([n for n in nodes if n.depth <= max_depth], any(n.depth > max_depth for n in nodes))


def _nearest(
    seed: str, params: list[Any], up: bool, max_depth: int, stop: Collection[str], peek: bool
) -> Walk:
    """The models the walk from ``seed`` reaches, one level further when ``peek`` (to tell whether
    the answer was cut at ``max_depth``; that level is not answered)."""
    stopped = sorted(stop)
    sql = f"""WITH RECURSIVE {walk_cte("w", seed, up=up, stops=len(stopped), postgres=_postgres())}
        SELECT ref, MIN(depth) FROM w GROUP BY ref ORDER BY MIN(depth), ref
    """  # table names are ours; every value is a query parameter
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, max_depth + peek, *stopped])
        return cut(_nodes(cursor.fetchall()), max_depth)


def ancestors(repo_id: str, max_depth: int = MAX_DEPTH, stop: Collection[str] = ()) -> list[GraphNode]:
    """Every model the given one derives from, nearest first; the walk does not go on from the
    refs in ``stop`` (private models the caller may not see: what lies beyond is their card's)."""
    return ancestors_many([repo_id], max_depth, stop)[model_ref(repo_id)]


def ancestor_walk(repo_id: str, max_depth: int = MAX_DEPTH, stop: Collection[str] = ()) -> Walk:
    """``ancestors``, and whether some lie deeper than ``max_depth`` (one more level is walked)."""
    seed = f"SELECT parent_ref AS ref FROM {_TABLE} WHERE child_ref = %s"
    return _nearest(seed, [model_ref(repo_id)], True, max_depth, stop, peek=True)


def ancestors_many(
    repo_ids: Iterable[str], max_depth: int = MAX_DEPTH, stop: Collection[str] = ()
) -> dict[str, list[GraphNode]]:
    """``ancestors`` of many models in one recursive query, keyed by their graph refs."""
    seeds = sorted({model_ref(r) for r in repo_ids})
    out: dict[str, list[GraphNode]] = {ref: [] for ref in seeds}
    if not seeds:
        return out
    stopped = sorted(stop)
    postgres = _postgres()
    origins = "SELECT unnest(%s::varchar[]) AS origin" if postgres else ", ".join(["%s"] * len(seeds))
    sql = f"""WITH RECURSIVE {ancestor_walks_cte("up", origins, stops=len(stopped), postgres=postgres)}
        SELECT origin, ref, MIN(depth) FROM up GROUP BY origin, ref ORDER BY origin, MIN(depth), ref
    """  # table names are ours; every value is a query parameter
    with connection.cursor() as cursor:
        cursor.execute(sql, [*([seeds] if postgres else seeds), max_depth, *stopped])
        for origin, ref, depth in cursor.fetchall():
            out[origin].append(GraphNode(ref, depth))
    return out


def descendants(repo_id: str, max_depth: int = MAX_DEPTH, stop: Collection[str] = ()) -> list[GraphNode]:
    """Every model derived from the given one (transitively), nearest first; not beyond ``stop``."""
    return _nearest(_CHILDREN_OF, [model_ref(repo_id)], False, max_depth, stop, peek=False).nodes


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
    return _nearest(_children_of_classes(len(classes)), classes, False, max_depth, stop, peek=False).nodes


@dataclass(frozen=True)
class DescendantSample:
    """The first descendants of each generation a viewer may see, and how many there are."""

    nodes: list[GraphNode]
    totals: dict[int, int]  # depth -> visible descendants at that (nearest) depth
    truncated: bool = False  # visible descendants lie deeper than the sample's depth

    @property
    def not_shown(self) -> int:
        """Visible descendants beyond the sample."""
        return sum(self.totals.values()) - len(self.nodes)


def _hidden_below(user, seed: str, params: list[Any], max_depth: int) -> tuple[set[str], set[int]]:
    """Refs of the walk's descendants private to others than ``user``, and the private repositories
    ``user`` may read: one query (usually nothing private), a second only when there are some."""
    repo_table = Repository._meta.db_table
    sql = f"""WITH RECURSIVE {walk_cte("down", seed, up=False, stops=0, postgres=_postgres())}
        SELECT DISTINCT e.child_ref, r.id FROM down
        JOIN {_TABLE} e ON e.child_ref = down.ref JOIN {repo_table} r ON r.id = e.child_id
        WHERE r.private
    """  # table names are ours; every value is a query parameter
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, max_depth])
        private = dict(cursor.fetchall())
    if not private:
        return set(), set()
    readable = set(visible_repositories(user).filter(pk__in=private.values()).values_list("pk", flat=True))
    return {ref for ref, pk in private.items() if pk not in readable}, readable


def _ranked(
    seed: str, params: list[Any], depths: tuple[int, int], hidden: set[str], where: str, tail: list[Any]
):
    """Rows (ref, depth, generation size, total, truncated, private repository id or None) of the
    visible walk down to ``depths[0]``, walked to ``depths[1]`` (one more level tells whether the
    answer was cut). The last column is read for the returned rows only, in the same statement."""
    stopped = sorted(hidden)
    shown = f" WHERE ref NOT IN ({', '.join(['%s'] * len(hidden))})" if hidden else ""
    walk = walk_cte("down", seed, up=False, stops=len(stopped), postgres=_postgres())
    repo_table = Repository._meta.db_table
    sql = f"""WITH RECURSIVE {walk}, nearest AS (
            SELECT ref, MIN(depth) AS depth FROM down{shown} GROUP BY ref
        ), ranked AS (
            SELECT ref, depth,
                   ROW_NUMBER() OVER (PARTITION BY depth ORDER BY ref) AS n,
                   COUNT(*) OVER (PARTITION BY depth) AS generation,
                   ROW_NUMBER() OVER (ORDER BY depth, ref) AS position,
                   COUNT(*) OVER () AS total
            FROM nearest WHERE depth <= %s
        )
        SELECT ref, depth, generation, total, EXISTS (SELECT 1 FROM nearest WHERE depth > %s),
               (SELECT MIN(r.id) FROM {_TABLE} e JOIN {repo_table} r ON r.id = e.child_id
                WHERE e.child_ref = ranked.ref AND r.private)
        FROM ranked WHERE {where} ORDER BY depth, ref
    """  # table names are ours; every value is a query parameter
    answered, walked = depths
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, walked, *stopped, *stopped, answered, answered, *tail])
        return cursor.fetchall()


#: Times a page is ranked again when a repository on it turned private after the first statement.
RERANKS = 2


def _visible_ranked(
    user,
    seed: str,
    params: list[Any],
    depths: tuple[int, int],
    where: str,
    tail: list[Any],
    known: tuple[set[str], set[int]] | None = None,
):
    """``_ranked`` rows the viewer may see, however visibility changes between the statements.

    The private descendants are found in one statement and the walk is ranked in another: a
    repository made private in between is not in ``hidden`` and would be answered (and counted)
    once to a viewer who may not see it. Each returned row carries, from the ranking statement
    itself, whether its repository is private; a private one not known to be readable is checked
    (one query, for the page's rows only), and if the viewer may not see it the page is ranked
    again without it (its place, the counts and the walk beyond it as for any hidden model). A
    page still racing after ``RERANKS`` rankings leaves such rows out. ``known`` is a previous
    ``_hidden_below`` answer for the same walk (it is updated with what this call learns).
    """
    hidden, readable = known if known is not None else _hidden_below(user, seed, params, depths[1])
    for _ in range(RERANKS):
        rows = _ranked(seed, params, depths, hidden, where, tail)
        unknown = {row[0]: row[5] for row in rows if row[5] is not None and row[5] not in readable}
        if not unknown:
            return rows
        allowed = visible_repositories(user).filter(pk__in=unknown.values()).values_list("pk", flat=True)
        readable |= set(allowed)
        newly = {ref for ref, pk in unknown.items() if pk not in readable}
        if not newly:
            return rows
        hidden |= newly
    return [row for row in rows if row[0] not in hidden]


def descendant_sample(repo_id: str, user, max_depth: int, per_depth: int) -> DescendantSample:
    """At most ``per_depth`` descendants per generation (by ref), with each generation's size.

    A base model with 10,000 derivatives must not cost 10,000 rows (or a 10,000-term lookup)
    to draw twelve: the database ranks and counts, and returns the sample. Descendants private
    to others are neither shown nor counted, and the walk does not go on from them (what lies
    beyond is in their private card). One level more is walked to tell whether visible
    descendants lie deeper than ``max_depth`` (``truncated``).
    """
    seed, params = _CHILDREN_OF, [model_ref(repo_id)]
    nodes: list[GraphNode] = []
    totals: dict[int, int] = {}
    truncated = False
    depths = (max_depth, max_depth + 1)
    for ref, depth, generation, _total, more, _private in _visible_ranked(
        user, seed, params, depths, "n <= %s", [per_depth]
    ):
        nodes.append(GraphNode(ref, depth))
        totals[depth] = generation
        truncated = truncated or bool(more)
    return DescendantSample(nodes, totals, truncated)


@dataclass(frozen=True)
class NodePage:
    """One page of a walk, nearest first, the size of the whole walk, and whether the walk was
    cut at its depth limit (models lie further down)."""

    nodes: list[GraphNode]
    total: int
    truncated: bool = False


def _page(seed: str, params: list[Any], user, limit: int, offset: int, max_depth: int) -> NodePage:
    depths = (max_depth, max_depth + 1)
    known = _hidden_below(user, seed, params, depths[1])
    window = [offset, offset + limit]
    rows = _visible_ranked(user, seed, params, depths, "position > %s AND position <= %s", window, known)
    if rows:
        return NodePage([GraphNode(row[0], row[1]) for row in rows], rows[0][3], bool(rows[0][4]))
    # past the end: still say how many there are
    count = _visible_ranked(user, seed, params, depths, "position = 1", [], known)
    return NodePage([], count[0][3], bool(count[0][4])) if count else NodePage([], 0)


def descendants_page(repo_id: str, user, limit: int, offset: int = 0, max_depth: int = MAX_DEPTH) -> NodePage:
    """``descendants`` the viewer may see, paged in the database (depth, then ref)."""
    return _page(_CHILDREN_OF, [model_ref(repo_id)], user, limit, offset, max_depth)


def derived_from_page(
    classes: Iterable[str], user, limit: int, offset: int = 0, max_depth: int = MAX_DEPTH
) -> NodePage:
    """``descendants_of_license_classes`` the viewer may see, paged in the database."""
    classes = sorted(set(classes))
    if not classes:
        return NodePage([], 0)
    return _page(_children_of_classes(len(classes)), classes, user, limit, offset, max_depth)


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
    sql = f"""WITH RECURSIVE {walk_cte("down", _CHILDREN_OF, up=False, stops=0, postgres=_postgres())}
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


def parent_ids(lineage: Mapping[str, Any] | None) -> list[str]:
    """The declared parents' ids of a stored analysis' ``lineage`` (``base_models``), as written."""
    bases = (lineage or {}).get("base_models") or []
    return [str(b.get("id") or "") for b in bases if isinstance(b, Mapping)]


def inherited_licences(
    declared: Mapping[Hashable, Iterable[str]], user, walked: Iterable[GraphNode] | None = None
) -> dict[Hashable, list[dict[str, Any]]]:
    """For each key's declared parent ids, the ancestors beyond them with the licence recorded on
    the graph edge that reaches each (its child's analysis resolved it), and the chain between
    (``engine.ancestry.inherited_ancestors``): their licences bind the model as its parents' do.

    A model ``user`` may not see reads like one outside the registry: neither it nor anything
    above it is listed (its parents are in its private card). Three queries for any batch: the
    walk, the edges it reached, and which of those models are private to others. ``walked``: the
    models' own ancestor walks when the caller has them (no walk then, and no query at all when
    nothing lies beyond the parents).
    """
    parents = {key: [str(p) for p in ids if str(p).strip()] for key, ids in declared.items()}
    seeds = {model_ref(p) for ids in parents.values() for p in ids}
    if not seeds:
        return {key: [] for key in parents}
    if walked is not None:
        nodes = list(walked)
        if not any(node.depth >= 2 for node in nodes):
            return {key: [] for key in parents}
        refs = seeds | {node.ref for node in nodes}
    else:
        above = ancestors_many(seeds, max_depth=MAX_DEPTH)
        refs = seeds | {node.ref for found in above.values() for node in found}
    edges: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
    rows = LineageEdge.objects.filter(child_ref__in=refs).order_by("pk")
    for child, display, key in rows.values_list("child_ref", "parent_display", "parent_license_key"):
        edges[child].append((display, key or None))
    hidden = hidden_from(user, refs)
    return {
        key: inherited_ancestors(
            ids, lambda mid: edges.get(model_ref(mid), ()), lambda ref: ref not in hidden, MAX_DEPTH
        )
        for key, ids in parents.items()
    }
