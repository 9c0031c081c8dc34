"""Searches tried only at candidate starts answer exactly like the plain searches.

The language descriptor (disclosure) and the deeper-model-properties probe (transparency)
are no longer scanned position by position: each is tried only at offsets computed from
its keywords, and a short text's "trained on" matches skip the probe's generator. Each
test checks the premise (every offset where the pattern matches is a candidate) and the
answer against the plain search, on generated texts built from the pieces that make and
break matches, and on real cards when ``../shared/corpus`` is present.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from licenses.engine import disclosure, openness, transparency
from licenses.engine.cardfacts import EVALUATION_SECTIONS
from licenses.engine.disclosure import assess_disclosure, filled_sections
from licenses.engine.frontmatter import parse_front_matter
from licenses.engine.keyword_probe import KeyIndex, Probe
from licenses.engine.openness import assess_openness
from licenses.engine.transparency import assess_transparency
from tests.engine.real_cards import real_readmes
from tests.engine.test_cardfacts import CARD, facts_for

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"

_LANGUAGES = disclosure.DESCRIPTORS["languages"].rx


def _span(m):
    return m and (m.span(), m.group(0))


def _card_lows(limit: int) -> list[str]:
    return [parse_front_matter(r).body.lower() for r in real_readmes(CORPUS, limit)]


# -- disclosure: the language descriptor ------------------------------------------------------

_LANG_PIECES = ["english", "chinese", "multilingual", "bilingual", "polish", "polished", "hindi", "languages",
                "language:", "languages:", "language", "languag", "programming languages", "programming",
                "natural", "12", "7", "٣", " ", "  ", "\t", "\n", "\u2003", "x", "a", "n", "-", ":", "k"]  # fmt: skip
lang_texts = st.lists(st.sampled_from(_LANG_PIECES), max_size=24).map("".join)


def _check_languages(low: str) -> None:
    starts = disclosure._language_starts(low)
    for p in range(len(low)):
        if _LANGUAGES.match(low, p):
            assert p in starts, (low, p)
    assert _span(disclosure._language_search(_LANGUAGES, low)) == _span(_LANGUAGES.search(low))


@settings(max_examples=800, deadline=None)
@given(lang_texts)
def test_language_search_equals_the_plain_search(text: str):
    _check_languages(text)


@pytest.mark.parametrize(
    "text",
    ["trained on 12 natural languages", "covers 3\t languages", "in programming languages: python",
     "languages: en, fr", "xenglish and english", "７ languages", "natural languages only", "12  natural \n languages"],
)  # fmt: skip
def test_language_search_examples(text: str):
    _check_languages(text)


def test_language_search_on_corpus_cards():
    for low in _card_lows(4000):
        assert _span(disclosure._language_search(_LANGUAGES, low)) == _span(_LANGUAGES.search(low))


# -- disclosure: "trained on" in short texts --------------------------------------------------

_TRAIN_PIECES = ["trained", "pre-trained", "pretrained", "fine-tuned", "instruction-tuned", "training data",
                 "training", "on", "the", "x", " ", "\n", "1"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_TRAIN_PIECES), max_size=40).map("".join))
def test_short_trained_on_equals_the_probe_with_an_index(text: str):
    index = KeyIndex(text) if text else None
    plain = [m.span() for m in disclosure._TRAINED_ON.finditer(text, index)]
    assert [m.span() for m in disclosure._trained_on(text, index)] == plain


# -- transparency: number-led body probes ----------------------------------------------------

_NUMBERS = ["32", "4", "1.5", "1,200", "٣", "0", ".", ",", " ", "  ", "\n", "\t", "x", "a", "n", "e", "=", "-", "k"]  # fmt: skip
#: Per probe: pieces that make and break its matches (numbers, units, keywords, neighbours).
_PROBE_PIECES = {
    "_DEEP_PROPS": ["layers", "heads", "attention heads", "attention", "hidden size", "hidden dim", "hidden",
                    "context", "context length", "context window", "token ", "vocab size", "vocabulary size",
                    "1024"],
    "_DURATION": ["days of training", "days on", "hours of", "weeks on", "days", "of", "on", "training",
                  "trained for", "trained from 2020", "training time", "took about", "took ", "hours used:",
                  "model date", "months", "2021", "d", "s"],
    "_ENERGY": ["kwh", "mwh", "gwh", "twh", "wh", "power consumption", "energy used", "energy usage", "watts",
                "w", "kw", "power", "(", "m", "g"],
    "_CO2": ["co2", "co2eq", "co2 e", "kg", "g", "t", "tons", "tonnes", "metric tons", "metric ton", "of",
             "carbon emitted:", "emissions were", "emission of", "carbon", "**", "f", "o", "s"],
}  # fmt: skip


def _check_keyword_anchored(name: str, low: str) -> None:
    probe = getattr(transparency, name)
    anchored = transparency._ANCHORED[probe]
    index = KeyIndex(low) if low else None
    starts = anchored.candidates(low, index)
    assert starts == anchored.candidates(low, None)
    for p in range(len(low)):
        if probe.rx.match(low, p):
            assert p in starts, (name, low, p)
    for idx in (index, None):
        assert _span(anchored.search(low, idx)) == _span(probe.search(low, idx))


def _pieces(name: str):
    return st.lists(st.sampled_from(_PROBE_PIECES[name] + _NUMBERS), max_size=30).map("".join)


@pytest.mark.parametrize("name", sorted(_PROBE_PIECES))
def test_keyword_anchored_probes_equal_the_probe(name: str):
    @settings(max_examples=600, deadline=None)
    @given(_pieces(name))
    def check(text: str):
        _check_keyword_anchored(name, text)

    check()


@pytest.mark.parametrize("name", sorted(_PROBE_PIECES))
def test_keyword_anchored_probes_in_long_texts(name: str):
    @settings(max_examples=40, deadline=None)
    @given(_pieces(name), _pieces(name))
    def check(head: str, tail: str):
        text = head + " filler words" * 200 + tail
        assert len(text) > Probe.SMALL
        _check_keyword_anchored(name, text)

    check()


@pytest.mark.parametrize(
    ("name", "text"),
    [("_DEEP_PROPS", "32 attention heads"), ("_DEEP_PROPS", "4k token context"), ("_DEEP_PROPS", "a 12  layers"),
     ("_DEEP_PROPS", "x32 heads"), ("_DEEP_PROPS", "128k context window"), ("_DEEP_PROPS", "٣ layers"),
     ("_DURATION", "about 3.5 days of training"), ("_DURATION", "12 hours on 8"), ("_DURATION", "x3 days of training"),
     ("_ENERGY", "used 1,200.5 kwh"), ("_ENERGY", "12 \n mwh"), ("_ENERGY", "energy used: 30 kw"),
     ("_CO2", "12.5 metric tons of co2"), ("_CO2", "3 tonnes co2"), ("_CO2", "7 kg of  co2"), ("_CO2", "5g co2")],
)  # fmt: skip
def test_keyword_anchored_examples(name: str, text: str):
    _check_keyword_anchored(name, text)
    # all match but the two glued to a letter ("x32", "x3"): a boundary the pattern wants
    assert (getattr(transparency, name).rx.search(text) is None) == text.startswith("x3")


def test_keyword_anchored_probes_on_corpus_cards():
    for low in _card_lows(4000):
        if not low:
            continue
        index = KeyIndex(low)
        for name in _PROBE_PIECES:
            probe = getattr(transparency, name)
            assert _span(transparency._ANCHORED[probe].search(low, index)) == _span(probe.search(low, index))


# -- transparency: version and size in the repository name ------------------------------------

_NAME_PIECES = ["v", "V", "v2", "V1.5", "1", "7", "13", "٣", ".", "-", "_", "/", "b", "B", "m", "M", "x", "X",
                "x8", "19", "20", "2023", "20-01", "2023_05_01", "llama", "model", "K", "ſ", "ı", "İ", "é", "k",
                "s", "i", "0", "9b", "1.3b", " "]  # fmt: skip
_NAME_PAIRS = [
    (transparency._VERSION_IN_NAME, re.compile(transparency._VERSION_IN_NAME_SPEC, re.I)),
    (transparency._SIZE_IN_NAME, re.compile(transparency._SIZE_IN_NAME_SPEC, re.I)),
]


def _check_name(name: str) -> None:
    for fast, plain in _NAME_PAIRS:
        assert _span(fast.search(name)) == _span(plain.search(name)), (name, plain.pattern)
        assert [_span(m) for m in fast.finditer(name)] == [_span(m) for m in plain.finditer(name)]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(_NAME_PIECES), max_size=12).map("".join))
def test_name_patterns_equal_their_spelling(name: str):
    _check_name(name)


@pytest.mark.parametrize(
    "name", ["llama-2-7b", "Mistral-7B-v0.1", "model-2023-05", "gpt2.v3", "xv2", "ſv2", "Kv1"]
)
def test_name_pattern_examples(name: str):
    _check_name(name)


def test_name_patterns_on_corpus_names():
    cards = CORPUS / "hf-cards-2023" / "cards.jsonl.gz"
    if not cards.is_file():
        pytest.skip(f"no cards under {CORPUS}")
    with gzip.open(cards, "rt", encoding="utf-8") as handle:
        for line in handle:
            _check_name(json.loads(line)["id"].rsplit("/", 1)[-1])


# -- openness: the MOF inclusion evidence and licences ----------------------------------------
# The plain forms are the code as first written: the links filtered twice, the body probes
# entered for every card, and each component's licence looked up in a memo.


def _plain_mof_included(facts, ind, ratings, dis) -> dict:
    modeling = next((f for f in facts.files if openness._MODELING_FILE.search(f)), None)
    eval_links = [
        link for link in facts.links if link.section in EVALUATION_SECTIONS and link.kind == "hf-dataset"
    ]
    github_eval = next((link.url for link in facts.links_of("github") if "eval" in link.url.lower()), None)
    low, index = facts.body_lower, facts.body_index
    paper = ratings["paper"]
    report = ratings["preprint"]["rating"] != "closed" or paper["rating"] != "closed"
    return {
        "Model architecture": (modeling and f"file: {modeling}") or (facts.config.get("architectures") and
                               "config.json") or (facts.library_name and f"library_name: {facts.library_name}")
                              or None,
        "Model parameters (Final)": ind["open-weights"]["evidence"],
        "Model card": ind["centralized-documentation"]["evidence"] or (ratings["modelcard"]["rating"] != "closed"
                                                                      and ratings["modelcard"]["evidence"]) or None,
        "Data card": ratings["datasheet"]["evidence"] if ratings["datasheet"]["rating"] != "closed" else None,
        "Technical report": (ratings["preprint"]["evidence"] or paper["evidence"]) if report else None,
        "Evaluation results": ind["capabilities-evaluation"]["evidence"],
        "Training code": ind["training-code"]["evidence"],
        "Inference code": ind["access-protocol"]["evidence"] if not facts.gating_fields else (
            filled_sections(facts).get("How to Get Started") and "usage section") or None,
        "Evaluation code": github_eval or (openness._EVAL_CODE.search(low, index) and "evaluation code referenced")
                           or None,
        "Evaluation data": (facts.eval_results and "model-index datasets")
                           or (eval_links and "dataset links in evaluation sections") or None,
        "Datasets": (dis["disclosure_level"] == 4 and "all training datasets openly licensed") or None,
        "Data preprocessing code": (openness._PREPROC.search(low, index) and "preprocessing code referenced") or None,
        "Model parameters (Intermediate)": next((f"file: {f}" for f in facts.files
                                                 if openness._CHECKPOINT_FILE.search(f)), None)
                                           or (openness._INTERMEDIATE.search(low, index)
                                               and "intermediate checkpoints referenced") or None,
        "Research paper": paper["evidence"] if paper["rating"] == "open" else None,
    }  # fmt: skip


def _plain_component_licences(license_key, comp) -> list[tuple[str | None, str, bool]]:
    out = []
    for name, ctype, _ in openness.MOF_COMPONENTS:
        if comp:
            lic = comp.get(name) or comp.get(ctype) or comp.get("distribution") or license_key
            source = "component" if comp.get(name) else ctype if comp.get(ctype) else "distribution"
        else:
            lic, source = license_key, "distribution"
        out.append((lic, source, openness.is_open_license(lic)))
    return out


_COMPONENT_LICENCES = [None, {}, {"code": "mit"}, {"distribution": "apache-2.0"}, {"data": "cc-by-nc-4.0"},
                       {"Training code": "apache-2.0", "data": "cc-by-4.0", "document": "cc-by-sa-4.0"},
                       {"Research paper": "cc-by-4.0", "code": "", "distribution": "llama2"}]  # fmt: skip


def _check_openness(facts, key: str | None, cls: str | None) -> None:
    dis = assess_disclosure(facts)
    tr = assess_transparency(facts, key, cls, disclosure=dis)
    for comp in _COMPONENT_LICENCES:
        result = assess_openness(facts, key, cls, component_licenses=comp, disclosure=dis, transparency=tr)
        dims = result["dimensions"]
        value = 0.0
        for d in dims:
            value += openness.RATING_VALUE[d["rating"]]
        assert result["openness_pct"] == round(100 * value / len(dims), 1)
        ratings = {d["dimension"]: d for d in dims}
        ind = {i["id"]: i for i in tr["indicators"]}
        assert openness._mof_included(facts, ind, ratings, dis) == _plain_mof_included(
            facts, ind, ratings, dis
        )
        rows = result["mof"]["components"]
        if rows:
            got = [(r["license"], r["license_from"], r["license_open"]) for r in rows]
            assert got == _plain_component_licences(key, comp or {})
    index = facts.body_index
    for probe in (openness._EVAL_CODE, openness._PREPROC, openness._INTERMEDIATE):
        assert _span(openness._body_search(facts, probe)) == _span(probe.search(facts.body_lower, index))


_OPEN_CARD = """---
license: apache-2.0
datasets: [squad]
---
# Model
## Model Details
Uses lm-evaluation-harness and our data preprocessing code; intermediate checkpoints via revision="step1000".
See https://github.com/org/eval-suite and https://github.com/org/train and the dataset card.
## Evaluation
Tested on [data](https://huggingface.co/datasets/org/test-set).
"""


@pytest.mark.parametrize("readme", [None, "", "# Title\nno body", CARD, _OPEN_CARD])
@pytest.mark.parametrize(("key", "cls"), [("apache-2.0", "osi-permissive"), ("llama2", "vendor-community"),
                                          (None, None), ("unknown", None)])  # fmt: skip
def test_openness_like_plain_on_hand_written_cards(readme: str | None, key: str | None, cls: str | None):
    _check_openness(facts_for(readme), key, cls)


def test_openness_like_plain_on_corpus_cards():
    for readme in real_readmes(CORPUS, 1500):
        facts = facts_for(readme)
        _check_openness(facts, "apache-2.0", "osi-permissive")


# -- transparency: word-start anchors and keyword starts ---------------------------------------

_WORD_PIECES = ["tpu", "tpu v4", "output", "outputs", "input", "t4", "gpt4", "_t4", "a100", "xa100", "rtx 3090",
                "h100", "mi250x", "generate", "generates text", "regenerate text", "output text", "outputs: images",
                "é", "ß", "٣", "_", "-", " ", "\n", ".", "x", "1", "text", "audio"]  # fmt: skip


def _check_word_anchored(low: str) -> None:
    index = KeyIndex(low) if low else None
    for probe in (transparency._HARDWARE, transparency._OUTPUT):
        anchored = transparency._ANCHORED[probe]
        assert isinstance(anchored, transparency._WordAnchored)
        starts = anchored.candidates(low, index)
        for p in range(len(low)):
            if probe.rx.match(low, p):
                assert p in starts, (low, p)
        for idx in (index, None):
            assert _span(anchored.search(low, idx)) == _span(probe.search(low, idx))


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from(_WORD_PIECES), max_size=30).map("".join))
def test_word_anchored_search_equals_the_probe(text: str):
    _check_word_anchored(text)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(_WORD_PIECES), max_size=20).map("".join))
def test_word_anchored_search_in_long_texts(text: str):
    _check_word_anchored(text + " filler words" * 200 + text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_WORD_PIECES + _PROBE_PIECES["_DEEP_PROPS"]), max_size=30).map("".join))
def test_key_starts_read_from_the_index_like_the_probe(text: str):
    index = KeyIndex(text) if text else None
    for anchored in transparency._ANCHORED.values():
        for probe in {anchored.probe, anchored.starts}:
            for idx in (index, None):
                assert transparency._key_starts(probe, text, idx) == probe.key_starts(text, idx)
