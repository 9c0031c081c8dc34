"""Keyset ("cursor") pagination: page N costs the same as page 1, at any table size.

OFFSET pagination reads and throws away every row before the page, which at a million
models makes deep pages slow; a cursor carries the last row's sort key and the next page
starts right after it via the index. The cursor is an opaque URL-safe token; a tampered
one is ignored (the first page is shown), never an error page.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None
    has_previous: bool


def encode_cursor(value: Any, pk: int) -> str:
    payload = ["dt", value.isoformat(), pk] if isinstance(value, datetime) else ["v", value, pk]
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(token: str | None) -> tuple[Any, int] | None:
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        kind, value, pk = json.loads(raw)
        if kind == "dt":
            value = datetime.fromisoformat(value)
        elif not isinstance(value, (int, float)) or isinstance(value, bool):
            return None
        if not isinstance(pk, int):
            return None
        return value, pk
    except (ValueError, TypeError):
        return None


def keyset_page(qs: QuerySet, key: str, cursor: str | None, size: int) -> Page:
    """One page of ``qs`` ordered by ``key`` descending then pk descending, after ``cursor``.

    ``key`` must name a non-null value on the rows (annotate a ``Coalesce`` for nullable ones).
    """
    after = decode_cursor(cursor)
    ordered = qs.order_by(f"-{key}", "-pk")
    if after is not None:
        value, pk = after
        ordered = ordered.filter(Q(**{f"{key}__lt": value}) | Q(**{key: value, "pk__lt": pk}))
    rows = list(ordered[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = encode_cursor(getattr(last, key), last.pk)
    return Page(rows, next_cursor, after is not None)
