"""The model page's lineage graph: ancestors and descendants laid out as a clickable SVG.

The walk itself is the licence service's (``ancestors``/``descendants``, one recursive CTE
each); this module decides what to draw. Generations become columns (ancestors to the
left, descendants to the right), every node is a link when the registry holds the model and
the viewer may see it, nodes are coloured by licence class with the class name printed too
(never colour alone), and edges and nodes carrying an open violation are drawn in red with
a marker. Private repositories the viewer cannot read are left out entirely, so the graph
cannot leak their existence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from django.urls import reverse

from frontend.vocab import class_colour, class_label
from hub.models import Repository
from hub.services.access import visible_repositories
from hub.services.repos import find_by_ids
from licenses.models import LineageEdge, Violation
from licenses.services.lineage import (
    GraphNode,
    ancestor_walk,
    descendant_sample,
    model_ref,
    repositories_for,
)

ANCESTOR_DEPTH = 4
DESCENDANT_DEPTH = 2
MAX_PER_COLUMN = 12

NODE_W, NODE_H, GAP_X, GAP_Y, PAD = 230, 50, 70, 16, 12


@dataclass
class Node:
    ref: str
    label: str
    generation: int  # negative: ancestor, 0: this model, positive: descendant
    license_key: str = ""
    license_class: str = "unknown"
    url: str = ""
    violations: int = 0
    x: int = 0
    y: int = 0


@dataclass
class Edge:
    parent: str
    child: str
    relation: str
    violation: bool = False


@dataclass
class LineageGraph:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    hidden_descendants: int = 0
    #: models lie further up than ``ANCESTOR_DEPTH`` / further down than ``DESCENDANT_DEPTH``
    #: generations (the page says so and links the full walks)
    more_ancestors: bool = False
    more_descendants: bool = False
    ancestor_depth: int = ANCESTOR_DEPTH
    descendant_depth: int = DESCENDANT_DEPTH
    width: int = 0
    height: int = 0

    @property
    def ancestors(self) -> list[Node]:
        return sorted((n for n in self.nodes if n.generation < 0), key=lambda n: (-n.generation, n.ref))

    @property
    def descendants(self) -> list[Node]:
        return sorted((n for n in self.nodes if n.generation > 0), key=lambda n: (n.generation, n.ref))

    @property
    def empty(self) -> bool:
        return len(self.nodes) <= 1


def build(repo: Repository, user) -> LineageGraph:
    """Collect the nodes and edges around ``repo`` the viewer may see, then lay them out."""
    me = model_ref(repo.repo_id)
    walked_up = ancestor_walk(repo.repo_id, ANCESTOR_DEPTH)  # one level more: whether any lie further
    up = walked_up.nodes
    # the database pages the descendants: a base model with 10,000 derivatives sends twelve per
    # generation and their counts, not 10,000 rows and a 10,000-term visibility lookup
    down = descendant_sample(repo.repo_id, user, DESCENDANT_DEPTH, MAX_PER_COLUMN)
    generations = {me: 0}
    by_column: dict[int, list[str]] = {}
    for node in up:
        if node.ref not in generations:
            generations[node.ref] = -node.depth
            by_column.setdefault(-node.depth, []).append(node.ref)
    for refs in by_column.values():  # ancestors beyond a column's room are not drawn
        for ref in sorted(refs)[MAX_PER_COLUMN:]:
            del generations[ref]
    for node in down.nodes:
        generations.setdefault(node.ref, node.depth)
    dropped = down.not_shown

    visible = _visible_repositories(user, set(generations))
    # Descendants private to others are not in the sample. An ancestor missing from ``visible`` is
    # either outside the registry (shown from the edge's record) or a registry model private to
    # someone else: drawn exactly like one outside the registry (its name is in a public card),
    # without its licence and without what lies beyond it.
    unseen_up = [GraphNode(ref, -gen) for ref, gen in generations.items() if gen < 0 and ref not in visible]
    hidden_up = set(repositories_for(unseen_up)) if unseen_up else set()
    more_up = walked_up.truncated
    if more_up and hidden_up:  # what lies beyond a hidden ancestor is its card's: not even that it is there
        more_up = ancestor_walk(repo.repo_id, ANCESTOR_DEPTH, stop=hidden_up).truncated
    hidden = [ref for ref, gen in generations.items() if gen > 0 and ref not in visible]
    for ref in hidden:  # (made private between the two queries)
        del generations[ref]

    edges_qs = LineageEdge.objects.filter(child_ref__in=list(generations), parent_ref__in=list(generations))
    edge_rows = list(edges_qs.values("child_ref", "parent_ref", "parent_display", "relation", "child_id",
                                     "parent_license_key", "parent_license_class"))  # fmt: skip
    if hidden or hidden_up:  # what was reachable only through a hidden model is not shown either
        edge_rows = [r for r in edge_rows if r["child_ref"] not in hidden_up]  # its own parents
        for row in edge_rows:
            if row["parent_ref"] in hidden_up:
                row["parent_license_key"] = row["parent_license_class"] = None
        connected = _connected(me, edge_rows)
        for ref in [r for r in generations if r not in connected]:
            del generations[ref]
        edge_rows = [r for r in edge_rows if r["child_ref"] in connected and r["parent_ref"] in connected]
    open_pairs = set(
        Violation.objects.filter(
            repository_id__in=[r["child_id"] for r in edge_rows], status=Violation.Status.OPEN
        ).values_list("repository_id", "parent_ref")
    )
    open_counts: dict[int, int] = {}
    for repo_id, _parent in Violation.objects.filter(
        repository_id__in=[r.pk for r in visible.values()], status=Violation.Status.OPEN
    ).values_list("repository_id", "parent_ref"):
        open_counts[repo_id] = open_counts.get(repo_id, 0) + 1

    nodes: dict[str, Node] = {}
    displays = {r["parent_ref"]: r for r in edge_rows}
    for ref, gen in generations.items():
        node = Node(ref=ref, label=ref, generation=gen)
        target = visible.get(ref)
        if target is not None:
            node.label = target.repo_id
            node.url = reverse("frontend:model", args=[target.namespace.name, target.name])
            analysis = target.latest_analysis
            if analysis is not None:
                node.license_key = analysis.license_key
                node.license_class = analysis.license_class or "unknown"
            node.violations = open_counts.get(target.pk, 0)
        elif ref in displays:
            row = displays[ref]
            node.label = row["parent_display"] or ref
            node.license_key = row["parent_license_key"]
            node.license_class = row["parent_license_class"] or "unknown"
        nodes[ref] = node
    edges = [
        Edge(r["parent_ref"], r["child_ref"], r["relation"], (r["child_id"], r["parent_ref"]) in open_pairs)
        for r in edge_rows
    ]
    graph = LineageGraph(
        list(nodes.values()), edges, hidden_descendants=dropped, more_ancestors=more_up,
        more_descendants=down.truncated,
    )  # fmt: skip
    _layout(graph)
    return graph


def _connected(start: str, edge_rows: list[dict]) -> set[str]:
    """Refs joined to ``start`` by ``edge_rows`` in either direction."""
    links: dict[str, set[str]] = {}
    for row in edge_rows:
        links.setdefault(row["child_ref"], set()).add(row["parent_ref"])
        links.setdefault(row["parent_ref"], set()).add(row["child_ref"])
    seen, todo = {start}, [start]
    while todo:
        for other in links.get(todo.pop(), ()):
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return seen


def _visible_repositories(user, refs: set[str]) -> dict[str, Repository]:
    """Registry models among ``refs`` the viewer may see, keyed by ref (one indexed query; an OR
    of (owner, name) pairs scanned the repositories once per ref)."""
    queryset = visible_repositories(user, Repository.Type.MODEL).select_related("latest_analysis")
    return find_by_ids(queryset, refs)


def _layout(graph: LineageGraph) -> None:
    columns = sorted({n.generation for n in graph.nodes})
    tallest = max((sum(1 for n in graph.nodes if n.generation == g) for g in columns), default=1)
    graph.height = PAD * 2 + tallest * NODE_H + (tallest - 1) * GAP_Y
    graph.width = PAD * 2 + len(columns) * NODE_W + (len(columns) - 1) * GAP_X
    for i, gen in enumerate(columns):
        members = sorted((n for n in graph.nodes if n.generation == gen), key=lambda n: n.ref)
        column_h = len(members) * NODE_H + (len(members) - 1) * GAP_Y
        top = (graph.height - column_h) // 2
        for j, node in enumerate(members):
            node.x = PAD + i * (NODE_W + GAP_X)
            node.y = top + j * (NODE_H + GAP_Y)


def _truncate(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def to_svg(graph: LineageGraph) -> str:
    """Inline SVG markup (every value escaped); nodes that link are keyboard-focusable ``<a>``."""
    nodes = {n.ref: n for n in graph.nodes}
    parts = [
        f'<svg class="lineage-svg" viewBox="0 0 {graph.width} {graph.height}" width="{graph.width}" '
        f'height="{graph.height}" role="group" aria-label="Lineage graph: ancestors left, descendants right">'
    ]
    for edge in graph.edges:
        p, c = nodes.get(edge.parent), nodes.get(edge.child)
        if p is None or c is None:
            continue
        x1, y1 = p.x + NODE_W, p.y + NODE_H // 2
        x2, y2 = c.x, c.y + NODE_H // 2
        mid = (x1 + x2) // 2
        css = "edge violation" if edge.violation else "edge"
        parts.append(
            f'<path class="{css}" d="M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}">'
            f"<title>{escape(edge.relation)}{' — open violation' if edge.violation else ''}</title></path>"
        )
        parts.append(
            f'<text class="edge-label" x="{mid}" y="{(y1 + y2) // 2 - 4}" text-anchor="middle">'
            f"{escape(edge.relation)}{' ⚠' if edge.violation else ''}</text>"
        )
    for node in graph.nodes:
        colour = class_colour(node.license_class)
        css = (
            "node"
            + (" current" if node.generation == 0 else "")
            + (" has-violations" if node.violations else "")
        )
        licence = node.license_key or "no licence data"
        licence_line = f"{licence} · {class_label(node.license_class)}"
        title = f"{node.label} — {licence} ({class_label(node.license_class)})"
        shown_name, shown_licence = _truncate(node.label), _truncate(licence_line, 34)
        # the link's accessible name is the text the node shows, in its order (WCAG 2.5.3
        # "label in name": a speech user says what they see); the full name stays in the
        # <title> (the link's description) and in the list that follows the graph
        name = f"{shown_name} {shown_licence}"
        if node.violations:
            title += f", {node.violations} open violation(s)"
            name += f", {node.violations} open violation(s)"
        body = (
            f'<rect x="{node.x}" y="{node.y}" width="{NODE_W}" height="{NODE_H}" rx="6" '
            f'style="--class-colour:{colour}"></rect>'
            f'<rect class="stripe" x="{node.x}" y="{node.y}" width="8" height="{NODE_H}" rx="3" fill="{colour}"></rect>'
            f'<text x="{node.x + 16}" y="{node.y + 20}" class="node-name">{escape(shown_name)} </text>'
            f'<text x="{node.x + 16}" y="{node.y + 38}" class="node-licence">{escape(shown_licence)}</text>'
        )
        if node.violations:
            body += f'<text x="{node.x + NODE_W - 10}" y="{node.y + 20}" class="node-warn" text-anchor="end">⚠ {node.violations}</text>'
        title_el = f"<title>{escape(title)}</title>"
        if node.url and node.generation != 0:
            parts.append(
                f'<a class="{css}" href="{escape(node.url)}" data-ref="{escape(node.ref)}" '
                f'aria-label="{escape(name)}">{title_el}{body}</a>'
            )
        else:
            parts.append(f'<g class="{css}" data-ref="{escape(node.ref)}">{title_el}{body}</g>')
    parts.append("</svg>")
    return "".join(parts)
