"""The assessment's fast paths answer exactly like the plain searches they replace.

Disclosure tries the "trained on" pattern only at offsets from its keywords (whole short
texts, and each keyword window of long ones) and reads numbers possessively in the size
descriptor; transparency tests body keywords through the card's keyword index (or one it
builds) and tries the many-alternative body patterns only where one of their literal
prefixes starts; the indicator records are copies of per-indicator templates; openness
reads the indicators it needs by table position and the MOF ladder in one pass; the MOF
class reads each licence's openness once; the rule context takes trigger words from the
keyword index; missing-notice skips normalising the repository text when a phrase word is
absent. Each test compares the fast path with the straightforward one (kept here) over
generated inputs and, where ``../shared/corpus`` is present, real cards (or pins the
behaviour the shortcut must keep).
"""

from __future__ import annotations

import gzip
import itertools
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from licenses.engine import openness, transparency
from licenses.engine.analyze import analyze_paths
from licenses.engine.disclosure import (
    _TRAINED_ON,
    DESCRIPTORS,
    _trained_on,
    descriptor_matches,
    filled_sections,
    training_data_lower,
)
from licenses.engine.frontmatter import parse_front_matter
from licenses.engine.keyword_probe import KeyIndex, Probe
from licenses.engine.openness import assess_openness
from licenses.engine.rules.context import _TRIGGER
from licenses.engine.rules.missing_notice import _norm, _RepoText
from licenses.engine.transparency import assess_transparency, load_indicators, match_prefixes
from tests.engine.real_cards import real_readmes
from tests.engine.test_cardfacts import CARD, facts_for
from tests.engine.test_keyword_index import _trigger_starts

#: Pieces that make and break "trained on" matches: prefixes, keywords inside words,
#: separators, and the phrases of the training-data alternative.
_PIECES = ["trained", "pre-trained", "pretrained", "untrained", "fine-tuned", "finetuned", "instruction-tuned",
           "tuned", "training", "training data", "training set", "on", "onx", "the", "our", "x", "-", "1",
           " ", "  ", "\n", "data", "corpus"]  # fmt: skip
texts = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)


def spans(matches) -> list[tuple[int, int]]:
    return [m.span() for m in matches]


@settings(max_examples=400, deadline=None)
@given(texts)
def test_trained_on_finds_what_a_whole_text_scan_finds(text: str):
    assert len(text) <= Probe.SMALL
    assert spans(_trained_on(text, None)) == spans(_TRAINED_ON.rx.finditer(text))


@settings(max_examples=50, deadline=None)
@given(texts)
def test_trained_on_leaves_long_texts_to_the_probe(text: str):
    long = text + " filler words" * 300
    assert len(long) > Probe.SMALL
    index = KeyIndex(long)
    assert spans(_trained_on(long, index)) == spans(_TRAINED_ON.finditer(long, index))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("an instruction-tuned on top model", ["instruction-tuned on"]),
        ("we fine-tuned it on chats, then pre-trained the base on books", ["fine-tuned it on",
                                                                           "pre-trained the base on"]),
        ("untrained on x; training data here", ["training data"]),
        ("tuned on", []),  # "tuned" alone is no alternative of the pattern
    ],
)  # fmt: skip
def test_trained_on_examples(text: str, expected: list[str]):
    assert [m.group(0) for m in _trained_on(text, None)] == expected


#: Card bodies made of keywords of the transparency probes (hardware, frameworks, feedback ...)
#: and the words their patterns need, so that both answers of each body probe occur.
_BODY_PIECES = ["a100", "h100", "t4", "pytorch", "deepspeed", "trained for 3 days", "took 12 hours",
                "1.2e21 flops", "co2", "12 kg co2", "input: text", "output text", "generates images",
                "fine-tuned from [x]", "32 layers", "context length 4096", "from_pretrained(", "feedback",
                "contact us", "responsible ai", "example output", "not", "the", "model", " ", "\n", ".",
                "version 2", "status"]  # fmt: skip
bodies = st.lists(st.sampled_from(_BODY_PIECES), min_size=1, max_size=60).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(bodies)
def test_keyword_index_answers_like_keyword_scans(body: str):
    """With the card's index and with none (one ``str.find`` per keyword): the same
    indicators and evidence."""
    readme = "---\nlicense: mit\n---\n# Model\n\n" + body + "\n"
    indexed = assess_transparency(facts_for(readme), "mit", "osi-permissive")
    unindexed = facts_for(readme)
    unindexed.__dict__["body_index"] = None  # the keyword scans every probe falls back to
    plain = assess_transparency(unindexed, "mit", "osi-permissive")
    assert indexed == plain


