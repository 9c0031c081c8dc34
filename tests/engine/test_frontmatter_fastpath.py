"""The front matter's fast YAML construction must give exactly what PyYAML's safe loader gives.

The oracle is kept here, not in the product: ``yaml.CSafeLoader`` with its own resolver and
``get_single_data``, plus the plain duplicate-key record, substituted for the C path of
``parse_front_matter``. Results are compared as ``repr`` so that ``1``, ``1.0`` and ``True``
(equal in Python) and key order count as differences; exceptions by type and message.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from licenses.engine import frontmatter
from licenses.engine.frontmatter import parse_front_matter
from licenses.engine.yaml_construct import QuickResolverMixin


class _OracleLoader(yaml.CSafeLoader):
    """PyYAML's C loader untouched, plus a record of keys given twice in one mapping."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self.duplicates: set[str] = set()
        self._merged: set[int] = set()

    def flatten_mapping(self, node: MappingNode) -> None:
        before = node.value
        super().flatten_mapping(node)
        if node.value is not before:
            self._merged.add(id(node))

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict:
        mapping = super().construct_mapping(node, deep=deep)
        if len(mapping) < len(node.value) and id(node) not in self._merged:
            seen: set[str] = set()
            for key_node, _ in node.value:
                key = str(getattr(key_node, "value", key_node))[:80]
                if key in seen:
                    self.duplicates.add(key)
                seen.add(key)
        return mapping


