"""The assessment's fast paths answer exactly like the plain searches they replace.

Disclosure tries the "trained on" pattern only at offsets from its keywords on short texts
and reads numbers possessively in the size descriptor; transparency tests body keywords
through the card's keyword index (or one it builds); the indicator records are copies of
per-indicator templates; the MOF class reads each licence's openness once; the rule
context takes trigger words from the keyword index; missing-notice skips normalising the
repository text when a phrase word is absent. Each test compares the fast path with the
straightforward one over generated inputs (or pins the behaviour the shortcut must keep).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from licenses.engine.disclosure import _TRAINED_ON, DESCRIPTORS, _trained_on
from licenses.engine.keyword_probe import KeyIndex, Probe
from licenses.engine.openness import assess_openness
from licenses.engine.rules.context import _TRIGGER, _trigger_starts
from licenses.engine.rules.missing_notice import _norm, _RepoText
from licenses.engine.transparency import assess_transparency
from tests.engine.test_cardfacts import CARD, facts_for

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
