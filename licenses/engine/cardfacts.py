"""Structured facts about a model repository, read from its card, configs and weight headers.

Transparency scoring, data-disclosure levels and openness ratings all ask the same
questions of a repository ("is there a training-data section?", "which datasets are
named?", "is a paper linked?", "how many parameters?"). This module answers them once,
so the scorers are small rule tables over :class:`CardFacts` rather than regexes over
raw Markdown, and every answer keeps the place it came from (metadata key, section
heading and line, file) for the evidence shown to users.

Real cards rarely use the Hub template's headings verbatim ("Limitations and Bias",
"Intended uses & limitations", "Carbon Emissions", "BibTeX"), so headings are mapped
onto the template's section names through a synonym table; Meta-style cards that use
bold labels ("**Training Data** ...") instead of headings are read the same way. A
section holding only template placeholders ("[More Information Needed]") counts as
absent, because an unfilled template discloses nothing.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from licenses.engine.safetensors_header import HeaderError, read_safetensors_header
from licenses.engine.types import RepoSnapshot


class FrontMatterLike(Protocol):
    """What we need from ``licenses.engine.frontmatter.FrontMatter``."""

    metadata: dict
    body: str
    problems: tuple[str, ...]
    raw_yaml: str | None


class Probe:
    """A lower-case regex run only near its keywords.

    Python's ``re`` walks the whole card for every pattern, which made long cards (30 KB
    READMEs are common) dominate analysis time. ``str.find`` locates a pattern's keywords
    far faster, and the regex then runs only in a window around each keyword; a pattern
    must therefore contain one of its keywords within ``BEFORE`` characters after its
    match start (all patterns here are short phrases). Keyword-less probes scan the
    whole text. Callers pass text lower-cased once (``CardFacts.body_lower``,
    ``Section.lower``).
    """

    BEFORE = 160
    AFTER = 200
    MAX_HITS = 64  # keyword occurrences beyond this: scan the whole text instead
    SMALL = 2048  # texts this short are scanned whole once a keyword is present

    __slots__ = ("keys", "rx")

    def __init__(self, pattern: str, keys: Iterable[str] = (), flags: int = 0):
        self.rx = re.compile(pattern, flags)
        self.keys = tuple(keys)

    def _windows(self, low: str) -> list[list[int]] | None:
        """Merged ``[start, end)`` windows around keywords; ``None`` means scan everything."""
        positions: list[int] = []
        for key in self.keys:
            i = low.find(key)
            while i != -1:
                positions.append(i)
                if len(positions) > self.MAX_HITS:
                    return None
                i = low.find(key, i + 1)
        positions.sort()
        windows: list[list[int]] = []
        for p in positions:
            a, b = max(0, p - self.BEFORE), min(len(low), p + self.AFTER)
            if windows and a <= windows[-1][1]:
                windows[-1][1] = max(windows[-1][1], b)
            else:
                windows.append([a, b])
        return windows

    def finditer(self, low: str) -> Iterable[re.Match[str]]:
        if not self.keys:
            yield from self.rx.finditer(low)
            return
        if len(low) <= self.SMALL:
            if any(k in low for k in self.keys):
                yield from self.rx.finditer(low)
            return
        windows = self._windows(low)
        if windows is None:
            yield from self.rx.finditer(low)
            return
        last_end = -1
        for a, b in windows:
            for m in self.rx.finditer(low, a, b):
                if m.start() >= last_end:
                    last_end = m.end()
                    yield m

    def search(self, low: str) -> re.Match[str] | None:
        """A match (not necessarily the first one): evidence needs one, and stopping at
        the first keyword window that matches avoids enumerating every occurrence."""
        if not self.keys:
            return self.rx.search(low)
        if len(low) <= self.SMALL:
            return self.rx.search(low) if any(k in low for k in self.keys) else None
        tried = 0
        for key in self.keys:
            i = low.find(key)
            while i != -1:
                m = self.rx.search(low, max(0, i - self.BEFORE), min(len(low), i + self.AFTER))
                if m:
                    return m
                tried += 1
                if tried > self.MAX_HITS:
                    return self.rx.search(low)
                i = low.find(key, i + self.AFTER - 100)  # matches starting earlier were tried
        return None


# --- section synonyms -------------------------------------------------------------------

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


def substance(text: str, enough: int | None = None) -> int:
    """Alphanumeric characters left once placeholders, comments, headings and bare labels go.

    Line by line, so a caller that only needs to know whether ``enough`` is reached stops
    after the first written sentence instead of cleaning a 20 KB section.
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
        if any(k in low for k in _BOILERPLATE_KEYS):
            stripped = _BOILERPLATE.sub(" ", stripped).strip()
        if any(k in low for k in _PLACEHOLDER_KEYS):
            stripped = _PLACEHOLDER.sub(" ", stripped).strip()
        if not stripped or (len(stripped) < 70 and _LABEL_ONLY_LINE.match(stripped)):
            continue
        count += len(_NON_ALNUM.sub("", stripped))
        if enough is not None and count >= enough:
            return count
    return count


