"""URLs of a card: where each points (arXiv, DOI, GitHub, Hub dataset ...) and which section holds it."""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ahocorasick_rs

from licenses.engine.card_sections import _BOILERPLATE, CANONICAL_SECTIONS, Section
from licenses.engine.keyword_probe import KeyIndex, Probe


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


_URL = re.compile(r"https?://[^\s<>()\[\]\"'`|]+")
_ARXIV_VERSION = re.compile(r"v\d+$")  # a version suffix of an arXiv id ("2307.09288v2")
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
_PAPER_HOST = re.compile("|".join(map(re.escape, _PAPER_HOSTS)))  # any of them, anywhere in host+path
#: The same test in one Aho-Corasick pass: URLs are classified by the dozen per card, and a
#: loop of 21 ``in`` tests (or the regex, whose alternatives ``re`` tries at almost every
#: position) cost twice as much.
_PAPER_HOST_AC = ahocorasick_rs.AhoCorasick(_PAPER_HOSTS)


def _names_paper_host(host_path: str) -> bool:
    """``_PAPER_HOST.search(host_path)``: does a paper host occur anywhere in host and path?"""
    return bool(_PAPER_HOST_AC.find_matches_as_indexes(host_path))


_HF_RESERVED = frozenset(
    {"datasets", "spaces", "docs", "papers", "blog", "models", "settings", "join", "login", "collections",
     "organizations", "api", "chat", "pricing", "learn", "tasks", "new", "posts", "inference-endpoints"}
)  # fmt: skip


def _url_parts(url: str) -> tuple[str, str, str]:
    """``(lower-cased URL, its host and path, its host less "www.")``."""
    low = url.lower()
    _, sep, host_path = low.partition("://")
    if not sep:
        host_path = low
    return low, host_path, host_path.partition("/")[0].removeprefix("www.")


def classify_url(url: str) -> tuple[str, str | None]:
    """``(kind, target)`` for a URL: arXiv id, DOI, GitHub repo, Hub dataset/model id..."""
    low, host_path, host = _url_parts(url)
    return _classify(url, host_path, host, _names_paper_host(host_path), "arx" in low)


def _classify_all(urls: list[str]) -> list[tuple[str, str | None]]:
    """:func:`classify_url` of each of ``urls`` (a card's, none holding a newline).

    The paper-host test runs once over all the URLs joined by newlines instead of once
    per URL: no host holds a newline, so a host occurs in the joined text exactly where it
    occurs in one URL, and the automaton's per-call cost is paid once per card.
    """
    if len(urls) < 2:
        return [classify_url(url) for url in urls]
    parts = [_url_parts(url) for url in urls]
    host_paths = [host_path for _, host_path, _ in parts]
    joined = "\n".join(host_paths)
    if joined.count("\n") != len(urls) - 1:  # a URL with a newline of its own: one at a time
        return [classify_url(url) for url in urls]
    paper = [False] * len(urls)
    matches = _PAPER_HOST_AC.find_matches_as_indexes(joined)
    if matches:
        starts = list(itertools.accumulate((len(hp) + 1 for hp in host_paths[:-1]), initial=0))
        for _, start, _ in matches:
            paper[bisect.bisect_right(starts, start) - 1] = True
    return [
        _classify(url, host_path, host, is_paper, "arx" in low)
        for url, (low, host_path, host), is_paper in zip(urls, parts, paper, strict=True)
    ]


def _classify(
    url: str, host_path: str, host: str, names_paper_host: bool, names_arx: bool
) -> tuple[str, str | None]:
    """:func:`classify_url` given the URL's parts (:func:`_url_parts`), whether a paper host
    occurs in its host and path, and whether its lower case holds "arx".

    The Hub branch reads the first path segment once instead of comparing a slice of the
    segments with a fresh one-item list per kind (``parts[:1] == ["datasets"]`` ...), and an
    arXiv id goes through the version-suffix ``sub`` only when it holds a ``v``.
    """
    m = _ARXIV.search(url) if names_arx else None  # no case-folding equivalent of a, r, x
    if m:
        arxiv_id = m.group(1).removesuffix(".pdf")
        return "arxiv", _ARXIV_VERSION.sub("", arxiv_id) if "v" in arxiv_id else arxiv_id
    if host in ("doi.org", "dx.doi.org"):
        return "doi", "/".join(_path_parts(url)) or None
    if names_paper_host:
        return "paper", None
    if host == "github.com":
        parts = _path_parts(url)
        return "github", f"{parts[0]}/{parts[1]}" if len(parts) >= 2 else None
    if host in ("huggingface.co", "hf.co"):
        parts = _path_parts(url)
        n = len(parts)
        first = parts[0] if n else ""
        if first == "datasets" and n >= 2:
            return "hf-dataset", f"{parts[1]}/{parts[2]}" if n >= 3 else parts[1]
        if first == "spaces":
            return "hf-space", "/".join(parts[1:3]) or None
        if first == "blog":
            return "blog", None
        if first in ("docs", "learn"):
            return "docs", None
        if n >= 2 and first.lower() not in _HF_RESERVED:
            return "hf-model", f"{first}/{parts[1]}"
        return "hf-other", None
    if (
        "blog" in host
        or "/blog" in host_path
        or host in ("medium.com", "substack.com")
        or host.endswith((".medium.com", ".substack.com"))
    ):
        return "blog", None
    return "web", None


