"""The licence classification's fast paths (and three per-card ones after it) answer exactly like
the plain computations they replace.

Text detection finds its phrases with one Aho-Corasick pass and scores only the signatures a
present phrase touches, and skips NFKC on text that already is NFKC; the card-body scan runs
each statement pattern only over the lines holding its keyword; the knowledge base folds
multi-word phrases by first word; missing-notice finds a phrase in the case-folded text without
normalising it; the deeper-properties pattern is spelled behind one leading character class; the
language descriptor is skipped when none of its words occurs. Each test compares the fast path
with the plain one on generated edge cases and, when ``../shared/corpus`` is present, on real
licence texts and cards.
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from itertools import islice
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from licenses.engine import classify, disclosure, kb, textdetect, transparency
from licenses.engine.frontmatter import parse_front_matter
from licenses.engine.rules import missing_notice

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"


# -- text detection ---------------------------------------------------------------------------


def _index_words() -> list[str]:
    """Words of the signature phrases, so generated texts hit (and half-hit) real phrases."""
    words = sorted({w for p in textdetect._index().phrases for w in p.split()})
    return [*words[:: max(1, len(words) // 150)], "license", "llama", "3.1", "apache", "2.0", "version"]


_TEXT_PIECES = st.sampled_from([*_index_words(), " ", "\n", ".", "**", "#"])


def _plain_present(index: textdetect._Index, norm: str) -> list[bool]:
    """Which phrases occur, by a set lookup of each phrase's tokens and a substring scan."""
    vocab = frozenset(norm.split())
    return [vocab.issuperset(p.split()) and p in norm for p in index.phrases]


def _plain_scores(norm: str) -> list[float]:
    """Every signature's score computed in full, from the plain phrase test."""
    index = textdetect._index()
    present = _plain_present(index, norm)
    return [
        sum(w for i, w in pos if present[i]) - sum(w for i, w in neg if present[i])
        if not req or any(present[i] for i in req)
        else 0.0
        for pos, neg, req in zip(index.positive, index.negative, index.required, strict=True)
    ]


@settings(max_examples=300, deadline=None)
@given(st.lists(_TEXT_PIECES, max_size=80).map(" ".join))
def test_phrases_and_scores_match_the_plain_computation(text: str):
    index = textdetect._index()
    norm = textdetect.normalize(text)
    present = textdetect._present(index, norm)
    assert present == _plain_present(index, norm)
    fast = textdetect._scores(index, present)
    plain = _plain_scores(norm)
    assert fast == plain
    assert [type(x) for x in fast] == [type(x) for x in plain]  # 0 vs 0.0 is kept too


def _signature_texts() -> list[str]:
    """Every signature's phrases joined: each scores its own signature (and its rivals)."""
    return [" ".join(raw for _, raw, _ in s.phrases) for s in textdetect._index().sigs]


def test_scores_match_on_every_signatures_own_text():
    index = textdetect._index()
    for text in _signature_texts():
        norm = textdetect.normalize(text)
        assert textdetect._present(index, norm) == _plain_present(index, norm)
        assert textdetect._scores(index, _plain_present(index, norm)) == _plain_scores(norm)


@pytest.mark.parametrize(
    "text",
    ["Ｌｉｃｅｎｓｅ Ⅲ ﬁle", "café licence", "plain ascii text", "e\u0301 combining", "x\u00a0y", ""],
)
def test_nfkc_shortcut_equals_unicodedata(text: str):
    assert textdetect._nfkc(text) == unicodedata.normalize("NFKC", text)


def _licence_texts() -> list[str]:
    folder = CORPUS / "license-texts"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.stat().st_size < 600_000)
    return [p.read_text(encoding="utf-8", errors="replace") for p in files]


def test_detection_fast_path_matches_on_the_licence_text_corpus():
    index = textdetect._index()
    texts = _licence_texts()
    assert texts
    for text in texts:
        norm = textdetect.normalize(text)
        assert textdetect._nfkc(text) == unicodedata.normalize("NFKC", text)
        present = textdetect._present(index, norm)
        assert present == _plain_present(index, norm)
        assert textdetect._scores(index, present) == _plain_scores(norm)