# --- value types --------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Link:
    url: str
    kind: str  # arxiv | paper | doi | github | hf-dataset | hf-model | hf-space | blog | web ...
    target: str | None  # arXiv id, owner/name, DOI ...
    line: int
    section: str | None  # canonical section the link sits in

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "kind": self.kind, "target": self.target, "line": self.line,
                "section": self.section}  # fmt: skip


@dataclass(frozen=True)
class EvalResult:
    task: str | None
    dataset: str | None
    metric: str | None
    value: Any
    source: str = "model-index"

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "dataset": self.dataset, "metric": self.metric, "value": self.value,
                "source": self.source}  # fmt: skip


@dataclass(frozen=True)
class WeightsInfo:
    """What the weight files say about the model, without loading a tensor."""

    files: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    parameters: int | None = None
    tensors: int | None = None
    dtypes: dict[str, int] = field(default_factory=dict)
    total_size: int | None = None  # bytes, from model.safetensors.index.json
    source: str | None = None  # where ``parameters`` came from
    quantizations: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": list(self.files),
            "formats": list(self.formats),
            "parameters": self.parameters,
            "tensors": self.tensors,
            "dtypes": dict(self.dtypes),
            "total_size": self.total_size,
            "source": self.source,
            "quantizations": list(self.quantizations),
            "errors": list(self.errors),
        }


