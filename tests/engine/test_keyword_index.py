"""The one-pass keyword index and the other card-analysis shortcuts answer exactly as the scans they replace.

``KeyIndex`` (one Aho-Corasick pass per card body) stands in for a ``str.find`` per probe
keyword; ``parse_sections`` visits only candidate lines; the output-use trigger scan uses
``str.find`` on the lower-cased body. Each is checked against the plain computation on
synthetic edge cases and, when ``../shared/corpus`` is present, on every real card there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from licenses.engine import cardfacts, disclosure, openness, transparency
from licenses.engine.card_sections import parse_sections
from licenses.engine.keyword_probe import KeyIndex, Probe
from licenses.engine.rules.context import _TRIGGER, _candidate_starts

PROBES = [
    value
    for module in (cardfacts, disclosure, openness, transparency)
    for value in [*vars(module).values(), *getattr(module, "DESCRIPTORS", {}).values()]
    if isinstance(value, Probe) and value.keys
]


def _find_all(text: str, key: str) -> list[int]:
    out, i = [], text.find(key)
    while i != -1:
        out.append(i)
        i = text.find(key, i + 1)
    return out


def _spans(probe: Probe, low: str, index: KeyIndex | None) -> tuple[object, list[tuple[int, int]]]:
    m = probe.search(low, index)
    return (m.span() if m else None), [x.span() for x in probe.finditer(low, index)]


def _model_card_bodies(corpus: Path) -> list[str]:
    return [
        p.read_text(encoding="utf-8", errors="replace")
        for p in sorted(corpus.glob("model-cards/*/README.md"))
    ]


def test_index_holds_every_occurrence_str_find_reports():
    # overlapping occurrences, keys that are suffixes of others, text that lower() lengthens
    text = "the training data: 3 x a100 gpus, a1000 a100a100; not nothing; İnputs input fine-tuned " * 40
    index = KeyIndex(text)
    keys = {k for probe in PROBES for k in probe.keys}
    assert keys <= index.covers
    for key in keys:
        assert index.positions.get(key, []) == _find_all(text, key), key
    assert len(index.positions["a100"]) == 4 * 40  # "a1000" and both halves of "a100a100" count


def test_probes_answer_alike_with_and_without_index_on_edge_cases():
    short = "trained on 3 billion tokens of english text; see the model card for limitations."
    many_hits = ("not a match here. " * 90) + "this model should not be used for medical advice."
    far = (
        "filler words without keywords. " * 200
    ) + "we used 8 a100 gpus and 1,024 h100 for 2 weeks of training."
    for low in (short, many_hits, far, ""):
        index = KeyIndex(low)
        for probe in PROBES:
            assert _spans(probe, low, index) == _spans(probe, low, None), probe.rx.pattern[:60]


def test_probe_with_a_keyword_the_index_lacks_still_finds_it():
    low = ("padding " * 400) + "zyxwvut marker here"
    index = KeyIndex(low)
    late = Probe(r"zyxwvut marker", ("zyxwvut",))  # registered after the index was built
    assert "zyxwvut" not in index.covers
    m = late.search(low, index)
    assert m is not None and m.group(0) == "zyxwvut marker"
    assert [x.group(0) for x in late.finditer(low, index)] == ["zyxwvut marker"]


def test_absent_in_only_when_the_index_knows_every_keyword_and_none_occurs():
    text = ("padding " * 400) + "we trained on 8 a100 gpus"
    index = KeyIndex(text)
    for probe in PROBES:
        absent = probe.absent_in(index)
        assert absent == (probe.keyset <= index.covers and not any(k in text for k in probe.keys))
        if absent:
            assert probe.search(text, index) is None
    assert any(p.absent_in(index) for p in PROBES) and not all(p.absent_in(index) for p in PROBES)
    assert not PROBES[0].absent_in(None)
    late = Probe(r"qwertyzz", ("qwertyzz",))  # registered after the index was built: not known
    assert not late.absent_in(index)
    assert not Probe(r"x").absent_in(index)  # keyword-less probes scan the whole text


def test_key_starts_are_the_keywords_offsets_with_or_without_index():
    text = "fine-tuned, finetuned; training data trained on a100a100 " * 30
    index = KeyIndex(text)
    for probe in PROBES:
        want = {i for key in probe.keys for i in _find_all(text, key)}
        assert probe.key_starts(text, index) == want == probe.key_starts(text)
    late = Probe(r"zzqq", ("zzqq",))  # unknown to the index: found by scanning
    assert late.key_starts(text + "zzqq", KeyIndex(text + "zzqq")) == {len(text)}


def test_probes_answer_alike_on_real_cards(corpus_dir: Path):
    bodies = _model_card_bodies(corpus_dir)
    if not bodies:
        pytest.skip("no model-cards in the corpus")
    for body in bodies:
        low = body.lower()
        index = KeyIndex(low)
        for probe in PROBES:
            assert _spans(probe, low, index) == _spans(probe, low, None), probe.rx.pattern[:60]


def test_outline_reads_headings_on_candidate_lines_only():
    body = "\n".join(
        [
            "Intro text that is long enough to matter here.",
            "```",
            "# a shell comment, not a heading",
            "```",
            "Training data",
            "---",
            "- **Training Data**: not a label (list item) but content of the setext section above",
            "<table>",
            "<tr><td>row</td></tr>",
            "</table>",
            "   <h2>Limitations</h2>",
            "The model makes mistakes on long inputs and rare languages.",
            "\t**Evaluation**: accuracy of 91.2 on the held-out test split was reported",
            "## Uses",
            "Answering questions about the documentation of this project.",
        ]
    )
    sections, headings = parse_sections(body)
    assert headings == ("Training data", "Limitations", "Uses")
    assert sections["Training Data"].line == 5 and "list item" in sections["Training Data"].text
    assert "<table>" in sections["Training Data"].text
    assert sections["Bias, Risks, and Limitations"].line == 11
    assert sections["Evaluation"].line == 13 and sections["Evaluation"].text.startswith("accuracy of 91.2")
    assert sections["Uses"].substantive


SYNTHETIC_TRIGGERS = (
    "Distilled from GPT-4; OUTPUTS of Llama, synthetic data GENERATED by x. output_ids, outputsx, pre-distill",
    "İstanbul: outputs of model-x (lower() lengthens this text)",
    "xoutputs and output",
    "d\u0131stilled from x; \u017fynthetic data by y",  # re.I equates these with i and s; lower() does not
    "",
)


def _trigger_starts(text: str, low: str | None = None, index: KeyIndex | None = None) -> list[int]:
    """The candidates ``output_source_ids`` tries, kept where ``_TRIGGER`` matches: these must be
    exactly ``_TRIGGER.finditer``'s starts (no trigger match may be missing from the candidates)."""
    return [i for i in _candidate_starts(text, low, index) if _TRIGGER.match(text, i)]


@pytest.mark.parametrize("text", SYNTHETIC_TRIGGERS)
def test_trigger_positions_match_the_case_insensitive_scan(text: str):
    assert _trigger_starts(text) == [m.start() for m in _TRIGGER.finditer(text)]


def test_trigger_positions_match_on_real_cards(corpus_dir: Path):
    for text in _model_card_bodies(corpus_dir):
        assert _trigger_starts(text) == [m.start() for m in _TRIGGER.finditer(text)]
