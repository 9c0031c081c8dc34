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
import re._constants as _sre_constants  # the parsed form of a pattern, to read its literals
import re._parser as _sre_parser
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import ahocorasick_rs

from licenses.engine.card_metadata import frozen_record

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


def _required_literals(items: list[tuple[Any, Any]]) -> list[str] | None:
    """Strings one of which every match of the parsed regex ``items`` contains; ``None`` if unknown.

    A literal run at the top level of the sequence is required on its own; a top-level
    alternation requires one of its branches' literals. Of the choices, the one whose
    shortest string is longest is kept (it lets the fewest headings through).
    """
    choices: list[list[str]] = []
    run: list[str] = []
    for op, av in [*items, (None, None)]:
        if op is _sre_constants.LITERAL:
            run.append(chr(av))
            continue
        if run:
            choices.append(["".join(run)])
            run = []
        if op is _sre_constants.BRANCH:
            union: list[str] = []
            for branch in av[1]:
                needed = _required_literals(list(branch))
                if needed is None:
                    union = []
                    break
                union.extend(needed)
            if union:
                choices.append(union)
        elif op is _sre_constants.SUBPATTERN:
            needed = _required_literals(list(av[3]))
            if needed:
                choices.append(needed)
    return max(choices, key=lambda c: min(map(len, c))) if choices else None


#: Per pattern of :data:`SECTION_PATTERNS`, the literals one of which its every match holds
#: (``None``: no such set; then no prefilter, every heading tries every pattern).
_PATTERN_KEYS: tuple[tuple[str, ...] | None, ...] = tuple(
    None if needed is None else tuple(needed)
    for needed in (_required_literals(list(_sre_parser.parse(pattern))) for _, pattern in SECTION_PATTERNS)
)


def _section_keys() -> tuple[str, ...] | None:
    """Literals one of which any heading matching a section pattern contains (``None``: no such set)."""
    if any(keys is None for keys in _PATTERN_KEYS):
        return None
    return tuple(dict.fromkeys(key for keys in _PATTERN_KEYS for key in keys or ()))


