"""``use-restrictions-dropped``: the parent's use restrictions must travel, the child's licence has none.

RAIL licences (CreativeML, OpenRAIL++, BigScience, BigCode, DeepSeek), Gemma and Falcon
180B let derivatives choose their own licence only if it carries the same use-based
restrictions as an enforceable provision (licenses.md D4). A child under Apache-2.0, MIT,
CC-BY or a plain NC licence has none, so a downstream user is told the restrictions do not
apply. Pairs already reported as non-commercial or share-alike breaches are left to
``relicensed-derivative`` (see ``_common``).
"""

from __future__ import annotations

from licenses.engine.rules._common import (
    breach_in_some_alternative,
    child_evidence,
    clause_of,
    drops_use_restrictions,
    judged_parents,
    noncommercial_breach,
    parent_evidence,
    sharealike_breach,
)
from licenses.engine.rules.context import RuleContext
from licenses.engine.types import LicenseInfo, Violation

RULE_ID = "use-restrictions-dropped"
SEVERITY = "error"
SPEC = ("D4",)
#: The context field this rule reads its candidates from: with it empty the rule finds nothing,
#: so ``evaluate_violations`` does not call it.
NEEDS = "judged_parents"


def _drops(parent: LicenseInfo, child: LicenseInfo) -> bool:
    """This rule's share of the pair partition (``_common``): restrictions dropped, and the pair
    not already a non-commercial or share-alike breach."""
    if child.key == parent.key or not drops_use_restrictions(parent, child):
        return False
    return not (noncommercial_breach(parent, child) or sharealike_breach(parent, child))


def check(ctx: RuleContext) -> list[Violation]:
    child = ctx.child_license
    if child is None:
        return []
    out: list[Violation] = []
    for rp, parent in judged_parents(ctx):
        found = breach_in_some_alternative(ctx, parent, _drops)
        if found is None:
            continue
        child = found[1]
        out.append(
            Violation(
                rule=RULE_ID,
                severity=SEVERITY,
                message=(
                    f"{rp.id} is under {parent.name}, which requires its use restrictions to be "
                    f"passed on to every derivative; {child.key} contains none, so users of this "
                    f"{rp.ref.relation} are not bound by them."
                ),
                parent=rp.id,
                clause=clause_of(parent, "use-restrictions-flow-down", "acceptable-use-policy"),
                evidence=(parent_evidence(rp), child_evidence(ctx)),
            )
        )
    return out
