"""The card parser's shortcuts give exactly what the plain computations they replace give.

Each fast path of the parsing side (outline candidates and offsets and the gated candidate
regex, ``Section.lower`` cut from the lower-cased body, URL extraction straight from the
body, the heading-text strip, the gated heading normalisation, the section-name prefilter
and the patterns it picks, the narrow placeholder gate, the key automaton and byte count
of ``substance``, URLs classified together, the re-spelled parameter regex, the byte-wise
lower-casing of the body, the weight-suffix prefilter, records built without their
``__init__``, the split depth check of the front-matter guard) is compared with a
straightforward reference: on synthetic edge cases always, and on real cards when
``../shared/corpus`` is present (every ``model-cards`` card and the first ``hf-cards-2023``
cards).
"""

from __future__ import annotations

import dataclasses
import random
import re
import unicodedata
from pathlib import Path

import pytest

from licenses.engine import card_links, card_metadata, card_sections, cardfacts, frontmatter, weights
from licenses.engine.card_links import _extract_links_by_line, extract_links
from licenses.engine.card_metadata import EvalResult
from licenses.engine.card_sections import (
    _BOLD_LABEL,
    _FENCE,
    _FOREIGN_EXCLUDES,
    _FOREIGN_RES,
    _HEADING,
    _HEADING_OPEN,
    _HTML_HEADING,
    _LATIN_FOLD,
    _MIN_SUBSTANCE,
    _SECTION_RES,
    CANONICAL_SECTIONS,
    Section,
    _required_literals,
    _setext_level,
    canonical_sections,
    normalise_heading,
    parse_sections,
    substance,
)
from licenses.engine.frontmatter import parse_front_matter
from licenses.engine.keyword_probe import KeyIndex
from licenses.engine.snapshot import discover_repos, snapshot_from_dir
from licenses.engine.types import RepoSnapshot
from tests.engine.real_cards import real_readmes
from tests.engine.test_keyword_index import _find_all

BULK_SAMPLE = 3000

EDGE_BODIES = (
    "",
    "no headings at all, only prose that is long enough to count as written text",
    "# Title\n## Training Data\nWe trained on public web text in English only.\n## Uses\n",
    "Title\n===\n===\nText under a setext heading with enough words.\n",
    "- item\n===\n===\nmore\n",
    "Training data\n---\n- **Training Data**: a list item, content of the setext section\n---\n",
    "```\n# comment in a fence\n~~~\n# still fenced\n```\n# Evaluation\nAccuracy 91.2 on test.",
    "   <h2>Limitations</h2>\nIt fails on long inputs and rare languages.\n\t<h3>Bias</h3>\nx",
    "           <h2>Too far indented</h2>\n <H3>Uses</H3>\nAnswering questions about docs.",
    "**Training Data**: The Pile and C4, deduplicated.\n**Evaluation**\nMMLU 45.3\n**Bold sentence.**\n",
    "__Uses__ research only\n  **Limitations:** many, see the paper for details\n# End",
    "# Heading ###   \n#NoSpace\n####### seven\n#\t\tTabbed   #  \n## \n text",
    "line\r\n## Uses\r\nlone\rcarriage returns\n=\n",
    "İstanbul Σ ΟΔΟΣ\n## Training Data\nΤΟ ΣΎΝΟΛΟ ΔΕΔΟΜΈΝΩΝ ΟΔΟΣ. İİİ written text here\n## Uses\nΣ",
    "# Uses\n<!-- comment\nspanning -->\n[More Information Needed]\n# Bias\nTBD\n# Citation\n@misc{x}",
    "Setext at the very end\n---",
    "**Training Data**",
    "# A\n# A\n# A\n## Training Data\n## Training Data\nsame heading twice, merged",
)


# --- references: the plain computations -------------------------------------------------


