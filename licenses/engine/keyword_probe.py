"""Keyword-gated regular expressions over lower-cased card text.

Scorers ask dozens of yes/no questions of every card ("is training compute stated?").
Each question is a :class:`Probe`: a regex plus the keywords any match must contain, so
the regex only runs near those keywords instead of across a 30 KB README. Where the
keywords are is found once per card body for all probes together (:class:`KeyIndex`, one
Aho-Corasick pass) rather than with one ``str.find`` scan per keyword.

Spelling matters for speed: ``re`` skips quickly to positions where a match can start
only when every alternative of a pattern starts with a literal character (or the whole
pattern with one character class). An alternative starting with ``\\b`` or ``^`` makes it
attempt a full match at every position of the text (up to 10x slower on real cards). So a
word boundary is written after the first character: ``x(?<![0-9a-z_]x)`` is ``\\bx`` for a
word character ``x`` (ASCII-aware, see :data:`WORD_START`), ``\\d(?<![0-9a-z_]\\d)`` is ``\\b\\d``, and ``s(?<![^\\n]s)`` is ``^s`` under
``re.MULTILINE``; the matches are the same.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Iterable

import ahocorasick_rs

#: Word boundaries for English tokens in lower-cased text, ASCII-aware: ``\b`` and ``\w`` count
#: every Unicode letter as a word character, so no boundary falls between an ASCII token and a
#: CJK character ("22gb预训练", "在8张a100上训练") and those tokens went unseen. These are
#: ``\b`` as ``re.ASCII`` defines it (a word character is ``[0-9a-z_]`` in lower-cased text),
#: without that flag's other effects (``\d`` and ``\s`` stay Unicode: "22\xa0gb"). On an
#: ASCII text they match exactly where ``\b`` does. ``WORD_START`` stands for a ``\b`` that is
#: followed by a word character, ``WORD_END`` for one that follows a word character, and
#: ``WORD_BOUNDARY`` for one where the pattern leaves either side open.
WORD_START = r"(?<![0-9a-z_])"
WORD_END = r"(?![0-9a-z_])"
WORD_BOUNDARY = r"(?:(?<=[0-9a-z_])(?![0-9a-z_])|(?<![0-9a-z_])(?=[0-9a-z_]))"


def at_word_start(*alternatives: str) -> str:
    r"""``\b(?:alt1|alt2|...)`` for alternatives that start with a literal word character, the
    boundary ASCII-aware (:data:`WORD_START`: "a100" counts in "8张a100").

    Spelled ``(?:a(?<![0-9a-z_]a)(?:lt1|lt2)|...)``: alternatives are grouped by first character
    (keeping their order, so the same alternative wins), which lets ``re`` skip ahead to
    those characters and try only the group that can match there.
    """
    groups: dict[str, list[str]] = {}
    for alt in alternatives:
        first = alt[:1]
        if not (first.isascii() and first.isalnum()) or alt[1:2] in ("*", "+", "?", "{"):
            raise ValueError(f"{alt!r} must start with a literal, unquantified word character")
        groups.setdefault(first, []).append(alt[1:])
    parts = [
        f"{first}(?<![0-9a-z_]{first})" + (rests[0] if len(rests) == 1 else "(?:" + "|".join(rests) + ")")
        for first, rests in groups.items()
    ]
    return "(?:" + "|".join(parts) + ")"


class KeyIndex:
    """Every occurrence of every probe keyword in one text, found in a single pass.

    A card is asked ~30 questions whose ~190 keywords were each a ``str.find`` over the
    whole body, mostly for words the card never uses: ~190 scans of a 30 KB README. One
    Aho-Corasick pass (``ahocorasick_rs``, a DFA in Rust) over the lower-cased body finds them all at
    once, and each :class:`Probe` then reads its keywords' positions from here. Positions
    are the same ``str.find`` would report, overlapping occurrences included, so probes
    answer exactly as before. ``covers`` is the keyword set of the automaton used: a probe
    with a keyword outside it (created after the index) falls back to ``str.find``.
    """

    __slots__ = ("covers", "positions")

    def __init__(self, low: str):
        automaton, keys, self.covers, byte_automaton, one_byte_ok = _automaton()
        positions: dict[str, list[int]] = {}
        if automaton is not None:
            # one call returns every (keyword, start, end), overlapping ones included, ordered
            # by end, so each keyword's starts come out ascending as ``str.find`` would give them
            if one_byte_ok or low.isascii():
                # one byte per character (see _automaton): the offsets are the text's
                found = byte_automaton.find_matches_as_indexes(
                    low.encode("ascii", "replace"), overlapping=True
                )
            else:
                found = automaton.find_matches_as_indexes(low, overlapping=True)
            for i, start, _ in found:
                key = keys[i]
                hits = positions.get(key)
                if hits is None:
                    positions[key] = [start]
                else:
                    hits.append(start)
        self.positions = positions


_REGISTRY: dict[str, None] = {}  # every probe keyword, in registration order
#: The automaton, its keywords in pattern-index order, those keywords as a set, the same
#: automaton over the keywords' bytes, and whether every keyword is ASCII without a ``?``.
_Automaton = tuple[
    ahocorasick_rs.AhoCorasick | None, tuple[str, ...], frozenset[str], ahocorasick_rs.BytesAhoCorasick, bool
]
_AUTOMATON: _Automaton = (None, (), frozenset(), ahocorasick_rs.BytesAhoCorasick([b"-"]), False)  # none yet


def _automaton() -> _Automaton:
    """The automaton over all registered keywords (and its keyword order), rebuilt when probes
    were added since. A DFA: larger to build than the NFA, and about twice as fast to run.

    The bytes twin reads ``text.encode("ascii", "replace")``, one byte per character, so its
    offsets are the text's. That is exact for an ASCII text, and for any text when every
    keyword is ASCII without a ``?``: such keywords occur only in runs of ASCII characters,
    which the encoding keeps, and never over a ``?`` that stands for another character. It
    spares the str automaton's UTF-8 copy of a non-ASCII text and its conversion of byte
    offsets back to character offsets (about a quarter of its time on long, non-ASCII cards).
    """
    global _AUTOMATON
    if len(_AUTOMATON[2]) != len(_REGISTRY):
        keys = tuple(_REGISTRY)
        kind, dfa = ahocorasick_rs.MatchKind.Standard, ahocorasick_rs.Implementation.DFA
        _AUTOMATON = (
            ahocorasick_rs.AhoCorasick(keys, matchkind=kind, implementation=dfa),
            keys,
            frozenset(keys),
            ahocorasick_rs.BytesAhoCorasick(
                [key.encode("utf-8") for key in keys], matchkind=kind, implementation=dfa
            ),
            all(key.isascii() and "?" not in key for key in keys),
        )
    return _AUTOMATON


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

    __slots__ = ("keys", "keyset", "rx")

    def __init__(self, pattern: str, keys: Iterable[str] = (), flags: int = 0):
        self.rx = re.compile(pattern, flags)
        self.keys = tuple(keys)
        self.keyset = frozenset(self.keys)
        if "" in self.keys:
            raise ValueError("an empty keyword would gate nothing")
        for key in self.keys:
            _REGISTRY.setdefault(key, None)

    def absent_in(self, index: KeyIndex | None) -> bool:
        """True when ``index`` knows every keyword and none occurs: nothing can match (``search``
        answers ``None``), decided with one set test instead of a lookup per keyword."""
        keys = self.keyset
        return index is not None and bool(keys) and keys <= index.covers and keys.isdisjoint(index.positions)

    def key_starts(self, low: str, index: KeyIndex | None = None) -> set[int]:
        """Every offset of ``low`` where one of the keywords starts: read from ``index`` when it
        knows them all, else one ``str.find`` scan per keyword (the same offsets either way)."""
        found: set[int] = set()
        indexed = self._indexed(index)
        if indexed is not None:
            positions = indexed.positions
            for key in self.keys:
                hits = positions.get(key)
                if hits:
                    found.update(hits)
            return found
        for key in self.keys:
            i = low.find(key)
            while i != -1:
                found.add(i)
                i = low.find(key, i + 1)
        return found

    def _indexed(self, index: KeyIndex | None) -> KeyIndex | None:
        """``index`` if it knows every keyword of this probe, else ``None`` (use ``str.find``)."""
        if index is None or not index.covers.issuperset(self.keys):
            return None
        return index

    def _has_key(self, low: str, index: KeyIndex | None = None) -> bool:
        if index is not None:
            found = index.positions
            for key in self.keys:  # noqa: SIM110  (a plain loop: any() over a generator is slower)
                if key in found:
                    return True
            return False
        for key in self.keys:  # noqa: SIM110
            if key in low:
                return True
        return False

    def _windows(self, low: str, index: KeyIndex | None = None) -> list[list[int]] | None:
        """Merged ``[start, end)`` windows around keywords; ``None`` means scan everything."""
        positions: list[int] = []
        if index is not None:
            for key in self.keys:
                positions.extend(index.positions.get(key, ()))
                if len(positions) > self.MAX_HITS:
                    return None
        else:
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

    def finditer(
        self,
        low: str,
        index: KeyIndex | None = None,
        scan: Callable[[int, int], Iterable[re.Match[str]]] | None = None,
    ) -> Iterable[re.Match[str]]:
        """Matches in ``low`` as ``rx.finditer`` would give them near the keywords.

        ``index`` is ``low``'s :class:`KeyIndex` when the caller has one (the card body).
        ``scan(a, b)``, when given, stands for ``rx.finditer(low, a, b)``: a caller that knows
        where matches can start tries the pattern only there, in the same windows.
        """
        if scan is None:
            scan = functools.partial(self.rx.finditer, low)
        if not self.keys:
            yield from scan(0, len(low))
            return
        index = self._indexed(index)
        if len(low) <= self.SMALL:
            if self._has_key(low, index):
                yield from scan(0, len(low))
            return
        windows = self._windows(low, index)
        if windows is None:
            yield from scan(0, len(low))
            return
        last_end = -1
        for a, b in windows:
            for m in scan(a, b):
                if m.start() >= last_end:
                    last_end = m.end()
                    yield m

    def search(
        self,
        low: str,
        index: KeyIndex | None = None,
        find: Callable[[int, int], re.Match[str] | None] | None = None,
    ) -> re.Match[str] | None:
        """A match (not necessarily the first one): evidence needs one, and stopping at
        the first keyword window that matches avoids enumerating every occurrence.

        ``index`` is ``low``'s :class:`KeyIndex` when the caller has one (the card body).
        ``find(a, b)``, when given, stands for ``rx.search(low, a, b)`` (see :meth:`finditer`).
        """
        search = find if find is not None else functools.partial(self.rx.search, low)
        if not self.keys:
            return search(0, len(low))
        index = self._indexed(index)
        if len(low) <= self.SMALL:
            return search(0, len(low)) if self._has_key(low, index) else None
        if index is not None:
            return self._search_indexed(low, index, search)
        tried = 0
        for key in self.keys:
            i = low.find(key)
            while i != -1:
                m = search(max(0, i - self.BEFORE), min(len(low), i + self.AFTER))
                if m:
                    return m
                tried += 1
                if tried > self.MAX_HITS:
                    return search(0, len(low))
                i = low.find(key, i + self.AFTER - 100)  # matches starting earlier were tried
        return None

    def _search_indexed(
        self, low: str, index: KeyIndex, search: Callable[[int, int], re.Match[str] | None]
    ) -> re.Match[str] | None:
        """:meth:`search` over known keyword positions: the same windows, in the same order."""
        tried = 0
        skip = self.AFTER - 100
        for key in self.keys:
            hits = index.positions.get(key)
            if not hits:
                continue
            k = 0
            while k < len(hits):
                i = hits[k]
                m = search(max(0, i - self.BEFORE), min(len(low), i + self.AFTER))
                if m:
                    return m
                tried += 1
                if tried > self.MAX_HITS:
                    return search(0, len(low))
                k = bisect.bisect_left(hits, i + skip, k + 1)  # matches starting earlier were tried
        return None
