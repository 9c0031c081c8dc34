"""Transparency index (contract: ``transparency.score`` and ``transparency.indicators``).

Each indicator approximates one indicator of the Foundation Model Transparency Index
that a public repository can show (the table, with FMTI ids, rule text and weights, is
``licenses/data/transparency_indicators.yaml``). This module holds one small rule per
indicator id; each returns the evidence (metadata key, section and line, file) when the
indicator is met and ``None`` otherwise, so a user can check the verdict. The table and
the rules must cover the same ids: a mismatch raises at load time rather than silently
scoring fewer items.

Every card is asked all ~36 questions, so the per-card path is kept lean: rules test the
cheap metadata facts before any text search, sections are looked up in one dict of the
filled-in ones, every body search reads one keyword index of the card, and the result
records are copies of per-indicator templates built once from the table. The body probes
whose patterns open with many alternatives, or with a number, are tried only where a match
can start (:class:`_Anchored`), found in that same index.
"""

from __future__ import annotations

import bisect
import functools
import re
import re._constants as _sre_constants  # the parsed form of a pattern, to read its literals
import re._parser as _sre_parser
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from licenses.engine.cardfacts import CardFacts, Probe, Section
from licenses.engine.disclosure import (
    ACCELERATOR as _HARDWARE,
)
from licenses.engine.disclosure import (
    assess_disclosure,
    descriptor_matches,
    filled_sections,
    training_data_lower,
)
from licenses.engine.keyword_probe import WORD_BOUNDARY, WORD_END, KeyIndex, at_word_start
from licenses.engine.quoting import quote

TABLE_PATH = Path(__file__).resolve().parent.parent / "data" / "transparency_indicators.yaml"

Rule = Callable[["_Ctx"], "str | None"]


class _Ctx:
    """Inputs of one assessment, with what several rules read computed once."""

    __slots__ = ("_aup", "_disclosure", "covered", "facts", "index", "license_class", "license_key", "low",
                 "present", "sections")  # fmt: skip

    def __init__(self, facts: CardFacts, key: str | None, cls: str | None, disclosure: dict | None):
        self.facts = facts
        self.license_key = key
        self.license_class = cls
        self._disclosure = disclosure
        self._aup: str | bool | None = False  # ``files(_AUP_FILE)``, asked by three rules; False: not yet
        self.sections = filled_sections(facts)
        # what every whole-body search reads, fetched once instead of per search
        self.low = facts.body_lower
        index = self.index = facts.body_index
        self.present: Mapping[str, object] = index.positions if index is not None else {}
        self.covered = _covered_probes(index.covers) if index is not None else frozenset()

    @property
    def disclosure(self) -> dict[str, Any]:
        if self._disclosure is None:
            self._disclosure = assess_disclosure(self.facts)
        return self._disclosure

    @property
    def training_lower(self) -> str:
        return training_data_lower(self.facts)

    def section(self, *names: str) -> Section | None:
        sections = self.sections
        for name in names:
            sec = sections.get(name)
            if sec is not None:
                return sec
        return None

    def grep(self, probe: Probe, *sections: str) -> str | None:
        """Evidence for the first match of ``probe`` in the named sections, or the whole body."""
        if sections:
            found = self.sections
            for name in sections:
                sec = found.get(name)
                if sec is not None:
                    m = probe.search(sec.lower)
                    if m:
                        return f"section '{sec.headings[0][:60]}' (line {sec.line}): {_snippet(sec.text, sec.lower, m)}"
            return None
        return self.grep_body(probe)

    def grep_body(self, probe: Probe) -> str | None:
        """``grep(probe)`` over the whole body: the call rules make most (a dozen per card,
        nearly all answered by the keyword index's "no such key"), so it takes no ``*sections``."""
        low = self.low
        if not low:
            return None
        # ``probe.absent_in(index)`` with the coverage test answered once per card for all probes
        if probe in self.covered and probe.keyset.isdisjoint(self.present):
            return None
        anchored = _ANCHORED.get(probe)
        m = anchored.search(low, self.index) if anchored is not None else probe.search(low, self.index)
        if not m:
            return None
        line = low.count("\n", 0, m.start()) + 1 + self.facts.body_line_offset
        return f"README line {line}: {_snippet(self.facts.body, low, m)}"

    def files(self, rx: re.Pattern[str]) -> str | None:
        for f in self.facts.files:
            if rx.search(f):
                return f"file: {f}"
        return None

    @property
    def aup_file(self) -> str | None:
        """``files(_AUP_FILE)``, searched once for the three rules that ask."""
        found = self._aup
        if found is False:
            found = self._aup = self.files(_AUP_FILE)
        return found  # type: ignore[return-value]


def _snippet(text: str, low: str, m: re.Match[str]) -> str:
    """Context around a match found in ``low``; from the original text when offsets agree."""
    source = text if len(text) == len(low) else low
    start = max(0, m.start() - 30)
    return " ".join(source[start : m.end() + 30].split())[:100]


def _sec_evidence(sec: Section | None) -> str | None:
    return f"section '{sec.headings[0][:60]}' (line {sec.line})" if sec is not None else None


# --- patterns ----------------------------------------------------------------------------

_I = re.IGNORECASE
# Body patterns are lower-case and run on the lower-cased card behind a keyword gate (Probe).
# ``x(?<![0-9a-z_]x)`` is ``\bx`` spelled so re can skip ahead to candidate first characters, and
# ``(?<![0-9a-z_])`` / ``(?![0-9a-z_])`` an opening / closing ``\b``: ASCII-aware, so English tokens
# count beside CJK text ("在8张a100上训练") as beside spaces (keyword_probe.WORD_START).
_COMPUTE = Probe(r"\d[\d.,]*\s*(?:x\s*10\^?\{?\d+\}?|e\+?\d+|[kmgtpez]|peta|exa|zetta)?\s*flops?(?![0-9a-z_])|petaflop|pf-days?"
                 r"|zettaflop|exaflop|training compute[^.\n]{0,30}\d", ("flop", "pf-day", "training compute"))  # fmt: skip
_DURATION = Probe(
    r"trained (?:between|from|over|for)(?![0-9a-z_])[^.\n]{0,40}?(?<![0-9a-z_])(?:days?|weeks?|months?|hours?|(?:19|20)\d\d)"
    r"|training (?:time|duration)|took (?:about |approximately |around )?\d+(?:\.\d+)? ?(?:days?|hours?|weeks?|months?)"
    r"|hours used:?\**\s*\d|model dates?(?![0-9a-z_])|(?<![0-9a-z_])\d+(?:\.\d+)? ?(?:days|hours|weeks) (?:of|on) (?:training|\d+)",
    (
        "trained between",
        "trained from",
        "trained over",
        "trained for",
        "training time",
        "training duration",
        "took ",
        "hours used",
        "model date",
        "days of",
        "days on",
        "hours of",
        "hours on",
        "weeks of",
        "weeks on",
    ),
)
_ENERGY = Probe(r"(?<![0-9a-z_])\d[\d.,]*\s*[kmgt]wh(?![0-9a-z_])|(?:power|energy) (?:consumption|usage|used)[^.\n(]{0,30}\d[\d.,]*\s*"
                r"(?:[kmgt]?wh|[km]?w(?![0-9a-z_])|watts?)", ("kwh", "mwh", "gwh", "twh", "power consumption", "power usage", "energy consumption",
                                                 "energy usage", "energy used"))  # fmt: skip
