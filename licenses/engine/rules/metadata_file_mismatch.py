"""``metadata-file-mismatch``: the card's ``license`` disagrees with the licence file beside it.

The classifier records each disagreement in ``LicenseFinding.conflicts`` (licenses.md §3:
"report both and prefer the text"); this rule turns each into a finding, because a user
reading the Hub page sees the metadata while the file is what actually binds.
"""

from __future__ import annotations

from licenses.engine.rules.context import RuleContext
from licenses.engine.types import Evidence, Violation

RULE_ID = "metadata-file-mismatch"
SEVERITY = "error"
SPEC: tuple[str, ...] = ()  # licenses.md §3, card-vs-file paragraph (no D number)


def check(ctx: RuleContext) -> list[Violation]:
    out: list[Violation] = []
    for conflict in ctx.license.conflicts:
        meta = conflict.get("metadata", "?")
        file_key = conflict.get("file", "?")
        path = conflict.get("path", "licence file")
        detail = conflict.get("detail", "")
        out.append(
            Violation(
                rule=RULE_ID,
                severity=SEVERITY,
                message=(
                    f"The card says the licence is {meta}, but {path} contains {file_key}. "
                    "Users of the Hub page and users of the files are told different terms."
                ),
                evidence=(
                    Evidence("metadata", f"license: {meta}"),
                    Evidence(f"file:{path}", detail or f"detected {file_key}"),
                ),
            )
        )
    return out