def _reference_outline(body: str, line_offset: int = 0) -> tuple[dict, tuple[str, ...]]:
    """The outline visiting every line and joining lines, as before the shortcuts."""
    lines = body.split("\n")
    n = len(lines)
    open_secs: list[list] = []  # [names, heading, level, line, start, first, end]
    closed: list[list] = []
    headings: list[str] = []
    in_fence, marker, skip = False, "", -1
    for idx, line in enumerate(lines):
        if idx == skip:
            continue
        first = line[:1]
        fence = _FENCE.match(line) if ("`" in line or "~" in line) else None
        if fence:
            if not in_fence:
                in_fence, marker = True, fence.group(1)
            elif fence.group(1) == marker:
                in_fence = False
            continue
        if in_fence:
            continue
        heading = None
        start = idx + 1
        if first == "#":
            m = _HEADING.match(line)
            if m:
                heading = (len(m.group(1)), m.group(2))
        elif first == "<" or (first == " " and "<h" in line[:12].lower()):
            h = _HTML_HEADING.match(line)
            if h:
                heading = (int(h.group(1)), h.group(2))
        if heading is None and idx + 1 < n and lines[idx + 1][:1] in ("=", "-"):
            level = _setext_level(line, lines[idx + 1])
            if level is not None:
                heading, skip, start = (level, line.strip()), idx + 1, idx + 2
        if heading is not None:
            headings.append(heading[1])
            while open_secs and open_secs[-1][2] >= heading[0]:
                closed.append(open_secs.pop())
                closed[-1][6] = idx
            open_secs.append([canonical_sections(heading[1]), heading[1], heading[0], idx + 1 + line_offset,
                              start, None, 0])  # fmt: skip
            continue
        if first in ("*", "_") or (first.isspace() and line.lstrip()[:2] in ("**", "__")):
            b = _BOLD_LABEL.match(line)
            if b and len(b.group(1).split()) <= 6 and not b.group(1).rstrip().endswith("."):
                names = canonical_sections(b.group(1))
                if names:
                    while open_secs and open_secs[-1][2] >= 7:
                        closed.append(open_secs.pop())
                        closed[-1][6] = idx
                    open_secs.append([names, line.strip()[:80], 7, idx + 1 + line_offset, idx, b.group(2), 0])
    for sec in open_secs:
        sec[6] = n
    closed.extend(open_secs)
    merged: dict[str, tuple[list, int, list, list]] = {}
    for names, heading, _, line, start, first, end in sorted(closed, key=lambda s: s[3]):
        text = (
            "\n".join([first, *lines[start + 1 : end]]) if first is not None else "\n".join(lines[start:end])
        )
        for name in names:
            entry = merged.setdefault(name, ([], line, [], []))
            entry[0].append(heading)
            entry[2].append(text)
            entry[3].append((line, end + line_offset))
    out = {}
    for name in CANONICAL_SECTIONS:
        if name in merged:
            heads, line, texts, spans = merged[name]
            text = "\n".join(texts)
            out[name] = (tuple(heads), line, text, substance(text) >= _MIN_SUBSTANCE, tuple(spans))
    return out, tuple(headings)


def _plain_normalise(text: str) -> str:
    """``normalise_heading`` as first written: every substitution on every heading."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^>]+>", " ", text.replace("<sub>2</sub>", "2"))
    text = text.lower().replace("[optional]", "").translate(_LATIN_FOLD)
    text = re.sub(r"[^a-z0-9&'<>/ ._-]+", " ", text)
    text = " ".join(text.replace("_", " ").split()).strip(" .:-")
    return re.sub(r"^(\d+(\.\d+)*\.?|[ivx]+\.|[a-h]\))\s+", "", text).strip()


def _plain_fold(text: str) -> str:
    """``fold_heading`` as plainly written: every step on every heading."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^>]+>", " ", text)
    text = unicodedata.normalize("NFKC", text).lower().translate(_LATIN_FOLD)
    text = " ".join(re.sub(r"[^\w&' ]+|_", " ", text).split())
    return re.sub(r"^(\d+(\.\d+)*\.?|[ivx]+\.|[a-h]\))\s+", "", text).strip()


def _plain_canonical(heading: str) -> tuple[str, ...]:
    """Every pattern of both tables tried on the plainly normalised / folded heading."""
    norm = _plain_normalise(heading)
    names = set()
    if norm and len(norm) <= 80:
        names |= {name for name, rx in _SECTION_RES if rx.search(norm)}
    folded = norm if heading.isascii() else _plain_fold(heading)  # ASCII: the normalised form serves both
    if folded and len(folded) <= 80:
        texts = [folded, " ".join(re.sub(r"[ -~]+", " ", folded).split())]
        foreign = {name for name, rx in _FOREIGN_RES if any(t and rx.search(t) for t in texts)}
        for first, dropped in _FOREIGN_EXCLUDES:
            if first in foreign:
                foreign.discard(dropped)
        names |= foreign
    return tuple(name for name in CANONICAL_SECTIONS if name in names)


#: ``cardfacts._PARAM_MENTION`` as first spelled (its first branch tried at every position).
_PARAM_PLAIN = re.compile(
    r"\d(?<!\w\d)\d*(?:[.,]\d+)?\s*(?:[bmk]|billion|million|thousand)\b[\s-]*(?:parameters?|params?)\b"
    r"|(?:p(?<!\wp)arameters?|p(?<!\wp)arams?|m(?<!\wm)odel size)\s*[:=|]?\s*\**\s*\d+(?:[.,]\d+)?\s*(?:[bmk]|billion|million)\b"
)


