"""``incompatible-parents``: a multi-parent model whose parents' licences cannot all be met.

Obligations of a merge are a conjunction (licenses.md §3). Two combinations are
unsatisfiable whatever the child declares:

* D15 — a copyleft parent (GPL/AGPL forbid further restrictions, GPL §10) with a parent
  whose licence imposes use restrictions or a non-commercial limit;
* D16 — a share-alike parent (its licence must govern the whole) with a parent whose
  licence also insists on its own terms: non-commercial, another share-alike licence, or
  use restrictions that must flow down.

Two different vendor licences (D14) can both be honoured by carrying both agreements, so
they are not reported here.
"""

from __future__ import annotations

from itertools import combinations

from licenses.engine.rules._common import (
    carries_use_restrictions,
    clause_of,
    is_noncommercial,
    judged_parents,
    parent_evidence,
    requires_same_license,
    sharealike_compatible,
    strict_sharealike,
)
from licenses.engine.rules.context import RuleContext
from licenses.engine.types import LicenseInfo, Violation

RULE_ID = "incompatible-parents"
SEVERITY = "error"
SPEC = ("D15", "D16")
#: The context field this rule reads its candidates from: with it empty the rule finds nothing,
#: so ``evaluate_violations`` does not call it.
NEEDS = "judged_parents"


def _imposes_own_terms(sa: LicenseInfo, other: LicenseInfo) -> bool:
    """Whether ``other`` insists on terms the share-alike licence ``sa`` cannot carry."""
    if requires_same_license(other) and not sharealike_compatible(other, sa):
        return True  # two share-alike licences, each demanding to govern the whole
    if is_noncommercial(other) and not is_noncommercial(sa):
        return True  # SA demands a licence allowing commercial use, the other parent forbids it
    return carries_use_restrictions(other)  # SA/copyleft forbid additional restrictions


def conflict(a: LicenseInfo, b: LicenseInfo) -> str | None:
    """Why two parent licences cannot be satisfied together (None when they can)."""
    if a.key == b.key:
        return None
    for x, y in ((a, b), (b, a)):
        if not strict_sharealike(x) or sharealike_compatible(x, y):
            continue
        if x.license_class == "osi-copyleft" and (carries_use_restrictions(y) or is_noncommercial(y)):
            return "D15"
        if _imposes_own_terms(x, y):
            return "D16"
    return None


def check(ctx: RuleContext) -> list[Violation]:
    parents = list(judged_parents(ctx))
    if len(parents) < 2:
        return []
    out: list[Violation] = []
    for (ra, a), (rb, b) in combinations(parents, 2):
        why = conflict(a, b)
        if why is None:
            continue
        sa, other = (a, b) if strict_sharealike(a) and not sharealike_compatible(a, b) else (b, a)
        out.append(
            Violation(
                rule=RULE_ID,
                severity=SEVERITY,
                message=(
                    f"The parents cannot be combined: {sa.key} requires the whole model to stay under "
                    f"{sa.key} with no added restrictions, while {other.key} adds its own terms "
                    f"({ra.id} + {rb.id}). No licence for this model can satisfy both."
                ),
                parent=f"{ra.id} + {rb.id}",
                clause=f"{clause_of(sa, 'share-alike', 'same-license-required')}; "
                f"{clause_of(other, 'noncommercial', 'use-restrictions-flow-down', 'acceptable-use-policy')}",
                evidence=(parent_evidence(ra), parent_evidence(rb)),
            )
        )
    return out