_CO2 = Probe(r"\d[\d.,]*\s*(?:t|kg|g|tons?|tonnes?|metric tons?)\s*(?:of\s*)?co2|co2\s?(?:eq|e)?" + WORD_BOUNDARY + r"[^.\n]{0,40}\d"
             r"|carbon emitted:?\**\s*\d|emissions? (?:were|of|was)[^.\n]{0,30}\d", ("co2", "carbon", "emission"))  # fmt: skip
_FRAMEWORK_WORDS = ("pytorch", "jax", "flax", "tensorflow", "megatron", "deepspeed", "fairseq", "nemo", "colossal",
                    "axolotl", "trl", "peft", "accelerate", "mosaicml", "llm-foundry", "gpt-neox", "t5x", "paxml",
                    "levanter", "unsloth")  # fmt: skip
_FRAMEWORKS = Probe(at_word_start("pytorch", "jax", "flax", "tensorflow", "megatron", "deepspeed", "fairseq", "nemo",
                                  "colossal-?ai", "axolotl", "trl", "peft", "accelerate", "mosaicml", "llm-foundry",
                                  "gpt-neox", "t5x", "paxml", "levanter", "unsloth") + WORD_END, _FRAMEWORK_WORDS)  # fmt: skip
_TRAIN_FILE = re.compile(r"(^|/)(train[^/]*\.(py|sh|ipynb)|finetun[^/]*\.(py|sh|ipynb)|training_args\.bin"
                         r"|[^/]*train[^/]*\.ya?ml|trainer_state\.json)$", _I)  # fmt: skip
_INPUT = Probe(
    at_word_start("inputs?")
    + r"(?![0-9a-z_])[^.\n]{0,50}(?<![0-9a-z_])(?:text|images?|audio|speech|video|tokens|code)(?![0-9a-z_])",
    ("input",),
)
_OUTPUT = Probe(at_word_start("outputs?") + r"(?![0-9a-z_])[^.\n]{0,50}(?<![0-9a-z_])(?:text|images?|audio|speech|video|code|embeddings?"
                r"|labels?|vectors?)(?![0-9a-z_])|" + at_word_start("generates? (?:text|images?|audio|speech|code)"),
                ("output", "generate"))  # fmt: skip
_FINETUNED_FROM = Probe(r"(?:fine-?tuned|finetuned|based on|derived from|built on|merge of|quantized "
                        r"(?:version )?of|trained from)[^.\n]{0,60}(?:huggingface\.co/|\[)",
                        ("tuned", "based on", "derived from", "built on", "merge of", "quantized", "trained from"))  # fmt: skip
#: What ``_SIZE_IN_NAME`` matches, as written; the compiled form takes the first digit before the
#: lookbehind (``\d(?<![a-z0-9]\d)`` is ``(?<![a-z0-9])\d``), so ``re`` skips to digits instead
#: of testing the lookbehind at every character of the name (the same matches; tested).
_SIZE_IN_NAME_SPEC = r"(?<![a-z0-9])\d+(?:\.\d+)?(?:x\d+)?[bm](?![a-z0-9])"
_SIZE_IN_NAME = re.compile(r"\d(?<![a-z0-9]\d)\d*(?:\.\d+)?(?:x\d+)?[bm](?![a-z0-9])", _I)
_ARCH_WORDS = Probe(at_word_start("transformer", "decoder-only", "encoder-decoder", "auto-?regressive",
                                  "mixture[- ]of[- ]experts", "moe" + WORD_END, "diffusion", "u-?net", "convolutional",
                                  "cnn" + WORD_END, "lstm", "rnn" + WORD_END, "state[- ]space", "mamba", "vit" + WORD_END, "bert",
                                  "llama architecture"),
                    ("transformer", "decoder", "encoder", "regressive", "experts", "moe", "diffusion", "unet", "u-net",
                     "convolutional", "cnn", "lstm", "rnn", "state space", "state-space", "mamba", "vit", "bert",
                     "llama architecture"))  # fmt: skip
#: What ``_DEEP_PROPS`` matches, as written; the probe runs the same alternatives behind one
#: leading character class (digit, h, c, v) so ``re`` skips to those characters instead of trying
#: five alternatives at every position (2x faster per window), each alternative reached only at
#: its own first character and in the same order, so the matches are the same (tested).
_DEEP_PROPS_SPEC = (r"\d(?<![0-9a-z_]\d)\d*\s*(?:layers|attention heads|heads)(?![0-9a-z_])|hidden (?:size|dim)[^.\n]{0,10}\d"
                    r"|context (?:length|window)[^.\n]{0,20}\d|vocab(?:ulary)? size[^.\n]{0,10}\d"
                    r"|\d+k? (?:token )?context")  # fmt: skip
_DEEP_PROPS = Probe(r"[\dhcv](?:(?<=\d)(?:(?<![0-9a-z_]\d)\d*\s*(?:layers|attention heads|heads)(?![0-9a-z_])|\d*k? (?:token )?context)"
                    r"|(?<=h)idden (?:size|dim)[^.\n]{0,10}\d|(?<=c)ontext (?:length|window)[^.\n]{0,20}\d"
                    r"|(?<=v)ocab(?:ulary)? size[^.\n]{0,10}\d)",
                    ("layers", "heads", "hidden", "context", "vocab"))  # fmt: skip
_DEMO = Probe(r"example (?:output|generation|conversation|response|prompt)s?|sample outputs?|###\s*(?:response|"
              r"assistant)|<\|assistant\|>|" + at_word_start("output:") + "|" + at_word_start("expected output"),
              ("example output", "example generation", "example conversation", "example response", "example prompt",
               "sample output", "### response", "###response", "### assistant", "###assistant", "<|assistant|>",
               "output:", "expected output"))  # fmt: skip
