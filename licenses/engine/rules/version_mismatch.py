"""``version-mismatch``: a derivative declares another version of its parent's licence family.

A Llama 3.1 fine-tune declaring ``llama2`` (or ``llama3``) tells users the wrong terms:
the versions differ in the output-training ban and the naming rule (licenses.md D10). It is
a warning, and only raised when no relicensing error covers the pair (a Llama-1 parent
with a ``llama2`` child is a non-commercial breach, reported as such).
"""

from __future__ import annotations

from licenses.engine.rules._common import (
    child_evidence,
    judged_parents,
    noncommercial_breach,
    parent_evidence,
    sharealike_breach,
    version_variant,
)
from licenses.engine.rules.context import RuleContext
from licenses.engine.types import Violation

RULE_ID = "version-mismatch"
SEVERITY = "warning"
SPEC = ("D10",)
#: The context field this rule reads its candidates from: with it empty the rule finds nothing,
#: so ``evaluate_violations`` does not call it.
NEEDS = "judged_parents"


def check(ctx: RuleContext) -> list[Violation]:
    child = ctx.child_license
    if child is None or child.family is None:
        return []
    out: list[Violation] = []
    for rp, parent in judged_parents(ctx):
        if not version_variant(parent, child):
            continue
        if noncommercial_breach(parent, child) or sharealike_breach(parent, child):
            continue
        out.append(
            Violation(
                rule=RULE_ID,
                severity=SEVERITY,
                message=(
                    f"{rp.id} is under {parent.name}, but this {rp.ref.relation} declares {child.name}. "
                    "The versions have different terms; declare the parent's version."
                ),
                parent=rp.id,
                clause=parent.name,
                evidence=(parent_evidence(rp), child_evidence(ctx)),
            )
        )
    return out
