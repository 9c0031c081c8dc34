"""Predicates shared by several rules, so that each (parent, child) pair gets one verdict.

The derivative rules overlap: an Apache-2.0 child of a RAIL parent both "relicenses" and
"drops the use restrictions"; a Llama 3.1 fine-tune declaring ``llama2`` both changes the
licence and changes its version. Reporting one pair twice makes the list longer, not more
useful, so the partition is decided here, once:

* ``noncommercial_breach`` (D1) and ``sharealike_breach`` (D2) → ``relicensed-derivative``;
* otherwise ``drops_use_restrictions`` (D4) → ``use-restrictions-dropped``;
* otherwise ``vendor_dropped`` (D6) or ``quantized_relabel`` (D17) → ``relicensed-derivative``;
* otherwise a different version of the same family (D10) → ``version-mismatch``.

``no-derivatives`` (D3) is reported alongside because it is a different wrong (publishing
at all), not a different reading of the same one.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TypeVar

from licenses.engine.rules.context import ResolvedParent, RuleContext
from licenses.engine.types import Evidence, LicenseInfo

T = TypeVar("T")

PERMISSIVE_CLASSES = frozenset({"osi-permissive", "open-content"})
SHAREALIKE_CLASSES = frozenset({"osi-copyleft", "open-content-sharealike"})

#: Conditions a vendor licence attaches to derivatives that a licence without them drops.
VENDOR_CONDITIONS = (
    "acceptable-use-policy",
    "same-license-required",
    "mau-cap",
    "dau-cap",
    "revenue-cap",
    "registration-required",
    "royalty",
    "hosting-restricted",
    "no-output-training",
    "name-prefix",
)


#: Plain words for the obligation kinds a message may list.
KIND_WORDS = {
    "acceptable-use-policy": "an acceptable-use policy",
    "same-license-required": "keeping the same licence",
    "mau-cap": "a monthly-active-user cap",
    "dau-cap": "a daily-active-user cap",
    "revenue-cap": "a revenue cap",
    "registration-required": "registration for commercial use",
    "royalty": "royalties",
    "hosting-restricted": "limits on hosted services",
    "no-output-training": "a ban on training other models on its outputs",
    "name-prefix": "a naming rule",
}


def dropped_kinds(parent: LicenseInfo, child: LicenseInfo) -> list[str]:
    """The parent's derivative conditions (obligation kinds) the child's licence does not carry."""
    return [k for k in VENDOR_CONDITIONS if parent.has(k) and not child.has(k)]


def dropped_conditions(parent: LicenseInfo, child: LicenseInfo) -> list[str]:
    """``dropped_kinds`` in plain words, for messages."""
    return [KIND_WORDS[k] for k in dropped_kinds(parent, child)]


def clause_of(info: LicenseInfo, *kinds: str) -> str:
    """The clause of the first obligation of ``kinds`` the licence has, else its name."""
    for kind in kinds:
        ob = info.obligation(kind)
        if ob is not None and ob.clause:
            return f"{info.name} {ob.clause}"
    return info.name


def is_noncommercial(info: LicenseInfo) -> bool:
    return info.license_class == "noncommercial" or info.has("noncommercial") or info.commercial_use == "no"


def permits_commercial(info: LicenseInfo) -> bool:
    return info.commercial_use in ("yes", "conditional") and not info.has("noncommercial")


def requires_same_license(info: LicenseInfo) -> bool:
    return (
        info.license_class in SHAREALIKE_CLASSES
        or info.has("share-alike")
        or info.has("same-license-required")
    )


def carries_use_restrictions(info: LicenseInfo) -> bool:
    """Whether a licence itself imposes use-based restrictions on its licensees."""
    return (
        info.license_class == "rail"
        or info.has("use-restrictions-flow-down")
        or info.has("acceptable-use-policy")
    )


def same_family(a: LicenseInfo, b: LicenseInfo) -> bool:
    return a.key == b.key or (a.family is not None and a.family == b.family)


def version_variant(parent: LicenseInfo, child: LicenseInfo) -> bool:
    """Another version of the same licence (``llama3.1`` vs ``llama2``, ``cc-by-sa-3.0`` vs
    ``-4.0``): same family and class, different version. ``cc-by-4.0`` vs ``cc-by-sa-4.0``
    share a family but are different licences, not versions."""
    return (
        parent.key != child.key
        and parent.family is not None
        and parent.family == child.family
        and parent.license_class == child.license_class
        and parent.version != child.version
    )


def strict_sharealike(info: LicenseInfo) -> bool:
    """Share-alike / copyleft licences that also forbid adding further restrictions (CC BY-SA
    §2(a)(5)(B), GPL §10) — unlike vendor licences that merely demand to be kept."""
    return info.license_class in SHAREALIKE_CLASSES or info.has("share-alike")


def _licence_kind(info: LicenseInfo) -> str:
    """The licence without its version: ``cc-by-nc-sa-4.0`` -> ``cc-by-nc-sa``, ``gpl-3.0`` -> ``gpl``.
    (The family is coarser: every Creative Commons licence is ``cc``.)"""
    if info.version and info.key.endswith(info.version):
        return info.key[: -len(info.version)].rstrip("-")
    return info.key


def _version_number(version: str | None) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", version or ""))


def sharealike_compatible(parent: LicenseInfo, child: LicenseInfo) -> bool:
    """A share-alike parent accepts the same licence, or, for Creative Commons, a later version of
    the very same licence (CC BY-SA §3(b)(1) "same or later"): never another licence of the family
    (CC BY-NC-SA does not accept CC BY-NC or BY-NC-ND) and never an earlier version. GPL allows a
    later version only where the parent said "or later", which the knowledge base does not keep
    apart (``gpl-2.0`` is filed as ``GPL-2.0-only``), so for GPL only the same licence is taken.
    The CC later-version case is still reported by D10's version-mismatch warning."""
    if child.key == parent.key:
        return True
    return (
        parent.family == "cc"
        and _licence_kind(child) == _licence_kind(parent)
        and child.license_class == parent.license_class
        and _version_number(child.version) > _version_number(parent.version)
    )