#: Named data sources (datasets, sites, corpora): "publicly available data" is not a source.
_NAMED_SOURCES = Probe(
    r"wikipedia|common ?crawl|github|arxiv|stack ?exchange|stackoverflow|reddit|laion|c(?<![0-9a-z_]c)4(?![0-9a-z_])"
    r"|the pile|refinedweb|redpajama|dolma|books3|gutenberg|pubmed|openwebtext|fineweb|the stack|slimpajama|wudao"
    r"|o(?<![0-9a-z_]o)scar(?![0-9a-z_])|m(?<![0-9a-z_]m)c4(?![0-9a-z_])|cc-?news|r(?<![0-9a-z_]r)oots(?![0-9a-z_])"
    r"|huggingface\.co/datasets|sharegpt|a(?<![0-9a-z_]a)lpaca(?![0-9a-z_])|f(?<![0-9a-z_]f)lan(?![0-9a-z_])"
    r"|openassistant|ultrachat|c(?<![0-9a-z_]c)oco(?![0-9a-z_])"
    r"|imagenet|librispeech|common voice|s(?<![0-9a-z_]s)quad(?![0-9a-z_])|g(?<![0-9a-z_]g)lue(?![0-9a-z_])"
)
_NUMBER = Probe(r"\d+\.\d+|\d+(?:\.\d+)?\s*%|\|\s*\d")
_RISK_WORDS = ("bias", "harm", "toxic", "misuse", "offensive", "unsafe", "risk", "hallucinat", "misinformation",
               "stereotyp", "inappropriate", "dangerous", "discriminat")  # fmt: skip
_RISK = Probe(r"b(?<![0-9a-z_]b)ias|harm|toxic|misuse|offensive|unsafe|r(?<![0-9a-z_]r)isks?(?![0-9a-z_])|hallucinat|misinformation|stereotyp"
              r"|inappropriate|dangerous|discriminat", _RISK_WORDS)  # fmt: skip
_AUP_FILE = re.compile(r"(^|/)(use_policy|acceptable[_-]use|aup|responsible[_-]use)[^/]*$", _I)
_LICENSE_FILE = re.compile(r"(^|/)(licen[cs]e|copying|model_license)[^/]*$", _I)
_CHANGELOG_FILE = re.compile(r"(^|/)(changelog|changes|history|release[_-]?notes)[^/]*$", _I)
_USERS = Probe(r"commercial use|research (?:use|purposes?)(?: only)?|non-?commercial|academic use|not for "
               r"commercial|for (?:researchers|developers|enterprises)|monthly active users",
               ("commercial", "research", "academic", "for researchers", "for developers", "for enterprises",
                "monthly active"))  # fmt: skip
_MUST_NOT = Probe(r"should not|must not|not (?:be )?(?:intended|suitable|used)|prohibited|do not use|forbidden",
                  ("not", "prohibited", "forbidden"))  # fmt: skip
# ``s(?<![^\n]s)tatus`` is ``^status`` under re.MULTILINE
_VERSION = Probe(r"v(?<![0-9a-z_]v)(?:ersion)?\s?\d+(?:\.\d+)*(?![0-9a-z_])|model dates?"
                 r"|2(?<![0-9a-z_]2)0\d\d-\d\d(?:-\d\d)?(?![0-9a-z_]) release|s(?<![^\n]s)tatus(?![0-9a-z_])")  # fmt: skip
#: What ``_VERSION_IN_NAME`` matches, as written (case-insensitive). The compiled form opens with
#: one class of the possible first characters, each branch checking it by lookbehind, and scopes
#: the case-insensitivity to the letter classes: a global ``re.I`` on a pattern opening with a
#: letter stops ``re`` from skipping ahead, so it tried every character of the name (2x slower).
_VERSION_IN_NAME_SPEC = r"(?<![a-z0-9])v\d+(?:\.\d+)*(?![a-z0-9])|[-_.](?:19|20)\d\d(?:[-_.]?\d\d)?(?![0-9])"
_VERSION_IN_NAME = re.compile(r"[-_.vV](?:(?<=[vV])(?<!(?i:[a-z0-9])[vV])\d+(?:\.\d+)*(?!(?i:[a-z0-9]))"
                              r"|(?<=[-_.])(?:19|20)\d\d(?:[-_.]?\d\d)?(?![0-9]))")  # fmt: skip
#: Words that tie an accelerator, a code link or a line to training (not inference or deployment).
_TRAINING_WORDS = re.compile(r"train|fine-?tun|finetun|epochs?(?![0-9a-z_])|gpu[- ]hours|hardware(?: type| used)?\W{0,3}[:：]"
                             r"|infrastructure|(?<![0-9a-z_])compute(?![0-9a-z_])|provid|训练|訓練|学習|ファインチューニング|ハードウェア")  # fmt: skip
#: Words of a Compute Infrastructure heading about running the model, not training it.
_RUNTIME_HEADING = re.compile(r"requirement|inference|deploy|serving|running|recommended")
#: What a line linking code must say for the link to count as training code (outside training sections).
_CODE_WORDS = re.compile(
    r"train|fine-?tun|finetun|tuning|(?<![0-9a-z_])code(?![0-9a-z_])|(?<![0-9a-z_])repo(?:sitory)?(?![0-9a-z_])"
    r"|implementation|recipe|scripts?(?![0-9a-z_])"
)
#: A parameter count as written ("7 billion", "13b", "3.8 b", "8x7b"): experts, number and unit.
_SIZE_VALUE = re.compile(r"(?:(\d+)x)?(\d+(?:[.,]\d+)?)\s*(billion|million|thousand|[bmk])", _I)
_SIZE_UNITS = {"b": 1e9, "billion": 1e9, "m": 1e6, "million": 1e6, "k": 1e3, "thousand": 1e3}

# "feedback" as a channel, not the training method ("human/AI feedback", RLHF) or a dataset's
# name ("UltraFeedback", "CodeFeedback"), which name no way to reach the developers
_FEEDBACK = Probe(r"(?<![a-z])(?<!human )(?<!ai )feedback|github\.com/[^\s)]+/issues|/discussions|discord\.(?:gg|com)|report (?:issues|bugs|a "
                  r"bug)|open an issue|contact us|reach out",
                  ("feedback", "/issues", "/discussions", "discord", "report issues", "report bugs", "report a bug",
                   "open an issue", "contact us",
                   "reach out"))  # fmt: skip
_RESPONSIBLE = Probe(r"responsible use guide|responsible ai|use responsibly|acceptable use policy",
                     ("responsib", "acceptable use"))  # fmt: skip
_QUANT_SECTION = Probe(
    at_word_start(
        "gguf", "gptq", "awq", "exl2", "bitsandbytes", "4-?bit", "8-?bit", "int4", "int8", "q4_k_m", "q8_0"
    )
    + WORD_END
)
_LOADING = Probe(r"from_pretrained\(|pipeline\(|llama\.cpp|ollama run|huggingface-cli download",
                 ("from_pretrained(", "pipeline(", "llama.cpp", "ollama run", "huggingface-cli download"))  # fmt: skip
