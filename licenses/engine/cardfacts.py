"""Structured facts about a model repository, read from its card, configs and weight headers.

Transparency scoring, data-disclosure levels and openness ratings all ask the same
questions of a repository ("is there a training-data section?", "which datasets are
named?", "is a paper linked?", "how many parameters?"). This module answers them once,
so the scorers are small rule tables over :class:`CardFacts` rather than regexes over
raw Markdown, and every answer keeps the place it came from (metadata key, section
heading and line, file) for the evidence shown to users.

The work is split by subject; this module is the facade that assembles :class:`CardFacts`
and re-exports the pieces the scorers and tests use:

* :mod:`licenses.engine.card_sections`: headings → template sections, placeholders, substance;
* :mod:`licenses.engine.card_links`: URLs and what they point to;
* :mod:`licenses.engine.card_metadata`: ``model-index``, ``co2_eq_emissions`` and other metadata;
* :mod:`licenses.engine.weights`: weight files, safetensors headers, parameter counts;
* :mod:`licenses.engine.keyword_probe`: :class:`Probe`, the keyword-gated regex the scorers use.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from licenses.engine.card_links import (  # noqa: F401  (re-exported)
    MAX_LINKS,
    Link,
    _sections_at_lines,
    classify_url,
    extract_links,
)
from licenses.engine.card_metadata import (  # noqa: F401  (re-exported)
    EvalResult,
    _as_str,
    _named,
    as_str_list,
    frozen_record,
    parse_co2,
    parse_model_index,
)
from licenses.engine.card_sections import (  # noqa: F401  (re-exported)
    CANONICAL_SECTIONS,
    EVALUATION_SECTIONS,
    SECTION_PATTERNS,
    Section,
    canonical_sections,
    normalise_heading,
    parse_sections,
    substance,
)
from licenses.engine.keyword_probe import KeyIndex, Probe
from licenses.engine.types import RepoSnapshot
from licenses.engine.weights import (  # noqa: F401  (re-exported)
    MAX_HEADER_FILES,
    WeightsInfo,
    json_object,
    read_weights,
    weight_files,
)

_json_text = json_object  # former name, kept for callers


class FrontMatterLike(Protocol):
    """What we need from ``licenses.engine.frontmatter.FrontMatter``."""

    metadata: dict
    body: str
    problems: tuple[str, ...]
    raw_yaml: str | None


_CONFIG_KEYS = ("architectures", "model_type", "torch_dtype", "transformers_version", "num_hidden_layers",
                "hidden_size", "num_attention_heads", "vocab_size", "max_position_embeddings",
                "quantization_config", "_class_name", "_diffusers_version")  # fmt: skip


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
        return lower_text(self.body)

    @functools.cached_property
    def body_index(self) -> KeyIndex | None:
        """Where every probe keyword occurs in :attr:`body_lower` (one pass for all probes).

        Built for every non-empty body, short ones included: the pass over a short body
        costs about what a few ``in`` tests do, and every probe then tests its keywords by
        dict lookups. ``None`` for an empty body.
        """
        return _body_index(self.body_lower)

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


_ASCII_BYTES = bytes(range(128))


def fold_via_bytes(text: str, fold: Callable[[str], str]) -> str:
    """``fold(text)`` for ``str.lower`` or ``str.casefold``, faster for text that is ASCII but for
    a few caseless characters.

    One emoji, curly quote or CJK character sends the fold down its per-character Unicode path
    for the whole text (about 5x the ASCII cost on real cards). Both folds map characters on
    their own (``lower``'s one exception, final sigma, is a cased letter) and never to less than
    one character, so when the non-ASCII characters, taken together, are their own fold, each one
    is (no Greek, Cyrillic or accented capitals, no ``İ``, which lengthens); folding the UTF-8
    bytes, which changes ASCII capitals only, then gives the same string.
    """
    if text.isascii():
        return text.lower()  # ASCII case folding is lower-casing
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return fold(text)
    others = raw.translate(None, _ASCII_BYTES).decode("utf-8")  # the non-ASCII characters, in order
    if fold(others) != others:
        return fold(text)
    return raw.lower().decode("utf-8")


def lower_text(text: str) -> str:
    """``text.lower()`` by way of ``fold_via_bytes``."""
    return fold_via_bytes(text, str.lower)


def _body_index(low: str) -> KeyIndex | None:
    return KeyIndex(low) if low else None


def _chat_template(snapshot: RepoSnapshot) -> str | None:
    for name in snapshot.texts:
        if name.rsplit("/", 1)[-1] == "tokenizer_config.json":
            tpl = json_object(snapshot.texts, name).get("chat_template")
            if (isinstance(tpl, str) and tpl.strip()) or (isinstance(tpl, list) and tpl):
                return f"file:{name}"
    for name in snapshot.files:
        if name.rsplit("/", 1)[-1] in ("chat_template.jinja", "chat_template.json"):
            return f"file:{name}"
    return None


#: ``\d(?<!\w\d)... | (?:p(?<!\wp)arameters?|p(?<!\wp)arams?|m(?<!\wm)odel size)...`` with the first
#: character taken as one class (``[\dpm]``) and each branch checking it with a lookbehind:
#: the same matches, but ``re`` can skip to the next digit, ``p`` or ``m`` instead of trying
#: the digit branch at every position (short cards are scanned whole). Its word boundaries are
#: ASCII-aware (``[0-9a-z_]`` for ``\w``, see keyword_probe.WORD_START): "模型共7b parameters".
_PARAM_MENTION = Probe(
    r"[\dpm](?:(?<=\d)(?<![0-9a-z_]\d)\d*(?:[.,]\d+)?\s*(?:[bmk]|billion|million|thousand)(?![0-9a-z_])[\s-]*"
    r"(?:parameters?|params?)(?![0-9a-z_])"
    r"|(?:(?<=p)(?<![0-9a-z_]p)arameters?|(?<=p)(?<![0-9a-z_]p)arams?|(?<=m)(?<![0-9a-z_]m)odel size)"
    r"\s*[:=|]?\s*\**\s*\d+(?:[.,]\d+)?\s*(?:[bmk]|billion|million)(?![0-9a-z_]))",
    ("param", "model size"),
)


def _parameter_mentions(
    body: str, low: str, line_offset: int, index: KeyIndex | None = None
) -> tuple[tuple[str, int], ...]:
    if _PARAM_MENTION.absent_in(index):
        # neither keyword in the body (most cards): the probe would yield nothing, and
        # starting its generator cost more than this set test
        return ()
    found: list[tuple[str, int]] = []
    source = body if len(body) == len(low) else low
    # matches come in ascending order: count lines on from the previous one, not from the start
    line = 1 + line_offset
    pos = 0
    for m in _PARAM_MENTION.finditer(low, index):
        start = m.start()
        line += low.count("\n", pos, start)
        pos = start
        found.append((source[start : m.end()][:80], line))
        if len(found) >= 5:
            break
    return tuple(found)


_BIBTEX = re.compile(r"@(inproceedings|article|misc|techreport|book|incollection|phdthesis|conference)\s*\{",
                     re.IGNORECASE)  # fmt: skip


def body_line_offset(readme: str, has_front_matter: bool) -> int:
    """README lines before the body: the front-matter block, fences included.

    Recomputed from the README rather than from the parsed YAML so evidence line numbers
    do not depend on how the front-matter parser normalises its raw text. The opening
    ``---`` is the first non-blank line; the block ends at the next line that is exactly
    ``---`` (carriage returns aside), found with ``str.find`` rather than line by line.
    """
    if not has_front_matter:
        return 0
    pos = 0
    while True:  # skip blank lines, then expect the opening fence
        end = readme.find("\n", pos)
        line = (readme[pos:] if end == -1 else readme[pos:end]).rstrip("\r")
        if line.strip() != "":
            break
        if end == -1:
            return 0
        pos = end + 1
    if line.rstrip(" \t") != "---" or end == -1:
        return 0
    i = end
    while True:
        i = readme.find("\n---", i)
        if i == -1:
            return 0
        k = readme.find("\n", i + 4)
        if (readme[i + 4 :] if k == -1 else readme[i + 4 : k]).rstrip("\r") == "":
            return readme.count("\n", 0, i + 1) + 1
        i += 1


def _bibtex_types(body: str) -> tuple[str, ...]:
    """BibTeX entry types in the body, lower-cased, first occurrence first.

    Every match starts with ``@``: most cards hold none, and ``in`` finds that out faster
    than the case-insensitive scan and the generator that ran on every card.
    """
    if "@" not in body:
        return ()
    return tuple(dict.fromkeys(t.lower() for t in _BIBTEX.findall(body)))


def extract_facts(snapshot: RepoSnapshot, front: FrontMatterLike) -> CardFacts:
    """Collect every card fact of ``snapshot``; never raises on odd metadata."""
    meta: dict[str, Any] = front.metadata if isinstance(front.metadata, dict) else {}
    body = front.body or ""
    offset = body_line_offset(snapshot.readme or "", front.raw_yaml is not None)
    body_lower = lower_text(body)
    sections, headings = parse_sections(body, offset, body_lower)
    index = _body_index(body_lower)
    links = extract_links(body, sections, offset, body_lower, index)
    # (a card without links, about a quarter of typical cards, skips the generator and its dict)
    linked = (
        tuple(
            dict.fromkeys(
                link.target
                for link in links
                if link.kind == "hf-dataset" and link.target and link.section not in EVALUATION_SECTIONS
            )
        )
        if links
        else ()
    )
    gating = tuple(sorted(k for k in meta if isinstance(k, str) and k.startswith("extra_gated_")))
    gated_value = meta.get("gated")
    gated = bool(gating) or (gated_value not in (None, False, "false", "False", "no"))
    widget = meta.get("widget")
    config = json_object(snapshot.texts, "config.json") or json_object(snapshot.texts, "model_index.json")
    # the record built at once (see frozen_record), with what the cached properties would
    # compute again: the lower-cased body and its keyword index
    return frozen_record(
        CardFacts,
        {
            "repo_id": snapshot.id,
            "has_readme": snapshot.readme is not None,
            "has_front_matter": front.raw_yaml is not None,
            "metadata": meta,
            "problems": tuple(front.problems),
            "body": body,
            "body_line_offset": offset,
            "sections": sections,
            "headings": headings,
            "links": links,
            "bibtex_types": _bibtex_types(body),
            "datasets": as_str_list(meta.get("datasets")),
            "linked_datasets": linked,
            "eval_results": parse_model_index(meta.get("model-index")),
            "co2_eq_emissions": parse_co2(meta.get("co2_eq_emissions")),
            "base_models": as_str_list(meta.get("base_model")),
            "base_model_relation": _as_str(meta.get("base_model_relation")),
            "languages": as_str_list(meta.get("language")),
            "pipeline_tag": _as_str(meta.get("pipeline_tag")),
            "library_name": _as_str(meta.get("library_name")),
            "tags": as_str_list(meta.get("tags")),
            "license": as_str_list(meta.get("license")),
            "license_name": _as_str(meta.get("license_name")),
            "license_link": _as_str(meta.get("license_link")),
            "new_version": _as_str(meta.get("new_version")),
            "widget_examples": len(widget) if isinstance(widget, list) else 0,
            "chat_template": _chat_template(snapshot),
            "gated": gated,
            "gating_fields": gating,
            "config": config,
            "weights": read_weights(snapshot),
            "files": tuple(snapshot.files),
            "parameter_mentions": _parameter_mentions(body, body_lower, offset, index),
            "memo": {},
            "body_lower": body_lower,
            "body_index": index,
        },
    )


def facts_from_snapshot(snapshot: RepoSnapshot) -> CardFacts:
    """Parse the README's front matter and extract facts: one call for the orchestrator."""
    from licenses.engine.frontmatter import parse_front_matter

    return extract_facts(snapshot, parse_front_matter(snapshot.readme or ""))
