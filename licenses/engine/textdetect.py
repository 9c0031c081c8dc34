"""Say which licence a LICENSE / USE_POLICY / NOTICE text is, with the evidence.

Why not ScanCode: it needs ~1.4 GB RAM and seconds per process, and on our 42 reference
texts it names only 26 right (no Llama 3 key, every Llama AUP reported as Llama 4's,
Tongyi research reported as the commercial licence ...). The licences we care about are
few and each announces itself: a title line, a version / release-date line, a prescribed
notice sentence, a clause that one version has and its sibling lacks. So we match short
fingerprints of those facts (``licenses/data/signatures.yaml``) against a normalised token
stream, which is robust to wrapping, markdown, case, quotes, BOM and CRLF, linear in the
input and about a millisecond per file.

Scoring: every signature sums the weights of its phrases found in the text and subtracts
the weights of its ``exclude`` phrases (facts that rule that version out); a signature with
``requires`` phrases scores nothing unless one of them is present. Versions of one
family share a phrase set, so only their distinguishing facts decide between them. The
best signature wins if it reaches ``MIN_SCORE``; the confidence is its coverage of its own
fingerprint, lowered when a signature of another licence key comes close (the margin
rule), so near-ties are reported as such.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import ahocorasick_rs

from licenses.engine.datafiles import read_yaml

SIGNATURES_PATH = Path(__file__).resolve().parents[1] / "data" / "signatures.yaml"

#: Only the first 512 KiB of characters are read: every licence we know is far shorter,
#: and the cap keeps detection bounded on arbitrary uploads.
MAX_CHARS = 512 * 1024
#: A text must score at least a title line's worth (5) to be named at all.
MIN_SCORE = 5.0
#: Weight of a signature's prescribed notice sentence: it names licence and version as surely as a title.
NOTICE_WEIGHT = 5.0
#: A text this short (in tokens) that carries a notice sentence is a NOTICE file, not the licence.
NOTICE_MAX_TOKENS = 150
#: Relative lead over the best signature of another key at which the margin stops lowering confidence.
FULL_MARGIN = 0.5

_TOKEN = re.compile(r"[a-z0-9+]+(?:\.[0-9]+)*")
_TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789+."
_HTML_TAG = re.compile(r"<[^<>\n]{0,300}>")
_LINK_TARGET = re.compile(r"\]\([^()\s]{0,500}\)")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")


@dataclass(frozen=True)
class TextDetection:
    """The detector's answer for one text; ``matched`` lists the fingerprint phrases found."""

    key: str | None  # contract licence key, None when not recognised
    kind: str  # "license" | "aup" | "notice" | "unknown"
    score: float  # 0..1 confidence
    matched: tuple[str, ...]
    family: str | None = None
    version: str | None = None  # release date / version of the identified text, when known

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "score": round(self.score, 3),
            "matched": list(self.matched),
            "family": self.family,
            "version": self.version,
        }


UNKNOWN = TextDetection(key=None, kind="unknown", score=0.0, matched=())


@dataclass(frozen=True)
class Signature:
    """One reference fingerprint, phrases already normalised (``padded`` form, see ``normalize``)."""

    id: str
    key: str
    kind: str
    family: str | None
    version: str | None
    phrases: tuple[tuple[str, str, float], ...]  # (normalised, as written, weight)
    exclude: tuple[tuple[str, str, float], ...]
    requires: tuple[str, ...]  # normalised; when given, at least one must be present
    notice: str | None  # normalised notice sentence, also among ``phrases``

    @property
    def total(self) -> float:
        return sum(w for _, _, w in self.phrases)


def normalize(text: str) -> str:
    """Reduce text to ``" tok tok ... "``: lowercase ASCII word tokens separated by single spaces.

    Markup (HTML tags, markdown link targets, ``*`` ``#`` ``_`` ``\\``), quotes of every kind,
    punctuation, BOM and line endings all vanish, so a phrase matches however the file was
    formatted. Dotted numbers ("3.1", "v1.0") and "++" stay whole tokens because they carry
    the version. The leading/trailing space lets callers match whole tokens with ``in``.
    """
    text = _nfkc(text[:MAX_CHARS])
    if _LOWER_TO_ASCII[0] in text or _LOWER_TO_ASCII[1] in text:
        text = text.lower()  # else ``_tokens`` lower-cases (see ``_LOWER_TO_ASCII``)
    text = text.replace("\\", "")  # markdown escapes: 3\.3
    text = _LINK_TARGET.sub("] ", _HTML_TAG.sub(" ", text))
    return " " + _tokens(text) + " "


