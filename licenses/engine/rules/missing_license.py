"""``missing-license``: the repository declares no licence anywhere a tool looks.

The contract's definition is literal: no ``license`` in the card metadata and no
licence file. A licence mentioned only in prose does not count, because neither the Hub
nor any downstream tool can read it; the classifier may still have guessed a key from
the body, which is shown as evidence but does not clear the finding.
"""

from __future__ import annotations

import re

from licenses.engine.rules.context import RuleContext
from licenses.engine.snapshot import is_license_file
from licenses.engine.types import Evidence, Violation

RULE_ID = "missing-license"
SEVERITY = "error"
SPEC: tuple[str, ...] = ()  # contract rule; licenses.md §2 row 57 ("missing" → flag)


# A relative Markdown link from the card to a licence file it ships: ``[LICENSE.txt](meta-license/LICENSE.txt)``.
_LICENCE_LINK = re.compile(r"\]\(\s*(?!https?:|mailto:|#)([^)\s]*licen[cs]e[^)\s]*)\s*\)", re.I)


def _declared(value: object) -> bool:
    """A licence is named (``license: none`` says outright that there is none)."""
    if isinstance(value, list):
        return any(_declared(v) for v in value)
    return isinstance(value, str) and bool(value.strip()) and value.strip().lower() != "none"


_FIELDS = ("license", "license_name", "license_link")


def check(ctx: RuleContext) -> list[Violation]:
    metadata = ctx.metadata
    for key in _FIELDS:  # a plain loop costs less than any() over a generator, on every card
        if _declared(metadata.get(key)):
            return []
    if any(is_license_file(path.rsplit("/", 1)[-1]) for path in ctx.files):
        return []  # a licence file anywhere in the repository, also in a sub-folder
    if _LICENCE_LINK.search(ctx.body or ""):
        return []  # the card points at a licence file in the repository
    says_none = (
        not isinstance(metadata.get("license"), list)
        and str(metadata.get("license") or "").strip().lower() == "none"
    )
    evidence = [
        Evidence(
            "metadata", "license: none" if says_none else "no license / license_name in the card metadata"
        ),
        Evidence("files", "no LICENSE, LICENCE, COPYING or MODEL_LICENSE file in the repository"),
    ]
    if ctx.license.key not in ("none", "unknown"):
        evidence.append(
            Evidence("body", f"the card text mentions {ctx.license.key}, which the Hub cannot read")
        )
    return [
        Violation(
            rule=RULE_ID,
            severity=SEVERITY,
            message=(
                "No licence is declared: the card has no `license` field and the repository has no "
                "licence file, so nobody can tell on what terms the model may be used."
            ),
            evidence=tuple(evidence),
        )
    ]
