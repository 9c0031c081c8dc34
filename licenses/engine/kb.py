"""The licence knowledge base: one YAML file per licence, loaded into ``LicenseInfo`` values.

Why a hand-written knowledge base: no library records what matters for AI-model licences
(MAU caps, name prefixes, output-training bans, flow-down of use restrictions) and the Hub's
``license``/``license_name`` values are free text with many spellings. Every file is validated
against ``license.schema.json`` when loaded and any problem raises ``KnowledgeBaseError`` naming
the file, because a silently skipped licence would turn into a wrong verdict downstream.

Lookups are dictionary hits on a normalised form of a name (see ``normalise_name``); there is no
fuzzy matching here, so a lookup either names the licence exactly or returns ``None``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from licenses.engine.types import LicenseInfo, Obligation

#: "Or later" as written after a version: ``GPL-3.0-or-later``, ``GPLv2+``. A "+" counts only after a
#: version digit: ``openrail++`` is a licence's name.
OR_LATER = re.compile(r"(?:-or-later|(?<=\d)\+)$", re.IGNORECASE)


def or_later_spdx(declared: str, info: LicenseInfo) -> str | None:
    """The canonical SPDX "or later" id when ``declared`` (as written) says "or later" of a licence
    the knowledge base files as ``-only`` (``GPLv2+`` -> ``GPL-2.0-or-later``; both spellings share
    one key, so the id alone cannot say it); None otherwise."""
    if not OR_LATER.search(declared) or not info.spdx or not info.spdx.endswith("-only"):
        return None
    return info.spdx.removesuffix("-only") + "-or-later"


DATA_DIR = Path(__file__).resolve().parent.parent / "data"
LICENSES_DIR = DATA_DIR / "licenses"
SCHEMA_PATH = DATA_DIR / "license.schema.json"

# Words that carry no identity in a licence name ("The MIT License" is "MIT"). "or" and "only"
# stay: they separate "GPL-3.0-or-later" from "GPL-3.0-only" aliases.
_STOPWORDS = frozenset(
    {"the", "a", "an", "of", "for", "and", "license", "licence", "licenses", "licences", "agreement"}
    | {"version", "ver", "v", "international", "generic", "unported", "gnu"}
)

# Multi-word phrases folded to the short form used in SPDX/Hub ids, longest first, so that
# "Creative Commons Attribution-NonCommercial 4.0" and "cc-by-nc-4.0" meet.
_PHRASES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("lesser", "general", "public"), "lgpl"),
    (("library", "general", "public"), "lgpl"),
    (("affero", "general", "public"), "agpl"),
    (("general", "public"), "gpl"),
    (("creative", "commons"), "cc"),
    (("non", "commercial"), "nc"),
    (("share", "alike"), "sa"),
    (("no", "derivatives"), "nd"),
    (("no", "derivs"), "nd"),
    (("noncommercial",), "nc"),
    (("sharealike",), "sa"),
    (("noderivatives",), "nd"),
    (("noderivs",), "nd"),
    (("attribution",), "by"),
)

#: Bump when the cached document format changes, so old caches are ignored.
_CACHE_FORMAT = "kb-cache-1"

_VERSION_TOKEN = re.compile(r"^v?(\d+(?:\.\d+)*)(\+*)$")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


#: Spellings of ``license``/``license_name`` that say "there are terms, but not here": the caller
#: has to look at ``license_name``, ``license_link`` or the LICENSE file instead. ``none`` is
#: deliberately absent: it means "no licence", which the classifier reports as ``none``.
_PLACEHOLDERS = (
    "",
    "other",
    "unknown",
    "unknow",
    "unknkown",
    "custom",
    "proprietary",
    "see license",
    "see license file",
    "undisclosed",
    "unspecified",
    "not specified",
    "various",
    "mixed",
    "n/a",
    "tbd",
    "unclear",
)


class KnowledgeBaseError(Exception):
    """A licence file is invalid or two licences claim the same name."""


def normalise_name(text: str) -> str:
    """Reduce a licence name to the form aliases are matched on.

    Case, punctuation, hyphen-vs-space, "license"/"licence", "version"/"v", "the" and CC/GPL long
    forms are ignored; versions lose trailing ".0" groups ("2.0" == "2"). Tokens are then joined
    without separators ("Llama 3" == "Llama-3" == "llama3"), except that a hyphen is kept between
    two numbers so "falcon 2 11b" and "falcon 21 1b" stay apart. Dots inside versions survive,
    which keeps "llama3" and "llama3.1" distinct, and so do "+" signs ("openrail" vs "openrail++").
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = re.sub(r"[^\w.+]+|_", " ", folded)
    tokens = [t.strip(".") for t in folded.split()]
    tokens = [_normalise_version(t) for t in tokens if t and t.strip(".")]
    tokens = [t for t in _fold_phrases(tokens) if t not in _STOPWORDS]
    out = ""
    for token in tokens:
        if out and out[-1].isdigit() and token[0].isdigit():
            out += "-"
        out += token
    return out