# --- corpus ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_bodies(corpus_dir: Path) -> list[str]:
    return [parse_front_matter(r).body for r in real_readmes(corpus_dir, BULK_SAMPLE)]


def _outline_view(body: str, line_offset: int = 0, low: str | None = None) -> tuple[dict, tuple[str, ...]]:
    sections, headings = parse_sections(body, line_offset, low)
    view = {n: (s.headings, s.line, s.text, s.substantive, s.spans) for n, s in sections.items()}
    return view, headings


# --- outline -----------------------------------------------------------------------------


@pytest.mark.parametrize("body", EDGE_BODIES)
def test_outline_matches_the_every_line_reference_on_edge_cases(body: str):
    assert _outline_view(body, 7) == _reference_outline(body, 7)
    assert _outline_view(body, 7, body.lower()) == _reference_outline(body, 7)


def test_outline_matches_the_every_line_reference_on_real_cards(corpus_bodies: list[str]):
    for body in corpus_bodies:
        assert _outline_view(body, 3, body.lower()) == _reference_outline(body, 3), body[:80]


def test_candidate_lines_are_the_lines_a_test_can_succeed_on():
    body = "a\n- list\n* item\n_x_\n==\nb\n--\nc\n---\n  **x**\n\t```\n#h\n <h1>\n           <h2>"
    # "- list" and "* item" are never visited; "==" and "---" make the line above ("_x_", "c") one
    found = card_sections._candidates(body)
    assert [idx for idx, _ in found] == [3, 7, 9, 10, 11, 12]
    starts = [0] + [i + 1 for i, ch in enumerate(body) if ch == "\n"]
    assert [offset for _, offset in found] == [starts[idx] for idx, _ in found]


#: ``card_sections._CANDIDATE`` as first spelled: no gate, the HTML opening an optional group.
_CANDIDATE_PLAIN = re.compile(
    r"\n(?:[^\S\n]*(?:```|~~~|\*\*|__)|#|(?: [^\S\n]{0,9})?<[hH][1-6]|(?=(?:=+|-{3,})[^\S\n]*(?:\n|\Z)))"
)


def test_candidate_regex_matches_its_first_spelling(corpus_bodies: list[str]):
    rng = random.Random(6)
    alphabet = ["\n", " ", "\t", "\u3000", "\x85", "#", "<h2", "<H7", "`", "~", "*", "_", "=", "-", "a", "\r"]
    texts = ["\n" + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(20000)]
    for text in [*texts, *("\n" + body for body in corpus_bodies)]:
        plain = [m.span() for m in _CANDIDATE_PLAIN.finditer(text)]
        assert [m.span() for m in card_sections._CANDIDATE.finditer(text)] == plain, repr(text[:80])


@pytest.mark.parametrize("body", EDGE_BODIES)
def test_section_lower_is_the_lower_cased_text(body: str):
    low = body.lower()
    for sec in parse_sections(body, 0, low)[0].values():
        assert sec.lower == sec.text.lower()


def test_section_lower_is_cut_from_the_body_only_when_that_is_exact():
    plain = "## Uses\nAnswering Questions About Documentation.\n## Bias\nSome"
    sec = parse_sections(plain, 0, plain.lower())[0]["Uses"]
    assert "lower" in sec.__dict__  # filled in by the parser
    sigma = "## Uses\nΟΔΟΣ ΣΤΟ ΣΠΙΤΙ, written text.\n## Bias\nΣ"  # final sigma depends on context
    sec = parse_sections(sigma, 0, sigma.lower())[0]["Uses"]
    assert "lower" not in sec.__dict__ and sec.lower == sec.text.lower()
    longer = "## Uses\nİstanbul models, written text here.\n"  # lower() lengthens İ
    sec = parse_sections(longer, 0, longer.lower())[0]["Uses"]
    assert "lower" not in sec.__dict__ and sec.lower == sec.text.lower()


def test_section_lower_on_real_cards(corpus_bodies: list[str]):
    for body in corpus_bodies:
        for sec in parse_sections(body, 0, body.lower())[0].values():
            assert sec.lower == sec.text.lower()


def test_heading_text_strip_matches_the_heading_regex():
    rng = random.Random(4)
    alphabet = ["#", " ", "\t", "\r", "a", "\u3000", "\x0b", "\x1c", "\u00a0", "b#", "x"]
    for _ in range(20000):
        line = "#" * rng.randint(1, 8) + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))
        m, o = _HEADING_OPEN.match(line), _HEADING.match(line)
        assert (m is None) == (o is None), repr(line)
        if m and o:
            assert line[m.end() :].rstrip().rstrip("#").rstrip() == o.group(2), repr(line)
            assert len(m.group(1)) == len(o.group(1))


# --- section names -----------------------------------------------------------------------