def test_indicator_records_are_fresh_per_call():
    facts = facts_for(CARD)
    first = assess_transparency(facts, "apache-2.0", "osi-permissive")
    for item in first["indicators"]:
        item["evidence"] = "edited"
        item["met"] = None
    again = assess_transparency(facts_for(CARD), "apache-2.0", "osi-permissive")
    assert all(i["evidence"] != "edited" and isinstance(i["met"], bool) for i in again["indicators"])
    assert any(i["met"] for i in again["indicators"]) and any(not i["met"] for i in again["indicators"])


def test_mof_component_licences_resolve_per_component():
    facts = facts_for(CARD)
    result = assess_openness(
        facts,
        "llama2",
        "vendor-community",
        component_licenses={"code": "apache-2.0", "data": "cc-by-nc-4.0", "Research paper": "cc-by-4.0"},
    )
    rows = {r["component"]: r for r in result["mof"]["components"]}
    assert (rows["Model architecture"]["license"], rows["Model architecture"]["license_from"]) == (
        "apache-2.0",
        "code",
    )
    assert rows["Model architecture"]["license_open"] is True
    assert (
        rows["Model parameters (Final)"]["license"],
        rows["Model parameters (Final)"]["license_open"],
    ) == (
        "cc-by-nc-4.0",
        False,
    )
    assert (rows["Model card"]["license"], rows["Model card"]["license_from"]) == ("llama2", "distribution")
    assert rows["Model card"]["license_open"] is False
    assert (rows["Research paper"]["license_from"], rows["Research paper"]["license_open"]) == (
        "component",
        True,
    )
    assert all(r["counts"] == (r["included"] and r["license_open"]) for r in rows.values())
    assert result["mof"]["license_source"] == "component licences"
    # the distribution licence is not open, so the card itself never counts
    assert result["mof"]["class"] is None and result["mof"]["progress"]["class3"] < 100


_SIZE_PIECES = ["1", "12", "3.5", "1,000", ".", ",", " ", "  ", "\n", "k", "m", "b", "t", "thousand", "billion",
                "+", "tokens", "token", "tb", "gb", "x", "a1", "image-text pairs", "s"]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_SIZE_PIECES), max_size=30).map("".join))
def test_size_descriptor_matches_like_plain_quantifiers(text: str):
    fast = DESCRIPTORS["size"].rx
    plain = re.compile(fast.pattern.replace("*+", "*"))
    assert plain.pattern != fast.pattern
    assert spans(fast.finditer(text)) == spans(plain.finditer(text))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["output", "outputs of", "Generated by", "distilled from", "synthetic data",
                                 "responses", "x", " ", "-", "\n", "İ", "org/model-7b"]), max_size=30).map("".join))  # fmt: skip
def test_trigger_starts_from_the_keyword_index(text: str):
    low = text.lower()
    assert (
        _trigger_starts(text, low, KeyIndex(low))
        == _trigger_starts(text)
        == [m.start() for m in _TRIGGER.finditer(text)]
    )


_NOTICE_PIECES = ["Built", "with", "Llama", "built with llama", "LLAMA", "3", " ", "  ", "\n", "-", "_", "!", "(c)",
                  "Straße", "STRASSE", "Meta", "Platforms", "İ", "x"]  # fmt: skip
notice_texts = st.lists(st.sampled_from(_NOTICE_PIECES), max_size=25).map("".join)


@settings(max_examples=400, deadline=None)
@given(notice_texts, notice_texts)
def test_repo_text_contains_like_normalising_both(text: str, phrase: str):
    assert _RepoText(text).contains(phrase) == (_norm(phrase) in _norm(text))


# --- anchored body searches, the "trained on" windows, per-card shortcuts ------------------
# Oracles: the plain computation each fast path replaces, kept here.