def _path_parts(url: str) -> list[str]:
    """The non-empty path segments of ``url`` (original case), query and fragment dropped."""
    _, sep, rest = url.partition("://")
    path = (rest if sep else url).partition("/")[2]
    return list(filter(None, path.partition("?")[0].partition("#")[0].split("/")))


_TEMPLATE_ORDER = {name: i for i, name in enumerate(CANONICAL_SECTIONS)}


def _sections_at_lines(sections: Mapping[str, Section], lines: list[int]) -> list[str | None]:
    """The innermost section holding each of ``lines`` (ascending), in one sweep.

    Sections nest like the card's outline, so a stack of open spans answers every line in
    O(spans + lines); a card repeating one heading thousands of times stays linear. Among
    names sharing a heading the one first in template order wins.
    """
    if not sections:
        return [None] * len(lines)
    spans = sorted(
        (
            (start, -_TEMPLATE_ORDER[sec.name], end, sec.name)
            for sec in sections.values()
            for start, end in sec.spans
        ),
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


#: A card holding the Hub template's CO2 sentence (whose arXiv link is boilerplate, not a
#: citation) is read line by line; ``re.IGNORECASE`` also accepts a few non-ASCII letters
#: that ``str.lower`` does not fold, so this finds a superset of those cards.
_LACOSTE = re.compile("lacoste", re.IGNORECASE)
#: "lacoste" among the keywords of the card's :class:`KeyIndex` (built before the links):
#: whether the body holds it is then a dict lookup instead of a scan of the lower-cased body.
_LACOSTE_KEY = Probe("lacoste", ("lacoste",))


def extract_links(
    body: str,
    sections: Mapping[str, Section],
    line_offset: int = 0,
    low: str | None = None,
    index: KeyIndex | None = None,
) -> tuple[Link, ...]:
    """Every distinct URL of ``body`` (first occurrence), classified, with line and section.

    URLs never span lines, so they are taken straight from the body in one regex scan, and
    the line number is counted up from one new URL to the next (repeats are not counted).
    Only a card quoting the template's CO2 sentence goes line by line, with the sentence
    blanked out. ``low`` is ``body.lower()`` when the caller has it (it spares that check a
    scan), and ``index`` its keyword index (which answers the check outright). At most
    :data:`MAX_LINKS`, counted at the end of a line.
    """
    if index is not None and _LACOSTE_KEY.keyset <= index.covers:
        template = "lacoste" in index.positions
    else:
        template = "lacoste" in low if low is not None else _LACOSTE.search(body) is not None
    if template:
        return _extract_links_by_line(body, sections, line_offset)
    found: dict[str, int] = {}  # URL -> README line of its first occurrence, in order
    count = body.count
    line = 1 + line_offset  # README line of offset ``pos``, counted on at each new URL only
    pos = 0
    matches = _URL.finditer(body)
    for m in matches:
        url = m.group().rstrip(".,;:!*_~")
        if url not in found:
            hit = m.start()
            line += count("\n", pos, hit)
            pos = hit
            found[url] = line
            if len(found) >= MAX_LINKS:  # finish this line, then stop
                stop = body.find("\n", hit)
                for m in matches:
                    if stop != -1 and m.start() > stop:
                        break
                    url = m.group().rstrip(".,;:!*_~")
                    if url not in found:
                        found[url] = line
                break
    return _located(found, sections)


def _located(found: dict[str, int], sections: Mapping[str, Section]) -> tuple[Link, ...]:
    """The links of ``found`` (URL -> line), classified all at once, with their sections.

    Each :class:`Link` is filled in directly (what :func:`frozen_record` does, without a
    call per link).
    """
    if not found:  # a card without links: no sections to look up, nothing to classify
        return ()
    urls = list(found)
    lines = list(found.values())
    where = _sections_at_lines(sections, lines)
    new = object.__new__
    out: list[Link] = []
    append = out.append
    for url, (kind, target), line, sec in zip(urls, _classify_all(urls), lines, where, strict=True):
        link = new(Link)
        link.__dict__.update(url=url, kind=kind, target=target, line=line, section=sec)
        append(link)
    return tuple(out)


def _extract_links_by_line(body: str, sections: Mapping[str, Section], line_offset: int) -> tuple[Link, ...]:
    """:func:`extract_links` line by line, each line's CO2 template sentence blanked first."""
    found: dict[str, int] = {}
    # only lines holding "http" can hold a URL: jump between them with str.find instead of
    # splitting the whole card into lines
    idx = pos = 0  # ``idx``: 0-based line number of the line starting at ``pos``
    hit = body.find("http")
    while hit != -1:
        start = body.rfind("\n", pos, hit) + 1 or pos
        idx += body.count("\n", pos, start)
        pos = start
        end = body.find("\n", hit)
        line = body[start:] if end == -1 else body[start:end]
        for m in _URL.finditer(_BOILERPLATE.sub(" ", line) if "lacoste" in line.lower() else line):
            url = m.group(0).rstrip(".,;:!*_~")
            if url not in found:
                found[url] = idx + 1 + line_offset
        if len(found) >= MAX_LINKS or end == -1:
            break
        hit = body.find("http", end)
    return _located(found, sections)