def test_required_literals_are_a_necessary_condition():
    assert card_sections._ENGLISH_PREFILTER and card_sections._FOREIGN_PREFILTER  # both active
    parse = card_sections._sre_parser.parse
    assert _required_literals(list(parse(r"^re(?:commendations?$|sponsible (use|x))"))) == [
        "commendation", "sponsible "]  # fmt: skip
    assert _required_literals(list(parse(r"^(model )?card authors?\b|^authors?$"))) == [
        "card author",
        "author",
    ]
    assert _required_literals(list(parse(r"a?b*|c"))) is None  # a branch without any literal


def test_section_name_prefilter_answers_as_all_patterns():
    for heading in ("Model Card for X", "Training Data", "Intended uses & limitations", "BibTeX",
                    "CO<sub>2</sub> Emissions", "1. Introduction", "What's new", "Model date", "[optional] Uses",
                    "Authors", "Card Authors", "Recommendations", "Responsible use", "", "x" * 100):  # fmt: skip
        assert canonical_sections.__wrapped__(heading) == _plain_canonical(heading), heading


def test_section_name_prefilter_on_real_lines(corpus_bodies: list[str]):
    seen: set[str] = set()
    for body in corpus_bodies:
        for line in body.split("\n"):
            text = line.strip("#*_ :")
            if 0 < len(text) <= 100 and text not in seen:
                seen.add(text)
                assert canonical_sections.__wrapped__(text) == _plain_canonical(text), text


HEADINGS = ("[Training Data](#training-data)", "See [the paper](https://x)] and ](", "CO<sub>2</sub> Emissions",
            "<b>Uses</b> <i>x", "a < b > c", "1.2. Evaluation", "iv. Results", "c) Limitations", "12 Uses",
            "ii Uses", "Ⅳ. Uses", "__Training__ _Data_", "  ## [optional] Uses  ", "İstanbul Training Data", "")  # fmt: skip


@pytest.mark.parametrize("heading", HEADINGS)
def test_normalise_heading_matches_every_substitution(heading: str):
    assert normalise_heading(heading) == _plain_normalise(heading)
    assert canonical_sections.__wrapped__(heading) == _plain_canonical(heading)


def test_normalise_heading_on_real_lines(corpus_bodies: list[str]):
    for body in corpus_bodies[:1000]:
        for line in body.split("\n"):
            if line[:1] in ("#", "*", "<", "_"):
                assert normalise_heading(line) == _plain_normalise(line), line


@pytest.mark.parametrize("table", ["english", "foreign"])
def test_patterns_tried_are_those_whose_literals_occur(table: str):
    # every pattern requiring a literal is listed under each of its literals, and only there
    prefilter = getattr(card_sections, f"_{table.upper()}_PREFILTER")
    for i, keys in enumerate(prefilter.pattern_keys):
        assert keys, i
        for k, key in enumerate(prefilter.keys):
            assert (i in prefilter.key_patterns[k]) == (key in keys)


def test_a_pattern_without_a_readable_literal_turns_its_tables_prefilter_off(monkeypatch):
    """The foreign table's prefilter once mapped such a pattern to no literal at all, so it was
    never tried; both tables now share one builder, which gives no prefilter instead."""
    assert card_sections._prefilter([r"^training data$", r"^\w+ daten$"]) is not None
    assert card_sections._prefilter([r"^training data$", r"^[а-я]{4,}$"]) is None
    patterns = (("Training Data", r"^[а-я]+\s[а-я]+$"),)
    prefilter = card_sections._prefilter(p for _, p in patterns)
    assert prefilter is None
    monkeypatch.setattr(card_sections, "_FOREIGN_RES", tuple((n, re.compile(p)) for n, p in patterns))
    monkeypatch.setattr(card_sections, "_FOREIGN_PREFILTER", prefilter)
    assert card_sections._foreign_sections("обучающие данные") == ("Training Data",)


SECTION_PATTERNS_NAMES = [name for name, _ in card_sections.SECTION_PATTERNS]


# --- substance ---------------------------------------------------------------------------


def _plain_key_gate(low: str) -> bool:
    return any(key in low for key in card_sections._BOILERPLATE_KEYS + card_sections._PLACEHOLDER_KEYS_ASCII)


@pytest.mark.parametrize(
    "text",
    ("", "_", "a_b-c 9", "x" * 300, "ÜNÏCÖDÉ ǅ ½ ٣ 𝟗 _ é", "tab\tnew\nline", "\x00\x7f~", "ⅷ ² ₂"),
)
def test_alnum_count_is_the_regex_count(text: str):
    assert card_sections._alnum_count(text) == len(re.sub(r"[\W_]+", "", text))


