"""What a violation rule gets to look at, and how that is assembled from a repository.

Rules are pure functions of a ``RuleContext``: no I/O, no resolver calls, no Django. The
context is built once per repository by ``build_context`` (which resolves every parent
through the resolver chain, date-aware), so the same rules run in the CLI, in the server
and in the one-million-model benchmark where parents come from an in-memory index.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from licenses.engine.keyword_probe import KeyIndex, Probe
from licenses.engine.lineage import (
    BaseModelRef,
    DeclaredParents,
    ParentRecord,
    ParentResolver,
    declared_parents,
)
from licenses.engine.types import LicenseFinding, LicenseInfo, RepoSnapshot


class _memo:
    """``functools.cached_property`` without its lock (Python 3.11 takes an ``RLock`` on every
    first read): the value is computed once per instance and stored in its ``__dict__``, where
    later reads find it before this non-data descriptor. Contexts are built and read by one
    thread, and a racing second computation would give an equal value anyway."""

    def __init__(self, fn: Callable[[Any], Any]):
        self.fn = fn
        self.name = fn.__name__
        self.__doc__ = fn.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = self.fn(obj)
        obj.__dict__[self.name] = value  # frozen dataclass: bypass __setattr__ as cached_property does
        return value


@dataclass(frozen=True)
class ResolvedParent:
    """A declared parent with what the resolver chain found (``record``/``license`` may be None)."""

    ref: BaseModelRef
    record: ParentRecord | None
    license: LicenseInfo | None

    @property
    def id(self) -> str:
        return self.record.id if self.record is not None else self.ref.id


@dataclass(frozen=True)
class RuleContext:
    """Everything the rules may read about one repository revision.

    ``output_sources`` are models the card says it was trained on the *outputs* of
    (distillation, synthetic data), resolved like parents; ``body`` is the card text
    without its YAML front matter.
    """

    child_id: str
    child_name: str
    license: LicenseFinding
    metadata: Mapping[str, Any]
    texts: Mapping[str, str]
    files: Mapping[str, int]
    parents: list[ResolvedParent]
    datasets: list[dict[str, Any]] = field(default_factory=list)
    scan: list[dict[str, Any]] = field(default_factory=list)
    kb: Any = None
    output_sources: list[ResolvedParent] = field(default_factory=list)
    body: str = ""
    #: what the declaration named beyond the parents judged (over-long ids, past the cap)
    declared: DeclaredParents | None = None

    @_memo
    def child_license(self) -> LicenseInfo | None:
        """The knowledge-base entry of the child's declared licence, if it resolves."""
        if self.kb is None or self.license.key in ("none", "unknown"):
            return None
        return self.kb.get(self.license.key)

    @_memo
    def child_terms(self) -> tuple[tuple[LicenseInfo, ...], ...]:
        """The child's licence as the alternatives a downstream user may choose between, each
        the licences that then all bind: ``A AND B`` is one alternative of two licences (both
        apply), ``A OR B`` two of one (the user picks), a single licence one of one. A parent's
        terms are carried when every alternative has a licence that carries them.

        Read from the finding's SPDX form, which the classifier writes for every compound and
        the server stores; an expression this cannot resolve is judged by its representative
        licence alone, as before.
        """
        child = self.child_license
        if child is None:
            return ()
        spdx = self.license.spdx or ""
        if " AND " not in spdx and " OR " not in spdx:
            return ((child,),)
        from licenses.engine import expression

        try:
            terms = expression.alternatives(expression.parse_expression(spdx, self.kb))
        except expression.ExpressionError:
            return ((child,),)
        if (
            not terms
            or len(terms) > expression.MAX_ALTERNATIVES
            or any(i is None for alt in terms for i in alt)
        ):
            return ((child,),)
        return tuple(tuple({i.key: i for i in alt}.values()) for alt in terms)  # type: ignore[union-attr]

    @_memo
    def judged_parents(self) -> tuple[tuple[ResolvedParent, LicenseInfo], ...]:
        """Parents whose licence the rules can judge, de-duplicated; computed once per context.

        Skipped: unresolved parents (listed as unresolved, never guessed), family ids such
        as ``openrail`` (no exact terms), and a well-known base model's publisher deriving
        from its own release: it is the licensor, not a licensee, so it may relicense
        (DeepSeek-V3 → V3-0324 under MIT) and owes itself no notice. Only bundled parents
        qualify for that, because there the owner is known to be the licensor.
        """
        out: list[tuple[ResolvedParent, LicenseInfo]] = []
        seen: set[str] = set()
        owner = self.child_id.split("/", 1)[0].lower() if "/" in self.child_id else None
        for rp in self.parents:
            lic = rp.license
            if lic is None or lic.license_class == "unknown" or lic.is_family_id:
                continue
            rec = rp.record
            own_release = (
                rec is not None and rec.source == "bundled" and rp.id.split("/", 1)[0].lower() == owner
            )
            if own_release:
                continue
            key = rp.id.lower()
            if key not in seen:
                seen.add(key)
                out.append((rp, lic))
        return tuple(out)

    def tags(self) -> list[str]:
        raw = self.metadata.get("tags")
        if isinstance(raw, str):
            return [raw]
        return [str(t) for t in raw] if isinstance(raw, list) else []


