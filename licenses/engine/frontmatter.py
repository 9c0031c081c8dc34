"""Model-card front matter: the YAML block between ``---`` lines at the top of README.md.

Cards are untrusted input uploaded by anyone, so this parser must never raise and must
stay bounded in time and memory whatever it is given: binary junk, a 20 MB README, a
billion-laughs alias bomb, or nesting deep enough to overflow the C stack of libyaml's
recursive composer (measured: ``"[" * 100_000`` or ``"- " * 100_000`` segfaults
CSafeLoader). Every oddity is recorded in ``FrontMatter.problems`` instead of raised, so
the caller can show it and still classify what was readable.

Speed matters too (the bulk analysis budget is 3x "read + CSafeLoader"), so the common
case runs on PyYAML's C loader, guarded by checks that cost a few C-speed scans:

* nesting: a block collection starts at a greater column than its parent (also in the
  compact ``- - x`` form), except a sequence under a mapping key, which may share its
  parent's column once. So depth is at most twice the largest "indentation plus leading
  ``-``/``?`` indicators" of any line, plus the number of ``[``/``{``. When that bound
  exceeds ``MAX_DEPTH``, libyaml's event parser (a state machine, not recursive) measures
  the real depth first and documents deeper than ``MAX_DEPTH`` are refused.
* aliases: an alias needs an anchor, so a document with an anchor-like token (``&name``
  after whitespace or a flow indicator) goes to the bounded loader, which refuses
  recursive aliases and a node graph whose alias expansion exceeds ``MAX_NODES`` nodes or
  ``MAX_EXPANDED_CHARS`` scalar characters (PyYAML shares aliased nodes, but anything that
  later walks or serialises the result would expand them: 40,000 aliases of one 200-character
  string fit a 160 kB block and made the stored ``cardData`` 8 MB and the analysis 40 MB). Prose such as "Q&A" or "R & D" does not look like an anchor.

On the C path, PyYAML's Python constructor used to cost more than libyaml itself, so the
node tree is converted by ``yaml_construct.construct_tree`` (and scalars resolved by its
quick resolver), which give exactly SafeConstructor's values and fall back to it for
anything unusual.
"""

from __future__ import annotations

import codecs
import functools
import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.cyaml import CParser
from yaml.events import MappingEndEvent, MappingStartEvent, SequenceEndEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .yaml_construct import QuickResolverMixin, construct_tree

#: Largest YAML block parsed (characters). Real cards stay far below; the Hub's longest
#: ``extra_gated_prompt`` licence texts are a few tens of KB.
MAX_YAML_CHARS = 256 * 1024
#: Body kept for downstream scanning (licence sections, badges). A longer body is cut.
MAX_BODY_CHARS = 1024 * 1024
#: Deepest nesting accepted by the bounded loader.
MAX_DEPTH = 64
#: What a document nested deeper than ``MAX_DEPTH`` is refused with, whichever check finds it.
_TOO_DEEP = f"nesting deeper than {MAX_DEPTH} levels"
#: Largest node graph (aliases expanded) accepted by the bounded loader.
MAX_NODES = 100_000
#: Largest total of scalar characters (aliases expanded) accepted by the bounded loader: four
#: times ``MAX_YAML_CHARS``, room for merge keys and anchors reused as written, while a node
#: budget alone let one long anchored string be repeated tens of thousands of times.
MAX_EXPANDED_CHARS = 4 * MAX_YAML_CHARS
#: Bytes inspected for NUL characters when deciding that input is binary.
_BINARY_SNIFF = 8192

_ANCHOR_TOKEN = re.compile(r"(?<![^\s\[{,])&[^\s,\[\]{}]")
_LEADING_TABS = re.compile(r"^[ \t]*\t[ \t]*", re.MULTILINE)
#: What PyYAML's constructors raise besides YAMLError (impossible dates, huge integers ...).
#: KeyError: an explicit ``!!bool`` on a word that is no boolean (``!!bool maybe``).
_CONSTRUCT_ERRORS = (RecursionError, ValueError, TypeError, OverflowError, KeyError)


@dataclass(frozen=True)
class FrontMatter:
    """The parsed card: ``metadata`` is ``{}`` whenever the YAML could not be used."""

    metadata: dict
    body: str
    problems: tuple[str, ...] = ()
    raw_yaml: str | None = None


class FrontMatterLimit(Exception):
    """A document exceeded a safety budget (depth, node count)."""


