"""A faster equivalent of PyYAML's safe constructor and resolver for alias-free node trees.

Why: on a typical card, PyYAML's C loader spends more time in Python than in libyaml.
``get_single_data`` walks the node tree through generic machinery (``construct_object``
with its memo tables, one generator per collection, ``flatten_mapping``), and libyaml's
composer calls ``Resolver.resolve`` in Python for every node. For the documents the
front-matter parser sends down its C path (no anchors, hence no aliases, bounded depth),
most of that generality is unused, so this module does the same job in one tight walk.

Exactness is the contract, not an aspiration: the result must equal what
``SafeConstructor`` builds. Hence the walk handles only the plain cases itself (``!!str``
/ ``!!null`` / ``!!bool`` / ``!!int`` / ``!!float`` scalars by SafeConstructor's own rules,
``!!seq`` and ``!!map`` collections with scalar keys) and hands every other node to the
loader's own constructor. Whatever it cannot decide exactly (merge ``<<`` or ``=`` keys,
which ``flatten_mapping`` rewrites; non-scalar keys) raises :class:`NeedsFullConstructor`,
and the caller reruns the whole document the old way, which also reproduces PyYAML's
exact errors on bad input.
"""

from __future__ import annotations

import re
from typing import Any

from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
#: Keys that ``SafeConstructor.flatten_mapping`` rewrites or expands.
_FLATTENED_KEY_TAGS = frozenset({"tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"})
_BOOL_VALUES = SafeConstructor.bool_values
#: Characters of floats that ``float()`` reads exactly as ``construct_yaml_float`` does.
_PLAIN_FLOAT_CHARS = "0123456789.eE+-"
#: Plain scalars up to this length have their resolved tag memoised ...
_MEMO_VALUE_CHARS = 64
#: ... in a memo emptied when it holds this many (a few hundred KB at most).
_MEMO_LIMIT = 4096


#: Never holds anything: its ``get`` and ``clear`` serve as the no-op path-resolver hooks.
_NO_PATHS: dict[Any, Any] = {}


class NeedsFullConstructor(Exception):
    """The tree uses a feature the fast walk leaves to PyYAML's constructor."""


def _implicit_table(resolver: type[Resolver]) -> tuple[dict[str, tuple], tuple]:
    """Implicit resolvers by first character, wildcard resolvers appended, as ``resolve`` scans them."""
    table = resolver.yaml_implicit_resolvers
    wildcard = tuple(table.get(None, ()))
    by_first = {key: tuple(pairs) + wildcard for key, pairs in table.items() if key is not None}
    return by_first, wildcard


