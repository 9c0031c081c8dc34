"""``no-derivatives``: a derivative of a no-derivatives licensed model is published.

CC BY-ND / BY-NC-ND allow verbatim sharing only (licenses.md D3). Fine-tunes, adapters and
merges are adapted material. A quantized copy is left out: D3 marks it "review" (it may be
argued to be a format conversion), and a relabelled quantized copy is already caught by
``relicensed-derivative`` (D17).
"""

from __future__ import annotations

from licenses.engine.rules._common import clause_of, judged_parents, parent_evidence
from licenses.engine.rules.context import RuleContext
from licenses.engine.types import Violation

RULE_ID = "no-derivatives"
SEVERITY = "error"
SPEC = ("D3",)
#: The context field this rule reads its candidates from: with it empty the rule finds nothing,
#: so ``evaluate_violations`` does not call it.
NEEDS = "judged_parents"

_ADAPTING = ("finetune", "adapter", "merge")


def check(ctx: RuleContext) -> list[Violation]:
    out: list[Violation] = []
    for rp, parent in judged_parents(ctx):
        if rp.ref.relation not in _ADAPTING:
            continue
        if not (parent.license_class == "no-derivatives" or parent.has("no-derivatives")):
            continue
        out.append(
            Violation(
                rule=RULE_ID,
                severity=SEVERITY,
                message=(
                    f"{rp.id} is under {parent.key}, which allows sharing it only unchanged; "
                    f"publishing this {rp.ref.relation} of it is not permitted."
                ),
                parent=rp.id,
                clause=clause_of(parent, "no-derivatives"),
                evidence=(parent_evidence(rp),),
            )
        )
    return out