#: The only characters beyond ASCII that ``str.lower`` maps to ASCII (dotted I -> "i" + U+0307,
#: Kelvin sign -> "k"); the dotted I is also the only one it maps to two characters. Without
#: them, lower-casing keeps every offset, turns no character into one the markup patterns
#: look for, and changes the tokens only through ASCII letters: ``_TOKEN_BYTES`` folds those,
#: which spares ``str.lower`` a copy of the text (slow on non-ASCII text).
_LOWER_TO_ASCII = ("\u0130", "\u212a")
#: Bytes that can be part of a ``_TOKEN``, ASCII capitals lower-cased; every other byte becomes a space.
_TOKEN_BYTES = bytes(ord(chr(c).lower()) if chr(c).lower() in _TOKEN_CHARS else 32 for c in range(256))
#: A dot no token can hold: one not between a token character and a digit.
_LONE_DOT = re.compile(rb"\.(?:(?![0-9])|(?<![a-z0-9+]\.))")
#: Where ``_TOKEN`` splits a run of token characters: letters or ``+`` after a dotted number.
_DOT_TAIL = re.compile(rb"\.[0-9]+[a-z+]")
_TOKEN_B = re.compile(_TOKEN.pattern.encode())


def _tokens(text: str) -> str:
    """``" ".join(_TOKEN.findall(text.lower()))`` at C speed: a regex match per token made the
    tokens cost more than the rest of detection.

    ``_TOKEN`` holds only ASCII, so every other character (as ``?``) is a separator like
    any byte outside its class; a dot is kept only where ``_TOKEN`` can take it (after a
    token character, before a digit). What remains splits on spaces into runs that are each
    one token, except a run where letters or ``+`` follow a dotted number ("1.0beta" is two
    tokens): only runs with a dot can be such, and those few go through ``_TOKEN`` itself.
    """
    data = text.encode("ascii", "replace").translate(_TOKEN_BYTES)
    if b"." in data:
        data = _LONE_DOT.sub(b" ", data)
    parts = data.split()
    if b"." in data and _DOT_TAIL.search(data):
        parts = [token for part in parts for token in (_TOKEN_B.findall(part) if b"." in part else (part,))]
    return b" ".join(parts).decode("ascii")


def _nfkc(text: str) -> str:
    """``text`` in NFKC; on text that already is (most licence files) the quick check costs a
    tenth of ``unicodedata.normalize``, which copies the text even when nothing changes; ASCII
    text (every ASCII character is its own NFKC form), which ``isascii`` tells without a scan,
    skips even the check."""
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        return text
    return unicodedata.normalize("NFKC", text)


def _phrase(raw: str) -> str:
    norm = normalize(raw)
    if norm.strip() == "":
        raise ValueError(f"signature phrase {raw!r} has no tokens")
    return norm


def _weighted(mapping: dict[str, float] | None) -> list[tuple[str, str, float]]:
    return [(_phrase(p), p, float(w)) for p, w in (mapping or {}).items()]


def load_signatures(path: Path = SIGNATURES_PATH) -> tuple[tuple[Signature, ...], dict[str, str]]:
    """Read and normalise the fingerprints; returns (signatures, notice label -> phrase)."""
    data = read_yaml(path)
    shared = {name: _weighted(phrases) for name, phrases in (data.get("shared") or {}).items()}
    sigs = []
    for sid, spec in data["signatures"].items():
        phrases = _weighted(spec.get("phrases"))
        if spec.get("shared"):
            phrases += shared[spec["shared"]]
        notice = None
        if spec.get("notice"):
            notice = _phrase(spec["notice"])
            phrases.append((notice, spec["notice"], NOTICE_WEIGHT))
        kind = spec.get("kind", "license")
        if kind not in ("license", "aup"):
            raise ValueError(f"signature {sid}: kind must be license or aup, not {kind!r}")
        sigs.append(
            Signature(
                id=sid,
                key=spec["key"],
                kind=kind,
                family=spec.get("family"),
                version=str(spec["version"]) if spec.get("version") is not None else None,
                phrases=tuple(phrases),
                exclude=tuple(_weighted(spec.get("exclude"))),
                requires=tuple(_phrase(p) for p in spec.get("requires") or ()),
                notice=notice,
            )
        )
    notices = {label: _phrase(p) for label, p in (data.get("notice_phrases") or {}).items()}
    return tuple(sigs), notices


@dataclass(frozen=True)
class _Index:
    """The signatures compiled for scoring: each distinct phrase is searched once per text."""

    sigs: tuple[Signature, ...]
    phrases: tuple[str, ...]  # distinct normalised phrases (positive and exclude)
    positive: tuple[tuple[tuple[int, float], ...], ...]  # per signature: (phrase index, weight)
    negative: tuple[tuple[tuple[int, float], ...], ...]
    required: tuple[tuple[int, ...], ...]  # per signature: phrase indexes, one of which must be present
    notices: dict[str, str]  # display label -> normalised phrase
    matcher: ahocorasick_rs.AhoCorasick  # every phrase, found in one pass (see ``_present``)
    users: tuple[tuple[int, ...], ...]  # per phrase: the signatures whose score reads it
    zero: tuple[float, ...]  # per signature: its score when none of its phrases is present