def test_key_gate_and_alnum_count_on_real_lines(corpus_bodies: list[str]):
    for body in corpus_bodies[:1000]:
        for line in body.split("\n"):
            low = line.lower()
            assert card_sections._has_any_key_ascii(low) == _plain_key_gate(low), line
            assert card_sections._alnum_count(line) == len(re.sub(r"[\W_]+", "", line)), line


def test_key_gate_finds_each_key_anywhere():
    for key in card_sections._BOILERPLATE_KEYS + card_sections._PLACEHOLDER_KEYS_ASCII:
        for text in (key, f"x{key}", f"{key}y", f"a long line before {key} and after"):
            assert card_sections._has_any_key_ascii(text)
    assert not card_sections._has_any_key_ascii("for more information, see the paper")


@pytest.fixture
def plain_substance(monkeypatch: pytest.MonkeyPatch):
    """``substance`` with the narrow ASCII gates replaced by the broad ones (the old logic),
    and letters and digits counted by the regex substitution alone."""

    def run(text: str, enough: int | None = None) -> int:
        with monkeypatch.context() as m:
            m.setattr(card_sections, "_has_any_key_ascii", lambda low: True)
            m.setattr(card_sections, "_alnum_count", lambda t: len(card_sections._NON_ALNUM.sub("", t)))
            m.setattr(card_sections, "_HAS_PLACEHOLDER_KEY_ASCII", card_sections._HAS_PLACEHOLDER_KEY)
            m.setattr(card_sections, "_PREFIX", 10**9)
            return substance(text, enough)

    return run


SUBSTANCE_LINES = (
    "For more information, see the paper.",
    "[More Information Needed]",
    "Foo: [More Information Needed]",
    "More information needed",
    "needs more information ",
    "TBD",
    "Release date: to be announced; todo list {{ placeholder }} [optional]",
    "Use the code below to get started with the model.",
    "more informationUse the code below to get started with the model.needed",
    "<!-- hidden --> Visible sentence after a comment.",
    "**Label:**",
    "x" * 200,
    "Ünïcödé text with more information needed and more ınformatıon needed",
    "# heading only",
    "",
)


@pytest.mark.parametrize("line", SUBSTANCE_LINES)
def test_substance_counts_as_the_broad_gates(line: str, plain_substance):
    for text in (line, f"{line}\n{line}", f"\n\n{line}\nshort\n" * 3):
        assert substance(text) == plain_substance(text)
        for enough in (1, 15, 40, 10_000):
            assert (substance(text, enough) >= enough) == (plain_substance(text) >= enough)


def test_substance_on_real_sections(corpus_bodies: list[str], plain_substance):
    for body in corpus_bodies[:400]:
        for sec in parse_sections(body)[0].values():
            full = plain_substance(sec.text)
            assert substance(sec.text) == full
            assert (substance(sec.text, _MIN_SUBSTANCE) >= _MIN_SUBSTANCE) == (full >= _MIN_SUBSTANCE)


# --- links -------------------------------------------------------------------------------


LINK_BODIES = (
    "",
    "https://arxiv.org/abs/2307.09288 and http://github.com/a/b, https://arxiv.org/abs/2307.09288.",
    "httpx is not a link; http:/bad; see https://huggingface.co/datasets/a/b)\nhttps://doi.org/10.1/x",
    "## Uses\nhttps://hf.co/spaces/x/y\n## Evaluation\nhttps://huggingface.co/datasets/cais/mmlu end",
    "Carbon emissions can be estimated using the [Machine Learning Impact calculator]"
    "(https://mlco2.github.io/impact#compute) presented in [Lacoste et al. (2019)](https://arxiv.org/abs/1910.09700).",
    "http://a.example/1 http://a.example/2\nhttp://a.example/3 http://a.example/4 http://a.example/5\n"
    "http://a.example/6\nhttp://a.example/7",
)


