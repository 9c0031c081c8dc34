"""Card outline: headings mapped onto the Hub template's sections, and what counts as written.

Real cards rarely use the Hub template's headings verbatim ("Limitations and Bias",
"Intended uses & limitations", "Carbon Emissions", "BibTeX"), so headings are mapped
onto the template's section names through a synonym table; Meta-style cards that use
bold labels ("**Training Data** ...") instead of headings are read the same way. A
section holding only template placeholders ("[More Information Needed]") counts as
absent, because an unfilled template discloses nothing.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: Canonical names follow huggingface_hub's ``modelcard_template.md`` (hf-hub-api.md §5.2);
#: ``License``, ``Changelog``, ``Prompt Format`` and ``Quantization`` are additions that
#: transparency indicators need. A heading maps to every canonical whose pattern matches,
#: so "Evaluation Results" counts as Evaluation and Results, "Intended uses & limitations"
#: as Uses and Bias Risks and Limitations.
SECTION_PATTERNS: tuple[tuple[str, str], ...] = (
    ("Model Card Authors", r"^(model )?card authors?\b|^authors?$"),
    (
        "Contact",
        r"contact|feedback|questions?$|reach (out|us)|^support$|^community$|report(ing)? (issues|bugs)",
    ),
    ("Out-of-Scope Use", r"out.of.scope|misuse|prohibited|not intended|malicious use|inappropriate use"),
    ("Downstream Use", r"downstream use|fine.?tuning use"),
    ("Direct Use", r"^direct use"),
    ("Recommendations", r"^recommendations?$|^responsible (use|deployment)"),
    ("Training Details", r"^training details$|^training$|^model training$"),
    (
        "Training Data",
        r"training (and evaluation )?(data|dataset|corpus|corpora)|(pre|post|fine).?training data"
        r"|^datasets?( used)?$|^data$|^data ?(sources?|overview|collection|mixture|card)"
        r"|^(pretraining|instruction|fine.?tuning) datasets?|^corpus$|data freshness|^dataset details",
    ),
    (
        "Testing Data, Factors & Metrics",
        r"testing data|evaluation (data|datasets?)|test (data|set)|^factors$|^metrics$|and evaluation data",
    ),
    (
        "Training Procedure",
        r"training (procedure|process|setup|recipe|method|regime|configuration|objective|hyper.?parameters)"
        r"|^hyper.?parameters|^preprocessing|^(pre|fine).?training$|^fine.?tuning( details| procedure)?$"
        r"|training results|speeds, sizes, times",
    ),
    ("Environmental Impact", r"environmental|carbon|co2|co<sub>2|emissions|energy|footprint"),
    (
        "Results",
        r"^results?$|evaluation results|benchmark results|^performance|^scores$|leaderboard|^benchmarks?$"
        r"|^summary$",
    ),
    ("Evaluation", r"evaluation|^eval|benchmark|^performance"),
    (
        "Bias, Risks, and Limitations",
        r"\bbias(es)?\b|\brisks?\b|limitations?|ethic|safety|caveats?|disclaimer|harms?$|responsibility",
    ),
    ("Uses", r"^(intended |primary |direct |downstream )?uses?\b|intended use|use cases?|^model use$"),
    (
        "How to Get Started",
        r"how to (get started|use|run|load)|get(ting)? started|^usage|quick ?start|^inference|example usage"
        r"|^use with|^running|^sample code|^code example|^how to download|^installation",
    ),
    ("Model Architecture", r"architecture|model structure"),
    (
        "Compute Infrastructure",
        r"compute infrastructure|^hardware|^software|^compute|infrastructure|framework versions",
    ),
    ("Technical Specifications", r"technical spec|^specifications?$"),
    ("Citation", r"citation|^cite|bibtex|^references?$|^how to cite|^research paper|^paper$"),
    ("Glossary", r"glossary"),
    ("More Information", r"^more information|additional information|further information"),
    ("License", r"licen[sc]e|licensing|terms of use"),
    ("Changelog", r"change ?log|^changes$|^updates?$|release notes|what'?s new|^news$|version history"),
    ("Prompt Format", r"prompt (format|template)|chat (template|format)|system prompt"),
    ("Quantization", r"quanti[sz]|provided files|^gguf"),
    ("Model Description", r"model description|^description$|^model summary|^model type|^what is"),
    (
        "Model Details",
        r"model details|model (information|info|overview|card)$|^about( the model| this model)?$|^overview$"
        r"|^introduction$|^model$|^details$|^model summary|^model dates?$|^status$",
    ),
    ("Model Sources", r"model sources|^sources$|^links$|^resources$|^repository$|^paper and resources"),
)
_SECTION_RES = tuple((name, re.compile(pat)) for name, pat in SECTION_PATTERNS)
CANONICAL_SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(name for name, _ in SECTION_PATTERNS))

_PLACEHOLDER = re.compile(
    r"\[?\s*more information needed\s*\]?|\[?\s*needs? more information\s*\]?|\{\{.*?\}\}|\[optional\]"
    r"|<!--.*?-->|\b(tbd|todo|coming soon|to be (added|updated|announced))\b",
    re.IGNORECASE | re.DOTALL,
)
_LABEL_ONLY_LINE = re.compile(
    r"^[\s>*\-+|]*(?:(?:\*\*|__)[^*_\n]{1,60}(?:\*\*|__)|[^:\n]{1,60}:)\s*:?[\s|]*$"
)
#: Instruction sentences of the Hub's card templates: they describe what to write, not the model,
#: so they are neither substance nor evidence (the CO2 sentence even carries an arXiv link).
_BOILERPLATE = re.compile(
    r"carbon emissions can be estimated using the .{0,200}?lacoste et al\. \(2019\)\]?\(?[^)\s]*\)?\.?"
    r"|use the code below to get started with the model\.?"
    r"|users \(both direct and downstream\) should be made aware of the risks, biases and limitations of the"
    r" model\.(?: more information needed for further recommendations\.)?"
    r"|this is the model card of a .{0,20}transformers model that has been pushed on the hub\."
    r"(?: this model card has been automatically generated\.)?",
    re.IGNORECASE,
)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_HTML_HEADING = re.compile(r"^\s*<h([1-6])[^>]*>(.*?)</h\1>", re.IGNORECASE)
_BOLD_LABEL = re.compile(r"^\s*(?:\*\*|__)([^*_\n]{2,60}?)(?::\s*)?(?:\*\*|__):?\s*(.*)$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_MD_LINK_TEXT = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_HEADING_NOISE = re.compile(r"[^a-z0-9&'<>/ ._-]+")
_NUMBERING = re.compile(r"^(\d+(\.\d+)*\.?|[ivx]+\.|[a-h]\))\s+")
#: Dataset links in these sections are benchmarks, not training data.
EVALUATION_SECTIONS = frozenset({"Evaluation", "Results", "Testing Data, Factors & Metrics"})
_MIN_SUBSTANCE = 15  # alphanumeric characters a section needs to count as written


def normalise_heading(text: str) -> str:
    """Lower-case a heading and strip Markdown, emoji, numbering and "[optional]"."""
    text = _MD_LINK_TEXT.sub(r"\1", text)
    text = re.sub(r"<[^>]+>", " ", text.replace("<sub>2</sub>", "2"))
    text = text.lower().replace("[optional]", "")
    text = _HEADING_NOISE.sub(" ", text)
    text = " ".join(text.replace("_", " ").split()).strip(" .:-")
    return _NUMBERING.sub("", text).strip()


@functools.lru_cache(maxsize=8192)
def canonical_sections(heading: str) -> tuple[str, ...]:
    """Every template section a (raw) heading stands for; ``()`` when none."""
    norm = normalise_heading(heading)
    if not norm or len(norm) > 80:
        return ()
    return tuple(name for name, rx in _SECTION_RES if rx.search(norm))


_PLACEHOLDER_KEYS = ("more information", "need more information", "needs more information", "{{", "[optional]",
                     "tbd", "todo", "coming soon", "to be added", "to be updated", "to be announced")  # fmt: skip
_BOILERPLATE_KEYS = ("lacoste et al", "use the code below", "users (both direct", "pushed on the hub")
_NON_ALNUM = re.compile(r"[\W_]+")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
#: Does a lower-cased line contain one of the keys? One regex instead of a loop of ``in`` tests.
_HAS_BOILERPLATE_KEY = re.compile("|".join(map(re.escape, _BOILERPLATE_KEYS)))
_HAS_PLACEHOLDER_KEY = re.compile("|".join(map(re.escape, _PLACEHOLDER_KEYS)))


def iter_lines(text: str, first: int = 32) -> Iterable[str]:
    """``text.split("\n")``, split lazily past the first lines: callers often stop early."""
    parts = text.split("\n", first)
    if len(parts) <= first:
        yield from parts
        return
    yield from parts[:-1]
    yield from parts[-1].split("\n")


def substance(text: str, enough: int | None = None) -> int:
    """Alphanumeric characters left once placeholders, comments, headings and bare labels go.

    Line by line, so a caller that only needs to know whether ``enough`` is reached stops
    after the first written sentence instead of cleaning a 20 KB section.
    """
    count = 0
    in_comment = False
    for line in iter_lines(text):
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
        if _HAS_BOILERPLATE_KEY.search(low):
            stripped = _BOILERPLATE.sub(" ", stripped).strip()
        if _HAS_PLACEHOLDER_KEY.search(low):
            stripped = _PLACEHOLDER.sub(" ", stripped).strip()
        if not stripped or (len(stripped) < 70 and _LABEL_ONLY_LINE.match(stripped)):
            continue
        count += len(_NON_ALNUM.sub("", stripped))
        if enough is not None and count >= enough:
            return count
    return count


@dataclass(frozen=True)
class Section:
    """One template section as written in the card (several headings may merge into one)."""

    name: str
    headings: tuple[str, ...]
    line: int  # 1-based README line of the first heading
    text: str  # content, subsections included
    substantive: bool
    spans: tuple[tuple[int, int], ...] = ()  # README line ranges (first, last) of each part

    @functools.cached_property
    def lower(self) -> str:
        return self.text.lower()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "headings": list(self.headings),
            "line": self.line,
            "chars": len(self.text),
            "substantive": self.substantive,
        }


@dataclass
class _OpenSection:
    names: tuple[str, ...]
    heading: str
    level: int
    line: int  # README line of the heading (1-based)
    start: int  # index in ``lines`` of the first content line
    first: str | None = None  # replacement for lines[start] (a bold label's rest of line)
    end: int = 0  # index in ``lines`` one past the last content line


def _setext_level(line: str, nxt: str | None) -> int | None:
    if nxt is None or not line.strip() or line.lstrip()[:1] in "|-*#>+<`":
        return None
    if re.match(r"^=+\s*$", nxt):
        return 1
    if re.match(r"^-{3,}\s*$", nxt):
        return 2
    return None


#: A line start (the newline before it) where a heading, bold label or code fence may open:
#: ``#``, ``*`` or ``_`` first; ``<h1``-``<h6``, a fence, ``**`` or ``__`` after optional blanks;
#: or a line starting ``=``/``-``, which may underline the line before it (setext). A superset:
#: :func:`parse_sections` applies its exact tests to the selected lines only (HTML tables, whose
#: rows start with ``<``, are not selected). The leading newline gives ``re`` a literal to skip
#: ahead to (a ``^`` under MULTILINE would be tried at every position of the card).
_CANDIDATE = re.compile(r"\n(?:[=#*_-]|[^\S\n]*(?:<[hH][1-6]|```|~~~|\*\*|__))")


def _candidate_lines(body: str) -> list[int]:
    """Indices (in ``body.split("\\n")``) of the lines worth testing, ascending.

    Every other line is plain content the outline loop would step over; selecting the few
    candidates with one C-level scan spares a Python iteration per line of a long card.
    """
    text = "\n" + body
    out: list[int] = []
    count = text.count
    line = -1
    pos = 0
    for m in _CANDIDATE.finditer(text):
        start = m.start()
        line += count("\n", pos, start + 1)
        pos = start + 1
        idx = line - 1 if text[pos] in "=-" else line
        if idx >= 0 and (not out or out[-1] != idx):
            out.append(idx)
    return out


def parse_sections(body: str, line_offset: int = 0) -> tuple[dict[str, Section], tuple[str, ...]]:
    """Map the body onto template sections; returns ``(sections, raw headings)``.

    A heading's section runs until the next heading of the same or a higher level, so a
    parent ("Training Details") includes its subsections. Bold labels at the start of a
    line ("**Training Data** ...") open a section only when the label is a known synonym,
    and it runs to the next heading or label. Fenced code is skipped (``# comment`` lines
    in shell snippets are not headings). Sections are kept as line ranges and joined
    once at the end: long cards have deep outlines and copying lines per level was slow.
    """
    lines = body.split("\n")
    n = len(lines)
    open_sections: list[_OpenSection] = []
    closed: list[_OpenSection] = []
    headings: list[str] = []
    in_fence = False
    fence_marker = ""
    skip_idx = -1
    for idx in _candidate_lines(body):
        if idx == skip_idx:
            continue
        line = lines[idx]
        first = line[:1]
        fence = _FENCE.match(line) if ("`" in line or "~" in line) else None
        if fence:
            if not in_fence:
                in_fence, fence_marker = True, fence.group(1)
            elif fence.group(1) == fence_marker:
                in_fence = False
            continue
        if in_fence:
            continue
        heading: tuple[int, str] | None = None
        content_start = idx + 1
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
                heading = (level, line.strip())
                skip_idx = idx + 1
                content_start = idx + 2
        if heading is not None:
            level, text = heading
            headings.append(text)
            while open_sections and open_sections[-1].level >= level:
                closed.append(open_sections.pop())
                closed[-1].end = idx
            # an unknown heading (no names) still bounds the sections below it in the outline
            open_sections.append(
                _OpenSection(canonical_sections(text), text, level, idx + 1 + line_offset, content_start)
            )
            continue
        # (a line not starting with whitespace starts with "**"/"__" only if ``first`` says so)
        if first in ("*", "_") or (first.isspace() and line.lstrip()[:2] in ("**", "__")):
            b = _BOLD_LABEL.match(line)
            # a bold sentence ("**Evaluation of X on Y.**") is a caption, not a label
            if b and len(b.group(1).split()) <= 6 and not b.group(1).rstrip().endswith("."):
                names = canonical_sections(b.group(1))
                if names:
                    while open_sections and open_sections[-1].level >= 7:
                        closed.append(open_sections.pop())
                        closed[-1].end = idx
                    open_sections.append(
                        _OpenSection(names, line.strip()[:80], 7, idx + 1 + line_offset, idx, b.group(2))
                    )
    for sec in open_sections:
        sec.end = n
    closed.extend(open_sections)

    merged: dict[str, tuple[list[str], int, list[str], list[tuple[int, int]]]] = {}
    for sec in sorted(closed, key=lambda s: s.line):
        if not sec.names:
            continue
        if sec.first is not None:
            text = "\n".join([sec.first, *lines[sec.start + 1 : sec.end]])
        else:
            text = "\n".join(lines[sec.start : sec.end])
        for name in sec.names:
            entry = merged.setdefault(name, ([], sec.line, [], []))
            entry[0].append(sec.heading)
            entry[2].append(text)
            entry[3].append((sec.line, sec.end + line_offset))
    sections: dict[str, Section] = {}
    for name in CANONICAL_SECTIONS:
        if name in merged:
            heads, first_line, texts, spans = merged[name]
            text = "\n".join(texts)
            substantive = substance(text, _MIN_SUBSTANCE) >= _MIN_SUBSTANCE
            sections[name] = Section(name, tuple(heads), first_line, text, substantive, tuple(spans))
    return sections, tuple(headings)
