"""Round-2 shortcuts of the front matter's C loader against PyYAML's plain behaviour.

* ``_CLoader.__init__`` inlines CSafeLoader's parent initialisers: its attributes must be
  those of a plainly initialised ``yaml.CSafeLoader`` (plus the duplicate-key records).
* ``descend_resolver`` / ``ascend_resolver`` are C no-ops: the composed node trees must equal
  plain CSafeLoader's, and the shared dict behind them must stay empty.
* plain floats are read with ``float()``: the value (compared as ``repr``, so ``-0.0`` and
  ``inf`` count) must equal ``SafeConstructor.construct_yaml_float``'s, on hand-written
  values, generated ones and every float scalar of the corpus.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from licenses.engine import frontmatter, yaml_construct
from licenses.engine.yaml_construct import _scalar

_FLOAT = "tag:yaml.org,2002:float"


def _fast_float(value: str) -> str:
    node = ScalarNode(_FLOAT, value)
    return repr(_scalar(node, frontmatter._CLoader("")))


def _plain_float(value: str) -> str:
    node = ScalarNode(_FLOAT, value)
    try:
        return repr(SafeConstructor.construct_yaml_float(SafeConstructor(), node))
    except (ValueError, IndexError) as exc:
        return f"{type(exc).__name__}: {exc}"


def _fast_float_or_error(value: str) -> str:
    try:
        return _fast_float(value)
    except (ValueError, IndexError) as exc:
        return f"{type(exc).__name__}: {exc}"


FLOATS = [
    "0.1", "1.", ".5", "-0.0", "+0.0", "-.5", "1e5", "1E-5", "1.5e+10", "-1.5e-3", "1e999", "-1e999",
    "3.14159265358979323846", "0.000", "1_000.5", "1:30.5", "-1:30", ".inf", "-.Inf", "+.INF", ".nan",
    ".NaN", "12e", "1e+", "--1.0", "+-1", "-", ".", "1.2.3", "0x1.0", "1e5_0", "٣.٥",
]  # fmt: skip


@pytest.mark.parametrize("value", FLOATS)
def test_float_fast_path_matches_construct_yaml_float(value: str):
    assert _fast_float_or_error(value) == _plain_float(value)


@given(st.text(alphabet="0123456789.eE+-_:", min_size=1, max_size=12))
def test_float_fast_path_matches_on_generated_values(value: str):
    assert _fast_float_or_error(value) == _plain_float(value)


def test_float_fast_path_matches_on_the_corpus(corpus_dir: Path):
    bulk = corpus_dir / "hf-cards-2023" / "cards.jsonl.gz"
    if not bulk.is_file():
        pytest.skip("hf-cards-2023 corpus not available")
    values = set()
    with gzip.open(bulk, "rt", encoding="utf-8") as handle:
        for line in handle:
            values.update(_float_scalars(frontmatter.parse_front_matter(json.loads(line)["readme"]).raw_yaml))
    assert values
    for value in values:
        assert _fast_float_or_error(value) == _plain_float(value), value


def _float_scalars(raw: str | None) -> set[str]:
    """The text of every scalar plain CSafeLoader tags as a float."""
    if raw is None:
        return set()
    try:
        node = yaml.compose(raw, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return set()
    found: set[str] = set()
    stack = [node] if node is not None else []
    while stack:
        item = stack.pop()
        if isinstance(item, ScalarNode):
            if item.tag == _FLOAT:
                found.add(item.value)
        elif isinstance(item, SequenceNode):
            stack.extend(item.value)
        elif isinstance(item, MappingNode):
            stack.extend(n for pair in item.value for n in pair)
    return found


def test_loader_attributes_match_a_plain_csafeloader():
    fast = frontmatter._CLoader("a: 1\n")
    plain = yaml.CSafeLoader("a: 1\n")
    try:
        mine = dict(vars(fast))
        assert mine.pop("duplicates") == set()
        assert mine.pop("_merged") == set()
        assert mine == vars(plain)
    finally:
        fast.dispose()
        plain.dispose()


DOCUMENTS = [
    "a: 1\nb: [x, {c: d}]\n",
    "- - - deep\n  - x\n- y: [1, 2.5, null, true]\n",
    "k: !!str 1\nm: !custom x\n? [complex, key]\n: v\n",
    "",
    "plain scalar\n",
]


def _shape(node: Node | None) -> object:
    if node is None:
        return None
    if isinstance(node, ScalarNode):
        return ("S", node.tag, node.value, node.style)
    if isinstance(node, SequenceNode):
        return ("Q", node.tag, [_shape(n) for n in node.value])
    return ("M", node.tag, [(_shape(k), _shape(v)) for k, v in node.value])


@pytest.mark.parametrize("document", DOCUMENTS)
def test_no_op_path_hooks_compose_the_same_tree(document: str):
    fast = frontmatter._CLoader(document)
    try:
        mine = _shape(fast.get_single_node())
    finally:
        fast.dispose()
    assert mine == _shape(yaml.compose(document, Loader=yaml.CSafeLoader))
    assert yaml_construct._NO_PATHS == {}


# --- the depth pre-check ---------------------------------------------------------------------


def _plain_may_be_too_deep(raw: str) -> bool:
    """``_may_be_too_deep`` as it was: the exact multiline regex alone, no prefilter."""
    allowed = (frontmatter.MAX_DEPTH - raw.count("[") - raw.count("{") - 1) // 2
    if allowed <= 0:
        return True
    return re.compile(rf"^(?:[ \t]|[-?](?=[ \t])){{{allowed}}}", re.MULTILINE).search(raw) is not None


DEEP = [
    "- " * 31 + "x\n",
    "- " * 30 + "x\n",
    "a:\n" + " " * 31 + "b: 1\n",
    "a:\n" + " " * 30 + "b: 1\n",
    "a:\n" + "-\t" * 16 + "x\n",
    "a:\n" + "-" * 40 + "\n",
    "a:\n" + "?" * 31 + " x\n",
    "x: " + "[" * 10 + "]" * 10 + "\n" + "  " * 13 + "- y\n",
    "x: " + "{" * 70 + "\n",
    "\n" + " -" * 31 + " \n",
]


@pytest.mark.parametrize("raw", DEEP)
def test_depth_precheck_matches_the_exact_regex(raw: str):
    assert frontmatter._may_be_too_deep(raw) == _plain_may_be_too_deep(raw)


@given(
    st.lists(st.sampled_from([" ", "\t", "-", "?", "\n", "a", "[", "{"]), max_size=80).map("".join),
    st.integers(min_value=0, max_value=60),
)
def test_depth_precheck_matches_on_generated_text(noise: str, brackets: int):
    raw = "[" * brackets + noise
    assert frontmatter._may_be_too_deep(raw) == _plain_may_be_too_deep(raw)


def test_depth_precheck_matches_on_the_corpus(corpus_dir: Path):
    bulk = corpus_dir / "hf-cards-2023" / "cards.jsonl.gz"
    if not bulk.is_file():
        pytest.skip("hf-cards-2023 corpus not available")
    with gzip.open(bulk, "rt", encoding="utf-8") as handle:
        for line in handle:
            raw = frontmatter.parse_front_matter(json.loads(line)["readme"]).raw_yaml
            if raw is not None:
                assert frontmatter._may_be_too_deep(raw) == _plain_may_be_too_deep(raw)