def _normalise_version(token: str) -> str:
    match = _VERSION_TOKEN.match(token)
    if not match:
        return token
    number, plus = match.groups()
    parts = number.split(".")
    while len(parts) > 1 and parts[-1] == "0":
        parts.pop()
    return ".".join(parts) + plus


#: ``_PHRASES`` by first word, each list in ``_PHRASES`` order: only these can match at a token.
_PHRASES_BY_FIRST: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = {
    first: tuple(entry for entry in _PHRASES if entry[0][0] == first) for first in {p[0] for p, _ in _PHRASES}
}


def _fold_phrases(tokens: list[str]) -> list[str]:
    """Each multi-word phrase of ``_PHRASES`` replaced by its short form, leftmost first.

    Only the phrases starting with the current token are tried (``_PHRASES_BY_FIRST``), in
    ``_PHRASES`` order, which is what trying every phrase in that order would pick.
    """
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for phrase, short in _PHRASES_BY_FIRST.get(tokens[i], ()):
            if tuple(tokens[i : i + len(phrase)]) == phrase:
                out.append(short)
                i += len(phrase)
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


_EDGE_OPERATOR = re.compile(r"^\s*(?:and|or|with)\b|\b(?:and|or|with)\s*$", re.IGNORECASE)


def is_fragment(text: str) -> bool:
    """True for the remains of a cut licence expression: a leading or trailing AND/OR/WITH
    ("MIT AND", "or Apache-2.0") or unbalanced parentheses ("(MIT").

    Name matching ignores "and" and punctuation, so without this check such text read as the one
    licence it still names, and a card whose expression lost a licence passed as that licence.
    """
    return bool(_EDGE_OPERATOR.search(text)) or text.count("(") != text.count(")")


def normalise_url(url: str) -> str:
    """Reduce a licence URL so that scheme, ``www.``, a trailing slash, query, fragment and the
    British "licences" path spelling (used by mistral.ai) do not matter."""
    u = _URL.sub("", url.strip().casefold())
    u = re.split(r"[?#]", u, maxsplit=1)[0].rstrip("/")
    u = u.removeprefix("www.")
    return u.replace("/licences/", "/licenses/")


UNRESOLVED_IDS: frozenset[str] = frozenset(normalise_name(p) for p in _PLACEHOLDERS)


def _is_url(text: str) -> bool:
    return bool(_URL.match(text.strip()))


@dataclass(frozen=True)
class _Source:
    """A loaded file: where it came from and what it produced (for error messages)."""

    path: Path
    info: LicenseInfo