def decode_text(data: bytes) -> tuple[str, list[str]]:
    """Decode README bytes the way a browser would, never failing.

    UTF-8 (with or without BOM) is the Hub's encoding; UTF-16 with a BOM is honoured
    because Windows editors produce it; anything else is decoded as UTF-8 with
    replacement characters and the problem recorded. NUL bytes in the first 8 KB of
    non-UTF-16 input mean the file is not text at all.
    """
    problems: list[str] = []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), ["README is UTF-16 encoded"]
    if data.find(b"\x00", 0, _BINARY_SNIFF) != -1:  # (no 8 KB slice copied)
        problems.append("binary content")
    # ``data.decode("utf-8-sig")`` exactly (offsets count from after the BOM, as its codec's),
    # without the trip through that codec's Python wrapper
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8", errors="replace")
        problems.append(f"not valid UTF-8 (first bad byte at offset {exc.start}); decoded with replacement")
    return text, problems


def parse_front_matter(data: str | bytes) -> FrontMatter:
    """Split a README into metadata and body; see the module docstring for the guarantees."""
    problems: list[str] = []
    if isinstance(data, bytes):
        text, problems = decode_text(data)
    else:
        text = data
        if text.find("\x00", 0, _BINARY_SNIFF) != -1:  # (no 8 KB slice copied)
            problems.append("binary content")
    if "binary content" in problems:
        return FrontMatter({}, "", tuple(problems), None)
    text = text.removeprefix("\ufeff")

    start, end, body_start = _locate(text)
    if start is None:
        if body_start == -1:
            problems.append("front matter opened with '---' but never closed; treated as body")
        return FrontMatter({}, _cap_body(text, problems), tuple(problems), None)

    raw = text[start:end]
    body = _cap_body(text[body_start:], problems)
    if len(raw) > MAX_YAML_CHARS:
        problems.append(
            f"front matter is {len(raw):,} characters, over the {MAX_YAML_CHARS:,} limit; not parsed"
        )
        return FrontMatter({}, body, tuple(problems), None)
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    metadata = _load(raw, problems)
    return FrontMatter(metadata, body, tuple(problems), raw)


def _locate(text: str) -> tuple[int | None, int, int]:
    """Find the YAML block: ``(start, end, body_start)``; ``start`` is None when absent.

    Follows huggingface_hub: leading whitespace before the opening ``---`` is allowed and
    the block ends at the first line that is exactly ``---``. ``body_start`` is -1 when
    an opening line was found but no closing one.
    """
    i = 0
    n = len(text)
    while i < n and text[i] in " \t\r\n":
        i += 1
    if not text.startswith("---", i):
        return None, 0, 0
    j = i + 3
    while j < n and text[j] in " \t":
        j += 1
    if j < n and text[j] not in "\r\n":
        return None, 0, 0  # "---foo" or "--- x" is not a front-matter fence
    start = j + (2 if text.startswith("\r\n", j) else 1)
    pos = start
    while True:
        k = text.find("---", pos)
        if k == -1:
            return None, 0, -1
        after = k + 3
        if (k == start or text[k - 1] in "\r\n") and (after == n or text[after] in "\r\n"):
            body_start = after + (2 if text.startswith("\r\n", after) else 1 if after < n else 0)
            return start, k, body_start
        pos = k + 3


def _cap_body(body: str, problems: list[str]) -> str:
    if len(body) > MAX_BODY_CHARS:
        problems.append(f"body is {len(body):,} characters; only the first {MAX_BODY_CHARS:,} are scanned")
        body = body[:MAX_BODY_CHARS]
    return body.replace("\r\n", "\n") if "\r" in body else body


def _load(raw: str, problems: list[str]) -> dict:
    """Parse ``raw`` with the fastest loader that is safe for it; ``{}`` on any failure."""
    try:
        value = _safe_load(raw, problems)
    except yaml.YAMLError as exc:
        if not _LEADING_TABS.search(raw):
            problems.append(f"invalid YAML: {_one_line(exc)}")
            return {}
        # Tabs are not allowed in YAML indentation but editors insert them; one retry with
        # tabs expanded recovers such cards, and the problem is still reported.
        try:
            value = _safe_load(_LEADING_TABS.sub(lambda m: m.group().expandtabs(2), raw), problems)
        except (yaml.YAMLError, FrontMatterLimit, *_CONSTRUCT_ERRORS) as exc2:
            problems.append(f"invalid YAML: {_one_line(exc2)}")
            return {}
        problems.append("tabs in YAML indentation (expanded to spaces)")
    except FrontMatterLimit as exc:
        problems.append(f"front matter rejected: {exc}")
        return {}
    except _CONSTRUCT_ERRORS as exc:
        problems.append(f"invalid YAML: {type(exc).__name__}: {_one_line(exc)}")
        return {}
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"front matter is a {type(value).__name__}, not a mapping; ignored")
        return {}
    return value


