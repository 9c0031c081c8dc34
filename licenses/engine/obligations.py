"""Which licences' terms bind a model, and so which obligations its user must honour, without a policy.

The licence ``key`` of an analysis is one licence; the terms in force can be more. An ``AND``
expression (``llama3.1 AND cc-by-nc-4.0``, a list of licences on the card) binds with every
licence's terms, while the key names only the most restrictive; an ``OR`` leaves the licensee the
choice, and the lightest is taken (said as such: ``burden``); and a derivative stays
bound by its base models' licences whatever it declares (licenses.md §3: a Llama fine-tune
relabelled ``apache-2.0`` still owes Llama's notice, naming, AUP and cap). ``modelhub analyze`` and
the model page answer from here; the policy evaluation (``policy.py``) does the same with the
stated use deciding which alternative is lightest and which obligations apply.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from licenses.engine.kb import KnowledgeBase, default_kb
from licenses.engine.types import ExpressionError, LicenseInfo

#: Keys that name no terms (nothing to honour can be derived from them).
_NO_TERMS = frozenset({"", "unknown", "none", "other", "noassertion"})
#: Obligations that are acts to perform when the model is handed on or shown (credit, notices, a
#: copy of the licence, marking changes, naming), as opposed to limits on what may be done with it
#: (non-commercial, no derivatives, use restrictions, same licence, caps, source offers ...).
#: A kind not listed here counts as a limit.
PAPERWORK_KINDS = frozenset(
    {"attribution", "notice", "license-copy", "mark-modifications", "display-phrase", "name-prefix"}
    | {"registration-required"}
)
_COMMERCIAL_RANK = {"yes": 0, "conditional": 1, "unknown": 2, "no": 3}


def burden(
    licences: Iterable[LicenseInfo | None], applies: Callable[[str], bool] = lambda kind: True
) -> tuple[int, int, int, int]:
    """How heavy taking ``licences`` together is, to pick an ``OR``'s lightest alternative: how far
    they bar commercial use, then how many limits on use apply (``applies``: whether the stated use
    triggers a kind), then how many obligations apply, then how many there are in all.

    Counting obligations alone weighed a condition like any paperwork: ``Apache-2.0 OR
    CC-BY-NC-4.0`` was answered with CC-BY-NC's two (one of them "non-commercial use only") rather
    than Apache's four notices and copies, and ``Apache-2.0 OR OpenRAIL`` with the use restrictions.
    """
    known = [info for info in licences if info is not None]
    obs = [ob for info in known for ob in info.obligations]
    applying = [ob for ob in obs if applies(ob.kind)]
    return (
        max((_COMMERCIAL_RANK.get(info.commercial_use, 2) for info in known), default=2),
        sum(ob.kind not in PAPERWORK_KINDS for ob in applying),
        len(applying),
        len(obs),
    )


@dataclass(frozen=True)
class TermsInForce:
    """One licence whose obligations bind the model, and why (``via``)."""

    info: LicenseInfo
    via: str


def _is_expression(text: str) -> bool:
    padded = f" {text.upper()} "
    return " OR " in padded or " AND " in padded or " WITH " in padded


def expression_text(lic: Mapping[str, Any]) -> str:
    """The licence block's expression (its ``spdx``, else its ``key`` when that is one), or ``""``
    when it names a single licence; the policy evaluation reads the block the same way."""
    spdx = str(lic.get("spdx") or "")
    if _is_expression(spdx):
        return spdx
    key = str(lic.get("key") or "")
    return key if _is_expression(key) else ""


def _own_terms(lic: Mapping[str, Any], kb: KnowledgeBase) -> list[TermsInForce]:
    key = str(lic.get("key") or "")
    text = expression_text(lic)
    if text:
        from licenses.engine.expression import alternatives, parse_expression

        try:
            node = parse_expression(text, kb)
        except ExpressionError:
            node = None
        if node is not None:
            alts = alternatives(node)
            # an alternative with an unknown licence has terms nobody can list: prefer known ones
            best = min(alts, key=lambda alt: (None in alt, burden(alt)))
            chosen = [info for info in dict.fromkeys(best) if info is not None]
            via = f"expression {text}"
            if len(alts) > 1:
                via += ": the lightest alternative (fewest limits on use, then fewest obligations)"
            return [TermsInForce(info, via) for info in chosen]
    if key.lower() in _NO_TERMS:
        return []
    info = kb.get(key) or kb.lookup(key)
    return [TermsInForce(info, "declared licence")] if info is not None else []


def licences_in_force(report: Mapping[str, Any], kb: KnowledgeBase | None = None) -> list[TermsInForce]:
    """The model's own licence(s) first, then each base model's licence not already among them,
    then each further ancestor's (``lineage.ancestors`` entries that carry a ``license_key``, nearest
    first): a derivative of a derivative is still bound by the first one's base (licenses.md §3)."""
    kb = kb or default_kb()
    out = _own_terms(report.get("license") or {}, kb)
    seen = {t.info.key for t in out}
    for key, _, via in upstream_licences(report.get("lineage") or {}):
        if key.lower() in _NO_TERMS:
            continue
        info = kb.get(key) or kb.lookup(key)
        if info is None or info.key in seen:
            continue
        seen.add(info.key)
        out.append(TermsInForce(info, via))
    return out


def upstream_licences(lineage: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """``(licence key, name, via)`` of each base model, then of each ancestor with a recorded
    licence, nearest first: ``name`` is the base model's id or the ancestor's chain (the policy's
    reason prefixes), ``via`` says why its terms bind (``license.obligations``). Keys may be
    empty or unknown: each reader skips what it cannot judge."""
    out = [
        (str(base.get("license_key") or ""), str(base.get("id")), f"base model {base.get('id')}")
        for base in lineage.get("base_models") or ()
        if isinstance(base, Mapping)
    ]
    ancestors = [a for a in lineage.get("ancestors") or () if isinstance(a, Mapping) and a.get("license_key")]
    for anc in sorted(ancestors, key=lambda a: a.get("depth") or 0):
        via = ancestor_via(anc)
        out.append((str(anc["license_key"]), via, via))
    return out


def ancestor_via(ancestor: Mapping[str, Any]) -> str:
    """How an ancestor's terms reach the model: ``ancestor X via B -> A`` (the models between)."""
    path = [str(p) for p in ancestor.get("path") or ()]
    return f"ancestor {ancestor.get('id')}" + (f" via {' -> '.join(path)}" if path else "")


def obligations_in_force(report: Mapping[str, Any], kb: KnowledgeBase | None = None) -> list[dict[str, Any]]:
    """``license.obligations`` of ``modelhub analyze``: every obligation of every licence in force."""
    return [
        {"license": t.info.key, "via": t.via, **ob.to_dict()}
        for t in licences_in_force(report, kb)
        for ob in t.info.obligations
    ]
