"""``missing-notice``: the parent's licence requires a notice, licence copy or display phrase the child lacks.

Vendor and RAIL licences make redistribution conditional on shipping a copy of the licence,
a fixed "Notice" sentence, or a display phrase ("Built with Llama", "Built with Qwen",
"Powered by Stability AI") — licenses.md D18–D20. Each parent obligation of those kinds is
checked against every text in the child repository. Permissive parents (Apache, MIT,
CC-BY) are left out on purpose (D24 declined; see docs/lineage.md).
"""

from __future__ import annotations

import functools
import re

from licenses.engine.cardfacts import fold_via_bytes
from licenses.engine.rules._common import PERMISSIVE_CLASSES, all_text, judged_parents, parent_evidence
from licenses.engine.rules.context import RuleContext
from licenses.engine.snapshot import is_license_file
from licenses.engine.types import Evidence, LicenseInfo, Obligation, Violation

RULE_ID = "missing-notice"
SEVERITY = "warning"
SPEC = ("D18", "D19", "D20")
#: The context field this rule reads its candidates from: with it empty the rule finds nothing,
#: so ``evaluate_violations`` does not call it.
NEEDS = "judged_parents"

_WS = re.compile(r"[\s\W_]+")


def _norm(text: str) -> str:
    return _WS.sub(" ", text.casefold()).strip()


class _RepoText:
    """Every text of the repository, asked whether it contains a phrase once normalised.

    Normalising a card plus licence files (``_norm``) is a regex pass over tens of KB, the
    dearest step of all rules on long cards. Each word of a normalised phrase is a run of
    word characters, and every such run of the normalised text is a substring of the
    case-folded text; so when some phrase word is missing from the case-folded text (one
    ``in`` test) the phrase cannot be in the normalised one, and the pass is skipped. When every
    word is there, the phrase is looked for in the case-folded text itself (``_phrase_rx``), so
    the text is never normalised at all.
    """

    __slots__ = ("_folded", "_raw")

    def __init__(self, raw: str):
        self._raw = raw
        self._folded: str | None = None

    def contains(self, phrase: str) -> bool:
        """``_norm(phrase) in _norm(text)``."""
        want = _norm(phrase)
        if self._folded is None:
            self._folded = _casefold(self._raw)
        folded = self._folded
        for word in want.split(" "):
            if word not in folded:
                return False
        return _phrase_rx(want).search(folded) is not None


def _casefold(text: str) -> str:
    """``text.casefold()``; a curly quote or CJK character would otherwise send the whole card
    plus licence down ``casefold``'s per-character path (a fifth of a millisecond)."""
    return fold_via_bytes(text, str.casefold)


@functools.lru_cache(maxsize=256)
def _phrase_rx(want: str) -> re.Pattern[str]:
    """A pattern that finds normalised ``want`` in a case-folded text as ``want in _norm(text)`` would.

    ``_norm`` turns each maximal run of ``[\\s\\W_]`` into one space and strips the ends, and
    ``want``'s words hold no such character; so ``want`` occurs in the normalised text exactly
    where its words occur in the folded one separated by runs of those characters (a run between
    two word characters is maximal, so it is one space after normalising).
    """
    return re.compile(r"[\s\W_]+".join(re.escape(word) for word in want.split(" ")))


def _phrases(value: object) -> list[str]:
    """A display-phrase value may list alternatives ("Built with Qwen | Improved using Qwen")."""
    if not isinstance(value, str):
        return []
    return [p.strip() for p in re.split(r"\s*(?:\||;|\bor\b)\s*", value) if p.strip()]


def _has_notice_file(ctx: RuleContext) -> bool:
    return any(p.rsplit("/", 1)[-1].upper().startswith("NOTICE") for p in ctx.files)


def _missing(ob: Obligation, ctx: RuleContext, text: _RepoText) -> str | None:
    """A short description of what is missing for one obligation, or None when satisfied."""
    if ob.kind == "license-copy":
        return None if any(is_license_file(p) for p in ctx.files) else "a copy of the licence (LICENSE file)"
    if ob.kind == "notice":
        if _has_notice_file(ctx):
            return None
        if isinstance(ob.value, str) and ob.value.strip() and text.contains(ob.value):
            return None
        return "the licence's notice text (NOTICE file)" + (
            f' ("{ob.value}")' if isinstance(ob.value, str) else ""
        )
    if ob.kind == "display-phrase":
        phrases = _phrases(ob.value)
        if not phrases or any(text.contains(p) for p in phrases):
            return None
        return "the phrase " + " or ".join(f'"{p}"' for p in phrases)
    return None


def _check_parent(ctx: RuleContext, parent: LicenseInfo, text: _RepoText) -> tuple[list[str], list[str]]:
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
    text: _RepoText | None = None  # built lazily: most repositories have no parent to check
    out: list[Violation] = []
    for rp, parent in judged_parents(ctx):
        if parent.license_class in PERMISSIVE_CLASSES:
            continue
        if text is None:
            text = _RepoText(all_text(ctx))
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
