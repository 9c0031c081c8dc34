"""The card-facts shortcuts of this round give exactly what the plain computations give.

Compared with straightforward references, on hand-written edge cases always and on real
cards when ``../shared/corpus`` is present (every ``model-cards`` card and the first
``hf-cards-2023`` cards): the outline's candidate offsets read straight from the body with
lines counted only where a section opens or closes; the narrow placeholder gate taken by
non-ASCII lines without case-folding surprises; links found by first occurrence with their
lines counted afterwards, and the Hub / GitHub classification reading the first path
segment; the keyword index's bytes automaton on ASCII texts; parameter mentions with their
lines counted on from the previous mention.
"""

from __future__ import annotations

import gzip
import itertools
import json
import re
import sys
from pathlib import Path

import pytest

from licenses.engine import card_links, card_metadata, card_sections, cardfacts, keyword_probe
from licenses.engine.card_sections import (
    _BOILERPLATE,
    _COMMENT,
    _LABEL_ONLY_LINE,
    _PLACEHOLDER,
    parse_sections,
)
from licenses.engine.frontmatter import parse_front_matter
from tests.engine.real_cards import real_readmes
from tests.engine.test_card_parsing_fastpaths import (
    _outline_view,
    _plain_classify_url,
    _reference_outline,
)

BULK_SAMPLE = 2000

OUTLINE_BODIES = (
    "",
    "\n",
    "# First line heading\nText of the first section, long enough to count.\n",
    "Title on line one\n===\nunder it, a setext section with written text\n",
    "===\nan underline on the first line names no heading\n## Uses\nResearch use only, nothing more.",
    "-\n---\n----\nTitle\n---\n---\nstacked underlines\n",
    "**Training Data** on the first line: web text and books, deduplicated.\n# Uses\nnone",
    "  ```\n# not a heading\n  ```\n   <h2>Uses</h2>\nFor research on small models only.\n",
    "<h1>Evaluation</h1>\nMMLU 45.3 and ARC 50.1 on the usual splits.\n# Bias\n**Limitations:** many",
    "\n\n## Training Data\n\nThe Pile.\n\n## Evaluation\n|a|b|\n|-|-|\n\n## Citation\n@misc{x}\n",
    "## Uses\n" + "plain line\n" * 300 + "## Bias\nIt is biased towards English text.\n" + "x\n" * 200,
    "x\n" * 50 + "## Training Data\nTrained on data.\n" + "```\n## fenced\n```\n" * 20 + "## License\nMIT",
    "Uses\n---",
    "# Uses\r\nwith carriage returns and enough text\r\n## Bias\r\n",
)


@pytest.mark.parametrize("body", OUTLINE_BODIES)
def test_outline_matches_the_every_line_reference(body: str):
    assert _outline_view(body, 3) == _reference_outline(body, 3)
    assert _outline_view(body, 0, body.lower()) == _reference_outline(body, 0)


def test_outline_on_real_cards(corpus_bodies: list[str]):
    for body in corpus_bodies:
        assert _outline_view(body, 2, body.lower()) == _reference_outline(body, 2), body[:80]


# --- substance: the narrow gate on non-ASCII lines ---------------------------------------------

_NON_ALNUM = re.compile(r"[\W_]+")


def _plain_substance(text: str) -> int:
    """:func:`card_sections.substance` without ``enough``, every line through the wide key gate.

    The wide gate (keys looked up in the lower-cased line) is what non-ASCII lines took
    before the narrow one. (It already lets through "More ınformation needed", whose
    dotless ı ``re.IGNORECASE`` matches with "i": kept as it was, output unchanged.)
    """
    count = 0
    in_comment = False
    for line in text.split("\n"):
        if in_comment:
            end = line.find("-->")
            if end == -1:
                continue
            line, in_comment = line[end + 3 :], False
        if "<!--" in line:
            line = _COMMENT.sub(" ", line)
            if "<!--" in line:
                line, in_comment = line[: line.index("<!--")], True
        stripped = line.strip()
        if not stripped or stripped[0] == "#":
            continue
        low = stripped.lower()
        if card_sections._HAS_BOILERPLATE_KEY.search(low):
            stripped = _BOILERPLATE.sub(" ", stripped).strip()
        if card_sections._HAS_PLACEHOLDER_KEY.search(low):
            stripped = _PLACEHOLDER.sub(" ", stripped).strip()
        if not stripped or _LABEL_ONLY_LINE.match(stripped):
            continue
        count += len(_NON_ALNUM.sub("", stripped))
    return count