@pytest.mark.parametrize("body", LINK_BODIES)
@pytest.mark.parametrize("limit", (3, 4, card_links.MAX_LINKS))
def test_links_match_the_line_by_line_reading(body: str, limit: int, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(card_links, "MAX_LINKS", limit)  # the limit is checked at the end of a line
    sections = parse_sections(body, 2)[0]
    expected = _extract_links_by_line(body, sections, 2)
    assert extract_links(body, sections, 2) == expected
    assert extract_links(body, sections, 2, body.lower()) == expected


def test_links_on_real_cards(corpus_bodies: list[str]):
    for body in corpus_bodies:
        sections = parse_sections(body, 1)[0]
        assert extract_links(body, sections, 1, body.lower()) == _extract_links_by_line(body, sections, 1)


def _plain_path_parts(url: str) -> list[str]:
    rest = url.split("://", 1)[-1]
    path = rest.split("/", 1)[1] if "/" in rest else ""
    return [p for p in path.split("?")[0].split("#")[0].split("/") if p]


def _plain_classify_url(url: str) -> tuple[str, str | None]:
    """``classify_url`` as first written: splits, a regex ``sub`` and per-URL host tests."""
    low = url.lower()
    host_path = low.split("://", 1)[-1]
    host = host_path.split("/", 1)[0].removeprefix("www.")
    m = card_links._ARXIV.search(url) if "arx" in low else None
    if m:
        return "arxiv", re.sub(r"v\d+$", "", m.group(1).removesuffix(".pdf"))
    if host in ("doi.org", "dx.doi.org"):
        return "doi", "/".join(_plain_path_parts(url)) or None
    if any(h in host_path for h in card_links._PAPER_HOSTS):
        return "paper", None
    if host == "github.com":
        parts = _plain_path_parts(url)
        return "github", "/".join(parts[:2]) if len(parts) >= 2 else None
    if host in ("huggingface.co", "hf.co"):
        parts = _plain_path_parts(url)
        if parts[:1] == ["datasets"] and len(parts) >= 2:
            return "hf-dataset", "/".join(parts[1:3]) if len(parts) >= 3 else parts[1]
        if parts[:1] == ["spaces"]:
            return "hf-space", "/".join(parts[1:3]) or None
        if parts[:1] == ["blog"]:
            return "blog", None
        if parts[:1] in (["docs"], ["learn"]):
            return "docs", None
        if len(parts) >= 2 and parts[0].lower() not in card_links._HF_RESERVED:
            return "hf-model", f"{parts[0]}/{parts[1]}"
        return "hf-other", None
    if ("blog" in host or "/blog" in host_path or host in ("medium.com", "substack.com")
            or host.endswith((".medium.com", ".substack.com"))):  # fmt: skip
        return "blog", None
    return "web", None


EDGE_URLS = (
    "https://arxiv.org/abs/2307.09288v2", "https://ARXIV.org/pdf/2307.09288.pdf", "http://arxiv.org/abs/hep-th/9901001",
    "https://doi.org/10.1/x?y#z", "https://dx.doi.org/", "https://www.github.com/a/b/tree/main", "https://github.com/a",
    "https://github.com/x/nature.com", "https://huggingface.co/datasets/a/b/viewer", "https://hf.co/datasets/x",
    "https://huggingface.co/spaces/", "https://huggingface.co/Blog/x", "https://huggingface.co/learn/x",
    "https://huggingface.co/Models/x", "https://huggingface.co/a/b?x=1#y", "https://huggingface.co/",
    "https://x.medium.com/p", "https://example.org/blog/x", "https://openreview.net/forum?id=x", "no-scheme/path",
    "https://ünï.example/ïnfo/aclanthology.org", "https://İ.example/huggingface.co/papers/1", "aclanthology.org://x",
    "https://a.substack.com", "http://example.com//a///b", "https://huggingface.co/papers/2307.09288",
)  # fmt: skip


@pytest.mark.parametrize("url", EDGE_URLS)
def test_classify_url_matches_its_first_spelling(url: str):
    assert card_links.classify_url(url) == _plain_classify_url(url)
    assert card_links._path_parts(url) == _plain_path_parts(url)


def test_urls_are_classified_together_as_one_by_one(corpus_bodies: list[str]):
    batches = [
        list(EDGE_URLS),
        [],
        ["https://nature.com"],
        ["a\nb", "https://ssrn.com/x"],
        list(EDGE_URLS[::-1]),
    ]
    for body in corpus_bodies:
        batches.append(
            list(dict.fromkeys(m.group().rstrip(".,;:!*_~") for m in card_links._URL.finditer(body)))
        )
    for urls in batches:
        expected = [_plain_classify_url(url) for url in urls]
        assert card_links._classify_all(urls) == expected
        assert [card_links.classify_url(url) for url in urls] == expected


def test_paper_host_test_is_a_substring_test():
    for url in ("openreview.net/forum?id=x", "github.com/x/nature.com", "example.org/", "aclanthology.org"):
        assert card_links._names_paper_host(url) == any(h in url for h in card_links._PAPER_HOSTS)


# --- card facts ----------------------------------------------------------------------------


def test_parameter_regex_matches_its_first_spelling(corpus_bodies: list[str]):
    synthetic = "a 7b parameters model; x7b params; parameters: 13 billion; model size = **1.5b; ٣b params"
    for low in [synthetic, *(b.lower() for b in corpus_bodies)]:
        plain = [m.span() for m in _PARAM_PLAIN.finditer(low)]
        assert [m.span() for m in cardfacts._PARAM_MENTION.rx.finditer(low)] == plain


@pytest.mark.parametrize(
    "value", (None, "", "  ", " mit ", 3, 2.5, True, [], [" a ", "b"], ["", 1], {"a": 1}, ("x",))
)
def test_as_str_shortcuts_match_the_list(value: object):
    items = card_metadata.as_str_list(value)
    assert card_metadata._as_str(value) == (items[0] if items else None)


LOWER_TEXTS = ("", "ASCII Only", "Emoji 😀 and “quotes” — ASCII LETTERS", "ΟΔΟΣ final sigma Σ", "İstanbul",
               "Kelvin \u212a", "ǅ titlecase", "ß ẞ", "lone \ud800 surrogate", "ÀÉÎ accented", "中文 ＡＢＣ fullwidth",
               "\x80\xff latin-1 ÿ", "Deseret \U00010400")  # fmt: skip


@pytest.mark.parametrize("text", LOWER_TEXTS)
def test_lower_text_is_str_lower(text: str):
    assert cardfacts.lower_text(text) == text.lower()


def test_lower_text_on_real_cards(corpus_bodies: list[str]):
    for body in corpus_bodies:
        assert cardfacts.lower_text(body) == body.lower()


def test_every_non_empty_body_is_indexed():
    short = "trained on the pile; not for medical use; 7b parameters"
    index = cardfacts._body_index(short)
    assert index is not None and cardfacts._body_index("") is None
    for key in index.covers:
        assert index.positions.get(key, []) == _find_all(short, key), key
    assert isinstance(index, KeyIndex)


def _plain_weight_files(files: list[str]) -> list[tuple[str, str]]:
    out = []
    for path in files:
        low = path.lower()
        for ext, fmt in weights._WEIGHT_FORMATS.items():
            if low.endswith(ext) and not weights._NOT_WEIGHTS.search(low):
                out.append((path, fmt))
                break
    return out


def test_weight_files_prefilter_keeps_every_weight_file():
    names = ["README.md", "gguf", "x.GGUF", "model.safetensors", "tokenizer.bin", "a.pt/b", "x.ckpt", "optimizer.pt",
             "sub/Model.Q4_K_M.gguf", "x.pth", ".pt", "x.keras.json", "x.nemo", "a.pkl", "x.h5", "x.mlmodel", "x.npz"]  # fmt: skip
    names += [f"w{ext}" for ext in weights._WEIGHT_FORMATS] + [
        f"w{ext.upper()}x" for ext in weights._WEIGHT_FORMATS
    ]
    assert weights.weight_files(names) == _plain_weight_files(names)


def _rebuilt(record: object) -> object:
    """``record`` built again by its class's own ``__init__``."""
    cls = type(record)
    return cls(**{f.name: getattr(record, f.name) for f in dataclasses.fields(cls)})  # type: ignore[arg-type]


def _same_record(fast: object, plain: object) -> None:
    assert fast == plain
    names = [f.name for f in dataclasses.fields(type(plain))]  # type: ignore[arg-type]
    assert list(vars(fast))[: len(names)] == list(vars(plain)) == names
    for name in names:
        assert getattr(fast, name) == getattr(plain, name), name


@pytest.mark.parametrize(
    "cls", (cardfacts.CardFacts, Section, card_links.Link, weights.WeightsInfo, EvalResult)
)
def test_frozen_record_classes_have_a_plain_init(cls: type):
    assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert "__slots__" not in vars(cls) and not hasattr(cls, "__post_init__")


def test_frozen_records_equal_their_classes_init(corpus_dir: Path):
    snapshots = [RepoSnapshot(id="x/y", files={"README.md": 1, "model.safetensors": 2},
                              texts={"README.md": "---\nlicense: mit\nmodel-index:\n- results:\n  - task: {type: t}\n"
                                     "    metrics: [{type: acc, value: 1}]\n---\n# Uses\nhttps://arxiv.org/abs/1"})]  # fmt: skip
    assert cardfacts.facts_from_snapshot(snapshots[0]).eval_results  # the synthetic card has every kind
    if (corpus_dir / "model-cards").is_dir():  # real cards when the corpus is there
        found = discover_repos([corpus_dir / "model-cards"])
        snapshots += [snapshot_from_dir(folder, rid) for rid, folder in found][:60]
    for snapshot in snapshots:
        facts = cardfacts.facts_from_snapshot(snapshot)
        _same_record(facts, _rebuilt(facts))
        assert list(vars(facts))[-2:] == ["body_lower", "body_index"]
        _same_record(facts.weights, _rebuilt(facts.weights))
        for record in (*facts.sections.values(), *facts.links, *facts.eval_results):
            _same_record(record, _rebuilt(record))


# --- front matter --------------------------------------------------------------------------


def test_depth_check_matches_the_multiline_regex():
    rng = random.Random(5)
    for _ in range(20000):
        raw = "".join(rng.choice([" ", "\t", "-", "?", "\n", "a", "\r"]) for _ in range(rng.randint(0, 12)))
        cols = rng.randint(1, 4)
        plain = re.compile(rf"^(?:[ \t]|[-?](?=[ \t])){{{cols}}}", re.MULTILINE).search(raw) is not None
        first, later = frontmatter._deep_line(cols)
        assert (first.match(raw) is not None or later.search(raw) is not None) == plain, repr(raw)


# --- outline: sections sharing their parts ---------------------------------------------------

#: Headings that name several template sections at once, so the sections share one text.
_SHARED_HEADING_BODIES = (
    "## Intended uses & limitations\nDo not use it for medical advice; it hallucinates facts.\n",
    "## Evaluation Results\n[More Information Needed]\n## Intended uses & limitations\n",
    "## Evaluation Results\n| a | b |\n|---|---|\n| 1 | 2 |\n### Limitations\nShort.\n"
    "## Evaluation Results\nSecond table with enough words in it to count.\n",
    "**Intended uses & limitations:** research only, never in production systems.\n# Next\n",
    "## Evaluation Results\nΣ capital sigma and text long enough to be written.\n",
)


def _plain_contents(body: str, section: card_sections.Section) -> tuple[str, str, bool]:
    """A section's text, lower case and substance from its own parts, sharing nothing."""
    text = section.text
    return text, text.lower(), card_sections.substance(text) >= card_sections._MIN_SUBSTANCE


def _check_shared_contents(body: str) -> None:
    for low in (None, body.lower()):
        sections, _ = parse_sections(body, 2, low)
        for section in sections.values():
            assert (section.text, section.lower, section.substantive) == _plain_contents(body, section)


@pytest.mark.parametrize("body", [*_SHARED_HEADING_BODIES, *EDGE_BODIES])
def test_shared_section_contents_match_the_plain_computation(body: str):
    _check_shared_contents(body)
    assert _outline_view(body, 2) == _reference_outline(body, 2)


def test_shared_section_contents_match_on_real_cards(corpus_bodies: list[str]):
    shared = 0
    for body in corpus_bodies:
        _check_shared_contents(body)
        sections, _ = parse_sections(body)
        spans = [section.spans for section in sections.values()]
        shared += len(spans) - len(set(spans))
    assert shared > 0  # the corpus does exercise sections that share their parts


# --- substance: label-only lines ------------------------------------------------------------


def _label_only_plain(stripped: str) -> bool:
    return card_sections._LABEL_ONLY_LINE.match(stripped) is not None


def test_label_only_gate_matches_the_regex_on_edge_cases():
    rng = random.Random(11)
    alphabet = [
        ":",
        "*",
        "**",
        "_",
        "__",
        "|",
        " ",
        "\t",
        "\u3000",
        "\x85",
        "\x1c",
        "a",
        "-",
        ">",
        "+",
        "\r",
        ".",
    ]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(30000)]
    fixed = [
        "Model type:",
        "**Model type**",
        "__Data__ :",
        "- Developed by: |",
        "label: | |",
        "a:\u3000|",
        "x*",
    ]
    for raw in [*texts, *fixed]:
        stripped = raw.strip()
        if stripped:
            assert card_sections._is_label_only(stripped) == _label_only_plain(stripped), repr(stripped)


