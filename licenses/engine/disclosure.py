"""Training-data disclosure level (contract: ``data.datasets``, ``data.disclosure_level``).

The level is a ladder; each rung needs the ones below it, so a higher number always
means strictly more is known about the data:

0. nothing: no dataset named and no training-data section with content.
1. identified: a dataset is named (``datasets:`` metadata, or a huggingface.co/datasets link
   outside the evaluation sections), or a Training Data section has real content.
2. described: level 1, and the training-data text (Training Data / Training Details
   sections plus "trained on ..." sentences anywhere) describes at least two of: size
   (a number with a unit such as tokens, examples, GB), languages, time range (years,
   cutoffs), collection method or source type (crawled, annotated, synthetic,
   Wikipedia ...). A card that only names Hub datasets also reaches 2 when every named
   dataset is in the licence table, i.e. documented by its own dataset card.
3. licensed: level 2, at least one dataset named, and every named dataset's licence is
   known (dataset-card declaration or Data Provenance Initiative verification).
4. open: level 3, every named dataset is under an open licence (OSI or open-content,
   verified terms winning over declared ones), and the card does not mention
   proprietary, internal or undisclosed data.

The level speaks about the data this card names. For a derivative (``base_model`` set)
the base model's pretraining data is out of its reach; ``scope`` says so.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from typing import Any

import ahocorasick_rs

from licenses.engine.cardfacts import CardFacts, Probe, Section
from licenses.engine.datasets import DatasetLicense, DatasetLicenses, bundled
from licenses.engine.keyword_probe import WORD_BOUNDARY, KeyIndex, at_word_start
from licenses.engine.quoting import listed

LEVEL_NAMES = ("none", "identified", "described", "licensed", "open")

_DATA_SECTIONS = ("Training Data", "Training Details")
_TRAINED_ON = Probe(
    at_word_start("pre-?trained", "trained", "fine-?tuned", "instruction-tuned")
    + r"\s+(?:\w+\s+){0,3}on(?![0-9a-z_])|training (?:data|corpus|set)",
    ("trained", "tuned", "training"),
)
#: Where a ``_TRAINED_ON`` match can start, relative to each occurrence of a keyword that every
#: match contains: "trained" (t-rained, pre-trained, pretrained), "tuned" (fine-tuned, finetuned,
#: instruction-tuned), "training".
_TRAINED_ON_STARTS = (("trained", (0, 3, 4)), ("tuned", (4, 5, 12)), ("training", (0,)))


def _trained_on(low: str, index: KeyIndex | None) -> Iterable[re.Match[str]]:
    """``_TRAINED_ON.finditer(low, index)``, the same matches found faster.

    A short text is scanned whole by the probe, and ``re`` then stops at every p, t, f and i
    of the card (its only way to skip ahead), which made this the dearest search of the
    disclosure step; a long one is scanned the same way in a window around every keyword.
    Every match contains one of the keywords at a known offset from its start, so the pattern
    is tried only at those offsets: left to right, a match consuming the text it spans, which
    is what ``finditer`` over the whole text (or over each window) yields.
    """
    if index is not None and not index.covers.issuperset(_TRAINED_ON.keys):
        index = None  # as the probe does: an index that lacks a keyword is not read
    if len(low) <= _TRAINED_ON.SMALL:
        # what the probe does with a short text: one scan of all of it when a keyword occurs
        # (most cards), here without its generator; no keyword gives no start and no match
        return _matches_from(low, sorted(_trained_on_starts(low, index)), 0, len(low))
    starts: list[int] | None = None

    def scan(a: int, b: int) -> list[re.Match[str]]:
        nonlocal starts
        if starts is None:
            starts = sorted(_trained_on_starts(low, index))
        return _matches_from(low, starts, a, b)

    return list(_TRAINED_ON.finditer(low, index, scan))


def _trained_on_starts(low: str, index: KeyIndex | None) -> set[int]:
    """Every offset where a ``_TRAINED_ON`` match can start, from the keyword positions
    (``index``: the text's keyword index, knowing every keyword; else ``str.find``)."""
    starts: set[int] = set()
    for key, offsets in _TRAINED_ON_STARTS:
        if index is not None:
            hits = index.positions.get(key)
            if not hits:
                continue
        else:
            hits = []
            i = low.find(key)
            while i != -1:
                hits.append(i)
                i = low.find(key, i + 1)
        # one ``update`` per offset: most cards hold only "training", whose offset is 0
        for k in offsets:
            starts.update([i - k for i in hits] if k else hits)
    return starts


def _matches_from(low: str, starts: list[int], a: int, b: int) -> list[re.Match[str]]:
    """``_TRAINED_ON.rx.finditer(low, a, b)`` tried only at ``starts`` (sorted) within ``[a, b)``."""
    found = []
    pos = a
    match = _TRAINED_ON.rx.match
    for start in starts[bisect.bisect_left(starts, a) :]:
        if start >= b:
            break
        if start >= pos:
            m = match(low, start, b)
            if m is not None:
                found.append(m)
                pos = m.end()
    return found


#: An accelerator's name (training hardware for transparency; GPU memory is not data size here). It
#: closes with the two-sided boundary: "tpu ?v?\d*" can end on a space ("tpu pod"), where ``\b``
#: looked at the next word, so the match (and its evidence) is the same on ASCII text.
ACCELERATOR = Probe(at_word_start("a100", "h100", "h800", "h200", "h20", "v100", "a10g?", "a6000", "a40", "l40s?", "t4",
                                "p100", r"rtx ?\d{4}", r"mi\d{3}x?", r"tpu ?v?\d*", r"gaudi\d?", "trainium",
                                "inferentia", "gh200", "b200", "3090", "4090") + WORD_BOUNDARY,
                  ("a100", "h100", "h800", "h200", "h20", "v100", "a10", "a6000", "a40", "l40", "t4", "p100", "rtx",
                   "mi2", "mi3", "tpu", "gaudi", "trainium", "inferentia", "b200", "3090", "4090"))  # fmt: skip
#: Before a number of hours, words that make it a duration ("for 5 hours", "took about 2 hours",
#: "(about 6 hours"); after it, ones that do ("2 hours to train", "10 hours of training").
_DURATION_BEFORE = re.compile(r"(?:(?<![0-9a-z_])(?:for|in|taking|took|takes?|spent|lasted|lasting|within|after)|\(|days? (?:&|and)|trained\W{1,4})\s*"
                              r"(?:~|about|around|approx(?:imately|\.)?|roughly|nearly|almost|just|only|over|under)?\s*~?$")  # fmt: skip
_DURATION_AFTER = re.compile(r"\s*(?:to (?:train|fine-?tune)|of (?:training|fine-?tuning|finetuning|compute|gpu)"
                             r"(?! ?(?:data|sets?(?![0-9a-z_])|splits?|corpus|audio|speech)))")  # fmt: skip
#: A storage size that is an accelerator's memory: followed by a memory/GPU word ("80gb gpus",
#: "25gb of ram", "16 gb v100") or right after an accelerator name ("a100 80gb", "a100-sxm4-40gb").
_MEMORY_AFTER = re.compile(r"\)?\s*(?:of\s+)?(?:v?ram(?![0-9a-z_])|memory|gpus?(?![0-9a-z_])|vram|hbm)")
_STORAGE_UNIT = re.compile(r"(?:gb|tb|mb|gib|tib|pb)$")


def is_data_size(low: str, m: re.Match[str]) -> bool:
    """A size descriptor that measures data: not how long training took ("trained for 5 hours",
    "took 2 hours") nor an accelerator's memory ("a100 80gb", "24 gb vram")."""
    unit = m.group(0)
    start, end = m.start(), m.end()
    if unit.endswith("hours"):
        return not (
            _DURATION_BEFORE.search(low, max(0, start - 40), start) or _DURATION_AFTER.match(low, end)
        )
    if _STORAGE_UNIT.search(unit):
        if _MEMORY_AFTER.match(low, end) or ACCELERATOR.rx.match(
            low, end + 1 if low[end : end + 1] == " " else end
        ):
            return False
        # (the line's start only within those 20 characters: a long line is not searched per size)
        line_start = low.rfind("\n", max(0, start - 20), start) + 1
        if ACCELERATOR.rx.search(low, max(line_start, start - 20), start):
            return False
    return True


#: What "described" looks for in the training-data text (lower-cased). ``x(?<![0-9a-z_]x)`` is
#: ``\bx`` spelled so re can skip ahead to candidate first characters, and ``(?![0-9a-z_])`` is a
#: closing ``\b``; both ASCII-aware, so "22gb预训练数据" states a size (see keyword_probe).
DESCRIPTORS: dict[str, Probe] = {
    # ``*+`` (possessive): digits or spaces given back could only be taken by a unit (none starts
    # with a digit, dot, comma or space) or the second ``\s*``, so re skips retries that cannot
    # change the match; the matches are those of plain ``*``
    "size": Probe(
        r"\d(?<![0-9a-z_]\d)[\d.,]*+\s*+(?:k|m|b|t|thousand|million|billion|trillion)?\+?\s*"
        r"(?:tokens?|words|sentences|documents|docs|examples|samples|images|image-text pairs|pairs|hours"
        r"|conversations|dialogues|instructions|rows|records|files|pages|articles|utterances|clips|videos"
        r"|books|gb|tb|mb|gib|tib|pb)(?![0-9a-z_])",
    ),
    "languages": Probe(
        r"(?<![0-9a-z_])(?:english|chinese|mandarin|french|german|spanish|japanese|korean|russian|arabic|hindi|portuguese"
        r"|italian|dutch|turkish|vietnamese|indonesian|polish|danish|swedish|multilingual|bilingual"
        r"|\d+\s+(?:natural\s+)?languages|programming languages)(?![0-9a-z_])|(?<![0-9a-z_])languages?:\b",
    ),
    "time_range": Probe(
        r"1(?<![0-9a-z_]1)9[89]\d(?![0-9a-z_])|2(?<![0-9a-z_]2)0[0-4]\d(?![0-9a-z_])|cut-?off|knowledge cutoff"
        r"|up to (?:january|february|march|april|may|june|july|august|september|october|november|december)",
    ),
    "collection": Probe(
        r"crawl|scrap|collected|gathered|sourced from|curated|filter|deduplicat|annotat|synthetic"
        r"|generated (?:by|with|using)|publicly available|web (?:data|pages|text)|wikipedia|common ?crawl"
        r"|github|books|arxiv|stack ?exchange|reddit|news|forums?|transcri|licensed data",
    ),
}
#: Substrings every match of a descriptor holds (each language word; "languag" for the rest):
#: without one the whole-text search cannot match and is skipped. Only the language descriptor,
#: a long alternation ``re`` cannot skip through, is gated; the answer is the same either way.
_DESCRIPTOR_GATES: dict[str, tuple[str, ...]] = {
    "languages": ("english", "chinese", "mandarin", "french", "german", "spanish", "japanese", "korean",
                  "russian", "arabic", "hindi", "portuguese", "italian", "dutch", "turkish", "vietnamese",
                  "indonesian", "polish", "danish", "swedish", "multilingual", "bilingual", "languag"),
}  # fmt: skip
_UNDISCLOSED = Probe(
    r"proprietary|internal data|in-house|private data(?:set)?s?|undisclosed|not (?:publicly )?(?:released|disclosed)"
    r"|third-party (?:data|vendors)|licensed from",
    ("proprietary", "internal", "in-house", "private", "undisclosed", "not ", "third-party", "licensed from"),
)

RULE = (
    "0 none; 1 a dataset is named or a Training Data section has content; 2 and >=2 of size/languages/"
    "time range/collection described (or every named dataset documented by a dataset card); 3 and every "
    "named dataset's licence known; 4 and all named datasets openly licensed, no proprietary data mentioned"
)


def filled_sections(facts: CardFacts) -> dict[str, Section]:
    """The sections the card fills in (those ``CardFacts.section`` answers), by name, once per
    card: the disclosure, transparency and openness rules look many up, by plain dict access."""
    found = facts.memo.get("filled_sections")
    if found is None:
        found = facts.memo["filled_sections"] = {n: s for n, s in facts.sections.items() if s.substantive}
    return found


def training_data_text(facts: CardFacts) -> str:
    """Training Data / Training Details sections plus "trained on ..." lines elsewhere."""
    cached = facts.memo.get("training_data_text")
    if cached is not None:
        return cached
    filled = filled_sections(facts)
    parts = [sec.text for name in _DATA_SECTIONS if (sec := filled.get(name)) is not None]
    low = facts.body_lower
    source = facts.body if len(facts.body) == len(low) else low
    last_end = -1
    for m in _trained_on(low, facts.body_index):
        if m.start() <= last_end:
            continue
        start = low.rfind("\n", 0, m.start()) + 1
        end = low.find("\n", m.end())
        last_end = len(low) if end == -1 else end
        parts.append(source[start:last_end])
    text = "\n".join(parts)
    facts.memo["training_data_text"] = text
    return text


def training_data_lower(facts: CardFacts) -> str:
    """:func:`training_data_text` lower-cased, once per card."""
    low = facts.memo.get("training_data_lower")
    if low is None:
        low = facts.memo["training_data_lower"] = training_data_text(facts).lower()
    return low


def descriptor_matches(facts: CardFacts) -> dict[str, re.Match[str] | None]:
    """Each :data:`DESCRIPTORS` probe's match in the training-data text, once per card
    (the transparency indicators for data size and acquisition ask the same question)."""
    found = facts.memo.get("descriptor_matches")
    if found is None:
        low = training_data_lower(facts)
        # most cards have no training-data text: the answers for "" are computed once
        found = facts.memo["descriptor_matches"] = (
            _descriptor_search(low) if low else dict(_EMPTY_TEXT_MATCHES)
        )
    return found


def _descriptor_search(low: str) -> dict[str, re.Match[str] | None]:
    found = {name: _gated_search(name, rx, low) for name, rx in DESCRIPTORS.items()}
    size = found["size"]
    if size is not None and not is_data_size(low, size):
        # the first size was a duration or a GPU's memory: a later one may be the data's
        found["size"] = next(
            (m for m in DESCRIPTORS["size"].rx.finditer(low, size.end()) if is_data_size(low, m)), None
        )
    return found


def _gated_search(name: str, probe: Probe, low: str) -> re.Match[str] | None:
    """``probe.search(low)``, skipped when none of the descriptor's gate substrings occurs
    (the language descriptor is tried only where a match can start: :func:`_language_search`)."""
    gate = _DESCRIPTOR_GATES.get(name)
    if gate is not None:
        if name == "languages":
            return _language_search(probe.rx, low)
        for key in gate:
            if key in low:
                break
        else:
            return None
    return probe.search(low)


#: Every substring a language-descriptor match starts with or is found from: the gate's
#: words, found in one pass (23 ``str.find`` scans cost ~4x as much on long texts).
_LANGUAGE_KEYS = ahocorasick_rs.AhoCorasick(
    _DESCRIPTOR_GATES["languages"],
    matchkind=ahocorasick_rs.MatchKind.Standard,
    implementation=ahocorasick_rs.Implementation.DFA,
)
_LANGUAG = _DESCRIPTOR_GATES["languages"].index("languag")
_PROGRAMMING = len("programming ")


def _language_search(rx: re.Pattern[str], low: str) -> re.Match[str] | None:
    """``rx.search(low)`` for the language descriptor, tried only where a match can start.

    The pattern opens with ``\\b``, so ``re`` attempts a match at every position of the
    text (the dearest descriptor on long training-data texts; ``x(?<!\\wx)`` spellings are
    slower still, two dozen first letters being most of the alphabet). Every match starts at
    a language word, at "languag" ("languages:"), 12 characters before it ("programming
    languages"), or in the run of digits, spaces and letters of "natural" just before it
    ("12 natural languages"). The leftmost of those candidates where ``rx`` matches is where
    the search would stop; surplus candidates only cost a failed attempt.
    """
    match = rx.match
    for start in sorted(_language_starts(low)):
        m = match(low, start)
        if m is not None:
            return m
    return None


def _language_starts(low: str) -> set[int]:
    """The candidate starts of :func:`_language_search` (a superset of the match starts)."""
    starts: set[int] = set()
    add = starts.add
    for key, i, _ in _LANGUAGE_KEYS.find_matches_as_indexes(low, overlapping=True):
        add(i)
        if key != _LANGUAG:
            continue
        if i >= _PROGRAMMING:
            add(i - _PROGRAMMING)
        j = i
        while j > 0 and ((c := low[j - 1]).isspace() or c.isdigit() or c in "natural"):
            j -= 1
            add(j)
    return starts


_EMPTY_TEXT_MATCHES = _descriptor_search("")


def _descriptors(facts: CardFacts) -> dict[str, str]:
    """What the training-data text describes (size, languages ...): the start of each match."""
    return {name: m.group(0).strip()[:60] for name, m in descriptor_matches(facts).items() if m}


def _license_row(ds: str, hit: DatasetLicense | None) -> dict[str, Any]:
    if hit is None:
        return {"id": ds, "license": None, "commercial": "unknown", "open": None, "source": None}
    row = {
        "id": ds,
        "license": hit.license,
        "commercial": hit.commercial,
        "open": hit.open,
        "source": hit.source,
    }
    if hit.verified:
        row["verified"] = list(hit.verified)
    return row


#: Names quoted per evidence line (real cards name up to a few dozen); the rest are counted. The list is the card's as
#: written: 40,000 YAML aliases of one name made this one line 6 MB of the stored analysis.
EVIDENCE_NAMES = 64


#: Distinct datasets judged (licence looked up, listed in ``datasets`` and ``dataset_licenses``);
#: real cards name up to a few dozen. 20,000 dataset links in a 1 MB body made those two lists
#: 2.2 MB of the stored analysis; the rest are counted (``datasets_named``, ``datasets_ignored``).
MAX_DATASETS = 256
#: Longest dataset id judged: a Hub id is a namespace and a name of at most 96 characters each.
MAX_DATASET_ID_CHARS = 200


def judged_datasets(facts: CardFacts) -> tuple[tuple[str, ...], dict[str, int]]:
    """The datasets the card names that are judged, and what was not (empty when nothing was cut):
    ``datasets_named`` (distinct ids), ``datasets_ignored`` (past ``MAX_DATASETS``),
    ``datasets_too_long`` (ids over ``MAX_DATASET_ID_CHARS``, never an id)."""
    named = facts.all_datasets
    fitting = tuple(ds for ds in named if len(ds) <= MAX_DATASET_ID_CHARS)
    judged = fitting[:MAX_DATASETS]
    if len(judged) == len(named):
        return named, {}
    cut = {"datasets_named": len(named), "datasets_ignored": len(fitting) - len(judged)}
    if len(fitting) < len(named):
        cut["datasets_too_long"] = len(named) - len(fitting)
    return judged, cut


def dataset_problems(data: dict[str, Any]) -> list[str]:
    """Card problems saying which named datasets the analysis did not judge."""
    problems = []
    if data.get("datasets_ignored"):
        problems.append(
            f"{data['datasets_named']:,} datasets named; only the first {MAX_DATASETS} are judged "
            f"({data['datasets_ignored']:,} ignored)"
        )
    if data.get("datasets_too_long"):
        problems.append(
            f"{data['datasets_too_long']:,} dataset ids longer than {MAX_DATASET_ID_CHARS} characters: "
            "not dataset ids, ignored"
        )
    return problems


def assess_disclosure(facts: CardFacts, datasets: DatasetLicenses | None = None) -> dict[str, Any]:
    """Disclosure level 0-4 with the evidence for each rung reached; see the module docstring."""
    table = datasets if datasets is not None else bundled()
    named, cut = judged_datasets(facts)
    evidence: list[dict[str, Any]] = []
    hits = {ds: table.lookup(ds) for ds in named}
    rows = [_license_row(ds, hits[ds]) for ds in named]
    noncommercial = [ds for ds in named if hits[ds] is not None and hits[ds].commercial == "no"]

    filled = filled_sections(facts)
    data_section = filled.get(_DATA_SECTIONS[0]) or filled.get(_DATA_SECTIONS[1])
    descriptors = _descriptors(facts)

    level = 0
    if facts.datasets:
        evidence.append(
            {
                "level": 1,
                "source": "metadata",
                "detail": "datasets: " + listed(facts.datasets, shown=EVIDENCE_NAMES),
            }
        )
    if facts.linked_datasets:
        evidence.append(
            {
                "level": 1,
                "source": "body",
                "detail": "dataset links: " + listed(facts.linked_datasets, shown=EVIDENCE_NAMES),
            }
        )
    if data_section is not None:
        evidence.append({"level": 1, "source": "body",
                         "detail": f"section '{data_section.headings[0]}' (line {data_section.line})"})  # fmt: skip
    if named or data_section is not None:
        level = 1
        documented = bool(named) and all(hits[ds] is not None for ds in named)
        if len(descriptors) >= 2:
            level = 2
            detail = "; ".join(f"{k}: {v}" for k, v in descriptors.items())
            evidence.append({"level": 2, "source": "body", "detail": f"training data described ({detail})"})
        elif documented:
            level = 2
            evidence.append({"level": 2, "source": "dataset-cards",
                             "detail": "every named dataset is documented by a dataset card"})  # fmt: skip
        known = bool(named) and all(
            hits[ds] is not None and (hits[ds].license or hits[ds].verified) for ds in named
        )
        if level == 2 and known:
            level = 3
            evidence.append({"level": 3, "source": "dataset-licenses",
                             "detail": listed((f"{r['id']}: {r.get('verified') or r['license']}" for r in rows), "; ", EVIDENCE_NAMES)})  # fmt: skip
            undisclosed = _UNDISCLOSED.search(training_data_lower(facts))
            if all(hits[ds].open for ds in named) and undisclosed is None:  # type: ignore[union-attr]
                level = 4
                evidence.append({"level": 4, "source": "dataset-licenses",
                                 "detail": "all named datasets are openly licensed"})  # fmt: skip
            elif undisclosed is not None:
                evidence.append({"level": 4, "source": "body", "met": False,
                                 "detail": f"card mentions '{undisclosed.group(0)}' data"})  # fmt: skip
    return {
        "datasets": list(named),
        **cut,
        "disclosure_level": level,
        "level_name": LEVEL_NAMES[level],
        "evidence": evidence,
        "descriptors": descriptors,
        "dataset_licenses": rows,
        "noncommercial_datasets": noncommercial,
        "scope": "end-model" if facts.base_models else "model",
        "rule": RULE,
    }