def child_date(snapshot: RepoSnapshot) -> date | None:
    """The date a child's licence declaration is judged at.

    The card we read was last touched at ``last_modified``; a later relicensing of the
    parent (Yi → Apache-2.0) grants rights to the same weights, so the declaration is
    checked against the parent licence in force then. ``created_at`` is the fallback.
    """
    for value in (snapshot.last_modified, snapshot.created_at):
        if value is not None:
            return value.date() if hasattr(value, "date") else value
    return None


def resolve_parent(
    ref: BaseModelRef, resolver: ParentResolver | None, as_of: date | None, kb: Any
) -> ResolvedParent:
    record = resolver.resolve(ref.id, as_of) if resolver is not None else None
    info = kb.get(record.license_key) if (record is not None and kb is not None) else None
    return ResolvedParent(ref, record, info)


# "distilled from X", "trained on outputs of X", "synthetic data generated by X" ...
_MODEL_TOKEN = r"([A-Za-z0-9][\w.\-]*/[\w.\-]+|[A-Za-z][\w.\-]*\d[\w.\-]*)"
_OUTPUT_STATEMENTS = (
    re.compile(r"\bdistill(?:ed|ation)\s+(?:of|from)\s+" + _MODEL_TOKEN, re.I),
    re.compile(r"\b(?:outputs?|responses|completions|generations)\s+(?:of|from|by)\s+" + _MODEL_TOKEN, re.I),
    re.compile(
        r"\b(?:synthetic|generated)\s+(?:data|dataset|samples|examples|responses)?\s*"
        r"(?:generated\s+)?(?:by|with|using|from)\s+" + _MODEL_TOKEN,
        re.I,
    ),
    re.compile(r"\bgenerated\s+(?:by|with|using)\s+" + _MODEL_TOKEN, re.I),
)
#: The four statements as one alternation: at a given start ``re`` tries the branches in order
#: and keeps the first that matches, as a loop over the patterns does, in one call instead of up
#: to four. Each branch has one group, and the groups of branches that failed stay unset, so the
#: token is group ``lastindex``.
_OUTPUT_STATEMENT = re.compile("|".join(p.pattern for p in _OUTPUT_STATEMENTS), re.I)


#: The words every statement above starts with: one cheap scan finds where a statement may
#: begin, and the full patterns are tried only there (scanning every body with all four
#: patterns cost more than the rest of the rules together).
_TRIGGER = re.compile(r"\b(?:distill|outputs?\b|responses|completions|generations|synthetic|generated)", re.I)
#: Literal starts of the trigger words: ``str.find`` on the lower-cased body locates them several
#: times faster than a case-insensitive regex scan, which ``re`` cannot skip through.
_TRIGGER_STARTS = ("distill", "output", "responses", "completions", "generations", "synthetic", "generated")


#: The trigger words as probe keywords: the card's keyword index (``CardFacts.body_index``)
#: records where they occur in the same pass as every other keyword, and ``key_starts`` reads
#: them from it (or scans for them when there is no index).
_TRIGGER_KEYS = Probe("|".join(_TRIGGER_STARTS), _TRIGGER_STARTS)