class QuickResolverMixin:
    """``Resolver.resolve`` without its generic detours, for loaders built on libyaml's parser.

    libyaml's composer calls ``resolve`` once per node; the generic version builds two
    lists and checks path resolvers each time. The safe resolver has no path resolvers,
    and this one never consults them (so ``descend_resolver`` / ``ascend_resolver``, which
    the composer calls around every node only to track them, do nothing here, in C), so
    the answer reduces to: the first implicit resolver for the scalar's first character
    whose pattern matches, else the default tag of the node kind. That answer depends on
    the text alone, and cards repeat the same plain scalars (keys, tags, licence ids)
    endlessly, so short ones are memoised per class, the memo emptied when it reaches
    ``_MEMO_LIMIT`` entries. The table is taken from the class when it is defined:
    resolvers added to PyYAML's classes later are not seen.
    """

    _quick_implicit: dict[str, tuple[tuple[str, re.Pattern[str]], ...]]
    _quick_wildcard: tuple[tuple[str, re.Pattern[str]], ...]
    _quick_memo: dict[str, str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._quick_implicit, cls._quick_wildcard = _implicit_table(cls)  # type: ignore[arg-type]
        cls._quick_memo = {}

    def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            if implicit[0]:
                tag = self._quick_memo.get(value)
                if tag is None:
                    tag = self._resolve_plain(value)
                return tag
            return _STR
        return _SEQ if kind is SequenceNode else _MAP

    #: No path resolvers to track (see the class docstring), yet libyaml's composer calls
    #: these two around every node (the inherited ones look the node up in resolver
    #: tables each time). Bound methods of an always-empty dict are C callables with the
    #: right arities that do nothing observable, so the composer's calls never enter a
    #: Python frame: ``get(parent, index)`` returns ``index`` and ``clear()`` keeps it empty.
    descend_resolver = _NO_PATHS.get
    ascend_resolver = _NO_PATHS.clear

    def _resolve_plain(self, value: str) -> str:
        resolvers = self._quick_implicit.get(value[:1], self._quick_wildcard)
        tag = next((tag for tag, regexp in resolvers if regexp.match(value)), _STR)
        if len(value) <= _MEMO_VALUE_CHARS:
            memo = self._quick_memo
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            memo[value] = tag
        return tag


def construct_tree(node: Node, loader: SafeConstructor, duplicates: set[str]) -> Any:
    """The Python value of an alias-free ``node``, equal to ``loader.construct_document(node)``.

    Mapping keys given twice are added to ``duplicates`` exactly as the front-matter
    loader's mixin records them (raw key text, cut at 80 characters). Raises
    :class:`NeedsFullConstructor` for trees it does not handle, and whatever the loader's
    constructor raises for nodes passed to it; callers then rerun the whole document
    through the loader so that values, duplicates and errors come from one place.
    """
    kind = type(node)
    tag = node.tag
    if kind is ScalarNode:
        if tag == _STR:
            return node.value
        return _scalar(node, loader)
    if kind is MappingNode and tag == _MAP:
        return _mapping(node, loader, duplicates)
    if kind is SequenceNode and tag == _SEQ:
        return [
            item.value
            if type(item) is ScalarNode and item.tag == _STR
            else construct_tree(item, loader, duplicates)
            for item in node.value
        ]
    return loader.construct_object(node, deep=True)


def _mapping(node: MappingNode, loader: SafeConstructor, duplicates: set[str]) -> dict:
    """``construct_yaml_map`` for scalar keys; the duplicate check of the front-matter mixin."""
    data: dict = {}
    pairs = node.value
    for key_node, value_node in pairs:
        if type(key_node) is not ScalarNode:
            raise NeedsFullConstructor("non-scalar key")
        key_tag = key_node.tag
        if key_tag == _STR:
            key = key_node.value
        elif key_tag in _FLATTENED_KEY_TAGS:
            raise NeedsFullConstructor("merge or value key")
        else:
            key = _scalar(key_node, loader)
        if type(value_node) is ScalarNode and value_node.tag == _STR:
            data[key] = value_node.value
        else:
            data[key] = construct_tree(value_node, loader, duplicates)
    if len(data) < len(pairs):
        seen: set[str] = set()
        for key_node, _ in pairs:
            text = str(key_node.value)[:80]
            if text in seen:
                duplicates.add(text)
            seen.add(text)
    return data


def _scalar(node: ScalarNode, loader: SafeConstructor) -> Any:
    """A non-``!!str`` scalar by SafeConstructor's rules (its own methods where they are not trivial)."""
    tag = node.tag
    if tag == "tag:yaml.org,2002:int":
        value = node.value
        if value.isdecimal() and value[0] != "0":  # construct_yaml_int's final branch
            return int(value)
        return SafeConstructor.construct_yaml_int(loader, node)
    if tag == "tag:yaml.org,2002:bool":
        return _BOOL_VALUES[node.value.lower()]
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:float":
        value = node.value
        if not value.strip(_PLAIN_FLOAT_CHARS):
            # construct_yaml_float strips ``_``, lower-cases and splits off the sign before
            # ``sign * float(rest)``: for digits, ``.``, exponent and signs only, that is
            # ``float(value)`` (IEEE negation is exact); ``_``, ``:``, ``.inf``, ``.nan`` go the long way
            try:
                return float(value)
            except ValueError:
                pass
        return SafeConstructor.construct_yaml_float(loader, node)
    return loader.construct_object(node, deep=True)