@dataclass(frozen=True)
class CardFacts:
    """Everything the scorers need; ``to_dict`` is the JSON shown as ``card`` facts."""

    repo_id: str
    has_readme: bool
    has_front_matter: bool
    metadata: Mapping[str, Any]
    problems: tuple[str, ...]
    body: str
    body_line_offset: int  # README line number of the body's first line, minus one
    sections: Mapping[str, Section]
    headings: tuple[str, ...]
    links: tuple[Link, ...]
    bibtex_types: tuple[str, ...]
    datasets: tuple[str, ...]  # from ``datasets:`` metadata
    linked_datasets: tuple[str, ...]  # huggingface.co/datasets/... links outside evaluation sections
    eval_results: tuple[EvalResult, ...]
    co2_eq_emissions: Mapping[str, Any] | None
    base_models: tuple[str, ...]
    base_model_relation: str | None
    languages: tuple[str, ...]
    pipeline_tag: str | None
    library_name: str | None
    tags: tuple[str, ...]
    license: tuple[str, ...]
    license_name: str | None
    license_link: str | None
    new_version: str | None
    widget_examples: int
    chat_template: str | None  # where a chat template was found
    gated: bool
    gating_fields: tuple[str, ...]
    config: Mapping[str, Any]
    weights: WeightsInfo
    files: tuple[str, ...]
    parameter_mentions: tuple[tuple[str, int], ...]  # ("7 billion parameters", line)
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # derived values, per card

    @functools.cached_property
    def body_lower(self) -> str:
        """The body lower-cased once, for :class:`Probe` searches."""
        return self.body.lower()

    def section(self, name: str) -> Section | None:
        """The section if the card fills it in; placeholder-only sections are ``None``."""
        sec = self.sections.get(name)
        return sec if sec is not None and sec.substantive else None

    @property
    def present_sections(self) -> tuple[str, ...]:
        return tuple(name for name, sec in self.sections.items() if sec.substantive)

    def links_of(self, *kinds: str) -> tuple[Link, ...]:
        return tuple(link for link in self.links if link.kind in kinds)

    @property
    def all_datasets(self) -> tuple[str, ...]:
        """Metadata datasets first, then linked ones, de-duplicated case-insensitively."""
        seen: dict[str, str] = {}
        for ds in (*self.datasets, *self.linked_datasets):
            seen.setdefault(ds.lower(), ds)
        return tuple(seen.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "repo_id": self.repo_id,
            "has_readme": self.has_readme,
            "has_front_matter": self.has_front_matter,
            "problems": list(self.problems),
            "sections": {name: sec.to_dict() for name, sec in self.sections.items()},
            "present_sections": list(self.present_sections),
            "links": [link.to_dict() for link in self.links],
            "bibtex_types": list(self.bibtex_types),
            "datasets": list(self.datasets),
            "linked_datasets": list(self.linked_datasets),
            "eval_results": [r.to_dict() for r in self.eval_results],
            "co2_eq_emissions": dict(self.co2_eq_emissions) if self.co2_eq_emissions else None,
            "base_models": list(self.base_models),
            "base_model_relation": self.base_model_relation,
            "languages": list(self.languages),
            "pipeline_tag": self.pipeline_tag,
            "library_name": self.library_name,
            "tags": list(self.tags),
            "license": list(self.license),
            "license_name": self.license_name,
            "license_link": self.license_link,
            "new_version": self.new_version,
            "widget_examples": self.widget_examples,
            "chat_template": self.chat_template,
            "gated": self.gated,
            "gating_fields": list(self.gating_fields),
            "config": {k: v for k, v in self.config.items() if k in _CONFIG_KEYS},
            "weights": self.weights.to_dict(),
            "parameter_mentions": [{"text": t, "line": n} for t, n in self.parameter_mentions],
        }


# --- body parsing -------------------------------------------------------------------------


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
    skip_next = False
    for idx, line in enumerate(lines):
        if skip_next:
            skip_next = False
            continue
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
                skip_next = True
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
        if first in ("*", "_") or line.lstrip()[:2] in ("**", "__"):
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


# --- links --------------------------------------------------------------------------------

_URL = re.compile(r"https?://[^\s<>()\[\]\"'`|]+")
_ARXIV = re.compile(r"arxiv\.org/(?:abs|pdf|html)/([a-z\-./]*\d{4}\.\d{4,5}|[a-z\-]+/\d{7})", re.IGNORECASE)
_PAPER_HOSTS = (
    "aclanthology.org",
    "aclweb.org",
    "openreview.net",
    "proceedings.neurips.cc",
    "papers.nips.cc",
    "proceedings.mlr.press",
    "jmlr.org",
    "dl.acm.org",
    "ieeexplore.ieee.org",
    "link.springer.com",
    "sciencedirect.com",
    "nature.com",
    "aaai.org",
    "openaccess.thecvf.com",
    "isca-speech.org",
    "semanticscholar.org",
    "paperswithcode.com/paper",
    "huggingface.co/papers",
    "ssrn.com",
    "biorxiv.org",
    "medrxiv.org",
)
_HF_RESERVED = frozenset(
    {"datasets", "spaces", "docs", "papers", "blog", "models", "settings", "join", "login", "collections",
     "organizations", "api", "chat", "pricing", "learn", "tasks", "new", "posts", "inference-endpoints"}
)  # fmt: skip