SUBSTANCE_TEXTS = (
    "Meta’s model — more information needed",
    "Meta’s [More Information Needed]",
    "🔔 TBD",
    "🔔 tbd soon",
    "“coming soon” to the Hub 🤗",
    "More ınformation needed",  # dotless i: re.IGNORECASE matches it with "i"
    "MORE İNFORMATION NEEDED",  # dotted capital I lower-cases to "i" and a combining dot
    "more information needed in ſome cases",  # long s
    "Needſ more information about the training data",  # matches "needs? more information", no narrow key
    "Use the code below to get ſtarted with the model.",
    "\u212aelvin sign: TODO",
    "Users (both direct and downstream) should be made aware of the risks, biases and limitations of the"
    " model. More information needed for further recommendations. — done",
    "Carbon emissions can be estimated using the [calc](https://x) presented in [Lacoste et al. (2019)]"
    "(https://arxiv.org/abs/1910.09700). ’",
    "{{ card_data }} ’ written text after the template field",
    "<!-- a comment ’ --> and real written content that follows it",
    "**Label:** ’",
    "Ünïcödé prose with no keys at all but plenty of letters",
    "ΤΟ ΣΎΝΟΛΟ ΔΕΔΟΜΈΝΩΝ to be announced",
    # long lines, judged from their prefix when no key is near its start
    "A written paragraph about the model, long enough to pass the prefix window easily. " * 4,
    "A written paragraph about the model, long enough to pass the prefix window. TODO " * 3,
    "." * 40 + "abcdefghijklmnopqrstuvwxyz" + " " * 40 + "[More Information Needed]" * 3,
    "[" + " " * 100 + "more information needed ]" + "x" * 80,
    "todo " * 40,
    # a placeholder key formed across a blanked boilerplate sentence ("to" + " " + "be added"),
    # removed when another key opens the placeholder pass
    "." * 47
    + "abcdefghijklmn  to be"
    + "Carbon emissions can be estimated using the calculator presented in "
    "Lacoste et al. (2019))" + "added TBD",
    "." * 48 + "abcdefghijklmn to" + "Carbon emissions can be estimated using the calculator presented in "
    "Lacoste et al. (2019)." + "be added",
    "." * 48 + "abcdefghijklmn to" + "Use the code below to get started with the model." + "be added TBD",
    "." * 30
    + "abcdefghijklmn to"
    + "This is the model card of a 🤗 transformers model that has been pushed on the Hub."
    + "be announced",
    "." * 60 + "ab to" + " " * 30 + "x" * 70,
    "Meta’s " + "é" * 80 + " written words " * 10,
    "Needſ more information " + "." * 100 + "abc",  # not narrow: the long s folds to "s"
)


@pytest.mark.parametrize("text", SUBSTANCE_TEXTS)
def test_substance_matches_the_plain_count(text: str):
    for body in (text, f"\n{text}\n", f"{text}\nsecond line of prose, long enough by itself"):
        plain = _plain_substance(body)
        assert card_sections.substance(body) == plain, body
        enough = card_sections.substance(body, card_sections._MIN_SUBSTANCE)
        assert (enough >= card_sections._MIN_SUBSTANCE) == (plain >= card_sections._MIN_SUBSTANCE), body


def test_folding_characters_are_all_listed():
    """Every non-ASCII character that ``re.IGNORECASE`` matches with ASCII, or whose lower case
    holds ASCII, is one the narrow gate sends to the wide keys."""
    ascii_class = re.compile(r"[\x00-\x7f]", re.IGNORECASE)
    listed = set(card_sections._FOLDS_TO_ASCII.pattern.strip("[]"))
    for cp in range(128, sys.maxunicode + 1):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        if ascii_class.match(ch) or any(ord(x) < 128 for x in ch.lower()):
            assert ch in listed, hex(cp)


