"""``naming-requirement``: a derivative's name does not begin with the prefix its parent's licence demands.

Llama 3 requires derivatives' names to begin with "Llama 3"; Llama 3.1/3.2/3.3/4 with
"Llama" (licenses.md D7/D8). The rule is driven by the parent licence's ``name-prefix``
obligation, never by the parent's name. Names are compared after normalisation
(``Llama-3``, ``Llama3``, ``LLaMA_3`` → ``llama 3``), with the owner removed. Two leading
qualifiers are accepted because they are part of the licensed name itself: words the
licence's own title puts before the prefix ("Meta Llama 3"), and words the parent's name
puts before it (a copy named like its parent, ``Meta-Llama-3.1-8B-…``); an embedded
"<parent owner>." / "<parent owner>_" at the start (re-uploaders naming the source) is
stripped too. A quantized copy that keeps its parent's name is judged by the parent's.
"""

from __future__ import annotations

from licenses.engine.rules._common import clause_of, judged_parents, normalise_name, parent_evidence
from licenses.engine.rules.context import RuleContext
from licenses.engine.types import Evidence, Violation

RULE_ID = "naming-requirement"
SEVERITY = "error"
SPEC = ("D7", "D8")
#: The context field this rule reads its candidates from: with it empty the rule finds nothing,
#: so ``evaluate_violations`` does not call it.
NEEDS = "judged_parents"


def _qualifier(text: str, prefix: str) -> str | None:
    """Words before ``prefix`` in ``text`` (both normalised), or None if absent."""
    padded = f" {text} "
    i = padded.find(f" {prefix} ")
    if i < 0 and padded.rstrip().endswith(f" {prefix}"):
        i = padded.rstrip().rfind(f" {prefix}")
    return padded[:i].strip() if i >= 0 else None


def name_complies(name: str, prefix: str, allowed_qualifiers: set[str]) -> bool:
    n = normalise_name(name)
    p = normalise_name(prefix)
    for q in {"", *allowed_qualifiers}:
        full = f"{q} {p}".strip()
        if n == full or n.startswith(full + " "):
            return True
    return False


def _strip_owner(name: str, owner: str) -> str:
    for sep in (".", "_", "-", "__"):
        if owner and name.lower().startswith(owner.lower() + sep):
            return name[len(owner) + len(sep) :]
    return name


def _keeps_parent_name(child_name: str, parent_id: str, prefix: str, qualifiers: set[str]) -> bool:
    """A quantized copy is judged by its parent's name: if the parent's name is itself
    non-compliant the fault is the parent's (reported there), and a copy that keeps the
    parent's name inside its own (``Meta-Llama-3.1-8B-Instruct-GGUF``) added nothing."""
    parent_name = parent_id.rsplit("/", 1)[-1]
    if not name_complies(parent_name, prefix, qualifiers):
        return True
    return f" {normalise_name(parent_name)} " in f" {normalise_name(child_name)} "


def check(ctx: RuleContext) -> list[Violation]:
    out: list[Violation] = []
    reported: set[str] = set()
    for rp, parent in judged_parents(ctx):
        ob = parent.obligation("name-prefix")
        if ob is None or not isinstance(ob.value, str) or not ob.value.strip():
            continue
        prefix = ob.value.strip()
        norm_prefix = normalise_name(prefix)
        qualifiers = set()
        for text in (parent.name, rp.id.rsplit("/", 1)[-1]):
            q = _qualifier(normalise_name(text), norm_prefix)
            if q:
                qualifiers.add(q)
        owner = rp.id.split("/", 1)[0] if "/" in rp.id else ""
        names = {ctx.child_name, _strip_owner(ctx.child_name, owner)}
        if any(name_complies(n, prefix, qualifiers) for n in names) or norm_prefix in reported:
            continue
        if rp.ref.relation == "quantized" and _keeps_parent_name(ctx.child_name, rp.id, prefix, qualifiers):
            continue
        reported.add(norm_prefix)
        out.append(
            Violation(
                rule=RULE_ID,
                severity=SEVERITY,
                message=(
                    f"{parent.name} requires any model built from {rp.id} to have a name beginning with "
                    f'"{prefix}"; "{ctx.child_name}" does not.'
                ),
                parent=rp.id,
                clause=clause_of(parent, "name-prefix"),
                evidence=(parent_evidence(rp), Evidence("metadata", f"model name {ctx.child_name}")),
            )
        )
    return out
