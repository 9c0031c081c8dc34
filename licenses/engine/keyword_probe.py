"""Keyword-gated regular expressions over lower-cased card text.

Scorers ask dozens of yes/no questions of every card ("is training compute stated?").
Each question is a :class:`Probe`: a regex plus the keywords any match must contain, so
the regex only runs near those keywords instead of across a 30 KB README.

Spelling matters for speed: ``re`` skips quickly to positions where a match can start
only when every alternative of a pattern starts with a literal character (or the whole
pattern with one character class). An alternative starting with ``\\b`` or ``^`` makes it
attempt a full match at every position of the text (up to 10x slower on real cards). So a
word boundary is written after the first character: ``x(?<!\\wx)`` is ``\\bx`` for a
word character ``x``, ``\\d(?<!\\w\\d)`` is ``\\b\\d``, and ``s(?<![^\\n]s)`` is ``^s`` under
``re.MULTILINE``; the matches are the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def at_word_start(*alternatives: str) -> str:
    r"""``\b(?:alt1|alt2|...)`` for alternatives that start with a literal word character.

    Spelled ``(?:a(?<!\wa)(?:lt1|lt2)|...)``: alternatives are grouped by first character
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
        f"{first}(?<!\\w{first})" + (rests[0] if len(rests) == 1 else "(?:" + "|".join(rests) + ")")
        for first, rests in groups.items()
    ]
    return "(?:" + "|".join(parts) + ")"


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

    def _has_key(self, low: str) -> bool:
        for key in self.keys:  # noqa: SIM110  (a plain loop: any() over a generator is slower)
            if key in low:
                return True
        return False

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
            if self._has_key(low):
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
            return self.rx.search(low) if self._has_key(low) else None
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