_LICENSE_WORD = Probe(r"licen[cs]e[ds]?(?![0-9a-z_])", ("licen",))
#: The probes rules search whole bodies with; see :func:`_covered_probes`.
_BODY_PROBES = (_COMPUTE, _DURATION, _HARDWARE, _ENERGY, _CO2, _INPUT, _OUTPUT, _FINETUNED_FROM, _DEEP_PROPS,
                _DEMO, _LOADING, _FEEDBACK, _RESPONSIBLE)  # fmt: skip


def match_prefixes(pattern: str) -> tuple[str, ...] | None:
    """Literal strings one of which every match of ``pattern`` starts with; ``None`` if unknown.

    Read from the parsed pattern: leading literals, zero-width assertions (a lookbehind or
    ``\\b`` constrains a match but consumes nothing, so it is stepped over), and groups or
    alternations, whose alternatives each give their own prefixes. Anything else ends the
    prefix. Every prefix is at least two characters long, or the answer is ``None``.
    """
    parsed = _sre_parser.parse(pattern)
    if parsed.state.flags & re.IGNORECASE:
        return None
    found = _prefixes(list(parsed))
    if not found or min(map(len, found)) < 2:
        return None
    # a prefix that extends another adds no start the shorter one does not give
    kept = [p for p in found if not any(q != p and p.startswith(q) for q in found)]
    return tuple(dict.fromkeys(kept))


def _prefixes(items: list[tuple[Any, Any]]) -> list[str]:
    """The prefixes of the parsed sequence ``items`` (possibly empty strings, i.e. unknown)."""
    run: list[str] = []
    for op, av in items:
        if op is _sre_constants.LITERAL:
            run.append(chr(av))
        elif op in (_sre_constants.AT, _sre_constants.ASSERT, _sre_constants.ASSERT_NOT):
            continue  # zero-width
        elif op is _sre_constants.BRANCH:
            head = "".join(run)
            return [head + tail for branch in av[1] for tail in _prefixes(list(branch))]
        elif op is _sre_constants.SUBPATTERN and not av[1] and not av[2]:  # a group without flags
            head = "".join(run)
            return [head + tail for tail in _prefixes(list(av[3]))]
        elif op is _sre_constants.MAX_REPEAT and av[0] >= 1:  # at least one repetition: its prefixes
            head = "".join(run)
            return [head + tail for tail in _prefixes(list(av[2]))]
        elif op is _sre_constants.IN and (chars := _set_chars(av)) is not None:
            head = "".join(run)
            return [head + c for c in chars]  # one character of a small set, then stop
        else:
            break
    return ["".join(run)]


def _set_chars(items: list[tuple[Any, Any]]) -> list[str] | None:
    """The characters of a parsed ``[...]`` of plain literals, else ``None``.

    Classes such as ``\\d`` are not expanded: in a str pattern they take every Unicode digit.
    """
    chars: list[str] = []
    for op, av in items:
        if op is not _sre_constants.LITERAL:
            return None
        chars.append(chr(av))
    return chars


def _key_starts(probe: Probe, low: str, index: KeyIndex | None) -> set[int]:
    """``probe.key_starts(low, index)``: with an index knowing every keyword, only the keywords
    the card holds are read, found by one set intersection instead of a lookup per keyword
    (two dozen for the hardware names, nearly all absent)."""
    if index is None or not probe.keyset <= index.covers:
        return probe.key_starts(low, index)
    positions = index.positions
    found: set[int] = set()
    for key in positions.keys() & probe.keyset:
        found.update(positions[key])
    return found


class _Anchored:
    """A body probe whose pattern is tried only where a match can start.

    ``re`` can skip ahead only to a pattern's possible first characters; for a pattern like
    :data:`_HARDWARE` (a dozen common letters) it still attempts a match at about a third of
    the positions of every window it searches. Every match of such a pattern starts with one
    of a few literals (:func:`match_prefixes`), whose positions the card's keyword index
    already holds (they are registered as the keywords of a twin probe), so the pattern is
    tried only there: the first position that matches is where ``rx.search`` would have
    stopped. :meth:`search` answers what ``Probe.search`` answers, window for window.
    """

    __slots__ = ("probe", "starts")

    def __init__(self, probe: Probe, prefixes: tuple[str, ...]):
        self.probe = probe
        self.starts = Probe(probe.rx.pattern, prefixes)  # registers the prefixes with the index

    def search(self, low: str, index: KeyIndex | None) -> re.Match[str] | None:
        """``self.probe.search(low, index)``, the same match: the probe's own windows, each
        searched only at the candidate starts (found once; with none, nothing can match, and
        the probe's windows are not walked)."""
        starts = sorted(self.candidates(low, index))
        if not starts:
            return None
        return self.probe.search(low, index, functools.partial(self._first, low, starts))

    def candidates(self, low: str, index: KeyIndex | None) -> set[int]:
        """Every offset where a match can start (more do no harm: they fail to match)."""
        return _key_starts(self.starts, low, index)

    def _first(self, low: str, starts: list[int], a: int, b: int) -> re.Match[str] | None:
        """``rx.search(low, a, b)``: the match at the first candidate start in ``[a, b)`` that has one."""
        match = self.probe.rx.match
        k = bisect.bisect_left(starts, a)
        n = len(starts)
        while k < n:
            start = starts[k]
            if start >= b:
                break
            m = match(low, start, b)
            if m:
                return m
            k += 1
        return None


class _KeywordAnchored(_Anchored):
    """A body probe tried only where a match can start, found from its own keywords.

    Some patterns have no literal prefix: their matches open with a number ("32 layers",
    "4k context", "120 kWh", "3 days of training") and ``re`` stops at every digit of a
    window (tables of numbers are common), or they open with ``\\b``, where ``re`` stops
    everywhere. But each match holds one of the probe's keywords and either starts at it
    or in the run just before it made of digits, spaces and the few characters ``extra``
    lists (a unit, "attention ", "token "). The candidates are the keyword positions and
    every position of that run, walked back over a superset of those characters.
    """

    __slots__ = ("extra",)

    def __init__(self, probe: Probe, extra: str):
        self.probe = self.starts = probe
        self.extra = extra

    def candidates(self, low: str, index: KeyIndex | None) -> set[int]:
        starts = _key_starts(self.probe, low, index)
        extra = self.extra
        for q in tuple(starts):
            j = q
            while j > 0 and ((ch := low[j - 1]).isspace() or ch.isdigit() or ch in extra):
                j -= 1
                starts.add(j)
        return starts