@lru_cache(maxsize=1)
def _index() -> _Index:
    sigs, notices = load_signatures()
    ids: dict[str, int] = {}

    def ref(entries: tuple[tuple[str, str, float], ...]) -> tuple[tuple[int, float], ...]:
        return tuple((ids.setdefault(p, len(ids)), w) for p, _, w in entries)

    positive = tuple(ref(s.phrases) for s in sigs)
    negative = tuple(ref(s.exclude) for s in sigs)
    required = tuple(tuple(ids.setdefault(p, len(ids)) for p in s.requires) for s in sigs)
    phrases = tuple(ids)
    users: list[set[int]] = [set() for _ in phrases]
    for s, entries in enumerate(zip(positive, negative, required, strict=True)):
        pos, neg, req = entries
        for i in [i for i, _ in pos] + [i for i, _ in neg] + list(req):
            users[i].add(s)
    # Exactly what the plain scoring expression gives for a signature with nothing present:
    # 0.0 when it has ``requires`` phrases, else the integer 0 of two empty sums.
    zero = tuple(0.0 if req else 0 for req in required)
    matcher = ahocorasick_rs.AhoCorasick(phrases, matchkind=ahocorasick_rs.MatchKind.Standard)
    return _Index(
        sigs,
        phrases,
        positive,
        negative,
        required,
        notices,
        matcher,
        tuple(tuple(sorted(u)) for u in users),
        zero,
    )


def looks_binary(text: str) -> bool:
    """True for decoded binary junk: a NUL or many control characters near the start.

    Replacement characters are not counted: a bilingual licence decoded with the wrong codec
    loses its Chinese part, not its English one, and they produce no tokens anyway.
    """
    head = text[:4096]
    return "\x00" in head or _count_controls(head) > len(head) * 0.05


#: Every byte but the control characters of ``_CONTROL``: deleting them leaves the controls.
_NOT_CONTROL = bytes(c for c in range(256) if not _CONTROL.match(chr(c)))


def _count_controls(head: str) -> int:
    """``len(_CONTROL.findall(head))`` without a regex step per character: the controls are
    ASCII, so in the ASCII bytes of ``head`` (anything else as ``?``) they are what remains
    once every other byte is deleted."""
    return len(head.encode("ascii", "replace").translate(None, _NOT_CONTROL))


def _present(index: _Index, norm: str) -> list[bool]:
    """Which phrases occur in ``norm``, from one overlapping Aho-Corasick pass (phrases are
    space-padded token runs, so an overlapping match is exactly a substring hit). Most phrases
    name a model or version the text never mentions; the pass finds the few that occur at once."""
    present = [False] * len(index.phrases)
    for i, _, _ in index.matcher.find_matches_as_indexes(norm, overlapping=True):
        present[i] = True
    return present


def _scores(index: _Index, present: list[bool]) -> list[float]:
    """Every signature's score: phrase weights present, minus excluded ones present, 0 without a
    required one. Only the signatures one of whose phrases is present are computed (a text touches
    a few families); every other one keeps its no-phrase score, ``index.zero``."""
    scores = list(index.zero)
    touched: set[int] = set()
    for i, hit in enumerate(present):
        if hit:
            touched.update(index.users[i])
    for s in touched:
        pos, neg, req = index.positive[s], index.negative[s], index.required[s]
        scores[s] = (
            sum(w for i, w in pos if present[i]) - sum(w for i, w in neg if present[i])
            if not req or any(present[i] for i in req)
            else 0.0
        )
    return scores