def _plain_prefix_check(rx: re.Pattern[str], prefixes: tuple[str, ...], text: str) -> None:
    """Every position where ``rx`` matches starts with one of ``prefixes`` (tried at each position)."""
    for start in range(len(text) + 1):
        if rx.match(text, start):
            assert text.startswith(prefixes, start), (rx.pattern, text[start : start + 20])


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"abc", ("abc",)),
        (r"a(?<!\wa)bc\b", ("abc",)),  # lookbehind and \b consume nothing
        (r"\bfoo|ba(?:r|z)x", ("foo", "bar", "baz")),
        (r"x(?:y|z)+w", ("xy", "xz")),
        (r"a[bc]d", ("ab", "ac")),
        (r"mi\d{3}", ("mi",)),  # \d takes every Unicode digit: not expanded to 0-9
        (r"a10g?|a100", ("a10",)),  # a prefix extending another gives no new start
        (r"a[^b]c", None),  # a single character is too short to anchor on
        (r"(?i)abc", None),
        (r"\d+ layers", None),
        (r"ab|c", None),
        (r"(?i:ab)c", None),
    ],
)
def test_match_prefixes_edge_cases(pattern: str, expected: tuple[str, ...] | None):
    assert match_prefixes(pattern) == expected


_ANCHOR_TEXTS = ["mi300x", "mi١٢٣", "mi250", "gh200", "a100", "a10g", "a6000", "rtx 4090", "rtx4090", "tpu v4",
                 "tpuv5", "gaudi2", "xa100", "input text", "outputs images", "generates code", "fine-tuned on [x]",
                 "based on huggingface.co/x", "### response", "<|assistant|>", "output:", "github.com/a/b/issues",
                 "discord.gg", "from_pretrained(", "responsible ai", " ", "\n", ".", "x", "-"]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_ANCHOR_TEXTS), max_size=30).map("".join))
def test_every_match_starts_with_a_prefix(text: str):
    probes = [p for p in vars(transparency).values() if isinstance(p, Probe)]
    prefixed = [(p, match_prefixes(p.rx.pattern)) for p in probes]
    assert all(anchored.probe in dict(prefixed) for anchored in transparency._ANCHORED.values())
    for probe, prefixes in prefixed:
        if prefixes is not None:
            _plain_prefix_check(probe.rx, prefixes, text)


def _missing(index: KeyIndex, keys: tuple[str, ...]) -> KeyIndex:
    """``index`` as if built before ``keys`` were registered: it neither knows nor holds them,
    so readers must fall back to ``str.find`` for a probe with one of them."""
    stale = KeyIndex("")
    stale.covers = index.covers - set(keys)
    stale.positions = {k: v for k, v in index.positions.items() if k in stale.covers}
    return stale


def _assert_anchored_like_probe(low: str) -> None:
    index = KeyIndex(low)
    for probe, anchored in transparency._ANCHORED.items():
        stale = (_missing(index, probe.keys[:1]), _missing(index, anchored.starts.keys[-1:]))
        for idx in (index, None, *stale):
            plain, fast = probe.search(low, idx), anchored.search(low, idx)
            assert (plain and plain.span()) == (fast and fast.span()), (probe.rx.pattern[:40], low[:80])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(_ANCHOR_TEXTS), max_size=40).map("".join), st.sampled_from([0, 150, 700]))
def test_anchored_search_answers_like_the_probe(text: str, filler: int):
    """Short texts (whole-text search), long ones (keyword windows) and many keywords (the
    whole-text fallback past ``MAX_HITS``)."""
    low = text + " filler words" * filler
    _assert_anchored_like_probe(low)
    if text:
        _assert_anchored_like_probe(("mi input " * 40) + text * 3 + " words" * 400)


@pytest.fixture(scope="module")
def corpus_lows(corpus_dir) -> list[str]:
    return [(parse_front_matter(r).body or "").lower() for r in real_readmes(corpus_dir, 3000)]


def test_anchored_search_answers_like_the_probe_on_real_cards(corpus_lows: list[str]):
    for low in corpus_lows:
        _assert_anchored_like_probe(low)


def test_trained_on_finds_what_the_probe_finds_on_real_cards(corpus_lows: list[str]):
    for low in corpus_lows:
        index = KeyIndex(low)
        for idx in (index, None, _missing(index, ("tuned",))):
            assert spans(_trained_on(low, idx)) == spans(_TRAINED_ON.finditer(low, idx)), low[:80]


@pytest.mark.parametrize("reps", [1, 30, 80])  # few keywords, windows; past MAX_HITS, the whole text
def test_trained_on_long_texts_with_many_keywords(reps: int):
    far = " " + "x" * 300 + " "  # keywords out of each other's windows
    text = (
        "we pre-trained the model on books." + far + "our training set." + far + "fine-tuned it on chats."
    ) * reps
    low = text + " filler" * 400
    index = KeyIndex(low)
    for idx in (index, None, _missing(index, ("training",))):
        assert spans(_trained_on(low, idx)) == spans(_TRAINED_ON.finditer(low, idx))