def classify_url(url: str) -> tuple[str, str | None]:
    """``(kind, target)`` for a URL: arXiv id, DOI, GitHub repo, Hub dataset/model id..."""
    low = url.lower()
    host_path = low.split("://", 1)[-1]
    host = host_path.split("/", 1)[0].removeprefix("www.")
    path = url.split("://", 1)[-1].split("/", 1)[1] if "/" in url.split("://", 1)[-1] else ""
    parts = [p for p in path.split("?")[0].split("#")[0].split("/") if p]
    m = _ARXIV.search(url)
    if m:
        return "arxiv", re.sub(r"v\d+$", "", m.group(1).removesuffix(".pdf"))
    if host in ("doi.org", "dx.doi.org"):
        return "doi", "/".join(parts) or None
    if any(h in host_path for h in _PAPER_HOSTS):
        return "paper", None
    if host == "github.com":
        return "github", "/".join(parts[:2]) if len(parts) >= 2 else None
    if host in ("huggingface.co", "hf.co"):
        if parts[:1] == ["datasets"] and len(parts) >= 2:
            return "hf-dataset", "/".join(parts[1:3]) if len(parts) >= 3 else parts[1]
        if parts[:1] == ["spaces"]:
            return "hf-space", "/".join(parts[1:3]) or None
        if parts[:1] == ["blog"]:
            return "blog", None
        if parts[:1] in (["docs"], ["learn"]):
            return "docs", None
        if len(parts) >= 2 and parts[0].lower() not in _HF_RESERVED:
            return "hf-model", f"{parts[0]}/{parts[1]}"
        return "hf-other", None
    if (
        "blog" in host
        or "/blog" in host_path
        or host in ("medium.com", "substack.com")
        or host.endswith((".medium.com", ".substack.com"))
    ):
        return "blog", None
    return "web", None


def _sections_at_lines(sections: Mapping[str, Section], lines: list[int]) -> list[str | None]:
    """The innermost section holding each of ``lines`` (ascending), in one sweep.

    Sections nest like the card's outline, so a stack of open spans answers every line in
    O(spans + lines); a card repeating one heading thousands of times stays linear. Among
    names sharing a heading the one first in template order wins.
    """
    order = {name: i for i, name in enumerate(CANONICAL_SECTIONS)}
    spans = sorted(
        ((start, -order[sec.name], end, sec.name) for sec in sections.values() for start, end in sec.spans),
    )
    out: list[str | None] = []
    stack: list[tuple[int, int, int, str]] = []
    i = 0
    for line in lines:
        while i < len(spans) and spans[i][0] <= line:
            stack.append(spans[i])
            i += 1
        while stack and stack[-1][2] < line:
            stack.pop()
        out.append(stack[-1][3] if stack else None)
    return out


#: Links kept per card; a README listing more is a link farm, not documentation.
MAX_LINKS = 2000


def extract_links(body: str, sections: Mapping[str, Section], line_offset: int = 0) -> tuple[Link, ...]:
    found: list[tuple[str, str, str | None, int]] = []
    seen: set[str] = set()
    for idx, line in enumerate(body.split("\n")):
        if "http" not in line:
            continue
        for m in _URL.finditer(_BOILERPLATE.sub(" ", line) if "lacoste" in line.lower() else line):
            url = m.group(0).rstrip(".,;:!*_~")
            if url in seen:
                continue
            seen.add(url)
            kind, target = classify_url(url)
            found.append((url, kind, target, idx + 1 + line_offset))
        if len(found) >= MAX_LINKS:
            break
    where = _sections_at_lines(sections, [f[3] for f in found])
    return tuple(
        Link(url, kind, target, line, sec)
        for (url, kind, target, line), sec in zip(found, where, strict=True)
    )


# --- metadata -----------------------------------------------------------------------------


