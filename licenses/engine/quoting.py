"""Quoting what a card declared inside evidence, reasons and messages, within a bound.

Everything here ends up in the stored analysis (and from there in the model page, the
compliance answer and the AI-BOMs), several times over: a declared value is quoted in the
licence's evidence, its ``reason`` and a violation's message. The card is the uploader's, so a
quoted value may be a 250,000-character string or a list of 50,000 names; quoting it whole
made one front matter of 250 kB several megabytes of analysis. These helpers cut what they
quote and say how much there was, so nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

#: Longest single value quoted whole; a licence id, name or URL is far shorter.
QUOTE_CHARS = 200
#: Distinct values written out in one list; the rest are counted.
LISTED_VALUES = 16


def quote(value: str, limit: int = QUOTE_CHARS) -> str:
    """``value``, or its first ``limit`` characters followed by its full length."""
    if len(value) <= limit:
        return value
    return f"{value[:limit]}… ({len(value):,} characters)"


def listed(
    values: Iterable[str], sep: str = ", ", shown: int = LISTED_VALUES, wrap: Callable[[str], str] = str
) -> str:
    """``values`` once each, in order, each :func:`quote`-d (then ``wrap``-ped: ``repr``), the
    first ``shown`` written out and the rest counted ("… and 12 more")."""
    unique = list(dict.fromkeys(values))
    text = sep.join(wrap(quote(v)) for v in unique[:shown])
    rest = len(unique) - shown
    return f"{text}{sep.rstrip()} and {rest:,} more" if rest > 0 else text
