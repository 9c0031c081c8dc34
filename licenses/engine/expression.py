"""SPDX licence expressions (``MIT OR Apache-2.0``, ``GPL-2.0-or-later WITH Classpath-exception-2.0``).

Cards and LICENSE headers combine licences with AND/OR/WITH, and merges of differently licensed
parents are best recorded as a conjunction (``LicenseRef-hub-llama3 AND LicenseRef-scancode-gemma-…``).
The grammar is left to the ``license-expression`` library; its symbols are then resolved through
the knowledge base, because most AI licences (``llama3.1``, ``openrail++``, ``gemma``) are not SPDX
ids and only the knowledge base knows their Hub ids and spellings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from license_expression import AND, OR, LicenseWithExceptionSymbol, Licensing
from license_expression import ExpressionError as _LibraryExpressionError

from licenses.engine.kb import KnowledgeBase, default_kb, or_later_spdx
from licenses.engine.types import ExpressionError, LicenseInfo

_OPERATOR_OR_PAREN = re.compile(r"\b(?:and|or|with)\b|[()]", re.IGNORECASE)
# A plain Licensing (no symbol table) accepts any token, Hub ids and multi-word names included.
_LICENSING = Licensing()


@dataclass(frozen=True)
class ExprNode:
    """One node of a parsed expression.

    ``AND``/``OR`` nodes have ``children``. ``LEAF`` and ``WITH`` nodes are terminal: ``symbol`` is
    the licence as written, ``license`` its knowledge-base entry (``None`` when unknown) and, for
    ``WITH``, ``exception`` the exception's id.
    """

    op: Literal["AND", "OR", "WITH", "LEAF"]
    children: tuple[ExprNode, ...] = ()
    license: LicenseInfo | None = None
    symbol: str = ""
    exception: str | None = None


def parse_expression(text: str, kb: KnowledgeBase | None = None) -> ExprNode:
    """Parse ``text`` into an ``ExprNode`` tree with every licence resolved through ``kb``.

    A text that is, as a whole, a licence name the knowledge base knows ("Apache License, Version
    2.0") is a single leaf even if it is not valid expression syntax.
    """
    kb = kb or default_kb()
    if not text or not text.strip():
        raise ExpressionError("empty licence expression")
    if not _OPERATOR_OR_PAREN.search(text):
        whole = kb.lookup(text.strip())
        if whole is not None:
            return ExprNode("LEAF", license=whole, symbol=text.strip())
    try:
        parsed = _LICENSING.parse(text, validate=False, strict=False, simple=False)
    except _LibraryExpressionError as exc:
        raise ExpressionError(f"invalid licence expression {text!r}: {exc}") from exc
    if parsed is None:
        raise ExpressionError(f"empty licence expression {text!r}")
    return _convert(parsed, kb)


def _convert(expr: object, kb: KnowledgeBase) -> ExprNode:
    if isinstance(expr, AND | OR):
        op: Literal["AND", "OR"] = "AND" if isinstance(expr, AND) else "OR"
        return ExprNode(op, children=tuple(_convert(arg, kb) for arg in expr.args))
    if isinstance(expr, LicenseWithExceptionSymbol):
        symbol = expr.license_symbol.key
        return ExprNode("WITH", license=kb.lookup(symbol), symbol=symbol, exception=expr.exception_symbol.key)
    symbol = expr.key  # type: ignore[attr-defined]
    return ExprNode("LEAF", license=kb.lookup(symbol), symbol=symbol)


def leaves(node: ExprNode) -> list[ExprNode]:
    """The terminal nodes (``LEAF`` and ``WITH``) in written order."""
    if node.op in ("LEAF", "WITH"):
        return [node]
    return [leaf for child in node.children for leaf in leaves(child)]


#: More alternatives than this (a pathological expression) are cut off.
MAX_ALTERNATIVES = 32


def alternatives(node: ExprNode) -> list[tuple[LicenseInfo | None, ...]]:
    """``node`` in disjunctive normal form: the choices a licensee has, each the licences that then
    all bind. OR concatenates its children's alternatives, AND combines one alternative of each
    child (a WITH exception only adds permissions, so it is its licence). At most
    ``MAX_ALTERNATIVES + 1`` are returned, so a caller can tell the list was cut."""
    if node.op in ("LEAF", "WITH"):
        return [(node.license,)]
    parts = [alternatives(child) for child in node.children]
    if node.op == "OR":
        return [alt for part in parts for alt in part][: MAX_ALTERNATIVES + 1]
    combined: list[tuple[LicenseInfo | None, ...]] = [()]
    for part in parts:
        combined = [done + alt for done in combined for alt in part][: MAX_ALTERNATIVES + 1]
    return combined


def evaluate(node: ExprNode, predicate: Callable[[LicenseInfo | None], bool]) -> bool:
    """Apply ``predicate`` to each licence: OR passes when any branch passes, AND when all do.

    A ``WITH`` node is judged on its licence: exceptions only ever add permissions, so a check that
    the bare licence passes also passes with the exception.
    """
    if node.op == "AND":
        return all(evaluate(child, predicate) for child in node.children)
    if node.op == "OR":
        return any(evaluate(child, predicate) for child in node.children)
    return predicate(node.license)


def to_spdx(node: ExprNode) -> str:
    """Render the tree with SPDX ids / LicenseRefs for known licences (the form stored and exported).
    "Or later" as declared (``GPLv2+``, ``gpl-3.0-or-later``) is written in its canonical form."""
    if node.op in ("LEAF", "WITH"):
        if node.license is None:
            name = node.symbol
        else:  # the knowledge base files GPL-x and GPL-x-or-later under one key: keep "or later"
            name = or_later_spdx(node.symbol, node.license) or node.license.spdx
        return f"{name} WITH {node.exception}" if node.op == "WITH" else name
    parts = [
        to_spdx(c) if c.op in ("LEAF", "WITH") or c.op == node.op else f"({to_spdx(c)})"
        for c in node.children
    ]
    return f" {node.op} ".join(parts)