class _WordAnchored(_Anchored):
    """An :class:`_Anchored` probe whose every alternative starts a word (``at_word_start``).

    Its prefixes also occur inside words ("tpu" in every "output", "t4" in "gpt4"), where
    the pattern cannot match: those candidates are dropped before any window is walked, which
    on most cards leaves none. A start is kept when the character before it is not one
    ``[0-9a-z_]`` matches (an ASCII letter or digit or "_"), the test the pattern's lookbehind
    makes: "a100" counts after "8张".
    """

    __slots__ = ()

    def candidates(self, low: str, index: KeyIndex | None) -> set[int]:
        return {
            s
            for s in _key_starts(self.starts, low, index)
            if s == 0 or not ((ch := low[s - 1]).isascii() and (ch.isalnum() or ch == "_"))
        }


def _anchor(*probes: Probe, word_start: bool = False) -> dict[Probe, _Anchored]:
    """:class:`_Anchored` searches for the probes whose matches start with known literals
    (:class:`_WordAnchored` ones when every alternative starts a word)."""
    kind = _WordAnchored if word_start else _Anchored
    found = {}
    for probe in probes:
        prefixes = match_prefixes(probe.rx.pattern)
        if prefixes is not None and probe.keys:
            found[probe] = kind(probe, prefixes)
    return found


#: Anchored: the body probes whose patterns open with many alternatives (measured 2-3x faster on
#: long cards). A pattern opening with one literal ("input") is already skipped to by ``re``'s
#: own literal search, and frequent prefixes ("###") would only swell the keyword index.
#: :data:`_LOADING`'s prefixes are its keywords (five common first letters, where re stopped).
#: The number-led patterns have no literal prefix; their candidates come from their keywords.
_ANCHORED = {
    **_anchor(_FINETUNED_FROM, _RESPONSIBLE, _LOADING),
    **_anchor(_HARDWARE, _OUTPUT, word_start=True),
    # "32 attention heads", "4k token context"
    _DEEP_PROPS: _KeywordAnchored(_DEEP_PROPS, "attentiokn"),
    # "3.5 days of training" (one alternative opens with \b: re tried every position of the window)
    _DURATION: _KeywordAnchored(_DURATION, "."),
    # "1,200.5 kwh"
    _ENERGY: _KeywordAnchored(_ENERGY, ".,"),
    # "12.5 metric tons of co2", "3 tonnes co2"
    _CO2: _KeywordAnchored(_CO2, ".,tkgonesmricf"),
}


@functools.lru_cache(maxsize=4)
def _covered_probes(covers: frozenset[str]) -> frozenset[Probe]:
    """The body probes with keywords, all of them among ``covers`` (a keyword index's set).

    ``Probe.absent_in`` tests that coverage on every call, a subset test per probe per card;
    the answer depends only on the index's keyword set, which is the same object for every
    card, so it is computed once here. A probe outside this set is simply searched.
    """
    return frozenset(p for p in _BODY_PROBES if p.keyset and p.keyset <= covers)


# --- rules -------------------------------------------------------------------------------
# Each rule returns the evidence of the first candidate that holds (metadata before text
# searches), or ``None``. Evidence is never empty, so "met" is "evidence is not None".


def _data_size(c: _Ctx) -> str | None:
    m = descriptor_matches(c.facts)["size"]  # a size of data, not a duration or a GPU's memory
    return f"training data: {m.group(0)}" if m else None


def _data_sources(c: _Ctx) -> str | None:
    facts = c.facts
    if facts.datasets or facts.linked_datasets:  # ``all_datasets`` is empty exactly when both are
        return "datasets: " + ", ".join(facts.all_datasets[:8])
    sec = c.section("Training Data", "Training Details")
    m = _NAMED_SOURCES.search(sec.lower) if sec else None
    return f"{_sec_evidence(sec)}: names sources ({m.group(0)})" if m else None


def _data_license(c: _Ctx) -> str | None:
    if c.disclosure["disclosure_level"] >= 3:
        return "licences of all named datasets known: " + "; ".join(
            f"{r['id']}: {r.get('verified') or r['license']}" for r in c.disclosure["dataset_licenses"]
        )
    low = c.training_lower  # empty on most cards: nothing to search
    m = _LICENSE_WORD.search(low) if low else None
    return f"training data text mentions {m.group(0)}" if m else None


def _data_acquisition(c: _Ctx) -> str | None:
    m = descriptor_matches(c.facts)["collection"]
    return f"training data: {m.group(0)}" if m else None


def _data_access(c: _Ctx) -> str | None:
    facts = c.facts
    if not (facts.datasets or facts.linked_datasets):
        return None
    hub = [*facts.datasets, *facts.linked_datasets]
    return "Hub datasets: " + ", ".join(dict.fromkeys(hub[:8]))


def _compute_usage(c: _Ctx) -> str | None:
    return c.grep_body(_COMPUTE)


def _development_duration(c: _Ctx) -> str | None:
    return c.grep_body(_DURATION)


def _compute_hardware(c: _Ctx) -> str | None:
    co2 = c.facts.co2_eq_emissions
    if co2 and co2.get("hardware_used"):
        return f"co2_eq_emissions.hardware_used: {co2['hardware_used']}"
    low = c.low
    if not low or (_HARDWARE in c.covered and _HARDWARE.keyset.isdisjoint(c.present)):
        return None  # no accelerator named: most cards
    # an accelerator in a training section or on a line about training: not the GPU the
    # model runs on (requirement tables, "fits on a single RTX 3090", inference notebooks)
    # lines only grow: the training sections' line ranges, merged, are walked once alongside
    spans = _merged_spans(span for sec in _training_hardware_sections(c) for span in sec.spans)
    span_at = 0
    match = _HARDWARE.rx.match
    line, counted = 1 + c.facts.body_line_offset, 0  # README line of offset ``counted``
    last_end = -1
    judged = -1  # the last line found not about training (a line of many GPUs is read once)
    for start in sorted(_ANCHORED[_HARDWARE].candidates(low, c.index)):
        if start < last_end:
            continue
        m = match(low, start)
        if m is None:
            continue
        last_end = m.end()
        line += low.count("\n", counted, start)
        counted = start
        while span_at < len(spans) and spans[span_at][1] < line:
            span_at += 1
        if span_at == len(spans) or spans[span_at][0] > line:  # outside the training sections
            if line == judged:
                continue
            # its line and the one before ("**Trained on**" above "8x A100")
            a = low.rfind("\n", 0, max(0, low.rfind("\n", 0, start))) + 1
            b = low.find("\n", last_end)
            if not _TRAINING_WORDS.search(low, a, len(low) if b == -1 else b):
                judged = line
                continue
        return f"README line {line}: {_snippet(c.facts.body, low, m)}"
    return None


