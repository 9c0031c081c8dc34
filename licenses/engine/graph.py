"""In-memory lineage graph: who derives from whom, walked without recursion.

When a root's licence changes (a relicensing, a corrected card) every descendant's
verdicts may change, and a popular base has tens of thousands of them. This index finds
them in milliseconds so that only those models are re-evaluated. Ids are interned to
integers and adjacency is kept in plain lists, which keeps a million-model graph at a few
hundred megabytes; walks are iterative (an explicit stack), because real lineage chains
are deep enough to hit Python's recursion limit and cycles exist in bad metadata.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

RELATION_CODES = {"finetune": 0, "adapter": 1, "merge": 2, "quantized": 3}
_RELATION_NAMES = {v: k for k, v in RELATION_CODES.items()}


class LineageGraph:
    """Directed graph child → parent with the relation on each edge."""

    def __init__(self) -> None:
        self._index: dict[str, int] = {}
        self._ids: list[str] = []
        self._parents: list[list[int] | None] = []
        self._relations: list[list[int] | None] = []
        self._children: list[list[int] | None] = []

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._index

    def node(self, model_id: str) -> int:
        """The integer handle of ``model_id``, adding the node when new."""
        i = self._index.get(model_id)
        if i is None:
            i = len(self._ids)
            self._index[model_id] = i
            self._ids.append(model_id)
            self._parents.append(None)
            self._relations.append(None)
            self._children.append(None)
        return i

    def add_edge(self, child: str, parent: str, relation: str = "finetune") -> None:
        """Record that ``child`` derives from ``parent``; a repeated edge is ignored."""
        c, p = self.node(child), self.node(parent)
        if c == p:
            return  # a card naming itself as its base
        parents = self._parents[c]
        if parents is None:
            self._parents[c] = [p]
            self._relations[c] = [RELATION_CODES.get(relation, 0)]
        elif p in parents:
            return
        else:
            parents.append(p)
            self._relations[c].append(RELATION_CODES.get(relation, 0))  # type: ignore[union-attr]
        kids = self._children[p]
        if kids is None:
            self._children[p] = [c]
        else:
            kids.append(c)

    def id_of(self, handle: int) -> str:
        return self._ids[handle]

    def parents(self, model_id: str) -> list[tuple[str, str]]:
        """Direct parents with their relation."""
        i = self._index.get(model_id)
        if i is None or self._parents[i] is None:
            return []
        return [
            (self._ids[p], _RELATION_NAMES[r])
            for p, r in zip(self._parents[i], self._relations[i], strict=True)  # type: ignore[arg-type]
        ]

    def children(self, model_id: str) -> list[str]:
        i = self._index.get(model_id)
        return [self._ids[c] for c in self._children[i] or ()] if i is not None else []

    def _walk(self, start: int, adjacency: list[list[int] | None]) -> Iterator[int]:
        seen = {start}
        stack = [start]
        while stack:
            node = stack.pop()
            for nxt in adjacency[node] or ():
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
                    yield nxt

    def descendants(self, model_id: str) -> list[str]:
        """Every model deriving from ``model_id`` directly or transitively (no order guaranteed)."""
        i = self._index.get(model_id)
        return [] if i is None else [self._ids[n] for n in self._walk(i, self._children)]

    def ancestors(self, model_id: str) -> list[str]:
        """Every model ``model_id`` derives from, directly or transitively."""
        i = self._index.get(model_id)
        return [] if i is None else [self._ids[n] for n in self._walk(i, self._parents)]

    def descendant_handles(self, handle: int) -> list[int]:
        """``descendants`` on integer handles, for bulk callers that keep their own arrays."""
        return list(self._walk(handle, self._children))

    def roots(self) -> Iterable[str]:
        return (self._ids[i] for i, p in enumerate(self._parents) if not p)