def load_yaml_document(text: str) -> Any:
    """One YAML (or JSON) document parsed with the front matter's limits: size, nesting depth,
    alias expansion, safe types only. For other small documents users hand us (policy files),
    which deserve the same care: a 300-byte alias bomb must not take minutes and gigabytes.

    Raises ``ValueError`` saying what was wrong; never another exception.
    """
    if len(text) > MAX_YAML_CHARS:
        raise ValueError(f"{len(text):,} characters; at most {MAX_YAML_CHARS:,} are read")
    try:
        return _safe_load(text, [])
    except FrontMatterLimit as exc:
        raise ValueError(str(exc)) from exc
    except yaml.YAMLError as exc:
        raise ValueError(f"not valid YAML/JSON: {_one_line(exc)}") from exc
    except _CONSTRUCT_ERRORS as exc:
        raise ValueError(f"not valid YAML/JSON: {type(exc).__name__}: {_one_line(exc)}") from exc


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def _safe_load(raw: str, problems: list[str]) -> Any:
    anchored = "&" in raw and _ANCHOR_TOKEN.search(raw) is not None
    use_c = yaml.__with_libyaml__ and not anchored
    if use_c and _may_be_too_deep(raw):
        _check_event_depth(raw)
    if use_c:
        value, duplicates = _load_c(raw)
    else:
        value, duplicates = _load_with(_BoundedLoader, raw)
    if duplicates:
        shown = ", ".join(sorted(duplicates)[:10])
        problems.append(f"duplicate keys (last value wins): {shown}")
    return value


def _load_c(raw: str) -> tuple[Any, set[str]]:
    """``_load_with(_CLoader, raw)``, with the node tree converted by ``construct_tree``.

    The C path sees no aliases, so the fast walk applies; anything it leaves to PyYAML
    (merge keys, non-scalar keys, a constructor error) reruns the document the old way,
    so values, duplicate reports and exceptions are always the old ones.
    """
    loader = _CLoader(raw)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, loader.duplicates
        try:
            return construct_tree(node, loader, loader.duplicates), loader.duplicates
        except Exception:  # the old path below decides the value or the error
            pass
    finally:
        loader.dispose()
    return _load_with(_CLoader, raw)


def _load_with(loader_class: type[_CLoader | _BoundedLoader], raw: str) -> tuple[Any, set[str]]:
    """PyYAML's own ``get_single_data`` on ``loader_class``: the value and the duplicate keys."""
    loader = loader_class(raw)
    try:
        return loader.get_single_data(), loader.duplicates
    finally:
        loader.dispose()


def _may_be_too_deep(raw: str) -> bool:
    """False when the depth bound of the module docstring stays within ``MAX_DEPTH``.

    Flow brackets are counted; what remains of the budget (halved, for sequences sharing
    their parent's column) is checked with one regex that looks for a line whose
    indentation plus leading ``-``/``?`` indicators is that long. Every character that
    regex matches is a space, tab, ``-`` or ``?``, so a line start followed by that many
    of them is necessary for a match: a single-class run (which ``re`` scans several times
    faster than the exact alternation) rules most documents out first.
    """
    allowed = (MAX_DEPTH - raw.count("[") - raw.count("{") - 1) // 2
    if allowed <= 0:
        return True
    quick_first, quick_later = _deep_line_quick(allowed)
    if quick_first.match(raw) is None and quick_later.search(raw) is None:
        return False
    first, later = _deep_line(allowed)
    return first.match(raw) is not None or later.search(raw) is not None


@functools.lru_cache(maxsize=MAX_DEPTH + 1)
def _deep_line(columns: int) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """``^(?:[ \t]|[-?](?=[ \t])){columns}`` under MULTILINE, as a match at the start plus a
    search after each newline: a leading ``^`` makes ``re`` attempt a match at every
    position, a leading newline lets it skip from one line start to the next."""
    body = rf"(?:[ \t]|[-?](?=[ \t])){{{columns}}}"
    return re.compile(body), re.compile("\n" + body)


@functools.lru_cache(maxsize=MAX_DEPTH + 1)
def _deep_line_quick(columns: int) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """``_deep_line``'s necessary condition ``[ \t?-]{columns}``, at the start and after newlines."""
    body = rf"[ \t?\-]{{{columns}}}"
    return re.compile(body), re.compile("\n" + body)


#: libyaml's own refusal of deep nesting (``yaml_set_max_nest_level``, 1,000 levels by default;
#: the libyaml that PyYAML 6.0.4's wheels carry enforces it while scanning ahead, before the
#: parser has handed over the event at depth ``MAX_DEPTH``). Any depth it refuses is beyond ours.
_LIBYAML_TOO_DEEP = "exceeded maximum nesting depth"