def _candidate_starts(text: str, low: str | None = None, index: KeyIndex | None = None) -> list[int]:
    """Offsets where a trigger word may start, ascending: every ``_TRIGGER`` match among them.

    ``low`` is ``text.lower()`` and ``index`` its :class:`KeyIndex` when the caller has them
    (the card body's): the candidates then come from the index instead of one ``str.find``
    scan per word.
    """
    if low is None:
        low = text.lower()
    # scan the original when lower-casing moved offsets, or when the text holds a letter that
    # ``re.I`` equates with i or s but ``lower()`` leaves alone (dotless i, long s)
    if len(low) != len(text) or "\u0131" in text or "\u017f" in text:
        return [m.start() for m in _TRIGGER.finditer(text)]
    return sorted(_TRIGGER_KEYS.key_starts(low, index))


def output_source_ids(body: str, low: str | None = None, index: KeyIndex | None = None) -> list[str]:
    """Model ids or names the card says it used the *outputs* of, in order of mention.

    Only explicit statements count ("distilled from", "outputs of", "generated by");
    a bare mention of a model name does not. Dataset ids are not parsed for model names
    (too ambiguous); dataset licences arrive through ``datasets`` from the disclosure module.
    """
    found: list[str] = []
    seen: set[str] = set()
    text = body or ""
    match = _OUTPUT_STATEMENT.match
    # a statement matching at ``start`` begins with a trigger word there, so the candidates need
    # no ``_TRIGGER`` test first: one ``match`` decides each
    for start in _candidate_starts(text, low, index):
        m = match(text, start)
        if m is None:
            continue
        token = m.group(m.lastindex).rstrip(".,;:)")
        key = token.lower()
        if key not in seen:
            seen.add(key)
            found.append(token)
    return found


def build_context(
    snapshot: RepoSnapshot,
    front: Any,
    finding: LicenseFinding,
    resolver: ParentResolver | None,
    datasets: Iterable[Mapping[str, Any]] = (),
    scan: Iterable[Mapping[str, Any]] = (),
    kb: Any = None,
    output_resolver: Any = None,
    body_lower: str | None = None,
    body_index: KeyIndex | None = None,
) -> RuleContext:
    """Assemble a ``RuleContext`` for one repository.

    ``front`` is a ``FrontMatter`` (``metadata``, ``body``). Parents are resolved as of
    ``child_date(snapshot)``. ``output_resolver`` (default: ``resolver``) maps model
    names found in "distilled from …" statements to licences, with an owner-less name
    looked up in the bundled table when every row of that name agrees on the licence;
    names nothing resolves are dropped, never guessed. ``body_lower`` / ``body_index`` are
    the card body lower-cased and its keyword index when the caller has them
    (``CardFacts.body_lower`` / ``body_index``); they spare a second pass over the body.
    """
    if kb is None:
        from licenses.engine.kb import default_kb

        kb = default_kb()
    metadata = getattr(front, "metadata", None) or {}
    body = getattr(front, "body", "") or ""
    as_of = child_date(snapshot)
    declared = declared_parents(metadata, snapshot)
    parents = [resolve_parent(ref, resolver, as_of, kb) for ref in declared.refs]
    out_resolver = output_resolver or resolver
    sources: list[ResolvedParent] = []
    for name in output_source_ids(body, body_lower, body_index):
        rp = resolve_parent(BaseModelRef(name, "finetune", True), out_resolver, as_of, kb)
        if rp.record is None and "/" not in name:
            from licenses.engine.basemodels import BundledBaseModels

            record = BundledBaseModels.load().resolve_by_name(name, as_of)
            rp = ResolvedParent(rp.ref, record, kb.get(record.license_key) if record else None)
        if rp.license is not None:
            sources.append(rp)
    return RuleContext(
        child_id=snapshot.id,
        child_name=snapshot.id.rsplit("/", 1)[-1],
        license=finding,
        metadata=metadata,
        texts=snapshot.texts,
        files=snapshot.files,
        parents=parents,
        datasets=[dict(d) for d in datasets],
        scan=[dict(s) for s in scan],
        kb=kb,
        output_sources=sources,
        body=body,
        declared=declared,
    )