def detect_license_text(text: str) -> TextDetection:
    """Identify the licence (exact version), AUP or notice that ``text`` is.

    Returns key None / kind "unknown" for empty, binary or unrecognised text.
    """
    if not text or looks_binary(text):
        return UNKNOWN
    norm = normalize(text)
    if len(norm) < 3:
        return UNKNOWN
    index = _index()
    present = _present(index, norm)
    scores = _scores(index, present)
    order = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)  # stable: YAML order on ties
    best, best_score = index.sigs[order[0]], scores[order[0]]
    if best_score < MIN_SCORE:
        return UNKNOWN
    matched = tuple(
        raw for (_, raw, _), (i, _) in zip(best.phrases, index.positive[order[0]], strict=True) if present[i]
    )
    rival = next((i for i in order[1:] if index.sigs[i].key != best.key), None)
    rival_score = max(scores[rival], 0.0) if rival is not None else 0.0
    if rival is not None and rival_score == best_score:
        # A dead heat between two licences: name neither, but keep the family if they share it.
        family = best.family if best.family == index.sigs[rival].family else None
        return TextDetection(key=None, kind="unknown", score=0.0, matched=matched, family=family)
    margin = (best_score - rival_score) / best_score
    # Dated versions of one key (Gemma 2024/2025, OpenRAIL++ 2022/2023) tie when the date line is
    # missing or unfamiliar: the key is still right, the version is then not known.
    version_known = not any(
        index.sigs[i].key == best.key and index.sigs[i].version != best.version and scores[i] == best_score
        for i in order[1:]
    )
    coverage = min(1.0, best_score / best.total)
    confidence = coverage * (0.5 + 0.5 * min(1.0, margin / FULL_MARGIN))
    kind = best.kind
    if (
        best.notice is not None
        and present[index.phrases.index(best.notice)]
        and norm.count(" ") <= NOTICE_MAX_TOKENS
    ):
        kind = "notice"
    return TextDetection(
        key=best.key,
        kind=kind,
        score=round(confidence, 3),
        matched=matched,
        family=best.family,
        version=best.version if version_known else None,
    )


# A capitalised word or number of at most 40 characters, starting at a word boundary; a trailing
# full stop ends it. The bounds keep the search linear on pathological input (one huge "word").
_NAME_WORD = r"(?<![\w.+-])[A-Z0-9](?:[\w\-+]|\.(?=\w)){0,39}(?![\w+-])"
_LICENCE_WORD = rf"(?:{_NAME_WORD}|licen[cs]e|agreement)"  # "the OPT-175B license"
# "<Model> is licensed under the <Licence>": found by its literal middle; the model name is read
# from the (at most five) words before it and the licence name from a short window after it,
# so the cost stays linear in the text whatever it holds.
_LICENSED_UNDER = re.compile(r" is licensed under the ")
_SUBJECT_WORD = re.compile(_NAME_WORD)
_LICENCE_NAME = re.compile(rf"(?:{_LICENCE_WORD} ?){{1,10}}")
_WINDOW = 200


def _named_notices(display: str) -> list[tuple[int, str]]:
    found = []
    for m in _LICENSED_UNDER.finditer(display):
        words = display[max(0, m.start() - _WINDOW) : m.start()].split(" ")[-5:]
        subject: list[str] = []
        for word in reversed(words):
            core = word.lstrip("\"'([")  # an opening quote starts the name
            if not _SUBJECT_WORD.fullmatch(core):
                break
            subject.insert(0, core)
            if core != word:
                break
        licence = _LICENCE_NAME.match(display, m.end(), m.end() + _WINDOW)
        if subject and licence:
            found.append((m.start(), f"{' '.join(subject)} is licensed under the {licence.group(0).strip()}"))
    return found


_NAME_PREFIX = re.compile(  # the licence's own wording, or a README's "name must begin with "Llama 3""
    r"include \"([^\"]{1,40})\" at the beginning of any such ai model name"
    r"|names? (?:must |shall |should )?(?:begins?|starts?) with \"([^\"]{1,40})\"",
    re.IGNORECASE,
)
_QUOTES = str.maketrans({c: '"' for c in "“”„‟«»″"} | {c: "'" for c in "‘’‚‛′"})
_MARKUP = re.compile(r"[*_`\\#]+")


def _display_text(text: str) -> str:
    """Case-preserving cleanup for quoting statements back: quotes unified, markup and runs of space gone."""
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS]).translate(_QUOTES)
    text = _MARKUP.sub("", _HTML_TAG.sub(" ", text))
    return re.sub(r"\s+", " ", text)


def detect_notice_phrases(text: str) -> list[str]:
    """Display phrases and naming / notice statements a NOTICE or README carries.

    Downstream checks (missing-notice, naming-requirement) need to know whether a child
    repo says "Built with Llama", "Built with Qwen", "Powered by Stability AI", carries the
    "<Model> is licensed under the <Licence>" sentence, or states a name prefix. The fixed
    display phrases come first, then the statements, each in order of appearance, without
    duplicates.
    """
    if not text or looks_binary(text):
        return []
    norm = normalize(text)
    fixed = sorted((norm.find(phrase), label) for label, phrase in _index().notices.items() if phrase in norm)
    display = _display_text(text)
    statements = sorted(
        _named_notices(display)
        + [
            (m.start(), f'name prefix "{(m.group(1) or m.group(2)).strip()}"')
            for m in _NAME_PREFIX.finditer(display)
        ]
    )
    seen: dict[str, None] = {}
    for _, label in fixed + statements:
        seen.setdefault(label, None)
    return list(seen)