def _oracle_timestamp(loader: yaml.SafeLoader, node: ScalarNode) -> object:
    """The one deliberate departure from PyYAML (docs/licence-engine.md): an impossible date
    (``2023-13-45``) is its text rather than an error that drops the whole front matter."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return node.value


_OracleLoader.add_constructor("tag:yaml.org,2002:timestamp", _oracle_timestamp)


def _oracle_load(raw: str) -> tuple[object, set[str]]:
    loader = _OracleLoader(raw)
    try:
        return loader.get_single_data(), loader.duplicates
    finally:
        loader.dispose()


@contextmanager
def _oracle() -> Iterator[None]:
    with mock.patch.object(frontmatter, "_load_c", _oracle_load):
        yield


def _outcome(data: str | bytes) -> tuple:
    try:
        fm = parse_front_matter(data)
    except Exception as exc:  # the oracle may raise too; then both must raise alike
        return ("raised", type(exc).__name__, str(exc))
    return (repr(fm.metadata), fm.problems, fm.body, fm.raw_yaml)


def _assert_same(texts: list[str] | list[bytes]) -> None:
    with _oracle():
        expected = [_outcome(t) for t in texts]
    actual = [_outcome(t) for t in texts]
    mismatched = [i for i, (a, e) in enumerate(zip(actual, expected, strict=True)) if a != e]
    first = mismatched[0] if mismatched else 0
    assert not mismatched, (len(mismatched), texts[first][:300], actual[first], expected[first])


# --- hand-written edge cases ----------------------------------------------------------

SCALARS = [
    # null, bool (YAML 1.1 words), str look-alikes
    "~", "null", "Null", "NULL", "", "nULL", "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON",
    "off", "Off", "OFF", "true", "True", "TRUE", "false", "False", "FALSE", "y", "n", "Y", "N", "tRue",
    # int: decimal, signs, octal, hex, binary, sexagesimal, separators
    "0", "-0", "+0", "7", "42", "-42", "+42", "00", "017", "-017", "09", "0o17", "0x1F", "0x_1F", "-0x1f",
    "0b101", "-0b1_01", "1:30", "-1:30:00", "190:20:30", "1_000", "-1_000_000", "12345678901234567890",
    # float: dots, exponents, inf/nan, separators, sexagesimal
    "1.5", "-1.5", "+.5", "1.", "1.5e3", "1.5e+3", "1.5E-3", "1e3", "6.8523015e+5", "685.230_15e+03",
    "190:20:30.15", ".inf", "-.inf", "+.INF", ".Inf", ".nan", ".NaN", ".NAN", "1_0.5",
    # timestamps, merge/value look-alikes, odd leading characters
    "2002-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10", "2001-12-15T02:59:43.1Z",
    "2001-12-14 21:59:43.1 -5", "2024-02-29", "<<x", "text-generation", "apache-2.0", "café", "日本",
    "١٢", "²", "-", "--", ".", "+", "=x",
]  # fmt: skip

DOCUMENTS = [
    # every scalar form, plain, quoted and as keys
    *(f"v: {s}" for s in SCALARS if s),
    *(f"v: '{s}'" for s in SCALARS),
    *(f'v: "{s}"' for s in SCALARS),
    *(f"{s}: k" for s in SCALARS if s),
    "\n".join(f"- {s}" for s in SCALARS if s),
    # explicit tags, right and wrong
    "v: !!str 123", "v: !!int '42'", "v: !!int '0x1F'", "v: !!float 1", "v: !!bool yes", "v: !!null ''",
    "v: !!int 09", "v: !!int abc", "v: !!int ١٢", "v: !!float abc", "v: !!bool maybe", "v: !!null x",
    "v: !!timestamp 2001-01-01", "v: !!timestamp nope", "v: !!str [a]", "v: !!seq a", "v: !!map [a]",
    "v: !!seq [a, 1]", "v: !!map {a: 1}", "v: !!str {a: 1}", "!!map {a: 1, a: 2}",
    # timestamps and impossible dates, binary, set, omap, pairs, unknown tags
    "v: 2023-13-45", "v: 2023-02-30", "d: 2001-12-14 21:59:43.10 -5\ne: 2002-12-14",
    "v: !!binary aGVsbG8=", "v: !!binary '@@@'", "? !!binary aGk=\n: 1",
    "v: !!set {a, b, a}", "v: !!set {a: 1}", "v: !!set a", "v: !!omap [a: 1, b: 2]", "v: !!omap [a]",
    "v: !!pairs [a: 1, a: 2]", "v: !foo bar", "v: !!python/object:os.system x", "v: !<tag:x> {}",
    "v: =", "=: x", "a: {=: y}",
    # merge keys (with and without duplicates), inside lists and nested maps
    "<<: {a: 1}\nb: 2", "<<: [{a: 1}, {b: 2}]\nc: 3", "a: 1\n<<: {a: 2}\na: 3", "x:\n  <<: {a: 1}\n  a: 2",
    "- <<: {a: 1}\n  b: 2", "<<: 1", "a: [{<<: {k: v}}]",
    # duplicate keys: top level, nested, equal values with different text, long keys
    "a: 1\na: 2\nb: 1\nb: 2", "x:\n  a: 1\n  a: 2\ny: [{c: 1, c: 2}]", "1: a\n01: b", "1: a\n1.0: b",
    "true: 1\nyes: 2", "null: a\n~: b", "'a': 1\na: 2", '"a": 1\na: 2', f"{'k' * 90}: 1\n{'k' * 90}: 2",
    "\n".join(f"k{i % 12}: {i}" for i in range(30)), "2001-01-01: a\n2001-01-01: b",
    # unhashable and non-scalar keys
    "? [a]\n: 1", "? {a: 1}\n: 2", "[a]: 1", "{a: 1}: 2", "? !!set {a}\n: 1", "? !!omap []\n: 1",
    # nested collections, flow and block, empty ones
    "a:\n  b:\n    c: [1, {d: e}, [f, [g]]]\n  h: []\ni: {}", "- [a, b]\n- {c: d}", "a: [[[[[1]]]]]",
    "model-index:\n- name: m\n  results:\n  - task: {type: t}\n    metrics:\n    - {type: acc, value: 0.91}",
    # empty and non-mapping documents, comments only, several documents
    "", "# only a comment", "- a\n- b", "just text", "42", "[1, 2]", "a: 1\n...\n--- \nb: 2", "...",
    # tabs in indentation (the retry path) and tabs elsewhere
    "a:\n\tb: 1", "a:\n  b:\n\t\tc: 1", "a: 1\t# tab before comment", "a: 'x\ty'",
    # syntax errors
    "a: [1, 2", "a: b: c", "a:\n- b\n c", "'unterminated", "key: @x", "a: !!binary",
    # anchors (bounded loader path, unchanged but compared as well)
    "a: &x 1\nb: *x", "base: &b {k: v}\nderived:\n  <<: *b\n  j: w",
]  # fmt: skip


def _cards(documents: list[str]) -> list[str]:
    return [f"---\n{doc}\n---\n# Body\ntext\n" for doc in documents]


def test_edge_cases_match_the_oracle():
    _assert_same(_cards(DOCUMENTS))


def test_edge_cases_as_bytes_and_crlf_match_the_oracle():
    _assert_same([card.replace("\n", "\r\n").encode() for card in _cards(DOCUMENTS)])


def test_big_integer_and_deep_nesting_match_the_oracle():
    documents = ["v: 1" + "0" * 5000, "v: !!int " + "1" * 5000, "v: " + "[" * 40 + "]" * 40]
    documents += ["a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 40)) + "  " * 40 + "x"]
    _assert_same(_cards(documents))


def test_constructor_errors_still_become_problems():
    fm = parse_front_matter("---\nv: !!int abc\n---\n")
    assert fm.metadata == {} and fm.problems and fm.problems[0].startswith("invalid YAML: ValueError")
    fm = parse_front_matter("---\nv: !!bool maybe\n---\n")  # PyYAML raises KeyError here
    assert fm.metadata == {} and fm.problems[0].startswith("invalid YAML: KeyError")
    fm = parse_front_matter("---\n? [a]\n: 1\n---\n")
    assert fm.metadata == {} and "unhashable" in fm.problems[0]


def test_duplicates_and_merge_keys_are_reported_as_before():
    fm = parse_front_matter("---\nb: 1\na: 1\nb: 2\na: 2\nc: [{d: 1, d: 2}]\n---\n")
    assert fm.problems == ("duplicate keys (last value wins): a, b, d",)
    assert fm.metadata == {"b": 2, "a": 2, "c": [{"d": 2}]}
    fm = parse_front_matter("---\n<<: {a: 1}\na: 2\n---\n")
    assert fm.metadata == {"a": 2} and fm.problems == ()


def test_quick_resolver_matches_pyyaml_resolver():
    class Quick(QuickResolverMixin, Resolver):
        pass

    quick, reference = Quick(), Resolver()
    values = [*SCALARS, "!", "&", "*", "<<", "=", "~x", " ", "\t", "a b", "yes\n", "1" * 70, "true" * 20]
    values += [f"v{i}" for i in range(5000)]  # more than the memo holds: it is emptied and refilled
    for _ in range(2):  # cold, then memoised
        for value in values:
            for implicit in ((True, False), (False, True), (False, False), (True, True)):
                expected = reference.resolve(ScalarNode, value, implicit)
                assert quick.resolve(ScalarNode, value, implicit) == expected, (value, implicit)
    for kind in (SequenceNode, MappingNode):
        for implicit in (True, False):
            assert quick.resolve(kind, None, implicit) == reference.resolve(kind, None, implicit)


# --- real cards ------------------------------------------------------------------------


def test_model_cards_match_the_oracle(corpus_dir: Path):
    readmes = [p.read_bytes() for p in sorted(corpus_dir.glob("model-cards/*/README.md"))]
    if not readmes:
        pytest.skip("model-cards corpus not available")
    _assert_same(readmes)


def test_hf_cards_2023_match_the_oracle(corpus_dir: Path):
    bulk = corpus_dir / "hf-cards-2023" / "cards.jsonl.gz"
    if not bulk.is_file():
        pytest.skip("hf-cards-2023 corpus not available")
    with gzip.open(bulk, "rt", encoding="utf-8") as handle:
        readmes = [json.loads(line)["readme"] for line in handle]
    _assert_same(readmes)