# -- card body --------------------------------------------------------------------------------

_BODY_PIECES = st.sampled_from(
    ["## License", "# licence:", "### Licensing", "License:", "**License**:", "- license: MIT", "> Licence: ",
     "released under the", "Licensed under", "UNDER", "under", "licence agreement for the", "LICEN", "icen",
     "shields.io/badge/license-Apache--2.0-blue", "Apache 2.0", "MIT", "cc-by-4.0", "\n", "\r\n", " ", "\t",
     ".", "İ", "ı", "ß", "Ä°", "text", "#", "*"]
)  # fmt: skip


def _same_snippets(body: str) -> None:
    whole = [(0, len(body))]  # every pattern over the whole body: what a plain scan finds
    assert list(classify._body_snippets(body)) == list(classify._snippets_in(body, whole, whole))


@settings(max_examples=500, deadline=None)
@given(st.lists(_BODY_PIECES, max_size=60).map("".join))
def test_body_snippets_match_a_whole_body_scan(body: str):
    _same_snippets(body)


@pytest.mark.parametrize(
    "body",
    [
        "",
        "## License",  # heading without its newline: no section, as in the whole-body scan
        "## License\nApache 2.0",
        "intro\n## Licence MIT\nreleased under the MIT licence",
        "LİCENSE: MIT\n",  # dotted capital I: the plain path (lower() changes the length)
        "lıcense: MIT\n",  # dotless i matches "i" under IGNORECASE but not after lower()
        "x\r\nLicense: Apache-2.0\r\nreleased under the apache 2.0",
        "released under the MIT license released under the Apache license",
        "Released UNDER the CC-BY-4.0\nlicense for the model weights",
    ],
)
def test_body_snippets_edge_cases(body: str):
    _same_snippets(body)


def _card_bodies(limit: int) -> list[str]:
    bodies: list[str] = []
    folder = CORPUS / "model-cards"
    if folder.is_dir():
        bodies += [
            parse_front_matter(p.read_text(encoding="utf-8", errors="replace")).body
            for p in sorted(folder.rglob("README.md"))
        ]
    cards = CORPUS / "hf-cards-2023" / "cards.jsonl.gz"
    if cards.is_file():
        with gzip.open(cards, "rt", encoding="utf-8") as handle:
            bodies += [parse_front_matter(json.loads(line)["readme"]).body for line in islice(handle, limit)]
    if not bodies:
        pytest.skip(f"no cards under {CORPUS}")
    return bodies


def test_body_snippets_match_on_corpus_cards():
    for body in _card_bodies(3000):
        _same_snippets(body)


# -- knowledge base ---------------------------------------------------------------------------


def _plain_fold(tokens: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for phrase, short in kb._PHRASES:
            if tuple(tokens[i : i + len(phrase)]) == phrase:
                out.append(short)
                i += len(phrase)
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


_FOLD_WORDS = sorted({w for phrase, _ in kb._PHRASES for w in phrase} | {"cc", "by", "4.0", "mit", "x"})


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_FOLD_WORDS), max_size=12))
def test_phrase_folding_matches_trying_every_phrase(tokens: list[str]):
    assert kb._fold_phrases(tokens) == _plain_fold(tokens)


def test_phrase_folding_prefers_the_longer_phrase_listed_first():
    assert kb._fold_phrases(["lesser", "general", "public"]) == ["lgpl"]
    assert kb._fold_phrases(["general", "public", "no", "derivs"]) == ["gpl", "nd"]


# -- missing-notice ---------------------------------------------------------------------------

_NOTICE_PIECES = st.sampled_from(
    ["built", "Built", "with", "llama", "LLaMA", "re", "s", " ", "  ", "\n", "-", "_", "'", "…", "ß", "ss",
     "straße", "ǅ", "é", "e\u0301", "3", ".", "*", "with llama", "built with"]
)  # fmt: skip


