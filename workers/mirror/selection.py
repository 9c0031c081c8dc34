"""Which repositories a run follows, as a queue of listing sources kept in the cursor.

A source is either a list of explicit ids (each needs its own ``model_info``) or one
``/api/models`` query (``author``, ``search``, ``filter`` tags, ``sort=downloads`` for
top-N), paged with the upstream's ``Link`` URLs and asking for everything a sync needs in
the same request (``expand=sha,siblings,cardData…``) so unchanged repositories cost no
extra request. ``descendants_of`` is a query on ``filter=base_model:<id>`` whose results
enqueue the same query for each child, to a bounded depth, so a whole model tree is
followed; the queue lives in the cursor, so a resumed run continues the same walk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Everything a sync reads from a listing; with these, an unchanged repo costs nothing more.
LIST_EXPAND = (
    "author", "cardData", "createdAt", "disabled", "downloads", "gated", "lastModified", "library_name",
    "likes", "pipeline_tag", "private", "safetensors", "sha", "siblings", "tags",
)  # fmt: skip


@dataclass
class SelectionOptions:
    """The selection half of a ``MirrorSpec`` (or of the CLI's arguments)."""

    repo_ids: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    search: str = ""
    tags: list[str] = field(default_factory=list)
    descendants_of: str = ""
    top_n: int | None = None
    limit: int | None = None

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> SelectionOptions:
        return cls(
            repo_ids=[str(x) for x in data.get("repo_ids") or []],
            authors=[str(x) for x in data.get("authors") or []],
            search=str(data.get("search") or ""),
            tags=[str(x) for x in data.get("tags") or []],
            descendants_of=str(data.get("descendants_of") or ""),
            top_n=data.get("top_n") or None,
            limit=data.get("limit") or None,
        )


def _query(
    *, author: str = "", search: str = "", tags: list[str] | None = None, top_n: int | None = None
) -> list[list[str]]:
    params: list[list[str]] = []
    if author:
        params.append(["author", author])
    if search:
        params.append(["search", search])
    for tag in tags or []:
        params.append(["filter", tag])
    if top_n:
        params += [["sort", "downloads"], ["direction", "-1"]]
    return params


def list_source(params: list[list[str]], *, max_items: int | None = None, descend: int = 0) -> dict[str, Any]:
    return {"kind": "list", "params": params, "max": max_items, "descend": descend}


def sources_for(sel: SelectionOptions, *, descendant_depth: int) -> list[dict[str, Any]]:
    """The initial queue. Explicit ids come first: they are what someone asked for by name."""
    sources: list[dict[str, Any]] = []
    if sel.repo_ids:
        sources.append({"kind": "ids", "ids": list(dict.fromkeys(sel.repo_ids))})
    has_query = bool(sel.authors or sel.search or sel.tags or sel.top_n)
    for author in sel.authors or ([""] if has_query else []):
        sources.append(
            list_source(
                _query(author=author, search=sel.search, tags=sel.tags, top_n=sel.top_n), max_items=sel.top_n
            )
        )
    if sel.descendants_of:
        sources.append(descendant_source(sel.descendants_of, sel.tags, depth=descendant_depth))
    if not sources:  # nothing narrowed down: the whole upstream, bounded by ``limit``
        sources.append(list_source([]))
    return sources


def descendant_source(parent: str, tags: list[str], *, depth: int) -> dict[str, Any]:
    return list_source(_query(tags=[f"base_model:{parent}", *tags]), descend=max(0, depth - 1))


def first_page_params(source: dict[str, Any], page_size: int) -> list[tuple[str, str]]:
    params = [(k, v) for k, v in source["params"]]
    params.append(("limit", str(page_size)))
    params += [("expand", e) for e in LIST_EXPAND]
    return params