def _check_event_depth(raw: str) -> None:
    """Measure the real depth with libyaml's non-recursive event parser; raise when too deep."""
    parser = yaml.CSafeLoader(raw)
    depth = 0
    try:
        while parser.check_event():
            event = parser.get_event()
            if isinstance(event, (SequenceStartEvent, MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise FrontMatterLimit(_TOO_DEEP)
            elif isinstance(event, (SequenceEndEvent, MappingEndEvent)):
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        if exc.problem == _LIBYAML_TOO_DEEP:
            raise FrontMatterLimit(_TOO_DEEP) from exc
        raise
    finally:
        parser.dispose()


class _DuplicateKeyMixin:
    """Records mapping keys that occur twice; PyYAML silently keeps the last one."""

    duplicates: set[str]
    _merged: set[int]

    def flatten_mapping(self, node: MappingNode) -> None:
        before = node.value
        super().flatten_mapping(node)  # type: ignore[misc]
        if node.value is not before:  # merge keys legitimately repeat keys
            self._merged.add(id(node))

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict:
        mapping = super().construct_mapping(node, deep=deep)  # type: ignore[misc]
        if len(mapping) < len(node.value) and id(node) not in self._merged:
            seen: set[str] = set()
            for key_node, _ in node.value:
                key = str(getattr(key_node, "value", key_node))[:80]
                if key in seen:
                    self.duplicates.add(key)
                seen.add(key)
        return mapping


def _timestamp(loader: yaml.SafeLoader, node: ScalarNode) -> Any:
    """``construct_yaml_timestamp``, or the text itself for an impossible date (``2024-02-30``).

    It looks like a date to YAML 1.1's resolver, and raising threw away the whole front matter
    (a card's licence with it) or a whole policy file with only "day is out of range for month".
    As text it is what YAML 1.2 and the Hub's own parser make of it, and whoever reads the field
    says what is wrong with it (a policy's schema: ``exceptions[0].expires``).
    """
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return node.value


class _CLoader(QuickResolverMixin, _DuplicateKeyMixin, yaml.CSafeLoader):
    """libyaml's parser and composer with the quick resolver; ``_load_c`` builds the values."""

    def __init__(self, stream: str):
        # CSafeLoader.__init__ with its two Python-level parent initialisers inlined (one
        # per card, ~2 us of calls on a typical card); test_yaml_loader_fastpath checks
        # that the attributes equal those of a plainly initialised CSafeLoader.
        CParser.__init__(self, stream)
        self.constructed_objects = {}  # BaseConstructor.__init__
        self.recursive_objects = {}
        self.state_generators = []
        self.deep_construct = False
        self.resolver_exact_paths = []  # BaseResolver.__init__
        self.resolver_prefix_paths = []
        self.duplicates = set()
        self._merged = set()


_CLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


class _BoundedLoader(_DuplicateKeyMixin, yaml.SafeLoader):
    """Pure-Python SafeLoader with a nesting limit and an alias-expansion budget."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self.duplicates = set()
        self._merged = set()
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise FrontMatterLimit(_TOO_DEEP)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self) -> Node | None:
        node = super().get_single_node()
        if node is not None:
            _check_expanded_size(node)
        return node


_BoundedLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def _check_expanded_size(root: Node) -> None:
    """Raise when the node graph, with every alias expanded, exceeds ``MAX_NODES`` nodes or
    ``MAX_EXPANDED_CHARS`` scalar characters.

    Sizes are memoised per node object, so the check costs one pass over the distinct
    nodes even when the expansion would be astronomically large. Iterative post-order
    keeps it off the Python stack.
    """
    sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (nodes, scalar characters), expanded
    open_nodes: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, ready = stack.pop()
        if id(node) in sizes:
            continue
        if not ready and id(node) in open_nodes:
            raise FrontMatterLimit("recursive alias")
        children: list[Node]
        if isinstance(node, SequenceNode):
            children = node.value
        elif isinstance(node, MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            sizes[id(node)] = (1, len(node.value))
            continue
        if ready:
            nodes, chars = 1, 0
            for child in children:
                child_nodes, child_chars = sizes[id(child)]
                nodes += child_nodes
                chars += child_chars
            if nodes > MAX_NODES:
                raise FrontMatterLimit(f"alias expansion exceeds {MAX_NODES:,} nodes")
            if chars > MAX_EXPANDED_CHARS:
                raise FrontMatterLimit(f"alias expansion exceeds {MAX_EXPANDED_CHARS:,} characters")
            sizes[id(node)] = (nodes, chars)
            open_nodes.discard(id(node))
        else:
            open_nodes.add(id(node))
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