def test_substance_on_real_sections(corpus_bodies: list[str]):
    for body in corpus_bodies:
        for sec in parse_sections(body)[0].values():
            plain = _plain_substance(sec.text)
            assert card_sections.substance(sec.text) == plain
            assert sec.substantive == (plain >= card_sections._MIN_SUBSTANCE)


# --- links ------------------------------------------------------------------------------------

LINK_BODIES = (
    "https://a.example/x https://a.example/x\nhttps://b.example/y https://a.example/x https://c.example/z",
    "see https://huggingface.co/datasets/a/b, https://huggingface.co/datasets/a and https://hf.co/Org/Model/tree",
    "https://huggingface.co/spaces/ https://huggingface.co/Datasets/a/b https://github.com/a/b/c https://github.com/a",
    "https://arxiv.org/abs/2307.09288v12 https://arxiv.org/abs/solv-int/9901001v2 https://ARXIV.org/pdf/1234.5678",
    "xhttps://a.example/1\nhttp://b.example/2.\n\nhttps://c.example/3)*\nhttps://",
    "https://d.example/1 https://d.example/2\nhttps://d.example/1 https://d.example/3\nhttps://d.example/4",
)


def _plain_links(body: str, sections: dict, line_offset: int, limit: int) -> list[tuple]:
    """Every distinct URL with its first line, its line-by-line classification and section."""
    found: dict[str, int] = {}
    for idx, line in enumerate(body.split("\n")):
        for m in card_links._URL.finditer(line):
            found.setdefault(m.group().rstrip(".,;:!*_~"), idx + 1 + line_offset)
        if len(found) >= limit:
            break
    where = card_links._sections_at_lines(sections, list(found.values()))
    return [
        (url, *_plain_classify_url(url), line, sec)
        for (url, line), sec in zip(found.items(), where, strict=True)
    ]


def _view(links: tuple) -> list[tuple]:
    return [(k.url, k.kind, k.target, k.line, k.section) for k in links]