def test_descriptors_of_an_empty_training_text_are_the_plain_searches():
    facts = facts_for("---\nlicense: mit\n---\n# Model\n\nNothing about data.\n")
    assert training_data_lower(facts) == ""
    assert descriptor_matches(facts) == {name: probe.search("") for name, probe in DESCRIPTORS.items()}


def test_filled_sections_are_what_cardfacts_section_answers():
    facts = facts_for(CARD)
    filled = filled_sections(facts)
    assert filled == {n: s for n, s in facts.sections.items() if facts.section(n) is not None}
    assert all(filled.get(n) is facts.section(n) for n in (*facts.sections, "Nope"))


def test_openness_reads_indicators_by_table_position_or_by_id():
    facts = facts_for(CARD)
    items = assess_transparency(facts, "apache-2.0", "osi-permissive")["indicators"]
    by_id = {i["id"]: i for i in items}
    assert openness._indicators_read(items) == {k: by_id[k] for k in openness._READ_INDICATORS}
    shuffled = items[::-1]  # not in table order: indexed by id
    assert openness._indicators_read(shuffled) == by_id
    assert openness._indicators_read(items[:-1]) == {i["id"]: i for i in items[:-1]}


def test_total_weight_is_the_in_order_sum():
    total = 0.0
    for row in load_indicators():
        total += float(row["weight"])
    assert transparency._total_weight() == total


def _plain_mof_ladder(counts: dict[str, bool]) -> tuple[int | None, dict[str, float]]:
    """The MOF class and progress as a closure over per-class completeness computed them."""
    names = {c: [n for n, _, cls in openness.MOF_COMPONENTS if cls == c] for c in (3, 2, 1)}
    if not counts["Technical report"] and counts["Research paper"]:
        names[3] = ["Research paper" if n == "Technical report" else n for n in names[3]]
    complete = {c: all(counts[n] for n in ns) for c, ns in names.items()}

    def progress(c: int) -> float:
        if any(not complete[h] for h in range(3, c, -1)):
            return 0.0
        return round(100 * sum(counts[n] for n in names[c]) / len(names[c]), 1)

    achieved = None
    for c in (3, 2, 1):
        if not complete[c]:
            break
        achieved = c
    return achieved, {"class3": progress(3), "class2": progress(2), "class1": progress(1)}


@settings(max_examples=300, deadline=None)
@given(st.sets(st.sampled_from([n for n, _, _ in openness.MOF_COMPONENTS])))
def test_mof_ladder_like_the_plain_computation(shown: set[str]):
    evidence = {n: ("shown" if n in shown else None) for n, _, _ in openness.MOF_COMPONENTS}
    original = openness._mof_included
    openness._mof_included = lambda *_: evidence
    try:
        result = openness.mof_class(facts_for(CARD), {}, {}, {}, "mit", None)
    finally:
        openness._mof_included = original
    counts = {r["component"]: r["counts"] for r in result["components"]}
    assert counts == {n: n in shown for n in counts}
    achieved, progress = _plain_mof_ladder(counts)
    assert result["progress"] == progress
    assert result["label"] == (openness.MOF_LABELS[achieved] if achieved else "Unclassified")


def test_mof_ladder_on_real_cards(corpus_dir):
    folders = sorted(p for p in (corpus_dir / "model-cards").iterdir() if (p / "README.md").is_file())
    if not folders:
        pytest.skip("model-cards corpus not available")
    for result in analyze_paths([corpus_dir / "model-cards"]):
        mof = result["openness"]["mof"]
        if not mof["components"]:
            continue
        achieved, progress = _plain_mof_ladder({r["component"]: r["counts"] for r in mof["components"]})
        assert (mof["progress"], mof["label"]) == (
            progress,
            openness.MOF_LABELS[achieved] if achieved else "Unclassified",
        )


# --- transparency rules that skip work on the common empty case ----------------------------
# The plain forms below are the rules as first written: each builds or searches before asking
# whether there is anything to build or search. The rules must answer exactly like them.


def _plain_grep_body(c: transparency._Ctx, probe: Probe) -> str | None:
    """The whole-body search as a plain keyword-gated probe search, no index shortcuts."""
    low = c.facts.body_lower
    if not low:
        return None
    m = probe.search(low)
    if not m:
        return None
    line = low.count("\n", 0, m.start()) + 1 + c.facts.body_line_offset
    return f"README line {line}: {transparency._snippet(c.facts.body, low, m)}"


