"""``relicensed-derivative``: a derivative declares a licence its parent's licence does not allow.

Four ways, each from licenses.md §3 (the pair-partition is in ``_common``):

* D1 — non-commercial parent, child licence permitting commercial use (D12: in a merge,
  every parent is checked, so one NC parent is enough);
* D2 — share-alike / copyleft parent, child under another licence;
* D6 — vendor licence (Llama, Qwen, DBRX …) with conditions on derivatives, child under
  another family's licence that carries none of them;
* D17 — quantized copy of a non-permissive parent relabelled (quantization copies the
  weights; it makes no new work that could carry new terms).
"""

from __future__ import annotations

from licenses.engine.rules._common import (
    breach_in_some_alternative,
    child_evidence,
    clause_of,
    dropped_conditions,
    dropped_kinds,
    judged_parents,
    parent_evidence,
    relicensing_kind,
)
from licenses.engine.rules.context import RuleContext
from licenses.engine.types import LicenseInfo, Violation

RULE_ID = "relicensed-derivative"
SEVERITY = "error"
SPEC = ("D1", "D2", "D6", "D12", "D17")
#: The context field this rule reads its candidates from: with it empty the rule finds nothing,
#: so ``evaluate_violations`` does not call it.
NEEDS = "judged_parents"


def _message(
    kind: str, parent_id: str, parent: LicenseInfo, child: LicenseInfo, relation: str
) -> tuple[str, str]:
    if kind == "D1":
        return (
            f"{parent_id} may only be used non-commercially ({parent.key}), but this {relation} is published "
            f"under {child.key}, which allows commercial use. The parent's restriction still applies.",
            clause_of(parent, "noncommercial", "same-license-required"),
        )
    if kind == "D2":
        return (
            f"{parent_id} is under {parent.key}, which requires derivatives to keep the same licence, "
            f"but this {relation} declares {child.key}.",
            clause_of(parent, "share-alike", "same-license-required"),
        )
    if kind == "D6":
        dropped = ", ".join(dropped_conditions(parent, child))
        return (
            f"{parent_id} is under {parent.name}, whose conditions ({dropped}) bind every derivative; "
            f"declaring only {child.key} drops them.",
            clause_of(parent, *dropped_kinds(parent, child), "license-copy"),
        )
    return (
        f"This is a quantized copy of {parent_id}, which is under {parent.key}; quantizing does not "
        f"create a new work, so the copy cannot be relabelled {child.key}.",
        clause_of(parent, "license-copy", "same-license-required"),
    )


def check(ctx: RuleContext) -> list[Violation]:
    child = ctx.child_license
    if child is None or child.license_class == "unknown":
        return []
    out: list[Violation] = []
    for rp, parent in judged_parents(ctx):
        relation = rp.ref.relation
        found = breach_in_some_alternative(
            ctx,
            parent,
            lambda p, c: relicensing_kind(p, c, relation),  # noqa: B023
            strict=relation == "quantized",  # a copy of the weights adds no work to license
        )
        if found is None:
            continue
        kind, licence = found
        message, clause = _message(kind, rp.id, parent, licence, relation)
        out.append(
            Violation(
                rule=RULE_ID,
                severity=SEVERITY,
                message=message,
                parent=rp.id,
                clause=clause,
                evidence=(parent_evidence(rp), child_evidence(ctx)),
            )
        )
    return out
