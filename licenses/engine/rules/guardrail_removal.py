"""``guardrail-removal``: an abliterated / uncensored derivative of a model whose licence ends on that.

The NVIDIA Open Model License terminates the licensee's rights automatically if safety
guardrails are bypassed, disabled or reduced (licenses.md D21). The rule fires for parents
whose licence carries the ``guardrail-termination`` obligation when the child says,
in its name, its tags or its card text, that the guardrails were removed.
"""

from __future__ import annotations

import re

from licenses.engine.rules._common import clause_of, judged_parents, normalise_name, parent_evidence
from licenses.engine.rules.context import RuleContext
from licenses.engine.types import Evidence, Violation

RULE_ID = "guardrail-removal"
SEVERITY = "error"
SPEC = ("D21",)
#: The context field this rule reads its candidates from: with it empty the rule finds nothing,
#: so ``evaluate_violations`` does not call it.
NEEDS = "judged_parents"

_NAME_MARKERS = re.compile(
    r"\b(abliterat\w*|uncensor\w*|decensor\w*|unaligned|refusal ?(?:free|removed)|jailbr\w*)\b"
)
_BODY_STATEMENT = re.compile(
    r"\b(?:abliterat\w+|uncensored|decensored|"
    r"(?:remov|bypass|disabl|strip|eliminat)\w*\s+(?:the\s+|its\s+|all\s+)?(?:safety\s+)?"
    r"(?:guardrails?|refusals?|safety (?:alignment|filters?|training)|censorship))\b",
    re.I,
)


def removal_evidence(ctx: RuleContext) -> Evidence | None:
    """Where the child says its guardrails were removed, if it does."""
    m = _NAME_MARKERS.search(normalise_name(ctx.child_name))
    if m:
        return Evidence("metadata", f"model name {ctx.child_name} ({m.group(1)})")
    for tag in ctx.tags():
        m = _NAME_MARKERS.search(normalise_name(tag))
        if m:
            return Evidence("metadata", f"tag {tag}")
    m = _BODY_STATEMENT.search(ctx.body or "")
    if m:
        return Evidence("body", m.group(0))
    return None


def check(ctx: RuleContext) -> list[Violation]:
    parents = [(rp, lic) for rp, lic in judged_parents(ctx) if lic.has("guardrail-termination")]
    if not parents:
        return []
    found = removal_evidence(ctx)
    if found is None:
        return []
    return [
        Violation(
            rule=RULE_ID,
            severity=SEVERITY,
            message=(
                f"This model presents itself as having its safety guardrails removed. {rp.id} is under "
                f"{lic.name}, which ends the licence automatically for anyone who bypasses or removes "
                "the guardrails, so it may not be used or shared."
            ),
            parent=rp.id,
            clause=clause_of(lic, "guardrail-termination"),
            evidence=(parent_evidence(rp), found),
        )
        for rp, lic in parents
    ]
