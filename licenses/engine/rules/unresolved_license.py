"""``unresolved-license``: a licence is declared but its actual terms cannot be determined.

``other`` without a recognisable ``license_name``/file, ``unknown``, or a family id such
as ``openrail`` that names many different texts (licenses.md D25). Derivative rules cannot
judge such a repository, so it needs manual review rather than a guess.
"""

from __future__ import annotations

from licenses.engine.quoting import QUOTE_CHARS, quote
from licenses.engine.rules.context import RuleContext
from licenses.engine.types import Evidence, Violation

RULE_ID = "unresolved-license"
SEVERITY = "warning"
SPEC = ("D25",)


def check(ctx: RuleContext) -> list[Violation]:
    key = ctx.license.key
    if key == "none":
        return []  # nothing declared at all: missing-license
    info = ctx.kb.get(key) if ctx.kb is not None and key != "unknown" else None
    if info is not None and info.is_family_id:
        return [
            Violation(
                rule=RULE_ID,
                severity=SEVERITY,
                message=(
                    f"`{key}` names a family of licences ({info.name}), not one text; without the actual "
                    "licence file its exact terms are unknown."
                ),
                clause=info.name,
                evidence=(Evidence("metadata", f"license: {key} (family id)"),),
            )
        ]
    if key == "unknown" or ctx.license.license_class == "unknown":
        # quoted within a bound: the card's value may be a list of 50,000 names (licenses.engine.quoting)
        declared = quote(str(ctx.metadata.get("license_name") or ctx.metadata.get("license") or "?"))
        reason = quote(ctx.license.reason or "the declared value matches no known licence", 2 * QUOTE_CHARS)
        return [
            Violation(
                rule=RULE_ID,
                severity=SEVERITY,
                message=(
                    f"The declared licence ({declared}) could not be matched to known terms ({reason}); "
                    "its conditions need a manual review."
                ),
                evidence=(Evidence("metadata", f"license: {quote(str(ctx.metadata.get('license')))}"),),
            )
        ]
    return []