def _plain_data_sources(c: transparency._Ctx) -> str | None:
    named = c.facts.all_datasets
    if named:
        return "datasets: " + ", ".join(named[:8])
    sec = c.section("Training Data", "Training Details")
    m = transparency._NAMED_SOURCES.search(sec.lower) if sec else None
    return f"{transparency._sec_evidence(sec)}: names sources ({m.group(0)})" if m else None


def _plain_data_access(c: transparency._Ctx) -> str | None:
    hub = [*c.facts.datasets, *c.facts.linked_datasets]
    return "Hub datasets: " + ", ".join(dict.fromkeys(hub[:8])) if hub else None


def _plain_data_license(c: transparency._Ctx) -> str | None:
    if c.disclosure["disclosure_level"] >= 3:
        return "licences of all named datasets known: " + "; ".join(
            f"{r['id']}: {r.get('verified') or r['license']}" for r in c.disclosure["dataset_licenses"]
        )
    m = transparency._LICENSE_WORD.search(training_data_lower(c.facts))
    return f"training data text mentions {m.group(0)}" if m else None


def _plain_centralized(c: transparency._Ctx) -> str | None:
    present = tuple(filled_sections(c.facts))
    return (
        f"{len(present)} template sections filled: " + ", ".join(present[:8]) if len(present) >= 4 else None
    )


def _assert_rules_like_plain(facts) -> None:
    c = transparency._Ctx(facts, None, None, None)
    for probe in transparency._BODY_PROBES:
        assert c.grep_body(probe) == c.grep(probe) == _plain_grep_body(c, probe), (
            facts.repo_id,
            probe.rx.pattern,
        )
    assert transparency._data_sources(c) == _plain_data_sources(c), facts.repo_id
    assert transparency._data_access(c) == _plain_data_access(c), facts.repo_id
    assert transparency._data_license(c) == _plain_data_license(c), facts.repo_id
    assert transparency._centralized_documentation(c) == _plain_centralized(c), facts.repo_id


_SECTION = "## {}\n\nThis section says enough about {} to count as filled in, with a few words.\n\n"


@pytest.mark.parametrize(
    "readme",
    [
        None,
        "",
        "---\nlicense: mit\n---\n",
        "---\ndatasets:\n- wikipedia\n- Wikipedia\n---\n# M\n",
        "---\nlicense: mit\n---\n# M\n\nSee https://huggingface.co/datasets/org/data for the data.\n",
        "---\ndatasets:\n- a\n---\n# M\n\nhttps://huggingface.co/datasets/org/b and https://huggingface.co/datasets/org/a\n",
        "# M\n\n## Training Data\n\nWe trained on Wikipedia and the Pile, under a licence we list.\n",
        "# M\n\nTrained on 2 days of A100 time, 3.5 kWh, 12 kg CO2; input text, outputs text.\n",
        "# M\n\n" + "".join(_SECTION.format(n, n) for n in ("Uses", "Direct Use", "Training Data")),
        "# M\n\n"
        + "".join(_SECTION.format(n, n) for n in ("Uses", "Direct Use", "Training Data", "Evaluation")),
        "# M\n\n" + "no probe keyword in this body at all\n" * 200,
    ],
)
def test_transparency_rules_like_plain_on_edge_cases(readme: str | None):
    _assert_rules_like_plain(facts_for(readme))


def test_transparency_rules_like_plain_on_real_cards(corpus_dir):
    from licenses.engine.cardfacts import extract_facts
    from licenses.engine.types import RepoSnapshot

    readmes = [(p.parent.name, p.read_text(encoding="utf-8", errors="replace"))
               for p in sorted(corpus_dir.glob("model-cards/*/README.md"))]  # fmt: skip
    bulk = corpus_dir / "hf-cards-2023" / "cards.jsonl.gz"
    if bulk.is_file():
        with gzip.open(bulk, "rt", encoding="utf-8") as handle:
            readmes += [(row["id"], row["readme"]) for row in map(json.loads, itertools.islice(handle, 3000))]
    if not readmes:
        pytest.skip("corpus not available")
    for repo_id, readme in readmes:
        snap = RepoSnapshot(id=repo_id, files={"README.md": len(readme)}, texts={"README.md": readme})
        _assert_rules_like_plain(extract_facts(snap, parse_front_matter(readme)))
