"""Decide one repository's licence from its card metadata, its licence files and its card body.

Why three sources: the Hub indexes only the metadata (``license``, plus ``license_name`` /
``license_link`` for ``other``), but the metadata is often vague (``other``, the family id
``openrail``), stale (``llama3`` on a repo whose LICENSE is the Llama 3.1 text) or missing
(re-uploads drop it). The LICENSE file says which text actually ships; the body is the last
resort ("released under the Apache 2.0 licence", a "## License" section, a shields.io badge).

Order of decision (``docs/licence-engine.md`` has the long form):

1. Metadata. ``license`` is a Hub id, an SPDX expression, or a list. A list is read as AND:
   the Hub has no way to say "choose one", and for compliance the safe reading of two
   declared licences is that both apply. Placeholders (``other``, ``unknown``) in a list are
   dropped when another item resolves. ``other`` is resolved through ``license_name`` and
   then ``license_link`` (URL aliases in the knowledge base, or a file in the repo).
2. Licence files (LICENSE*, LICENCE*, COPYING*, MODEL_LICENSE*, NOTICE*, USE_POLICY*, ...)
   through the text detector. A file agreeing with the metadata raises confidence. A file
   of the same family but another version (metadata ``llama3``, file Llama 3.1) wins, with
   a conflict recorded; a file of another family leaves the metadata in charge and records
   a conflict (the ``metadata-file-mismatch`` rule reads ``conflicts``). A family id
   (``openrail``) is refined by a file of that family without a conflict. An AUP or NOTICE
   alone never decides, it only supports a family.
3. Body, only when 1 and 2 gave nothing: licence section, badges, "under the X licence".

No licence anywhere is key ``none``; something declared but unresolvable is ``unknown``
with a ``reason``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from licenses.engine.frontmatter import FrontMatter
from licenses.engine.kb import KnowledgeBase, default_kb, normalise_name, or_later_spdx
from licenses.engine.quoting import LISTED_VALUES, QUOTE_CHARS, listed, quote
from licenses.engine.snapshot import MAX_TEXT_BYTES, decode_capped, is_license_file, is_terms_file
from licenses.engine.textdetect import TextDetection, detect_license_text
from licenses.engine.types import Evidence, ExpressionError, LicenseFinding, LicenseInfo, RepoSnapshot

#: Restrictiveness of a class, used to pick the representative licence of a compound
#: (AND: the most restrictive part; OR: the least restrictive alternative).
_CLASS_RANK = {
    "osi-permissive": 0,
    "open-content": 1,
    "vendor-community": 2,
    "rail": 3,
    "osi-copyleft": 4,
    "open-content-sharealike": 5,
    "no-derivatives": 6,
    "noncommercial": 7,
    "unknown": 8,
}
_COMMERCIAL_RANK = {"yes": 0, "conditional": 1, "unknown": 2, "no": 3}
_EXPRESSION_HINT = re.compile(r"(?:^|\s)(?:and|or|with)(?:\s|$)|[()]", re.IGNORECASE)
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_URL_TAIL = re.compile(
    r"/(?:deed(?:\.[a-z-]+)?|legalcode(?:\.[a-z-]+)?|index\.html?|[a-z-]+\.html?)/?$", re.I
)


@dataclass
class _Declared:
    """What the metadata says, resolved as far as the knowledge base allows."""

    present: bool = False  # any of license / license_name / license_link is set
    licences: list[LicenseInfo] = field(default_factory=list)
    op: str = "AND"
    text: str = ""  # the declaration as written, for messages
    via: str = "license"  # which field resolved it
    unresolved: str | None = None  # why the declaration could not be resolved
    named: bool = False  # license_name or license_link given (explicitly names terms)
    link_file: str | None = None  # license_link pointing at a file of this repo
    notes: list[str] = field(default_factory=list)
    spdx: str | None = None  # the SPDX form of an expression declaration
    says_none: bool = False  # ``license: none`` alone: the card says there is no licence


@dataclass(frozen=True)
class _FileHit:
    path: str
    detection: TextDetection
    info: LicenseInfo


def classify(snapshot: RepoSnapshot, front: FrontMatter, kb: KnowledgeBase | None = None) -> LicenseFinding:
    """The licence finding for ``snapshot`` whose README was parsed into ``front``."""
    kb = kb or default_kb()
    declared = _read_metadata(front.metadata, snapshot, kb)
    licence_hits, support_hits = _scan_files(snapshot, kb, declared.link_file)

    if declared.licences:
        return _from_metadata(declared, licence_hits, support_hits)
    if licence_hits:
        return _from_file(declared, licence_hits[0], support_hits)
    # A license_name we cannot resolve still names the terms; a body sentence must not override it.
    body = None if declared.named else _scan_body(front.body, kb)
    if body is not None and body[0] is not None:
        info, detail = body
        evidence = [*_declared_evidence(declared), Evidence("body", detail)]
        confidence = 0.5 + _support_bonus(info, support_hits, evidence)
        return _finding(info, confidence, evidence)
    # only this answer reads whether a licence file exists: not asked on the paths above
    has_licence_file = any(is_license_file(p) for p in snapshot.files)
    return _nothing(declared, support_hits, has_licence_file, body[1] if body else None)


# -- metadata ---------------------------------------------------------------------------------


def _as_strings(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [
        str(v).strip() for v in items if v is not None and not isinstance(v, (dict, list)) and str(v).strip()
    ]


def _read_metadata(meta: Mapping[str, Any], snapshot: RepoSnapshot, kb: KnowledgeBase) -> _Declared:
    declared = _Declared()
    ids = _as_strings(meta.get("license"))
    names = _as_strings(meta.get("license_name"))
    links = _as_strings(meta.get("license_link"))
    if ids and all(i.lower() == "none" for i in ids) and not names and not links:
        # "no licence" said outright (contract: key ``none``); a licence file can still decide
        declared.says_none = True
        return declared
    declared.present = bool(ids or names or links)
    declared.named = bool(names or links)
    declared.text = listed(ids) if ids else ""
    declared.link_file = _linked_file(links, snapshot.files)
    unknown_ids: list[str] = []
    malformed: list[str] = []  # the parser's reasons, for expressions that are not well formed
    placeholders: list[str] = []
    for item in ids:
        info = kb.lookup(item)
        if info is not None:
            declared.licences.append(info)
            if len(ids) == 1:  # GPL-3.0-or-later: keep "or later"
                declared.spdx = or_later_spdx(item, info) or declared.spdx
            continue
        if kb.is_unresolved_id(item):
            placeholders.append(item)
            continue
        try:
            parsed = _parse_expression(item, kb)
        except ExpressionError as exc:
            malformed.append(str(exc))
            unknown_ids.append(item)
            continue
        if parsed is not None:
            infos, op, spdx = parsed
            declared.licences.extend(infos)
            declared.op = op if len(ids) == 1 else "AND"
            declared.spdx = spdx if len(ids) == 1 else None
        else:
            unknown_ids.append(item)
    if declared.licences:
        for name in names + links:
            other = _lookup_name_or_url(name, kb)
            if other is None or other.key in {i.key for i in declared.licences}:
                continue
            if placeholders:  # [mit, other] + license_name: the named licence is the "other" part
                declared.licences.append(other)
                declared.op, declared.spdx = "AND", None
                declared.text += f" / license_name: {quote(name)}"
                placeholders = []
            else:
                declared.notes.append(
                    f"license_name/link {quote(name)!r} names {other.key}, not the declared id"
                )
        if placeholders and (names or links):
            named = listed(names + links, wrap=repr)
            judged = ", ".join(i.key for i in declared.licences)
            declared.notes.append(
                f"license: {placeholders[0]} names terms ({named}) that are not recognised; only {judged} is judged"
            )
        if unknown_ids:
            declared.notes.append(f"unrecognised licence id(s) ignored: {listed(unknown_ids)}")
        declared.notes.extend(malformed)
        declared.notes = _bounded_notes(declared.notes)
        return declared
    for field_name, values in (
        ("license_name", names),
        ("license_link", [u for u in links if _URL.match(u)]),
    ):
        for value in values:
            info = _lookup_name_or_url(value, kb)
            if info is not None:
                declared.licences.append(info)
                declared.via = field_name
                declared.text = f"{declared.text or 'license'} / {field_name}: {quote(value)}"
                return declared
    if malformed:
        declared.unresolved = listed(malformed, sep="; ")
    elif unknown_ids:
        declared.unresolved = f"license {listed(unknown_ids, wrap=repr)} is not a known licence id"
    elif placeholders or names or links:
        what = f"license: {placeholders[0]}" if placeholders else "no license id"
        extra = [f"license_name {quote(n)!r}" for n in names] + [f"license_link {quote(u)!r}" for u in links]
        declared.unresolved = (
            f"{what} with {listed(extra)} not recognised" if extra else f"{what} names no terms"
        )
    return declared


def _bounded_notes(notes: list[str]) -> list[str]:
    """Each note once, at most ``LISTED_VALUES``, then one counting the rest: a ``license_name``
    list of 50,000 copies of one name wrote 50,000 identical evidence lines (4.6 MB)."""
    unique = list(dict.fromkeys(quote(note, 2 * QUOTE_CHARS) for note in notes))
    if len(unique) <= LISTED_VALUES:
        return unique
    return [*unique[:LISTED_VALUES], f"{len(unique) - LISTED_VALUES:,} more notes like these"]


def _lookup_name_or_url(value: str, kb: KnowledgeBase) -> LicenseInfo | None:
    info = kb.lookup(value)
    if info is None and _URL.match(value):
        trimmed = _URL_TAIL.sub("", value.split("#", 1)[0].split("?", 1)[0])
        if trimmed != value:
            info = kb.lookup(trimmed)
    return info


def license_link_file(metadata: Mapping[str, Any], files: Collection[str]) -> str | None:
    """The repository file among ``files`` (paths) that the card's relative ``license_link`` names,
    which the classifier reads as the licence (``meta-license/LICENSE.txt``, in a sub-folder too).

    Public because whoever copies "the files the engine reads" (the mirror's ``small`` mode) must
    copy this one as well, and must find it exactly as the classifier does.
    """
    return _linked_file(_as_strings(metadata.get("license_link")), files)


def _linked_file(links: list[str], files: Collection[str]) -> str | None:
    """The file the last relative link names (None when it names none of ``files``); URLs are not files."""
    found = None
    for link in links:
        if not _URL.match(link):
            found = _repo_file(link, files)
    return found


def _repo_file(link: str, files: Collection[str]) -> str | None:
    """The repository file a relative ``license_link`` names (``LICENSE``, ``./LICENSE.md``), in any case."""
    rel = link.strip().removeprefix("./").lstrip("/")
    if rel in files:
        return rel
    lowered = {p.lower(): p for p in files}
    return lowered.get(rel.lower())


def _parse_expression(text: str, kb: KnowledgeBase) -> tuple[list[LicenseInfo], str, str] | None:
    """The licences that represent an expression whose every leaf is a known licence, their
    operator, and the expression's SPDX form (which keeps the exact structure); ``None`` when the
    text is no expression or names a licence we do not know. Raises ``ExpressionError`` when it is
    an expression cut short or otherwise malformed ("MIT AND", "(MIT"): that is the card's defect
    to report, not a licence to guess.

    A plain AND or OR gives all its licences with that operator. Mixed operators ("MIT AND
    (Apache-2.0 OR CC-BY-NC-4.0)") are read as the licensee reads them: the least restrictive
    choice (``expression.alternatives``), whose licences then all apply (AND). Flattening them
    under the top operator made that example non-commercial.
    """
    if not _EXPRESSION_HINT.search(text):
        return None
    from licenses.engine import expression  # sibling module; imported late to keep import cheap

    node = expression.parse_expression(text, kb)
    infos = [leaf.license for leaf in expression.leaves(node)]
    if not infos or any(i is None for i in infos):
        return None
    choices = expression.alternatives(node)
    if len(choices) > 1 and any(len(choice) > 1 for choice in choices):  # mixed AND and OR
        best = min(choices, key=_restrictiveness)
        return [i for i in best if i is not None], "AND", expression.to_spdx(node)
    op = node.op if node.op in ("AND", "OR") else "AND"
    return infos, op, expression.to_spdx(node)


def _restrictiveness(choice: tuple[LicenseInfo | None, ...]) -> tuple[int, int]:
    """How restrictive a conjunction of licences is: its most restrictive class, then commercial use."""
    known = [i for i in choice if i is not None]
    return (
        max(_CLASS_RANK.get(i.license_class, 8) for i in known),
        max(_COMMERCIAL_RANK.get(i.commercial_use, 2) for i in known),
    )


# -- files ------------------------------------------------------------------------------------


def _scan_files(
    snapshot: RepoSnapshot, kb: KnowledgeBase, link_file: str | None
) -> tuple[list[_FileHit], list[_FileHit]]:
    """Licence-text hits (best first) and AUP/NOTICE hits among the repo's terms files.

    Use policies and NOTICE files only support a family, so they are read only when no
    licence text was found: detection is the costliest step of the analysis.
    """
    texts = snapshot.texts
    if link_file is not None and link_file not in texts:
        linked = _read_linked_file(snapshot, link_file)
        if linked is not None:
            texts = {**texts, link_file: linked}
    terms = [p for p in texts if is_terms_file(p) or p == link_file]
    first = [p for p in terms if p == link_file or is_license_file(p)]
    licences: list[_FileHit] = []
    support: list[_FileHit] = []
    for batch in (first, [p for p in terms if p not in first]):
        if licences:
            break
        for path in batch:
            detection = detect_license_text(texts[path])
            info = kb.get(detection.key) if detection.key else None
            if info is not None:
                hit = _FileHit(path, detection, info)
                (licences if detection.kind == "license" else support).append(hit)

    def rank(hit: _FileHit) -> tuple:
        upper = hit.path.upper()
        return (
            hit.path != link_file,
            "MODEL" not in upper,
            _code_only(hit.path),
            -hit.detection.score,
            hit.path,
        )

    licences.sort(key=rank)
    return licences, support


def _read_linked_file(snapshot: RepoSnapshot, path: str) -> str | None:
    """The text of the file a relative ``license_link`` names when the snapshot did not read it
    (snapshots read top-level terms files only; cards also link ``meta-license/LICENSE.txt``)."""
    if snapshot.open_file is None:
        return None
    try:
        with snapshot.open_file(path) as fh:
            data = fh.read(MAX_TEXT_BYTES + 1)
    except (OSError, ValueError):
        return None
    return decode_capped(data, MAX_TEXT_BYTES, snapshot.files.get(path, len(data)))[0]


def _code_only(path: str) -> bool:
    """A licence file whose name says it covers the code only (``LICENSE-CODE``, ``CODE_LICENSE.txt``):
    repositories that split code and weights licences ship one beside the weights' licence. So is
    one whose name says it covers third-party components (``LICENSE-THIRD-PARTY``,
    ``LICENSE_3RD_PARTY.md``): it carries the licences of what the repository bundles, not its own."""
    return _CODE_WORD.search(path.rsplit("/", 1)[-1]) is not None


def _dual(hit: _FileHit, declared: LicenseInfo) -> bool:
    """Whether ``hit`` is the other half of a dual licence the card chose from: two OSI licences
    each in a file named for it (``LICENSE-MIT`` beside ``LICENSE-APACHE``, the Rust convention;
    the card says ``mit``). Only OSI licences are offered as alternatives like this; a vendor's
    or a non-commercial licence beside them stays a conflict whatever the file is called."""
    if not (hit.info.license_class.startswith("osi-") and declared.license_class.startswith("osi-")):
        return False
    name = re.sub(r"[^a-z0-9]+", "", hit.path.rsplit("/", 1)[-1].lower().rsplit(".", 1)[0])
    family = re.sub(r"[^a-z0-9]+", "", hit.info.key.split("-", 1)[0])
    return bool(family) and family in name.replace("license", "").replace("licence", "")


# "code" as a word of the name: LICENSE-CODE, code_license.txt; not LICENSE-CODELLAMA, LICENSE_DECODER;
# and "third party" / "3rd party" in any spelling (LICENSE-THIRD-PARTY, LICENSE_3RDPARTY.txt)
_CODE_WORD = re.compile(r"(?<![a-z])(?:code|(?:third|3rd)[-_. ]?party)(?![a-z])", re.IGNORECASE)


def _file_detail(hit: _FileHit) -> str:
    version = f", version {hit.detection.version}" if hit.detection.version else ""
    return f"{hit.detection.kind} text of {hit.info.key}{version} (score {hit.detection.score:.2f})"


def _same_family(a: LicenseInfo, b: LicenseInfo) -> bool:
    return bool(a.family and a.family == b.family) or a.key == b.family or b.key == a.family


def _support_bonus(info: LicenseInfo, support: Iterable[_FileHit], evidence: list[Evidence]) -> float:
    bonus = 0.0
    for hit in support:
        if hit.info.key == info.key or _same_family(hit.info, info):
            evidence.append(Evidence(f"file:{hit.path}", f"supports {info.key}: {_file_detail(hit)}"))
            bonus = 0.05
    return bonus


# -- decisions --------------------------------------------------------------------------------


def _declared_evidence(declared: _Declared) -> list[Evidence]:
    if not declared.present:
        return []
    detail = declared.unresolved or f"license: {declared.text}"
    return [Evidence("metadata", detail), *(Evidence("metadata", n) for n in declared.notes)]


def _from_metadata(declared: _Declared, licences: list[_FileHit], support: list[_FileHit]) -> LicenseFinding:
    infos = declared.licences
    keys = {i.key for i in infos}
    base = {"license": 0.9, "license_name": 0.8, "license_link": 0.75}[declared.via]
    evidence = [
        Evidence(
            "metadata",
            f"{declared.text} -> {' '.join(sorted(keys))}"
            if declared.via != "license"
            else f"license: {declared.text}",
        ),
        *(Evidence("metadata", n) for n in declared.notes),
    ]
    conflicts: list[dict[str, str]] = []
    if len(infos) > 1:
        return _compound(infos, declared, evidence, licences, base)
    info = infos[0]
    agreeing = next((h for h in licences if h.info.key == info.key), None)
    if agreeing is not None:
        evidence.append(Evidence(f"file:{agreeing.path}", f"agrees: {_file_detail(agreeing)}"))
        # a file that agrees does not silence another licence file of the repository (a code
        # licence beside the weights' licence excepted): the card still disagrees with that one
        other = next(
            (h for h in licences if h.info.key != info.key and not _code_only(h.path) and not _dual(h, info)),
            None,
        )
        if other is None or (info.is_family_id and _same_family(other.info, info)):
            return _finding(info, base + 0.09, evidence, spdx=declared.spdx)
        conflicts.append(
            {
                "metadata": info.key,
                "file": other.info.key,
                "path": other.path,
                "detail": f"card metadata declares {info.key} but {other.path} is the {other.info.name} text",
            }
        )
        evidence.append(Evidence(f"file:{other.path}", f"disagrees with metadata: {_file_detail(other)}"))
        return _finding(info, 0.6, evidence, conflicts, spdx=declared.spdx)
    if licences:
        top = licences[0]
        if info.is_family_id and _same_family(top.info, info):
            evidence.append(
                Evidence(f"file:{top.path}", f"exact terms of family id {info.key}: {_file_detail(top)}")
            )
            return _finding(top.info, 0.85 + 0.1 * top.detection.score, evidence)
        conflicts.append(
            {
                "metadata": info.key,
                "file": top.info.key,
                "path": top.path,
                "detail": f"card metadata declares {info.key} but {top.path} is the {top.info.name} text",
            }
        )
        if _same_family(top.info, info):
            evidence.append(
                Evidence(f"file:{top.path}", f"exact version wins over metadata: {_file_detail(top)}")
            )
            return _finding(top.info, 0.8, evidence, conflicts)
        evidence.append(Evidence(f"file:{top.path}", f"disagrees with metadata: {_file_detail(top)}"))
        return _finding(info, 0.6, evidence, conflicts, spdx=declared.spdx)
    confidence = base + _support_bonus(info, support, evidence)
    if info.is_family_id:
        evidence.append(
            Evidence("metadata", f"{info.key} names a licence family; the exact terms are unresolved")
        )
        confidence = min(confidence, 0.6)
    return _finding(info, confidence, evidence, spdx=declared.spdx)


def _compound(
    infos: list[LicenseInfo],
    declared: _Declared,
    evidence: list[Evidence],
    licences: list[_FileHit],
    base: float,
) -> LicenseFinding:
    """AND: the most restrictive part represents the whole; OR: the least restrictive."""
    unique = list({i.key: i for i in infos}.values())
    sign = 1 if declared.op == "AND" else -1
    lead = max(unique, key=lambda i: sign * _CLASS_RANK.get(i.license_class, 8))
    commercial = max(unique, key=lambda i: sign * _COMMERCIAL_RANK.get(i.commercial_use, 2)).commercial_use
    joiner = f" {declared.op} "
    spdx = declared.spdx or joiner.join(i.spdx for i in unique)
    conflicts: list[dict[str, str]] = []
    agreeing = next((h for h in licences if h.info.key in {i.key for i in unique}), None)
    if agreeing is not None:
        evidence.append(Evidence(f"file:{agreeing.path}", f"agrees with one part: {_file_detail(agreeing)}"))
        base += 0.05
    elif licences:
        top = licences[0]
        evidence.append(Evidence(f"file:{top.path}", f"matches no declared part: {_file_detail(top)}"))
        conflicts.append(
            {
                "metadata": spdx,
                "file": top.info.key,
                "path": top.path,
                "detail": f"card metadata declares {spdx} but {top.path} is the {top.info.name} text",
            }
        )
        base = 0.6
    evidence.append(
        Evidence("metadata", f"{declared.op} of {', '.join(i.key for i in unique)}; {lead.key} governs")
    )
    return LicenseFinding(
        key=lead.key,
        license_class=lead.license_class,
        spdx=spdx,
        commercial_use=commercial,
        confidence=min(base, 0.99),
        evidence=tuple(evidence),
        conflicts=tuple(conflicts),
        name=joiner.join(i.name for i in unique),
    )


def _from_file(declared: _Declared, hit: _FileHit, support: list[_FileHit]) -> LicenseFinding:
    evidence = _declared_evidence(declared)
    evidence.append(Evidence(f"file:{hit.path}", _file_detail(hit)))
    confidence = 0.6 + 0.3 * hit.detection.score + _support_bonus(hit.info, support, evidence)
    return _finding(hit.info, confidence, evidence)


def _nothing(
    declared: _Declared, support: list[_FileHit], has_licence_file: bool, body_note: str | None
) -> LicenseFinding:
    evidence = _declared_evidence(declared)
    for hit in support:
        evidence.append(
            Evidence(f"file:{hit.path}", f"{_file_detail(hit)} (does not decide the licence alone)")
        )
    if body_note:
        evidence.append(Evidence("body", body_note))
    if declared.present or support or has_licence_file or body_note:
        if declared.unresolved:
            reason = declared.unresolved
        elif body_note:
            reason = f"the card body states a licence that cannot be resolved ({body_note})"
        elif has_licence_file:
            reason = "licence file present but its text is not recognised"
        else:
            reason = "only a use policy or notice was found, no licence"
        if support:
            reason += (
                f"; {support[0].path} points to the {support[0].info.family or support[0].info.key} family"
            )
        return LicenseFinding(
            "unknown", "unknown", "NOASSERTION", "unknown", 0.5, tuple(evidence), reason=reason
        )
    if declared.says_none:
        evidence.append(Evidence("metadata", "license: none; no licence file or statement"))
    else:
        evidence.append(
            Evidence("metadata", "no license, license_name or license_link; no licence file or statement")
        )
    return LicenseFinding("none", "unknown", "NONE", "unknown", 0.8, tuple(evidence))


def _finding(
    info: LicenseInfo,
    confidence: float,
    evidence: list[Evidence],
    conflicts: list[dict[str, str]] | None = None,
    *,
    spdx: str | None = None,
) -> LicenseFinding:
    """``spdx``: the declaration's own SPDX form when it says more than the licence's id (an
    expression, ``-or-later``, a ``WITH`` exception), which the knowledge base files under one key."""
    return LicenseFinding(
        key=info.key,
        license_class=info.license_class,
        spdx=spdx or info.spdx,
        commercial_use=info.commercial_use,
        confidence=max(0.05, min(confidence, 0.99)),
        evidence=tuple(evidence),
        conflicts=tuple(conflicts or ()),
        name=info.name,
    )


# -- body -------------------------------------------------------------------------------------

_SECTION = re.compile(
    r"^#{1,6}[ \t]*[*_]*[ \t]*licen[cs](?:e|es|ing)\b([^\n]*)\n", re.IGNORECASE | re.MULTILINE
)
_NEXT_HEADING = re.compile(r"^#{1,6}[ \t]", re.MULTILINE)
_FIELD = re.compile(
    r"^[ \t>]*(?:[-*+][ \t]+)?(?:\*\*|__)?licen[cs]e(?:\*\*|__)?[ \t]*(?::|(?<=\*\*)|(?<=__))[*_]*[ \t]*([^\n]{1,160})",
    re.IGNORECASE | re.MULTILINE,
)
_BADGE = re.compile(r"shields\.io/badge/licen[cs]e-([^)\s\"'?<>]{1,120})", re.IGNORECASE)
_SENTENCE = re.compile(
    r"\b(?:released|licensed|licenced|distributed|available|published|provided|shared|governed)"
    r"(?:[ \t]+by)?[ \t]+under[ \t]+(?:the[ \t]+)?(?:terms[ \t]+of[ \t]+(?:the[ \t]+)?)?([^\n.;:!?]{2,120})",
    re.IGNORECASE,
)
_AGREEMENT_FOR = re.compile(
    r"\blicen[cs](?:e|ing)(?:[ \t]+agreement)?[ \t]+for[ \t]+(?:the[ \t]+)?([^\n.;:!?,]{2,60})", re.IGNORECASE
)
_PLACEHOLDER = re.compile(
    r"^\W*(?:\[?more information needed\]?|n/?a|tbd|todo|none|unknown|other)?\W*$", re.IGNORECASE
)
_TOKEN_SPLIT = re.compile(r"[\s,;:()\[\]\"'`*|<>!]+")
_MAX_WINDOW = 7


def _scan_body(body: str, kb: KnowledgeBase) -> tuple[LicenseInfo | None, str] | None:
    """A licence stated in the card body, with the statement that names it.

    Returns ``(None, detail)`` when a licence field or section exists but names nothing the
    knowledge base knows (e.g. a bespoke licence), and None when the body states no licence.
    """
    if not body or "icen" not in body:
        return None
    unresolved: str | None = None
    for kind, snippet in _body_snippets(body):
        shown = " ".join(snippet.split())[:160]
        info = _name_in(snippet, kb)
        if info is not None:
            return info, f"{kind}: {shown!r} -> {info.key}"
        if (
            unresolved is None
            and kind in ("licence section", "licence field")
            and not _PLACEHOLDER.match(shown)
        ):
            unresolved = f"{kind} names no licence we know: {shown!r}"
    return (None, unresolved) if unresolved else None


#: Characters ``re.IGNORECASE`` matches to an ASCII letter of the keywords below although
#: ``str.lower`` does not map them to it (dotted and dotless i); a body holding one is scanned whole.
_FOLD_SPECIAL = ("\u0130", "\u0131")


def _body_snippets(body: str) -> Iterable[tuple[str, str]]:
    """Candidate statements, strongest kind first.

    Every match of these patterns lies within one line (``_SECTION``'s ends with its newline)
    and holds "licen" (the sentence pattern: "under") in any case, so each pattern runs only
    over the lines whose lower-cased form has its keyword: the same matches in the same order
    as one scan of the whole body. Offsets of ``body.lower()`` are those of ``body`` unless
    lower-casing changes a length, which is checked; a body with a character
    ``re.IGNORECASE`` folds differently is scanned whole.
    """
    lower = body.lower()
    if len(lower) != len(body) or any(c in body for c in _FOLD_SPECIAL):
        whole = [(0, len(body))]
        return _snippets_in(body, whole, whole)
    return _snippets_in(body, _keyword_lines(body, lower, "licen"), _keyword_lines(body, lower, "under"))


def _keyword_lines(body: str, lower: str, keyword: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each line of ``body`` whose lower-cased form holds ``keyword``,
    in order, ``end`` just past the line's newline."""
    spans: list[tuple[int, int]] = []
    pos = lower.find(keyword)
    while pos != -1:
        start = lower.rfind("\n", 0, pos) + 1
        end = lower.find("\n", pos)
        end = len(body) if end == -1 else end + 1
        spans.append((start, end))
        pos = lower.find(keyword, end)
    return spans


def _snippets_in(
    body: str, licen: list[tuple[int, int]], under: list[tuple[int, int]]
) -> Iterable[tuple[str, str]]:
    """The candidate statements matched within the ``(start, end)`` spans of ``body`` that may
    hold them: ``licen`` for the patterns holding "licen", ``under`` for the sentence pattern."""
    for start, end in licen:
        for m in _SECTION.finditer(body, start, end):
            rest = body[m.end() : m.end() + 1500]
            nxt = _NEXT_HEADING.search(rest)
            yield "licence section", (m.group(1) + "\n" + (rest[: nxt.start()] if nxt else rest))
    for start, end in licen:
        for m in _FIELD.finditer(body, start, end):
            yield "licence field", m.group(1)
    for start, end in licen:
        for m in _BADGE.finditer(body, start, end):
            message = m.group(1).replace("--", "\0").rsplit("-", 1)[0].replace("\0", "-")
            yield "licence badge", message.replace("%20", " ").replace("_", " ")
    for pattern, spans in ((_SENTENCE, under), (_AGREEMENT_FOR, licen)):
        for start, end in spans:
            for m in pattern.finditer(body, start, end):
                yield "statement", m.group(1)


def _name_in(snippet: str, kb: KnowledgeBase) -> LicenseInfo | None:
    """The leftmost-longest run of words in ``snippet`` that the knowledge base knows.

    A family id ("Creative Commons") gives way to a later exact licence in the same
    snippet ("... Creative Commons (CC0) license"). A window is only extended while its
    normalised form is a prefix of some known name, so most words cost one normalisation.
    """
    prefixes = _name_prefixes(kb)
    tokens = [t for t in _TOKEN_SPLIT.split(snippet[:600]) if t][:120]
    family: LicenseInfo | None = None
    for start in range(len(tokens)):
        best: LicenseInfo | None = None
        for end in range(start + 1, min(len(tokens), start + _MAX_WINDOW) + 1):
            candidate = " ".join(tokens[start:end]).strip("-.#/")
            if _URL.match(candidate):
                best = kb.lookup(candidate) or best
                break
            norm = normalise_name(candidate)
            if norm and norm not in prefixes:
                break
            if len(candidate) >= 3:
                best = kb.lookup(candidate) or best
        if best is not None and not best.is_family_id:
            return best
        family = family or best
    return family


@functools.lru_cache(maxsize=4)
def _name_prefixes(kb: KnowledgeBase) -> frozenset[str]:
    """Every prefix of every normalised licence name in ``kb`` (for pruning ``_name_in``)."""
    out: set[str] = set()
    for info in kb.all():
        for name in (info.key, info.name, info.spdx, *info.aliases):
            if _URL.match(name):
                continue
            norm = normalise_name(name)
            out.update(norm[:i] for i in range(1, len(norm) + 1))
    return frozenset(out)