def as_str_list(value: Any) -> tuple[str, ...]:
    """Metadata values are str, list or junk; keep the strings (numbers as text)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value.strip(),) if value.strip() else ()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (str(value),)
    if isinstance(value, (list, tuple)):
        out: list[str] = []
        for item in value:
            if isinstance(item, str) and item.strip():
                out.append(item.strip())
            elif isinstance(item, (int, float)) and not isinstance(item, bool):
                out.append(str(item))
        return tuple(out)
    return ()


def _as_str(value: Any) -> str | None:
    items = as_str_list(value)
    return items[0] if items else None


def _named(value: Any) -> str | None:
    if isinstance(value, Mapping):
        return _as_str(value.get("name")) or _as_str(value.get("type")) or _as_str(value.get("id"))
    return _as_str(value)


def parse_model_index(value: Any) -> tuple[EvalResult, ...]:
    """Flatten ``model-index`` (Papers-with-Code spec) into (task, dataset, metric, value) rows."""
    results: list[EvalResult] = []
    if not isinstance(value, list):
        return ()
    for entry in value[:50]:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("results"), list):
            continue
        for res in entry["results"][:500]:
            if not isinstance(res, Mapping):
                continue
            task = _named(res.get("task"))
            dataset = _named(res.get("dataset"))
            metrics = res.get("metrics")
            if not isinstance(metrics, list):
                continue
            for metric in metrics[:100]:
                if isinstance(metric, Mapping) and "value" in metric:
                    val = metric.get("value")
                    if not isinstance(val, (int, float, str)) or isinstance(val, bool):
                        val = str(val)
                    results.append(EvalResult(task, dataset, _named(metric), val))
    return tuple(results)


def parse_co2(value: Any) -> dict[str, Any] | None:
    """``co2_eq_emissions`` is a number (grams) or a mapping (hub-docs model-cards-co2.md)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return {"emissions": float(value)}
    if isinstance(value, str):
        try:
            return {"emissions": float(value)}
        except ValueError:
            return {"emissions": None, "text": value[:200]}
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        em = value.get("emissions")
        if isinstance(em, (int, float)) and not isinstance(em, bool):
            out["emissions"] = float(em)
        for key in ("source", "training_type", "geographical_location", "hardware_used"):
            if isinstance(value.get(key), (str, int, float)):
                out[key] = str(value[key])[:200]
        return out or None
    return None


# --- repository files ---------------------------------------------------------------------

_WEIGHT_FORMATS = {
    ".safetensors": "safetensors",
    ".gguf": "gguf",
    ".ggml": "ggml",
    ".bin": "pytorch-bin",
    ".pt": "pytorch",
    ".pth": "pytorch",
    ".ckpt": "checkpoint",
    ".h5": "keras-h5",
    ".keras": "keras",
    ".onnx": "onnx",
    ".msgpack": "flax",
    ".tflite": "tflite",
    ".mlmodel": "coreml",
    ".npz": "numpy",
    ".pkl": "pickle",
    ".nemo": "nemo",
}
_NOT_WEIGHTS = re.compile(r"(^|/)(training_args|optimizer|scheduler|rng_state|tokenizer|vocab)[^/]*$")
_QUANT = re.compile(r"(?<![A-Za-z0-9])(I?Q[1-8]_[0-9A-Z_]*[0-9A-Z]|Q[1-8]|F16|BF16|F32|[1-8]bit|AWQ|GPTQ|EXL2)(?![A-Za-z0-9])",
                    re.IGNORECASE)  # fmt: skip
MAX_HEADER_FILES = 256
_CONFIG_KEYS = ("architectures", "model_type", "torch_dtype", "transformers_version", "num_hidden_layers",
                "hidden_size", "num_attention_heads", "vocab_size", "max_position_embeddings",
                "quantization_config", "_class_name", "_diffusers_version")  # fmt: skip


