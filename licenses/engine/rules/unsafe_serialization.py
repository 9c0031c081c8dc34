"""``unsafe-serialization``: a weight file runs code when loaded.

Pickle-based formats (``.bin``, ``.pt``, ``.ckpt``, ``.pkl``) can import any callable on
load. The weight scanner reports each file's dangerous imports in ``ctx.scan``; a file
that merely uses pickle with safe globals (torch tensors) is not a finding.
"""

from __future__ import annotations

from licenses.engine.rules.context import RuleContext
from licenses.engine.types import Evidence, Violation

RULE_ID = "unsafe-serialization"
SEVERITY = "error"
SPEC: tuple[str, ...] = ()  # not a licence rule (contract only)
#: The context field this rule reads its candidates from: with it empty the rule finds nothing,
#: so ``evaluate_violations`` does not call it.
NEEDS = "scan"


def check(ctx: RuleContext) -> list[Violation]:
    out: list[Violation] = []
    for entry in ctx.scan:
        dangerous = [str(d) for d in entry.get("dangerous") or []]
        if not dangerous:
            continue
        path = str(entry.get("path", "?"))
        shown = ", ".join(sorted(set(dangerous))[:5]) + (" …" if len(set(dangerous)) > 5 else "")
        out.append(
            Violation(
                rule=RULE_ID,
                severity=SEVERITY,
                message=(
                    f"{path} can execute code when loaded: its pickle data imports {shown}. "
                    "Load it only in a sandbox, or ask for a safetensors copy."
                ),
                evidence=(
                    Evidence(f"file:{path}", f"scanner {entry.get('scanner', '?')}: {', '.join(dangerous)}"),
                ),
            )
        )
    return out