def noncommercial_breach(parent: LicenseInfo, child: LicenseInfo) -> bool:
    """D1: a non-commercial parent, a child licence that permits commercial use."""
    return child.key != parent.key and is_noncommercial(parent) and permits_commercial(child)


def sharealike_breach(parent: LicenseInfo, child: LicenseInfo) -> bool:
    """D2: a share-alike / copyleft parent, a child under anything else."""
    return requires_same_license(parent) and not sharealike_compatible(parent, child)


def drops_use_restrictions(parent: LicenseInfo, child: LicenseInfo) -> bool:
    """D4: the parent's use restrictions must flow down and the child's licence has none."""
    return parent.has("use-restrictions-flow-down") and not carries_use_restrictions(child)


def vendor_dropped(parent: LicenseInfo, child: LicenseInfo) -> bool:
    """D6: a vendor licence with derivative conditions replaced by another family's licence."""
    if parent.license_class != "vendor-community" or same_family(parent, child):
        return False
    return bool(dropped_kinds(parent, child))


def quantized_relabel(parent: LicenseInfo, child: LicenseInfo, relation: str) -> bool:
    """D17: a quantized copy of a non-permissive parent published under another licence family
    (a different version of the same family is D10's version-mismatch)."""
    return (
        relation == "quantized"
        and parent.license_class not in PERMISSIVE_CLASSES
        and parent.license_class != "unknown"
        and parent.key != child.key
        and not version_variant(parent, child)
    )


def relicensing_kind(parent: LicenseInfo, child: LicenseInfo, relation: str) -> str | None:
    """Which relicensing wrong (``D1``/``D2``/``D6``/``D17``) a pair commits, if any."""
    if child.key == parent.key:
        return None
    if noncommercial_breach(parent, child):
        return "D1"
    if sharealike_breach(parent, child):
        return "D2"
    if drops_use_restrictions(parent, child):
        return None  # reported by use-restrictions-dropped
    if vendor_dropped(parent, child):
        return "D6"
    if quantized_relabel(parent, child, relation):
        return "D17"
    return None


def breach_in_some_alternative(
    ctx: RuleContext,
    parent: LicenseInfo,
    judge: Callable[[LicenseInfo, LicenseInfo], T | None],
    *,
    strict: bool = False,
) -> tuple[T, LicenseInfo] | None:
    """``judge(parent, child_licence)`` applied to the child's licence terms (``child_terms``).

    For most parents a breach needs some alternative a user may choose with every one of its
    licences in breach: a conjunction carries the parent's terms if any of its licences does
    (``llama3.1 AND gemma`` carries both agreements, D13/D14; an NC or RAIL licence beside another
    still binds). A share-alike or copyleft parent is the exception: it forbids adding terms
    (GPL §10, CC BY-SA §2(a)(5)(B)), so one licence in breach in an alternative is a breach
    (``GPL-3.0 AND CC-BY-NC-4.0`` on a GPL parent). ``strict`` asks the same of any parent (a
    quantized copy, D17, may declare nothing but its parent's licence). Returns the first finding
    and its licence.
    """
    each = any if strict or strict_sharealike(parent) else all
    for alternative in ctx.child_terms:
        found = [(judge(parent, child), child) for child in alternative]
        if each(verdict for verdict, _ in found):
            return next((f for f in found if f[0]), found[0])  # type: ignore[return-value]
    return None


def judged_parents(ctx: RuleContext) -> tuple[tuple[ResolvedParent, LicenseInfo], ...]:
    """Parents with a judgeable licence (see ``RuleContext.judged_parents``)."""
    return ctx.judged_parents


def parent_evidence(rp: ResolvedParent) -> Evidence:
    source = rp.record.source if rp.record is not None else "unresolved"
    as_of = f", in force since {rp.record.as_of.isoformat()}" if rp.record and rp.record.as_of else ""
    key = rp.license.key if rp.license else "?"
    declared = "inferred" if rp.ref.relation_inferred else "declared"
    return Evidence(
        "metadata",
        f"base_model {rp.id} ({rp.ref.relation}, {declared}); parent licence {key} from {source}{as_of}",
    )


def child_evidence(ctx: RuleContext) -> Evidence:
    return Evidence("metadata", f"declared licence {ctx.license.key}")


def all_text(ctx: RuleContext) -> str:
    """Every text the repository carries (card, licence, notice files), for phrase searches."""
    return "\n".join(ctx.texts.values())


_SEP = re.compile(r"[\s_\-.:]+")
_ALPHA_DIGIT = re.compile(r"(?<=[a-z])(?=\d)")


@functools.lru_cache(maxsize=1 << 16)
def normalise_name(text: str) -> str:
    """``Llama-3``, ``Llama3``, ``LLaMA_3`` and ``llama 3`` all become ``llama 3``."""
    s = _ALPHA_DIGIT.sub(" ", text.casefold())
    return _SEP.sub(" ", s).strip()