def weight_files(files: Iterable[str]) -> list[tuple[str, str]]:
    out = []
    for path in files:
        low = path.lower()
        for ext, fmt in _WEIGHT_FORMATS.items():
            if low.endswith(ext) and not _NOT_WEIGHTS.search(low):
                out.append((path, fmt))
                break
    return out


def _json_text(texts: Mapping[str, str], name: str) -> dict[str, Any]:
    raw = texts.get(name)
    if not raw or len(raw) > 20_000_000:
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def read_weights(snapshot: RepoSnapshot) -> WeightsInfo:
    """Weight formats from file names; parameters from safetensors headers or the shard index.

    Only the 8-byte length and JSON header of each ``.safetensors`` file are read, through
    ``snapshot.open_file``; a header that lies is reported in ``errors`` and ignored.
    """
    found = weight_files(snapshot.files)
    formats = tuple(dict.fromkeys(fmt for _, fmt in found))
    quants = tuple(
        dict.fromkeys(
            q.upper() for path, fmt in found if fmt in ("gguf", "ggml") for q in _QUANT.findall(path)
        )
    )
    errors: list[str] = []
    total_size: int | None = None
    for name in snapshot.texts:
        if name.endswith("model.safetensors.index.json"):
            index = _json_text(snapshot.texts, name)
            meta = index.get("metadata")
            if isinstance(meta, Mapping) and isinstance(meta.get("total_size"), (int, float)):
                total_size = (total_size or 0) + int(meta["total_size"])
    parameters = tensors = None
    dtypes: dict[str, int] = {}
    source = None
    st_files = [p for p, fmt in found if fmt == "safetensors"]
    if st_files and snapshot.open_file is not None:
        params = count = 0
        read_any = False
        for path in sorted(st_files)[:MAX_HEADER_FILES]:
            try:
                with snapshot.open_file(path) as fp:
                    header = read_safetensors_header(fp, snapshot.files.get(path))
            except HeaderError as exc:
                errors.append(f"{path}: {exc}")
                continue
            except OSError as exc:
                errors.append(f"{path}: cannot read ({exc.__class__.__name__})")
                continue
            read_any = True
            params += header.parameters
            count += header.tensors
            for dt, n in header.dtypes.items():
                dtypes[dt] = dtypes.get(dt, 0) + n
        if len(st_files) > MAX_HEADER_FILES:
            errors.append(f"only the first {MAX_HEADER_FILES} of {len(st_files)} safetensors files were read")
        if read_any:
            parameters, tensors, source = params, count, "safetensors headers"
    return WeightsInfo(
        files=tuple(p for p, _ in found),
        formats=formats,
        parameters=parameters,
        tensors=tensors,
        dtypes=dtypes,
        total_size=total_size,
        source=source,
        quantizations=quants,
        errors=tuple(errors),
    )


def _chat_template(snapshot: RepoSnapshot) -> str | None:
    for name in snapshot.texts:
        if name.rsplit("/", 1)[-1] == "tokenizer_config.json":
            tpl = _json_text(snapshot.texts, name).get("chat_template")
            if (isinstance(tpl, str) and tpl.strip()) or (isinstance(tpl, list) and tpl):
                return f"file:{name}"
    for name in snapshot.files:
        if name.rsplit("/", 1)[-1] in ("chat_template.jinja", "chat_template.json"):
            return f"file:{name}"
    return None


_PARAM_MENTION = Probe(
    r"\b\d+(?:[.,]\d+)?\s*(?:[bmk]|billion|million|thousand)\b[\s-]*(?:parameters?|params?)\b"
    r"|\b(?:parameters?|params?|model size)\s*[:=|]?\s*\**\s*\d+(?:[.,]\d+)?\s*(?:[bmk]|billion|million)\b",
    ("param", "model size"),
)


def _parameter_mentions(body: str, low: str, line_offset: int) -> tuple[tuple[str, int], ...]:
    found: list[tuple[str, int]] = []
    source = body if len(body) == len(low) else low
    for m in _PARAM_MENTION.finditer(low):
        found.append((source[m.start() : m.end()][:80], low.count("\n", 0, m.start()) + 1 + line_offset))
        if len(found) >= 5:
            break
    return tuple(found)