@settings(max_examples=600, deadline=None)
@given(st.lists(_NOTICE_PIECES, max_size=25).map("".join), st.lists(_NOTICE_PIECES, max_size=6).map("".join))
def test_phrase_search_in_folded_text_equals_normalising_both(text: str, phrase: str):
    assert missing_notice._RepoText(text).contains(phrase) == (
        missing_notice._norm(phrase) in missing_notice._norm(text)
    )


@pytest.mark.parametrize(
    ("text", "phrase", "expected"),
    [
        ("Rebuilt with Llamas!", "Built with Llama", True),  # may start and end inside a word
        ("built__with--LLAMA", "built with llama", True),
        ("built with\n\n  llama", "Built with Llama", True),
        ("built withllama", "built with llama", False),
        ("built, with: llama; straße", "with llama strasse", True),
        ("llama with built", "built with llama", False),
        ("anything", "--", True),  # a phrase of punctuation only normalises to "", found everywhere
    ],
)
def test_phrase_search_examples(text: str, phrase: str, expected: bool):
    assert missing_notice._RepoText(text).contains(phrase) is expected
    assert (missing_notice._norm(phrase) in missing_notice._norm(text)) is expected


# -- transparency: deeper model properties ----------------------------------------------------

_DEEP_SPEC = re.compile(transparency._DEEP_PROPS_SPEC)
_DEEP_PIECES = st.sampled_from(
    ["1", "32", "٣", "x", "k", " ", "\n", ".", "layers", "attention heads", "heads", "headsx", "hidden size",
     "hidden dim", "context length", "context window", "vocab size", "vocabulary size", "token ", "context",
     "4k context", "a1", "_2", "h", "c", "v", "-"]
)  # fmt: skip


def _all_matches(rx: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in rx.finditer(text)]


@settings(max_examples=600, deadline=None)
@given(st.lists(_DEEP_PIECES, max_size=30).map("".join))
def test_deep_properties_pattern_matches_its_spec(text: str):
    fast = transparency._DEEP_PROPS.rx
    assert _all_matches(fast, text) == _all_matches(_DEEP_SPEC, text)
    for start in range(0, len(text), 7):  # the probe searches windows of the body
        a, b = fast.search(text, start, start + 40), _DEEP_SPEC.search(text, start, start + 40)
        assert (a and a.span()) == (b and b.span())


def test_deep_properties_pattern_matches_its_spec_on_corpus_cards():
    for body in _card_bodies(3000):
        low = body.lower()
        assert _all_matches(transparency._DEEP_PROPS.rx, low) == _all_matches(_DEEP_SPEC, low)


# -- disclosure: gated descriptor search ------------------------------------------------------

_LANG_PIECES = st.sampled_from(
    ["english", "English", "chinese", "multilingual", "bilingual", "languages", "language:", "languages:",
     "language", "programming languages", "natural", "12", "٣", " ", "\n", "x", "a", "-", "polish", "polished",
     "languag", "lang", "uages"]
)  # fmt: skip


@settings(max_examples=600, deadline=None)
@given(st.lists(_LANG_PIECES, max_size=20).map("".join))
def test_gated_language_search_equals_the_plain_search(text: str):
    probe = disclosure.DESCRIPTORS["languages"]
    plain = probe.search(text)
    gated = disclosure._gated_search("languages", probe, text)
    assert (gated and gated.span()) == (plain and plain.span())
    for m in probe.rx.finditer(text):  # the gate's premise: every match holds a gate substring
        assert any(key in m.group(0) for key in disclosure._DESCRIPTOR_GATES["languages"])


def test_gated_descriptor_search_on_corpus_cards():
    for body in _card_bodies(3000):
        low = body.lower()
        for name, probe in disclosure.DESCRIPTORS.items():
            plain = probe.search(low)
            gated = disclosure._gated_search(name, probe, low)
            assert (gated and gated.span()) == (plain and plain.span())