class KnowledgeBase:
    """Lookups over the loaded licences. Build it with ``load_knowledge_base``."""

    def __init__(self, sources: Iterable[_Source]):
        self._by_key: dict[str, LicenseInfo] = {}
        self._by_name: dict[str, str] = {}
        self._by_spdx: dict[str, str] = {}
        self._by_url: dict[str, str] = {}
        self._paths: dict[str, Path] = {}
        for source in sources:
            self._add(source)

    def _add(self, source: _Source) -> None:
        info = source.info
        if info.key in self._by_key:
            raise KnowledgeBaseError(
                f"{source.path}: key {info.key!r} already defined in {self._paths[info.key]}"
            )
        self._by_key[info.key] = info
        self._paths[info.key] = source.path
        self._claim(self._by_spdx, info.spdx.casefold(), info.key, source.path, "SPDX id")
        names = [info.key, info.spdx, info.name, *info.aliases]
        for name in names:
            if _is_url(name):
                self._claim(self._by_url, normalise_url(name), info.key, source.path, "URL alias")
                continue
            if name.startswith("LicenseRef-"):
                self._claim(self._by_spdx, name.casefold(), info.key, source.path, "LicenseRef alias")
            norm = normalise_name(name)
            if norm in UNRESOLVED_IDS:
                raise KnowledgeBaseError(
                    f"{source.path}: alias {name!r} normalises to the placeholder {norm!r}"
                )
            self._claim(self._by_name, norm, info.key, source.path, f"alias {name!r} (normalised {norm!r})")
        if info.url:
            self._claim(self._by_url, normalise_url(info.url), info.key, source.path, "URL")

    def _claim(self, index: dict[str, str], name: str, key: str, path: Path, what: str) -> None:
        owner = index.setdefault(name, key)
        if owner != key:
            raise KnowledgeBaseError(f"{path}: {what} collides with licence {owner!r} ({self._paths[owner]})")

    def get(self, key: str) -> LicenseInfo | None:
        """The licence whose key is exactly ``key``."""
        return self._by_key.get(key)

    def lookup(self, name: str) -> LicenseInfo | None:
        """Resolve a key, Hub id, SPDX id, alias, URL or free-text spelling to a licence.

        A ``LicenseRef-<namespace>-<id>`` we do not list is retried as ``<id>``, because the Hub
        turns ``license: other`` + ``license_name: x`` into ``LicenseRef-x`` style references.
        """
        if not name:
            return None
        if name in self._by_key:
            return self._by_key[name]
        if _is_url(name):
            key = self._by_url.get(normalise_url(name))
            return self._by_key[key] if key else None
        if is_fragment(name):
            return None
        key = self._by_spdx.get(name.strip().casefold()) or self._by_name.get(normalise_name(name))
        if key is None and name.strip().casefold().startswith("licenseref-"):
            bare = re.sub(r"^licenseref-(?:(?:hub|hf|scancode)-)?", "", name.strip(), flags=re.IGNORECASE)
            key = self._by_name.get(normalise_name(bare))
        return self._by_key[key] if key else None

    def by_spdx(self, spdx_id: str) -> LicenseInfo | None:
        """The licence with this SPDX id or ``LicenseRef-`` (case-insensitive, as SPDX matching is)."""
        key = self._by_spdx.get(spdx_id.strip().casefold())
        return self._by_key[key] if key else None

    def all(self) -> list[LicenseInfo]:
        """Every licence, sorted by key."""
        return [self._by_key[k] for k in sorted(self._by_key)]

    def family(self, family: str) -> list[LicenseInfo]:
        """Every licence of one family (e.g. all Llama versions), sorted by key."""
        return [info for info in self.all() if info.family == family]

    def is_unresolved_id(self, value: str) -> bool:
        """True when ``value`` is a placeholder such as ``other``, ``unknown``, ``custom`` or empty.

        Such a value names no terms, so the caller must resolve the licence from ``license_name``,
        ``license_link`` or a LICENSE file. Family ids (``openrail``, ``cc``) are licences in the
        knowledge base with ``is_family_id`` set, not placeholders; ``none`` means "no licence".
        """
        return normalise_name(value) in UNRESOLVED_IDS

    def __len__(self) -> int:
        return len(self._by_key)


def _yaml_loader() -> type:
    """CSafeLoader that keeps dates as strings, so the schema sees what the file says."""
    import yaml

    class Loader(yaml.CSafeLoader):
        yaml_implicit_resolvers = {
            first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
            for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
        }

    return Loader