_SECTION_KEYS = _section_keys()
#: Most headings ("Model Card for X", "Llama 3.1 8B") name no template section; one
#: Aho-Corasick pass over the literals the patterns require answers those without trying
#: the ~30 patterns, ``re`` attempting most of them at every position of the heading.
#: The literals found also say which patterns can match: only those are tried.
_SECTION_KEY_AC = ahocorasick_rs.AhoCorasick(_SECTION_KEYS) if _SECTION_KEYS else None
#: For each literal of :data:`_SECTION_KEYS`, the indexes of the patterns requiring it.
_KEY_PATTERNS: tuple[tuple[int, ...], ...] = tuple(
    tuple(i for i, keys in enumerate(_PATTERN_KEYS) if keys is not None and key in keys)
    for key in _SECTION_KEYS or ()
)
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
#: :data:`_HEADING`'s opening; its text is then the rest of the line less a trailing run of
#: blanks, ``#`` and blanks (what the lazy group leaves), found with ``rstrip`` instead of a
#: regex that tries the closing sequence after every character of the heading.
_HEADING_OPEN = re.compile(r"(#{1,6})\s+")
_HTML_HEADING = re.compile(r"^\s*<h([1-6])[^>]*>(.*?)</h\1>", re.IGNORECASE)
_BOLD_LABEL = re.compile(r"^\s*(?:\*\*|__)([^*_\n]{2,60}?)(?::\s*)?(?:\*\*|__):?\s*(.*)$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_MD_LINK_TEXT = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_HEADING_NOISE = re.compile(r"[^a-z0-9&'<>/ ._-]+")
_NUMBERING = re.compile(r"^(\d+(\.\d+)*\.?|[ivx]+\.|[a-h]\))\s+")
_TAG = re.compile(r"<[^>]+>")
#: Dataset links in these sections are benchmarks, not training data.
EVALUATION_SECTIONS = frozenset({"Evaluation", "Results", "Testing Data, Factors & Metrics"})
_MIN_SUBSTANCE = 15  # alphanumeric characters a section needs to count as written


def normalise_heading(text: str) -> str:
    """Lower-case a heading and strip Markdown, emoji, numbering and "[optional]".

    The link and tag substitutions run only when their literal (``](``, ``<``) occurs:
    most headings hold neither, and each substitution costs more than the test.
    """
    if "](" in text:
        text = _MD_LINK_TEXT.sub(r"\1", text)
    if "<" in text:
        text = _TAG.sub(" ", text.replace("<sub>2</sub>", "2"))
    text = text.lower().replace("[optional]", "")
    text = _HEADING_NOISE.sub(" ", text)
    text = " ".join(text.replace("_", " ").split()).strip(" .:-")
    numbering = _NUMBERING.match(text)  # anchored: the one place ``_NUMBERING.sub`` can replace
    return (text[numbering.end() :] if numbering else text).strip()


@functools.lru_cache(maxsize=8192)
def canonical_sections(heading: str) -> tuple[str, ...]:
    """Every template section a (raw) heading stands for; ``()`` when none."""
    norm = normalise_heading(heading)
    if not norm or len(norm) > 80:
        return ()
    if _SECTION_KEY_AC is None:
        return tuple(name for name, rx in _SECTION_RES if rx.search(norm))
    found = _SECTION_KEY_AC.find_matches_as_indexes(norm, overlapping=True)
    if not found:
        return ()
    # only patterns one of whose required literals occurs can match; tried in table order
    tried = {i for key, _, _ in found for i in _KEY_PATTERNS[key]}
    return tuple(name for name, rx in (_SECTION_RES[i] for i in sorted(tried)) if rx.search(norm))


_PLACEHOLDER_KEYS = ("more information", "need more information", "needs more information", "{{", "[optional]",
                     "tbd", "todo", "coming soon", "to be added", "to be updated", "to be announced")  # fmt: skip
#: For an ASCII line, where ``re.IGNORECASE`` folds exactly as ``str.lower``: a placeholder
#: match needs one of these in the lower-cased line. Narrower than ``_PLACEHOLDER_KEYS``
#: ("for more information, see ..." is common prose), so the slow substitution, whose
#: alternatives ``re`` must try at every position, runs only where it can change the line.
_PLACEHOLDER_KEYS_ASCII = ("more information needed", "need more information", "needs more information", "{{",
                           "[optional]", "<!--", "tbd", "todo", "coming soon", "to be added", "to be updated",
                           "to be announced")  # fmt: skip
_BOILERPLATE_KEYS = ("lacoste et al", "use the code below", "users (both direct", "pushed on the hub")
_NON_ALNUM = re.compile(r"[\W_]+")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
#: Does a lower-cased line contain one of the keys? One regex instead of a loop of ``in`` tests.
_HAS_BOILERPLATE_KEY = re.compile("|".join(map(re.escape, _BOILERPLATE_KEYS)))
_HAS_PLACEHOLDER_KEY = re.compile("|".join(map(re.escape, _PLACEHOLDER_KEYS)))
_HAS_PLACEHOLDER_KEY_ASCII = re.compile("|".join(map(re.escape, _PLACEHOLDER_KEYS_ASCII)))
#: Either kind of key in an ASCII line: one search clears the common line of both. An
#: Aho-Corasick DFA rather than a regex alternation: the keys start with common letters
#: (t, m, n, u, c), so ``re`` tried the alternation at most positions of a long paragraph.
_ANY_KEY_ASCII_AC = ahocorasick_rs.AhoCorasick(
    _BOILERPLATE_KEYS + _PLACEHOLDER_KEYS_ASCII, implementation=ahocorasick_rs.Implementation.DFA
)
#: Every byte but ASCII letters and digits: deleted, they leave what :data:`_NON_ALNUM` keeps.
_NOT_ALNUM_BYTES = bytes(b for b in range(256) if not (b < 128 and chr(b).isalnum()))


def _has_any_key_ascii(low: str) -> bool:
    """Does the lower-cased line hold a boilerplate key or a narrow placeholder key?"""
    return bool(_ANY_KEY_ASCII_AC.find_matches_as_indexes(low))


def _alnum_count(text: str) -> int:
    r"""``len(_NON_ALNUM.sub("", text))``: letters and digits in ``text``.

    For ASCII text (most lines) a byte deletion counts them several times faster than the
    regex substitution; ``\w`` less ``_`` is exactly ``[A-Za-z0-9]`` there.
    """
    if text.isascii():
        return len(text.encode("ascii").translate(None, _NOT_ALNUM_BYTES))
    return len(_NON_ALNUM.sub("", text))


#: Characters of a long line counted first when only ``enough`` matters (see :func:`substance`).
_PREFIX = 64


def iter_lines(text: str, first: int = 4) -> Iterable[str]:
    """``text.split("\\n")``, split lazily: callers often stop after a line or two.

    The first ``first`` lines are split off, then ever larger batches, so a caller that
    stops early never copies the rest of a long text line by line.
    """
    rest = text
    batch = first
    while True:
        parts = rest.split("\n", batch)
        if len(parts) <= batch:
            yield from parts
            return
        rest = parts.pop()
        yield from parts
        batch *= 4


def substance(text: str, enough: int | None = None) -> int:
    """Alphanumeric characters left once placeholders, comments, headings and bare labels go.

    Line by line, so a caller that only needs to know whether ``enough`` is reached stops
    after the first written sentence instead of cleaning a 20 KB section; such a caller gets
    some count of at least ``enough`` (not necessarily the whole count), or the whole count
    when ``enough`` is not reached.
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
        # the narrow keys are exact only while ``low`` is the lower-cased ``stripped``
        narrow = stripped.isascii()
        if not narrow or _has_any_key_ascii(low):
            if _HAS_BOILERPLATE_KEY.search(low):
                stripped = _BOILERPLATE.sub(" ", stripped).strip()
                narrow = False
            if (_HAS_PLACEHOLDER_KEY_ASCII if narrow else _HAS_PLACEHOLDER_KEY).search(low):
                stripped = _PLACEHOLDER.sub(" ", stripped).strip()
        if not stripped or (len(stripped) < 70 and _LABEL_ONLY_LINE.match(stripped)):
            continue
        if enough is not None and len(stripped) > _PREFIX:
            # a prefix's count is at most the line's: when it suffices, the rest is not cleaned
            head = _alnum_count(stripped[:_PREFIX])
            if count + head >= enough:
                return count + head
        count += _alnum_count(stripped)
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
    start: int  # offset in the body where the content starts (a bold label's: after the label)
    end: int = 0  # index (0-based body line) of the line that closed the section, or the line count
    end_off: int = 0  # offset in the body of that line (the body's length + 1 past the end)


def _setext_level(line: str, nxt: str | None) -> int | None:
    if nxt is None or not line.strip() or line.lstrip()[:1] in "|-*#>+<`":
        return None
    if re.match(r"^=+\s*$", nxt):
        return 1
    if re.match(r"^-{3,}\s*$", nxt):
        return 2
    return None


#: The newline before a line that may open a section or a code fence: a fence, ``**`` or
#: ``__`` after optional blanks; ``#``; ``<h1``-``<h6`` first or after a space and at most
#: nine more blanks (what the HTML-heading test accepts); or, zero-width, the newline before
#: a setext underline (``=`` run, or three or more ``-``, then blanks only), which makes the
#: line before it a candidate. Exactly the lines on which one of :func:`parse_sections`'s
#: tests can succeed, so list items, tables and prose lines never reach the Python loop.
#: ``[^\S\n]`` is ``\s`` within a line. The leading newline gives ``re`` a literal to skip
#: ahead to (a ``^`` under MULTILINE would be tried at every position of the card). The
#: lookahead after it is implied by the alternatives (each starts with a blank or one of
#: those characters): it turns the common prose, list and blank line away with one class
#: test before the four alternatives are tried; the HTML opening is spelled without an
#: optional group, which ``re`` runs as a general repeat.
_CANDIDATE = re.compile(
    r"\n(?=[^\S\n]|[#<=`~*_-])"
    r"(?:[^\S\n]*(?:```|~~~|\*\*|__)|#|(?:<| [^\S\n]{0,9}<)[hH][1-6]|(?=(?:=+|-{3,})[^\S\n]*(?:\n|\Z)))"
)


def _candidates(body: str) -> list[tuple[int, int]]:
    """``(line index, line start offset)`` of every candidate line of ``body``, ascending.

    Every other line is plain content the outline loop would step over; selecting the few
    candidates with one C-level scan spares a Python iteration per line of a long card.
    """
    text = "\n" + body
    out: list[tuple[int, int]] = []
    count = text.count
    line = -1
    pos = 0
    last = -1
    for m in _CANDIDATE.finditer(text):
        start = m.start()  # the newline before the line, i.e. the line's offset in ``body``
        line += count("\n", pos, start + 1)
        pos = start + 1
        if text[pos] in "=-":  # a setext underline: the line before it is the candidate
            idx = line - 1
            if idx < 0 or idx == last:
                continue
            out.append((idx, body.rfind("\n", 0, start - 1) + 1))
        else:
            if line == last:
                continue
            idx = line
            out.append((idx, start))
        last = idx
    return out


def parse_sections(
    body: str, line_offset: int = 0, low: str | None = None
) -> tuple[dict[str, Section], tuple[str, ...]]:
    """Map the body onto template sections; returns ``(sections, raw headings)``.

    A heading's section runs until the next heading of the same or a higher level, so a
    parent ("Training Details") includes its subsections. Bold labels at the start of a
    line ("**Training Data** ...") open a section only when the label is a known synonym,
    and it runs to the next heading or label. Fenced code is skipped (``# comment`` lines
    in shell snippets are not headings). Only candidate lines (:data:`_CANDIDATE`) are
    visited, and sections are kept as offsets into the body and sliced once at the end,
    so the card is never split into lines.

    ``low`` is ``body.lower()`` when the caller has it: each section's :attr:`Section.lower`
    is then cut from it instead of lower-casing the section again (when that is exact:
    ``lower()`` kept every character's length and no capital sigma, whose lower case
    depends on the letters around it, occurs).
    """
    size = len(body)
    find = body.find
    open_sections: list[_OpenSection] = []
    closed: list[_OpenSection] = []
    headings: list[str] = []
    in_fence = False
    fence_marker = ""
    skip_idx = -1
    for idx, ls in _candidates(body):
        if idx == skip_idx:
            continue
        le = find("\n", ls)
        if le == -1:
            le = size
        line = body[ls:le]
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
        content_start = le + 1  # offset of the next line (``size + 1`` past the end)
        if first == "#":
            m = _HEADING_OPEN.match(line)
            if m:
                heading = (len(m.group(1)), line[m.end() :].rstrip().rstrip("#").rstrip())
        elif first == "<" or (first == " " and "<h" in line[:12].lower()):
            h = _HTML_HEADING.match(line)
            if h:
                heading = (int(h.group(1)), h.group(2))
        if heading is None and body[le + 1 : le + 2] in ("=", "-") and le < size:
            ne = find("\n", le + 1)
            if ne == -1:
                ne = size
            level = _setext_level(line, body[le + 1 : ne])
            if level is not None:
                heading = (level, line.strip())
                skip_idx = idx + 1
                content_start = ne + 1
        if heading is not None:
            level, text = heading
            headings.append(text)
            while open_sections and open_sections[-1].level >= level:
                sec = open_sections.pop()
                sec.end, sec.end_off = idx, ls
                closed.append(sec)
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
                        sec = open_sections.pop()
                        sec.end, sec.end_off = idx, ls
                        closed.append(sec)
                    # the section's text starts with the rest of the label's line
                    open_sections.append(
                        _OpenSection(names, line.strip()[:80], 7, idx + 1 + line_offset, ls + b.start(2))
                    )
    if open_sections:
        n = idx + 1 + body.count("\n", ls)  # lines up to the last candidate's, then the rest
        for sec in open_sections:
            sec.end, sec.end_off = n, size + 1
        closed.extend(open_sections)

    if low is not None and (len(low) != size or "\u03a3" in body):
        low = None
    merged: dict[str, tuple[list[str], int, list[slice], list[tuple[int, int]]]] = {}
    for sec in sorted(closed, key=lambda s: s.line):
        if not sec.names:
            continue
        # the content is body[start : end_off - 1] (the newline before the closing line dropped)
        part = slice(sec.start, sec.end_off - 1 if sec.end_off > sec.start else sec.start)
        for name in sec.names:
            entry = merged.setdefault(name, ([], sec.line, [], []))
            entry[0].append(sec.heading)
            entry[2].append(part)
            entry[3].append((sec.line, sec.end + line_offset))
    sections: dict[str, Section] = {}
    for name in CANONICAL_SECTIONS:
        if name in merged:
            heads, first_line, parts, spans = merged[name]
            text = body[parts[0]] if len(parts) == 1 else "\n".join([body[p] for p in parts])
            substantive = substance(text, _MIN_SUBSTANCE) >= _MIN_SUBSTANCE
            section = frozen_record(
                Section,
                {"name": name, "headings": tuple(heads), "line": first_line, "text": text,
                 "substantive": substantive, "spans": tuple(spans)},
            )  # fmt: skip
            if low is not None:
                section.__dict__["lower"] = (
                    low[parts[0]] if len(parts) == 1 else "\n".join([low[p] for p in parts])
                )
            sections[name] = section
    return sections, tuple(headings)
