"""``missing-notice``: the parent's licence requires a notice, licence copy or display phrase the child lacks.

Vendor and RAIL licences make redistribution conditional on shipping a copy of the licence,
a fixed "Notice" sentence, or a display phrase ("Built with Llama", "Built with Qwen",
"Powered by Stability AI") — licenses.md D18–D20. Each parent obligation of those kinds is
checked against every text in the child repository. Permissive parents (Apache, MIT,
CC-BY) are left out on purpose (D24 declined; see docs/lineage.md).
"""

from __future__ import annotations

import re

from licenses.engine.rules._common import PERMISSIVE_CLASSES, all_text, judged_parents, parent_evidence
from licenses.engine.rules.context import RuleContext
from licenses.engine.snapshot import is_license_file
from licenses.engine.types import Evidence, LicenseInfo, Obligation, Violation

RULE_ID = "missing-notice"
SEVERITY = "warning"
SPEC = ("D18", "D19", "D20")

_WS = re.compile(r"[\s\W_]+")


def _norm(text: str) -> str:
    return _WS.sub(" ", text.casefold()).strip()


def _phrases(value: object) -> list[str]:
    """A display-phrase value may list alternatives ("Built with Qwen | Improved using Qwen")."""
    if not isinstance(value, str):
        return []
    return [p.strip() for p in re.split(r"\s*(?:\||;|\bor\b)\s*", value) if p.strip()]


def _has_notice_file(ctx: RuleContext) -> bool:
    return any(p.rsplit("/", 1)[-1].upper().startswith("NOTICE") for p in ctx.files)


def _missing(ob: Obligation, ctx: RuleContext, text: str) -> str | None:
    """A short description of what is missing for one obligation, or None when satisfied."""
    if ob.kind == "license-copy":
        return None if any(is_license_file(p) for p in ctx.files) else "a copy of the licence (LICENSE file)"
    if ob.kind == "notice":
        if _has_notice_file(ctx):
            return None
        if isinstance(ob.value, str) and ob.value.strip() and _norm(ob.value) in text:
            return None
        return "the licence's notice text (NOTICE file)" + (
            f' ("{ob.value}")' if isinstance(ob.value, str) else ""
        )
    if ob.kind == "display-phrase":
        phrases = _phrases(ob.value)
        if not phrases or any(_norm(p) in text for p in phrases):
            return None
        return "the phrase " + " or ".join(f'"{p}"' for p in phrases)
    return None


def _check_parent(ctx: RuleContext, parent: LicenseInfo, text: str) -> tuple[list[str], list[str]]:
    missing: list[str] = []
    clauses: list[str] = []
    for ob in parent.obligations:
        if ob.kind not in ("license-copy", "notice", "display-phrase"):
            continue
        what = _missing(ob, ctx, text)
        if what and what not in missing:
            missing.append(what)
            clauses.append(ob.clause)
    return missing, clauses


def check(ctx: RuleContext) -> list[Violation]:
    text: str | None = None  # normalised lazily: most repositories have no parent to check
    out: list[Violation] = []
    for rp, parent in judged_parents(ctx):
        if parent.license_class in PERMISSIVE_CLASSES:
            continue
        if text is None:
            text = _norm(all_text(ctx))
        missing, clauses = _check_parent(ctx, parent, text)
        if not missing:
            continue
        out.append(
            Violation(
                rule=RULE_ID,
                severity=SEVERITY,
                message=(
                    f"{rp.id} is under {parent.name}, which requires derivatives to ship "
                    f"{', '.join(missing)}; this repository does not."
                ),
                parent=rp.id,
                clause=f"{parent.name} " + "; ".join(dict.fromkeys(clauses)),
                evidence=(
                    parent_evidence(rp),
                    Evidence("files", f"files: {', '.join(sorted(ctx.files)) or '-'}"),
                ),
            )
        )
    return out