@functools.cache
def _validator() -> Any:
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _parse_file(path: Path, loader: type) -> dict[str, Any]:
    """Read and validate one licence file; every problem becomes a ``KnowledgeBaseError``."""
    import yaml

    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeBaseError(f"{path}: cannot read licence file: {exc}") from exc
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(f"{path}: not valid YAML: {exc}") from exc
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        problems = "; ".join(
            f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors
        )
        raise KnowledgeBaseError(f"{path}: {problems}")
    if data["key"] != path.stem:
        raise KnowledgeBaseError(f"{path}: key {data['key']!r} does not match the file name")
    return data


def _to_info(data: dict[str, Any]) -> LicenseInfo:
    published = data.get("published")
    return LicenseInfo(
        key=data["key"],
        name=data["name"],
        spdx=data["spdx"],
        license_class=data["class"],
        commercial_use=data["commercial_use"],
        osi_approved=data["osi_approved"],
        url=data["url"],
        aliases=tuple(data["aliases"]),
        family=data.get("family"),
        version=data.get("version"),
        published=date.fromisoformat(published) if published else None,
        summary=" ".join(data["summary"].split()),
        obligations=tuple(
            Obligation(
                kind=o["kind"],
                clause=o["clause"],
                summary=" ".join(o["summary"].split()),
                value=o.get("value"),
            )
            for o in data["obligations"]
        ),
        is_family_id=data.get("is_family_id", False),
    )


def _fingerprint(paths: list[Path]) -> str:
    """Changes whenever a licence file, the schema or this loader's cache format changes."""
    h = hashlib.sha256(_CACHE_FORMAT.encode())
    for path in [SCHEMA_PATH, *paths]:
        st = path.stat()
        h.update(f"{path.name}\0{st.st_mtime_ns}\0{st.st_size}\n".encode())
    return h.hexdigest()


def _default_cache_dir() -> Path | None:
    configured = os.environ.get("MODELHUB_KB_CACHE")
    if configured is not None:
        return Path(configured) if configured else None
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "modelhub"


def _read_documents(paths: list[Path], cache_dir: Path | None) -> list[dict[str, Any]]:
    """Validated documents of ``paths``, from the cache when no file changed since it was written.

    Parsing and schema validation dominate the load time (and importing jsonschema the start-up
    time), so their result is cached as JSON keyed by every file's mtime and size. An unreadable or
    stale cache is simply rebuilt; an unwritable cache directory only costs speed.
    """
    fingerprint = _fingerprint(paths)
    cache_file = None
    if cache_dir is not None:
        digest = hashlib.sha256(str(paths[0].parent.resolve()).encode()).hexdigest()[:16]
        cache_file = cache_dir / f"kb-{digest}.json"
        try:
            cached = json.loads(cache_file.read_text(encoding="utf-8"))
            if cached.get("fingerprint") == fingerprint:
                return cached["documents"]
        except (OSError, ValueError, AttributeError):
            pass
    loader = _yaml_loader()
    documents = [_parse_file(path, loader) for path in paths]
    if cache_file is not None:
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"fingerprint": fingerprint, "documents": documents}), encoding="utf-8")
            tmp.replace(cache_file)
        except OSError:
            pass
    return documents


def load_knowledge_base(data_dir: Path | None = None, *, cache_dir: Path | bool = True) -> KnowledgeBase:
    """Load and validate every ``*.yaml`` in ``data_dir`` (default: the bundled licences).

    ``cache_dir=True`` uses ``$MODELHUB_KB_CACHE`` (empty disables it) or ``~/.cache/modelhub``;
    ``False`` always re-reads the files; a path puts the cache there.
    """
    directory = data_dir or LICENSES_DIR
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise KnowledgeBaseError(f"{directory}: no licence files found")
    cache = _default_cache_dir() if cache_dir is True else (None if cache_dir is False else cache_dir)
    documents = _read_documents(paths, cache)
    return KnowledgeBase(_Source(path, _to_info(doc)) for path, doc in zip(paths, documents, strict=True))


@functools.cache
def default_kb() -> KnowledgeBase:
    """The bundled knowledge base, loaded once per process."""
    return load_knowledge_base()