def _merged_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Line ranges ``(first, last)`` sorted, overlapping or touching ones merged."""
    merged: list[tuple[int, int]] = []
    for first, last in sorted(spans):
        if merged and first <= merged[-1][1] + 1:
            if last > merged[-1][1]:
                merged[-1] = (merged[-1][0], last)
        else:
            merged.append((first, last))
    return merged


def _training_hardware_sections(c: _Ctx) -> list[Section]:
    """The sections where an accelerator named is the training hardware (a Compute
    Infrastructure section headed as requirements for running the model is not one)."""
    found = []
    for name in ("Training Details", "Training Procedure", "Environmental Impact", "Compute Infrastructure"):
        sec = c.sections.get(name)
        if sec is not None and not (
            name == "Compute Infrastructure" and _RUNTIME_HEADING.search(" ".join(sec.headings).lower())
        ):
            found.append(sec)
    return found


def _energy_usage(c: _Ctx) -> str | None:
    return c.grep_body(_ENERGY)


def _carbon_emissions(c: _Ctx) -> str | None:
    co2 = c.facts.co2_eq_emissions
    if co2 and co2.get("emissions") is not None:
        return f"co2_eq_emissions: {co2['emissions']:g} g"
    return c.grep_body(_CO2)


def _core_frameworks(c: _Ctx) -> str | None:
    facts = c.facts
    if facts.library_name:
        return f"library_name: {facts.library_name}"
    if facts.config.get("transformers_version"):
        return "config.json: transformers_version"
    hit = c.grep(_FRAMEWORKS, "Compute Infrastructure", "Training Procedure", "Training Details")
    if hit:
        return hit
    sec = c.section("Compute Infrastructure")
    if sec is not None and "framework" in " ".join(sec.headings).lower():
        return _sec_evidence(sec)
    return None


_TRAINING_SECTIONS = frozenset({"Training Details", "Training Procedure", "Training Data", "Model Sources",
                                "Citation", "Technical Specifications", "Model Details", "Model Description"})  # fmt: skip
#: Of those, the ones where any GitHub link counts as the training code.
_TRAINING_CODE_SECTIONS = frozenset({"Training Details", "Training Procedure", "Training Data", "Citation"})


class _SectionLines:
    """A section's line index for :func:`_training_code`, built when its first link is judged.

    Links come in the card's order, each URL once, so each is searched for after the
    section's previous one (a search from the start per link is quadratic in a link farm),
    and a line judged not about code is not searched again for the next link on it (a line
    of thousands of links would otherwise be read once per link).
    """

    __slots__ = ("after", "low", "newlines", "not_code")

    def __init__(self, low: str) -> None:
        self.low = low
        self.newlines = [m.start() for m in _NEWLINE.finditer(low)]
        self.not_code: set[int] = set()  # indexes of lines found not to speak of code
        self.after = 0  # where the search for the next link starts

    def speaks_of_code(self, url: str) -> bool:
        """Does the line holding ``url`` (searched from the last link on) speak of training or code?"""
        low = self.low
        at = low.find(url, self.after)
        if at == -1:
            return False
        self.after = at + 1
        i = bisect.bisect_left(self.newlines, at)  # the line's index: newlines before it
        if i in self.not_code:
            return False
        newlines = self.newlines
        a = newlines[i - 1] + 1 if i else 0
        b = newlines[i] if i < len(newlines) else len(low)
        if _CODE_WORDS.search(low, a, b):
            return True
        self.not_code.add(i)
        return False


def _training_code(c: _Ctx) -> str | None:
    owner = None
    indexed: dict[str, _SectionLines] = {}
    for link in c.facts.links:
        if link.kind == "github":
            url = link.url.lower()
            if "train" in url or "finetun" in url or link.section in _TRAINING_CODE_SECTIONS:
                return f"GitHub repository linked: {link.url} (line {link.line})"
            if link.section not in _TRAINING_SECTIONS:
                continue
            # a description or sources section also links tools the model is run with (an
            # inference engine, a file format's project): the developer's own repository
            # counts, another only on a line that speaks of training or code
            if owner is None:
                owner = _alnum(c.facts.repo_id.split("/", 1)[0]) if "/" in c.facts.repo_id else ""
            if owner and link.target and _alnum(link.target.split("/", 1)[0]) == owner:
                return f"GitHub repository linked: {link.url} (line {link.line})"
            sec = c.sections.get(link.section)  # type: ignore[arg-type]
            if sec is None:
                continue
            lines = indexed.get(sec.name)
            if lines is None:
                lines = indexed[sec.name] = _SectionLines(sec.lower)
            if lines.speaks_of_code(url):
                return f"GitHub repository linked: {link.url} (line {link.line})"
    return c.files(_TRAIN_FILE)


_NEWLINE = re.compile("\n")


def _alnum(name: str) -> str:
    """``name`` lower-cased with only letters and digits ("Stability-AI" and "stabilityai" agree)."""
    low = name.lower()
    if low.isascii():  # (one C pass: version tokens ask this of up to _WORD_WINDOW characters each)
        return low.translate(_ASCII_NOT_ALNUM)
    return "".join(ch for ch in low if ch.isalnum())


_ASCII_NOT_ALNUM = {c: None for c in range(128) if not chr(c).isalnum()}


def _input_modality(c: _Ctx) -> str | None:
    tag = c.facts.pipeline_tag
    return f"pipeline_tag: {tag}" if tag else c.grep_body(_INPUT)


def _output_modality(c: _Ctx) -> str | None:
    tag = c.facts.pipeline_tag
    return f"pipeline_tag: {tag}" if tag else c.grep_body(_OUTPUT)


def _model_components(c: _Ctx) -> str | None:
    facts = c.facts
    if facts.base_models:
        return "base_model: " + ", ".join(facts.base_models)
    name = facts.config.get("_class_name")
    return f"pipeline config: {name}" if name else c.grep_body(_FINETUNED_FROM)


def _model_size(c: _Ctx) -> str | None:
    facts = c.facts
    w = facts.weights
    if w.parameters:
        return f"{w.parameters:,} parameters ({w.source})"
    name = facts.repo_id.rsplit("/", 1)[-1]
    mentions = facts.parameter_mentions
    if mentions:
        # a card often states its family's sizes ("7B, 13B and 70B"): the size in the
        # repository's name picks this model's, and a size the name contradicts is not evidence
        sizes = [v for v in map(_size_value, _SIZE_IN_NAME.findall(name)) if v] if _digit_in(name) else []
        if not sizes:
            text, line = mentions[0]
            return f"README line {line}: {text}"
        for text, line in mentions:
            value = _size_value(text)
            if value and any(abs(value - size) <= 0.15 * size for size in sizes):
                return f"README line {line}: {text}"
    m = _SIZE_IN_NAME.search(name)
    return f"repository name: {m.group(0)}" if m else None


def _digit_in(text: str) -> bool:
    return any(ch.isdigit() for ch in text)


def _size_value(text: str) -> float | None:
    """Parameters a size states ("7 billion parameters", "13B", "8x7b"), else ``None``."""
    m = _SIZE_VALUE.search(text)
    if m is None:
        return None
    experts, number, unit = m.groups()
    whole, sep, frac = number.partition(",")
    value = float(whole + frac if sep and len(frac) == 3 else number.replace(",", "."))  # "1,300" / "1,5"
    return value * int(experts or 1) * _SIZE_UNITS[unit.lower()]


def _model_architecture(c: _Ctx) -> str | None:
    sec = c.sections.get("Model Architecture")
    if sec is not None:
        return _sec_evidence(sec)
    cfg = c.facts.config
    arch = cfg.get("architectures") or cfg.get("model_type") or cfg.get("_class_name")
    if arch:
        return f"config: {arch}"
    return c.grep(
        _ARCH_WORDS, "Model Details", "Model Description", "Technical Specifications", "Model Architecture"
    )


_DEEP_KEYS = ("num_hidden_layers", "hidden_size", "num_attention_heads", "max_position_embeddings")


def _deeper_properties(c: _Ctx) -> str | None:
    cfg = c.facts.config
    keys = [k for k in _DEEP_KEYS if k in cfg] if cfg else None
    return "config.json: " + ", ".join(keys) if keys else c.grep_body(_DEEP_PROPS)


def _centralized_documentation(c: _Ctx) -> str | None:
    sections = c.sections
    if len(sections) < 4:  # most cards: no tuple of names to build
        return None
    present = tuple(sections)
    return f"{len(present)} template sections filled: " + ", ".join(present[:8])


def _access_protocol(c: _Ctx) -> str | None:
    gating = c.facts.gating_fields
    if gating:
        return "gated access: " + ", ".join(gating)
    return _sec_evidence(c.sections.get("How to Get Started")) or c.grep_body(_LOADING)


def _open_weights(c: _Ctx) -> str | None:
    w = c.facts.weights
    return f"{len(w.files)} weight file(s): " + ", ".join(w.formats) if w.files else None


def _capabilities_description(c: _Ctx) -> str | None:
    return _sec_evidence(c.section("Uses", "Direct Use", "Model Description"))


def _capabilities_demonstration(c: _Ctx) -> str | None:
    n = c.facts.widget_examples
    return f"widget: {n} example(s)" if n else c.grep_body(_DEMO)


def _capabilities_evaluation(c: _Ctx) -> str | None:
    if c.facts.eval_results:
        return f"model-index: {len(c.facts.eval_results)} result(s)"
    return c.grep(_NUMBER, "Results", "Evaluation")


def _limitations(c: _Ctx) -> str | None:
    return _sec_evidence(c.sections.get("Bias, Risks, and Limitations"))


def _risks(c: _Ctx) -> str | None:
    return c.grep(_RISK, "Bias, Risks, and Limitations", "Out-of-Scope Use", "Recommendations")


def _model_license(c: _Ctx) -> str | None:
    if c.license_key not in (None, "none", "unknown"):
        return f"licence: {c.license_key}"
    declared = [v for v in c.facts.license if v.lower() not in ("unknown", "none", "")]
    return "license: " + ", ".join(declared) if declared else c.files(_LICENSE_FILE)


def _permitted_users(c: _Ctx) -> str | None:
    hit = c.aup_file
    if hit:
        return hit
    if c.facts.gating_fields:
        return "gated access terms: " + ", ".join(c.facts.gating_fields)
    if c.license_class in ("vendor-community", "noncommercial"):
        return f"licence class {c.license_class} limits users"
    return c.grep(_USERS, "Uses", "Direct Use", "Out-of-Scope Use", "License", "Model Details")


def _permitted_uses(c: _Ctx) -> str | None:
    sec = c.sections.get("Out-of-Scope Use")
    if sec is not None:
        return _sec_evidence(sec)
    hit = c.aup_file
    if hit:
        return hit
    if c.license_class == "rail":
        return "RAIL licence lists use restrictions"
    return c.grep(_MUST_NOT, "Uses", "Direct Use", "Bias, Risks, and Limitations")


def _versioning(c: _Ctx) -> str | None:
    m = _VERSION_IN_NAME.search(c.facts.repo_id.rsplit("/", 1)[-1])
    if m:
        return f"repository name: {m.group(0)}"
    if c.facts.new_version:
        return f"new_version: {c.facts.new_version}"
    sections = c.sections
    own = _alnum(c.facts.repo_id.rsplit("/", 1)[-1])
    for name in ("Model Details", "Model Description", "Changelog"):
        sec = sections.get(name)
        if sec is None:
            continue
        rows = _OtherRows(sec.lower, own)
        for m in _VERSION.rx.finditer(sec.lower):
            if _own_version(sec.lower, m, own, rows):
                return (
                    f"section '{sec.headings[0][:60]}' (line {sec.line}): {_snippet(sec.text, sec.lower, m)}"
                )
    return None


#: How far before a version token ``_own_version`` looks for the word it ends (a URL, another
#: model's id): real ones are far shorter; a longer run is read from its last characters, so a
#: line of ``-v1-v1-v1…`` costs the same per token wherever the token is.
_WORD_WINDOW = 128
_LEADING_SPACE = re.compile(r"\s*")


class _OtherRows:
    """For version matches of ``low`` taken in order: whether the match's line is a table row
    naming neither a version nor the model ``own``. Each line is found and judged once (a
    hostile one-line table of ``| v1 v1 v1 …`` would otherwise be scanned again per token)."""

    __slots__ = ("_end", "_line", "_scanned", "_verdict", "low", "own")

    def __init__(self, low: str, own: str):
        self.low, self.own = low, own
        self._scanned = self._line = 0  # newlines searched up to ``_scanned``; current line's start
        self._end = -1  # the judged line's end (-1: none judged)
        self._verdict = False

    def __call__(self, start: int) -> bool:
        low = self.low
        if start <= self._end:  # (a match on the line last judged)
            return self._verdict
        nl = low.rfind("\n", self._scanned, start)
        if nl != -1:
            self._line = nl + 1
        self._scanned = start
        a = self._line
        b = low.find("\n", start)
        self._end = len(low) if b == -1 else b
        # a row: the line's first character that is not a space is "|"
        verdict = False
        if low.startswith("|", _LEADING_SPACE.match(low, a, start).end()):
            row = low[a : self._end]
            verdict = "version" not in row and self.own not in _alnum(row)
        self._verdict = verdict
        return verdict


def _own_version(low: str, m: re.Match[str], own: str, other_row: Callable[[int], bool]) -> bool:
    """Whether a version match in ``low`` is this model's (``own``: its name's letters and
    digits): not a token inside a URL ("proceedings.mlr.press/v202/"), not the version of
    another model's id ("Other-7B-v0.1", "org/other-v2") or of a table row naming another
    model (``other_row`` of the match's start), not an accelerator ("v100")."""
    token = m.group(0)
    if token[0] != "v":  # a model date or status statement
        return True
    start = m.start()
    if re.fullmatch(r"v\d{3,}", token):  # "v100", "v202": a GPU or a journal volume, not a release
        return False
    lo = max(0, start - _WORD_WINDOW)
    ws = max(low.rfind(" ", lo, start), low.rfind("\n", lo, start), low.rfind("\t", lo, start))
    prefix = low[lo if ws == -1 else ws + 1 : start]
    if "://" in prefix or "www." in prefix or "](" in prefix:
        return False
    if prefix[-1:] in ("-", "_", "/", "."):
        compound = _alnum(prefix.rsplit("(", 1)[-1].rsplit("/", 1)[-1])
        if not compound or not (compound in own or own in compound):
            return False
    return not other_row(start)


def _change_log(c: _Ctx) -> str | None:
    return _sec_evidence(c.sections.get("Changelog")) or c.files(_CHANGELOG_FILE)


def _feedback(c: _Ctx) -> str | None:
    return _sec_evidence(c.sections.get("Contact")) or c.grep_body(_FEEDBACK)


def _downstream_docs(c: _Ctx) -> str | None:
    return _sec_evidence(c.section("How to Get Started", "Downstream Use"))


def _responsible_use(c: _Ctx) -> str | None:
    return (
        _sec_evidence(c.section("Recommendations", "Out-of-Scope Use"))
        or c.aup_file
        or c.grep_body(_RESPONSIBLE)
    )


def _system_prompt(c: _Ctx) -> str | None:
    if c.facts.chat_template:
        return f"chat template: {c.facts.chat_template}"
    return _sec_evidence(c.sections.get("Prompt Format"))


def _quantization(c: _Ctx) -> str | None:
    w = c.facts.weights
    if w.quantizations:
        return "quantized files: " + ", ".join(w.quantizations[:6])
    if c.facts.config.get("quantization_config"):
        return "config.json: quantization_config"
    return c.grep(_QUANT_SECTION, "Quantization")


RULES: dict[str, Rule] = {
    "data-size": _data_size,
    "data-sources": _data_sources,
    "data-license": _data_license,
    "data-acquisition": _data_acquisition,
    "data-access": _data_access,
    "compute-usage": _compute_usage,
    "development-duration": _development_duration,
    "compute-hardware": _compute_hardware,
    "energy-usage": _energy_usage,
    "carbon-emissions": _carbon_emissions,
    "core-frameworks": _core_frameworks,
    "training-code": _training_code,
    "input-modality": _input_modality,
    "output-modality": _output_modality,
    "model-components": _model_components,
    "model-size": _model_size,
    "model-architecture": _model_architecture,
    "deeper-model-properties": _deeper_properties,
    "centralized-documentation": _centralized_documentation,
    "access-protocol": _access_protocol,
    "open-weights": _open_weights,
    "capabilities-description": _capabilities_description,
    "capabilities-demonstration": _capabilities_demonstration,
    "capabilities-evaluation": _capabilities_evaluation,
    "limitations-description": _limitations,
    "risks-description": _risks,
    "model-license": _model_license,
    "permitted-users": _permitted_users,
    "permitted-uses": _permitted_uses,
    "versioning": _versioning,
    "change-log": _change_log,
    "feedback-mechanism": _feedback,
    "downstream-documentation": _downstream_docs,
    "responsible-use-documentation": _responsible_use,
    "system-prompt": _system_prompt,
    "quantization": _quantization,
}


@functools.cache
def load_indicators(path: Path = TABLE_PATH) -> tuple[dict[str, Any], ...]:
    """The indicator table; raises ``ValueError`` if it and :data:`RULES` disagree."""
    data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    rows = tuple(data["indicators"])
    ids = [r["id"] for r in rows]
    required = {"id", "fmti_id", "name", "rule", "weight"}
    for r in rows:
        if not required <= set(r):
            raise ValueError(f"indicator {r.get('id')!r} lacks {sorted(required - set(r))}")
    if len(set(ids)) != len(ids) or set(ids) != set(RULES):
        raise ValueError(
            f"indicator table and rules differ: table-only {sorted(set(ids) - set(RULES))}, "
            f"rules-only {sorted(set(RULES) - set(ids))}"
        )
    return rows


@functools.cache
def _rule_table() -> tuple[tuple[Rule, float, dict[str, Any], dict[str, Any]], ...]:
    """``(rule, weight, met template, unmet record)`` per indicator, in table order.

    The records' constant fields (id, FMTI ids, name, rule text, weight) are laid out once
    here; a card's record is a copy of the template with its evidence filled in. The unmet
    record is shared by every card that misses the indicator, so it is copied too (callers
    may edit their result).
    """
    table = []
    for row in load_indicators():
        record = {"id": row["id"], "fmti_id": row["fmti_id"], "name": row["name"], "met": True,
                  "evidence": None, "rule": row["rule"], "weight": row["weight"]}  # fmt: skip
        if row.get("fmti_2025_id"):
            record["fmti_2025_id"] = row["fmti_2025_id"]
        unmet = {**record, "met": False}
        table.append((RULES[row["id"]], float(row["weight"]), record, unmet))
    return tuple(table)


@functools.cache
def _total_weight() -> float:
    """The weights of all indicators, added in table order (as a per-card sum would be)."""
    total = 0.0
    for _, weight, _, _ in _rule_table():
        total += weight
    return total


#: Longest evidence kept per indicator: a field's value quoted whole could be the card's whole
#: front matter (a ``base_model`` list of 40,000 YAML aliases made one indicator 9 MB of every
#: stored analysis); what met a rule shows in its first few hundred characters.
EVIDENCE_MAX = 500


def assess_transparency(
    facts: CardFacts,
    license_key: str | None = None,
    license_class: str | None = None,
    disclosure: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Score 0-100 (weighted share of indicators met) with per-indicator evidence.

    ``disclosure`` is :func:`assess_disclosure`'s result when the caller already has it
    (it decides the data-licence indicator); otherwise it is computed with the bundled
    dataset table.
    """
    ctx = _Ctx(facts, license_key, license_class, disclosure)
    indicators = []
    append = indicators.append
    got = 0.0
    met = 0
    for rule, weight, record, unmet in _rule_table():
        evidence = rule(ctx)
        if evidence:
            got += weight
            met += 1
            item = record.copy()
            # cut with room for the length it adds, so the evidence stays within EVIDENCE_MAX
            item["evidence"] = (
                evidence if len(evidence) <= EVIDENCE_MAX else quote(evidence, EVIDENCE_MAX - 30)
            )
            append(item)
        else:
            append(unmet.copy())
    total = _total_weight()
    score = round(100 * got / total) if total else 0
    return {"score": int(score), "indicators": indicators, "max": int(total) if total.is_integer() else total,
            "met": met}  # fmt: skip
