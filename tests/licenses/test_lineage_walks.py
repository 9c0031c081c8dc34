"""Lineage walks over adversarial graphs (cliques, cycles, chains past the depth limit).

Every walk answers each model once, at its nearest depth, nearest first, and does not go on from
the stop refs; on PostgreSQL it visits each edge at most once, however many depths a model is
reachable at; and an answer cut at the depth limit says so.
"""

from __future__ import annotations

import json
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hub.models import Namespace, Repository
from licenses.models import LineageEdge
from licenses.services import lineage as L

pytestmark = pytest.mark.django_db


def ref(owner: str, i: int) -> str:
    return f"{owner}/m{i:04d}"


def graph(owner: str, parents: dict[int, list[int]], n: int, tainted: frozenset[int] = frozenset()) -> None:
    """``n`` registry models; model i names ``parents[i]`` (edge rows written directly, as the
    analysis would); edges to a parent in ``tainted`` carry the noncommercial class."""
    ns = Namespace.objects.create(name=owner, kind=Namespace.Kind.ORG)
    repos = Repository.objects.bulk_create([Repository(namespace=ns, name=f"m{i:04d}") for i in range(n)])
    now = timezone.now()
    LineageEdge.objects.bulk_create(
        [
            LineageEdge(
                child=repos[i], child_ref=ref(owner, i), parent_ref=ref(owner, j), parent_display=ref(owner, j),
                relation="merge", parent_license_class="noncommercial" if j in tainted else "", updated_at=now,
            )
            for i in range(n)
            for j in parents.get(i, [])
        ],
        batch_size=5000,
    )  # fmt: skip


def bfs(step: dict[str, set[str]], seeds: set[str], max_depth: int, stop: set[str]) -> list[tuple[str, int]]:
    """The reference answer: breadth-first from the seeds' neighbours (depth 1; a seed is expanded
    even when stopped), each model at its first depth, not going on from ``stop``."""
    found: dict[str, int] = {}
    frontier = {n for s in seeds for n in step.get(s, ())}
    depth = 1
    while frontier and depth <= max_depth:
        found.update(dict.fromkeys(frontier, depth))
        frontier = {n for r in frontier if r not in stop for n in step.get(r, ())} - found.keys()
        depth += 1
    return sorted(found.items(), key=lambda item: (item[1], item[0]))


def pairs(nodes) -> list[tuple[str, int]]:
    return [(n.ref, n.depth) for n in nodes]


@pytest.mark.parametrize("seed", range(6))
def test_walks_answer_each_model_once_at_its_nearest_depth(seed):
    rng = random.Random(seed)
    n = 40
    parents = {i: rng.sample(range(n), rng.randint(0, 4)) for i in range(n)}  # cycles, self-loops
    tainted = frozenset(rng.sample(range(n), 3))
    graph("g", parents, n, tainted)
    up = {ref("g", i): {ref("g", j) for j in ps} for i, ps in parents.items()}
    down: dict[str, set[str]] = {}
    for child, ps in up.items():
        for p in ps:
            down.setdefault(p, set()).add(child)
    for trial in range(8):
        origin = ref("g", rng.randrange(n))
        stop = {ref("g", i) for i in rng.sample(range(n), rng.randint(0, 3))} | (
            {origin} if trial == 0 else set()
        )
        depth = rng.choice([1, 2, 3, L.MAX_DEPTH])
        assert pairs(L.ancestors(origin, depth, stop)) == bfs(up, {origin}, depth, stop)
        assert pairs(L.ancestor_walk(origin, depth, stop).nodes) == bfs(up, {origin}, depth, stop)
        assert pairs(L.descendants(origin, depth, stop)) == bfs(down, {origin}, depth, stop)
        many = [ref("g", i) for i in rng.sample(range(n), 5)]
        walked = L.ancestors_many(many, depth, stop)
        assert {k: pairs(v) for k, v in walked.items()} == {o: bfs(up, {o}, depth, stop) for o in many}
        roots = {ref("g", i) for i in tainted}
        assert pairs(L.descendants_of_license_classes(["noncommercial"], depth, stop)) == bfs(
            down, roots, depth, stop
        )
        page = L.descendants_page(origin, None, limit=1000, max_depth=depth)
        assert pairs(page.nodes) == bfs(down, {origin}, depth, set()) and page.total == len(page.nodes)