@pytest.mark.parametrize("body", LINK_BODIES)
@pytest.mark.parametrize("limit", (1, 2, 3, card_links.MAX_LINKS))
def test_links_match_the_plain_reading(body: str, limit: int, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(card_links, "MAX_LINKS", limit)
    sections = parse_sections(body, 4)[0]
    expected = _plain_links(body, sections, 4, limit)
    assert _view(card_links.extract_links(body, sections, 4, body.lower())) == expected
    assert _view(card_links.extract_links(body, sections, 4)) == expected


def test_links_on_real_cards(corpus_bodies: list[str]):
    for body in corpus_bodies:
        sections = parse_sections(body, 5)[0]
        expected = _plain_links(body, sections, 5, card_links.MAX_LINKS)
        if "lacoste" not in body.lower():  # that path reads lines with the template sentence blanked
            assert _view(card_links.extract_links(body, sections, 5, body.lower())) == expected
        found = card_links.extract_links(body, sections, 5, body.lower())
        assert all(type(link) is card_links.Link for link in found)


@pytest.mark.parametrize(
    "body",
    (
        "see https://a.example/x",
        "Carbon emissions can be estimated using the [calc](https://mlco2.github.io/impact#compute) presented"
        " in [Lacoste et al. (2019)](https://arxiv.org/abs/1910.09700).\nhttps://b.example/y",
        "LACOSTE https://a.example/x",
        "",
    ),
)
def test_links_with_the_keyword_index_answer_as_without(body: str):
    low = body.lower()
    sections = parse_sections(body)[0]
    index = cardfacts._body_index(low)
    assert index is None or card_links._LACOSTE_KEY.keyset <= index.covers
    plain = card_links.extract_links(body, sections, 0, low)
    assert card_links.extract_links(body, sections, 0, low, index) == plain
    assert plain == card_links.extract_links(body, sections, 0)


def test_links_with_the_keyword_index_on_real_cards(corpus_bodies: list[str]):
    for body in corpus_bodies:
        low = body.lower()
        sections = parse_sections(body)[0]
        expected = card_links.extract_links(body, sections, 0, low)
        assert card_links.extract_links(body, sections, 0, low, cardfacts._body_index(low)) == expected


# --- keyword index ----------------------------------------------------------------------------


def _str_positions(low: str) -> dict[str, list[int]]:
    """The index built with the str automaton only, as before the bytes twin."""
    automaton, keys, *_ = keyword_probe._automaton()
    positions: dict[str, list[int]] = {}
    for i, start, _ in automaton.find_matches_as_indexes(low, overlapping=True):
        positions.setdefault(keys[i], []).append(start)
    return positions


def _find_positions(low: str) -> dict[str, list[int]]:
    """Every keyword's ``str.find`` offsets, overlapping ones included."""
    _, keys, *_ = keyword_probe._automaton()
    out: dict[str, list[int]] = {}
    for key in keys:
        i = low.find(key)
        while i != -1:
            out.setdefault(key, []).append(i)
            i = low.find(key, i + 1)
    return out


INDEX_TEXTS = (
    "trained on 1.4t tokens of the pile using 512 a100 gpus; training data: c4, wikipedia",
    "not  not not-not parameters params param",
    "ascii only " * 40 + "co2 kwh tpu",
    "the training data ’curly’ and gpus — a100 h100",  # not ASCII: the str automaton
    "",
)


@pytest.mark.parametrize("low", INDEX_TEXTS)
def test_key_index_matches_the_str_automaton(low: str):
    from licenses.engine import analyze  # noqa: F401  (registers every probe's keywords)

    index = keyword_probe.KeyIndex(low)
    assert index.positions == _str_positions(low)
    assert {k: sorted(v) for k, v in index.positions.items()} == _find_positions(low)
    assert list(index.positions) == list(_str_positions(low))  # insertion order too


def test_key_index_keeps_the_str_automaton_for_keywords_bytes_cannot_stand_for(
    monkeypatch: pytest.MonkeyPatch,
):
    """A ``?`` or non-ASCII keyword would match where ``encode("ascii", "replace")`` put a ``?``."""
    monkeypatch.setattr(keyword_probe, "_AUTOMATON", keyword_probe._AUTOMATON)  # restored afterwards
    for keys in (("what?", "data", "t?"), ("naïve", "data"), ("what?", "naïve")):
        monkeypatch.setattr(keyword_probe, "_REGISTRY", dict.fromkeys(keys))
        assert keyword_probe._automaton()[4] is False
        for low in ("what’ is naïve data", "what? data t?", "naïve", "tö data what?"):
            assert keyword_probe.KeyIndex(low).positions == _find_positions(low)
    monkeypatch.setattr(keyword_probe, "_REGISTRY", dict.fromkeys(("what", "data", "ve")))
    assert keyword_probe._automaton()[4] is True
    for low in ("what’ is naïve data", "whaté data", "naïve ve"):
        assert keyword_probe.KeyIndex(low).positions == _find_positions(low)


def test_key_index_on_real_cards(corpus_bodies: list[str]):
    from licenses.engine import analyze  # noqa: F401

    for body in corpus_bodies[:400]:
        low = body.lower()
        index = keyword_probe.KeyIndex(low)
        assert index.positions == _str_positions(low)
        assert list(index.positions) == list(_str_positions(low))


# --- parameter mentions -----------------------------------------------------------------------


def _plain_mentions(body: str, low: str, line_offset: int) -> tuple[tuple[str, int], ...]:
    source = body if len(body) == len(low) else low
    found = []
    for m in cardfacts._PARAM_MENTION.finditer(low):
        found.append((source[m.start() : m.end()][:80], low.count("\n", 0, m.start()) + 1 + line_offset))
        if len(found) >= 5:
            break
    return tuple(found)


MENTION_BODIES = (
    "7B parameters\n\nModel size: 13b\n" + "x\n" * 3000 + "a 70 billion params model\nparameters: 1.5m",
    "no mention",
    "1b params 2b params 3b params\n4b params\n5b params\n6b params",
    "İstanbul 7B parameters\nModel size 3b",
)


@pytest.mark.parametrize("body", MENTION_BODIES)
def test_parameter_mentions_count_lines_as_from_the_start(body: str):
    low = body.lower()
    index = cardfacts._body_index(low)
    assert cardfacts._parameter_mentions(body, low, 3, index) == _plain_mentions(body, low, 3)
    assert cardfacts._parameter_mentions(body, low, 3) == _plain_mentions(body, low, 3)


def test_parameter_mentions_on_real_cards(corpus_bodies: list[str]):
    for body in corpus_bodies:
        low = body.lower()
        expected = _plain_mentions(body, low, 1)
        assert cardfacts._parameter_mentions(body, low, 1, cardfacts._body_index(low)) == expected


# --- corpus -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_bodies(corpus_dir: Path) -> list[str]:
    return [parse_front_matter(r).body for r in real_readmes(corpus_dir, BULK_SAMPLE)]


# --- metadata ---------------------------------------------------------------------------------


def _plain_as_str_list(value: object) -> tuple[str, ...]:
    """``as_str_list`` item by item, as first written."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value.strip(),) if value.strip() else ()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (str(value),)
    if isinstance(value, (list, tuple)):
        out = []
        for item in value:
            if isinstance(item, str) and item.strip():
                out.append(item.strip())
            elif isinstance(item, (int, float)) and not isinstance(item, bool):
                out.append(str(item))
        return tuple(out)
    return ()


def _plain_model_index(value: object) -> list[tuple]:
    """``parse_model_index`` rows as tuples, each built through the dataclass constructor."""
    rows = []
    if not isinstance(value, list):
        return rows
    for entry in value[:50]:
        if not isinstance(entry, dict) or not isinstance(entry.get("results"), list):
            continue
        for res in entry["results"][:500]:
            if not isinstance(res, dict) or not isinstance(res.get("metrics"), list):
                continue
            task, dataset = card_metadata._named(res.get("task")), card_metadata._named(res.get("dataset"))
            for metric in res["metrics"][:100]:
                if isinstance(metric, dict) and "value" in metric:
                    val = metric.get("value")
                    if not isinstance(val, (int, float, str)) or isinstance(val, bool):
                        val = str(val)
                    rows.append(card_metadata.EvalResult(task, dataset, card_metadata._named(metric), val))
    return rows


METADATA_VALUES = (
    None, "", "  x ", 3, 2.5, True, [], ["a", " b ", "", "   "], ("t", "u"), ["a", 1, 2.5, True, None, " x", ""],
    [b"x", ["n"], {"k": "v"}], [" late", 7], {"a": 1},
)  # fmt: skip


@pytest.mark.parametrize("value", METADATA_VALUES)
def test_as_str_list_matches_the_item_by_item_reading(value: object):
    assert card_metadata.as_str_list(value) == _plain_as_str_list(value)


def test_model_index_rows_match_the_constructor():
    value = [
        {"results": [{"task": {"type": "t"}, "dataset": {"name": "d"}, "metrics": [
            {"type": "acc", "value": 0.5}, {"name": "f1", "value": True}, {"value": [1]}, {"novalue": 1}, "x"]}]},
        {"results": "bad"}, "junk", {"results": [{"metrics": "bad"}, {"metrics": [{"value": "7"}]}]},
    ]  # fmt: skip
    rows = card_metadata.parse_model_index(value)
    assert list(rows) == _plain_model_index(value)
    assert all(type(r) is card_metadata.EvalResult and r.source == "model-index" for r in rows)


def test_metadata_on_real_cards(corpus_dir: Path):
    bulk = corpus_dir / "hf-cards-2023" / "cards.jsonl.gz"
    if not bulk.is_file():
        pytest.skip("hf-cards-2023 not available")
    with gzip.open(bulk, "rt", encoding="utf-8") as handle:
        readmes = [json.loads(line)["readme"] for line in itertools.islice(handle, BULK_SAMPLE)]
    for readme in readmes:
        meta = parse_front_matter(readme).metadata
        if not isinstance(meta, dict):
            continue
        for key in ("datasets", "tags", "language", "license", "base_model"):
            assert card_metadata.as_str_list(meta.get(key)) == _plain_as_str_list(meta.get(key))
        assert list(card_metadata.parse_model_index(meta.get("model-index"))) == _plain_model_index(
            meta.get("model-index")
        )
