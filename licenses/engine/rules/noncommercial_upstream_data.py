"""``noncommercial-upstream-data``: a commercial-use licence over non-commercial training data.

A model trained on a dataset licensed for non-commercial use cannot pass on a commercial
grant for what it learned from it (the dataset-level analogue of licenses.md D1). Dataset
licences come from the disclosure module in ``ctx.datasets``; ``commercial == "unknown"``
is not a finding.
"""

from __future__ import annotations

from licenses.engine.rules._common import permits_commercial
from licenses.engine.rules.context import RuleContext
from licenses.engine.types import Evidence, Violation

RULE_ID = "noncommercial-upstream-data"
SEVERITY = "error"
SPEC: tuple[str, ...] = ()  # contract rule; D1's reasoning applied to datasets
#: The context field this rule reads its candidates from: with it empty the rule finds nothing,
#: so ``evaluate_violations`` does not call it.
NEEDS = "datasets"


def check(ctx: RuleContext) -> list[Violation]:
    child = ctx.child_license
    if child is None or not permits_commercial(child):
        return []
    out: list[Violation] = []
    seen: set[str] = set()
    for ds in ctx.datasets:
        did = str(ds.get("id") or "?")
        if ds.get("commercial") != "no" or did.lower() in seen:
            continue
        seen.add(did.lower())
        lic = ds.get("license") or "a non-commercial licence"
        out.append(
            Violation(
                rule=RULE_ID,
                severity=SEVERITY,
                message=(
                    f"The model is offered under {child.key}, which allows commercial use, but it names "
                    f"the training dataset {did}, which is licensed for non-commercial use only ({lic})."
                ),
                parent=did,
                clause=str(lic),
                evidence=(
                    Evidence("metadata", f"datasets: {did} ({lic})"),
                    Evidence(
                        "metadata", f"declared licence {child.key} (commercial use {child.commercial_use})"
                    ),
                ),
            )
        )
    return out