_BIBTEX = re.compile(r"@(inproceedings|article|misc|techreport|book|incollection|phdthesis|conference)\s*\{",
                     re.IGNORECASE)  # fmt: skip


def body_line_offset(readme: str, has_front_matter: bool) -> int:
    """README lines before the body: the front-matter block, fences included.

    Recomputed from the README rather than from the parsed YAML so evidence line numbers
    do not depend on how the front-matter parser normalises its raw text.
    """
    if not has_front_matter:
        return 0
    opened = False
    for idx, line in enumerate(readme.split("\n")):
        stripped = line.rstrip("\r")
        if not opened:
            if stripped.strip() == "":
                continue
            if stripped.rstrip(" \t") == "---":
                opened = True
                continue
            return 0
        if stripped == "---":
            return idx + 1
    return 0


def extract_facts(snapshot: RepoSnapshot, front: FrontMatterLike) -> CardFacts:
    """Collect every card fact of ``snapshot``; never raises on odd metadata."""
    meta: dict[str, Any] = front.metadata if isinstance(front.metadata, dict) else {}
    body = front.body or ""
    offset = body_line_offset(snapshot.readme or "", front.raw_yaml is not None)
    sections, headings = parse_sections(body, offset)
    links = extract_links(body, sections, offset)
    linked = tuple(
        dict.fromkeys(
            link.target
            for link in links
            if link.kind == "hf-dataset" and link.target and link.section not in EVALUATION_SECTIONS
        )
    )
    gating = tuple(sorted(k for k in meta if isinstance(k, str) and k.startswith("extra_gated_")))
    gated_value = meta.get("gated")
    gated = bool(gating) or (gated_value not in (None, False, "false", "False", "no"))
    widget = meta.get("widget")
    config = _json_text(snapshot.texts, "config.json") or _json_text(snapshot.texts, "model_index.json")
    return CardFacts(
        repo_id=snapshot.id,
        has_readme=snapshot.readme is not None,
        has_front_matter=front.raw_yaml is not None,
        metadata=meta,
        problems=tuple(front.problems),
        body=body,
        body_line_offset=offset,
        sections=sections,
        headings=headings,
        links=links,
        bibtex_types=tuple(dict.fromkeys(t.lower() for t in _BIBTEX.findall(body))),
        datasets=as_str_list(meta.get("datasets")),
        linked_datasets=linked,
        eval_results=parse_model_index(meta.get("model-index")),
        co2_eq_emissions=parse_co2(meta.get("co2_eq_emissions")),
        base_models=as_str_list(meta.get("base_model")),
        base_model_relation=_as_str(meta.get("base_model_relation")),
        languages=as_str_list(meta.get("language")),
        pipeline_tag=_as_str(meta.get("pipeline_tag")),
        library_name=_as_str(meta.get("library_name")),
        tags=as_str_list(meta.get("tags")),
        license=as_str_list(meta.get("license")),
        license_name=_as_str(meta.get("license_name")),
        license_link=_as_str(meta.get("license_link")),
        new_version=_as_str(meta.get("new_version")),
        widget_examples=len(widget) if isinstance(widget, list) else 0,
        chat_template=_chat_template(snapshot),
        gated=gated,
        gating_fields=gating,
        config=config,
        weights=read_weights(snapshot),
        files=tuple(snapshot.files),
        parameter_mentions=_parameter_mentions(body, body.lower(), offset),
    )


def facts_from_snapshot(snapshot: RepoSnapshot) -> CardFacts:
    """Parse the README's front matter and extract facts: one call for the orchestrator."""
    from licenses.engine.frontmatter import parse_front_matter

    return extract_facts(snapshot, parse_front_matter(snapshot.readme or ""))