def _edge_rows_visited(sql: str) -> int:
    """Rows the statement read from the edge table (PostgreSQL's own count, not a time)."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + sql)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan

    def visit(node) -> int:
        here = (
            node["Actual Rows"] * node["Actual Loops"]
            if node.get("Relation Name") == LineageEdge._meta.db_table
            else 0
        )
        return here + sum(visit(child) for child in node.get("Plans", ()))

    return visit(plan[0]["Plan"])


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_a_clique_walk_reads_each_edge_at_most_once():
    """Before: the walk kept a row per (model, depth) and expanded each model at every depth up to
    64, so one walk over 64 models naming each other read ~254,000 edge rows (63 × 63 × 64), and a
    1,000-model graph whose cards name 127 others took seconds per page view, check or BOM."""
    n = 64
    graph("k", {i: [j for j in range(n) if j != i] for i in range(n)}, n)
    edges, member = n * (n - 1), ref("k", 7)
    walks = {
        "ancestors": lambda: L.ancestors(member),
        "ancestors_many": lambda: L.ancestors_many([member, ref("k", 9)]),
        "descendants": lambda: L.descendants(member),
        "descendant_heads": lambda: L.descendant_heads(member),
        "descendants_page": lambda: L.descendants_page(member, None, limit=10),
        "derived_from": lambda: L.descendants_of_license_classes([""]),
    }
    for name, walk in walks.items():
        with CaptureQueriesContext(connection) as queries:
            walk()
        for query in queries.captured_queries:
            if "RECURSIVE" in query["sql"]:
                seeds = 2 if name == "ancestors_many" else 1
                assert _edge_rows_visited(query["sql"]) <= 2 * seeds * edges, name
    assert pairs(L.ancestors(member)) == [(ref("k", j), 1) for j in range(n) if j != 7] + [(member, 2)]


def chain(owner: str, n: int) -> None:
    """m0 ← m1 ← … ← m(n-1): each names the one before."""
    graph(owner, {i: [i - 1] for i in range(1, n)}, n)


def test_an_answer_cut_at_the_depth_limit_says_so(client):
    deep = L.MAX_DEPTH
    chain("c", deep + 2)  # c/m0000 … c/m0065
    cut = client.get(f"/api/v1/lineage/c/m{deep + 1:04d}/ancestors")
    assert len(cut.json()) == deep and cut["X-Lineage-Truncated"] == "true"
    assert cut.json()[-1] == {"id": ref("c", 1), "depth": deep, "in_registry": True}
    whole = client.get(f"/api/v1/lineage/c/m{deep:04d}/ancestors")
    assert len(whole.json()) == deep and "X-Lineage-Truncated" not in whole
    down = client.get("/api/v1/lineage/c/m0000/descendants?limit=10")
    assert down["X-Total-Count"] == str(deep) and down["X-Lineage-Truncated"] == "true"
    assert "X-Lineage-Truncated" not in client.get("/api/v1/lineage/c/m0001/descendants")
    assert L.ancestor_walk(ref("c", deep + 1)).truncated and not L.ancestor_walk(ref("c", deep)).truncated


def test_a_private_model_beyond_the_limit_does_not_show_as_a_cut(client):
    deep = L.MAX_DEPTH
    chain("p", deep + 2)
    Repository.objects.filter(namespace__name="p", name=f"m{deep + 1:04d}").update(private=True)
    down = client.get("/api/v1/lineage/p/m0000/descendants")
    assert len(down.json()) == deep and "X-Lineage-Truncated" not in down