def test_label_only_gate_matches_the_regex_on_real_cards(corpus_bodies: list[str]):
    labels = 0
    for body in corpus_bodies:
        for line in body.split("\n"):
            stripped = line.strip()
            if stripped and len(stripped) < 70:
                plain = _label_only_plain(stripped)
                assert card_sections._is_label_only(stripped) == plain, repr(stripped)
                labels += plain
    assert labels > 0


# --- substance: lazy line split -------------------------------------------------------------


def test_iter_lines_is_split_on_edge_cases():
    rng = random.Random(12)
    texts = ["", "\n", "a", "a\n", "\na", "\n\n\n", "x" * 1000, "x" * 300 + "\n" + "y" * 2000 + "\n"]
    for _ in range(3000):
        texts.append(
            "".join(
                rng.choice(["\n", "a", "bb", "\u03a3", "\U0001f600", " " * 50])
                for _ in range(rng.randint(0, 80))
            )
        )
    for text in texts:
        for chunk in (1, 2, 7, 256):
            assert list(card_sections.iter_lines(text, chunk)) == text.split("\n"), repr(text[:40])


def test_iter_lines_is_split_on_real_cards(corpus_bodies: list[str]):
    for body in corpus_bodies:
        assert list(card_sections.iter_lines(body)) == body.split("\n")
