"""Ancestors beyond a model's declared parents, with the licence each was recorded under.

A derivative stays bound by its base model's licence however far down it sits (licenses.md §3):
a fine-tune of a relabelled Llama fine-tune is still a Llama derivative. The declared parents
carry their licences in ``lineage.base_models``; this walks on from them, one generation at a
time, through whatever knows a model's own parents (the analysed repositories of one
``modelhub analyze`` run, or the server's lineage graph), and says by which chain each ancestor
was reached. Pure: the caller supplies the parents and what may be seen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

#: Deeper chains than this are not real model trees (the server's graph walks stop here too).
MAX_DEPTH = 64

#: ``(id, license_key)`` of each declared parent of a model, or ``()`` when nothing knows them.
ParentsOf = Callable[[str], Iterable[tuple[str, str | None]]]


def model_ref(model_id: str) -> str:
    """The lineage graph's key for a model id: lower-cased ``owner/name`` without a hub URL prefix
    (the server's graph keys its edges with it: ``licenses.services.lineage``)."""
    return model_id.strip().removeprefix("https://huggingface.co/").strip("/").lower()


def inherited_ancestors(
    parents: Iterable[str],
    parents_of: ParentsOf,
    visible: Callable[[str], bool] = lambda ref: True,
    max_depth: int = MAX_DEPTH,
) -> list[dict[str, Any]]:
    """Ancestors two or more generations up, nearest first, each once (at its nearest depth).

    Each is ``{"id", "depth", "license_key", "path"}``: ``path`` names the models between, from
    the declared parent down to the ancestor's child. A model ``visible`` refuses reads like one
    outside the registry: it is not listed, and nothing is walked through it (its parents are in
    its card, which the caller may not read). Declared parents themselves are not listed (they
    are ``lineage.base_models``).
    """
    frontier: list[tuple[str, list[str]]] = []
    seen: set[str] = set()
    for pid in parents:
        ref = model_ref(pid)
        if ref and ref not in seen:
            seen.add(ref)
            if visible(ref):
                frontier.append((pid, [pid]))
    out: list[dict[str, Any]] = []
    depth = 1
    while frontier and depth < max_depth:
        depth += 1
        following: list[tuple[str, list[str]]] = []
        for child, path in frontier:
            for pid, key in parents_of(child):
                ref = model_ref(pid)
                if not ref or ref in seen:
                    continue
                seen.add(ref)
                if not visible(ref):
                    continue
                out.append({"id": pid, "depth": depth, "license_key": key or None, "path": list(path)})
                following.append((pid, [*path, pid]))
        frontier = following
    return out
