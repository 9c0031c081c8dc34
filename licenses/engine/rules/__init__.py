"""Violation rules of the contract, one module per rule, run by ``evaluate_violations``.

Each module exposes ``RULE_ID``, ``SEVERITY`` (as in docs/contract.md), ``SPEC`` (the
licenses.md §3 D-rules it implements) and ``check(ctx) -> list[Violation]``; optionally
``NEEDS``, the name of a ``RuleContext`` field (``judged_parents``, ``output_sources``,
``datasets``, ``scan``) without which the rule can find nothing. Most repositories declare
no judgeable parent, so most rules would only be called to return ``[]``;
``evaluate_violations`` skips them instead. Rules are independent and pure; the registry
below is the only place that lists them, so adding a rule is adding a module and a line.
"""

from __future__ import annotations

from types import ModuleType

from licenses.engine.rules import (
    guardrail_removal,
    incompatible_parents,
    metadata_file_mismatch,
    missing_license,
    missing_notice,
    naming_requirement,
    no_derivatives,
    noncommercial_upstream_data,
    output_use_restricted,
    relicensed_derivative,
    unresolved_license,
    unsafe_serialization,
    use_restrictions_dropped,
    version_mismatch,
)
from licenses.engine.rules.context import ResolvedParent, RuleContext, build_context
from licenses.engine.types import Violation

RULES: tuple[ModuleType, ...] = (
    missing_license,
    unresolved_license,
    metadata_file_mismatch,
    relicensed_derivative,
    use_restrictions_dropped,
    no_derivatives,
    naming_requirement,
    incompatible_parents,
    output_use_restricted,
    guardrail_removal,
    noncommercial_upstream_data,
    missing_notice,
    version_mismatch,
    unsafe_serialization,
)

#: The rules that need more than the repository's own licence finding. ``analyze.py`` already
#: emits missing-license / unresolved-license / metadata-file-mismatch itself; a caller that keeps
#: those can pass ``rules=LINEAGE_RULES`` to avoid reporting them twice.
LINEAGE_RULES: tuple[ModuleType, ...] = tuple(
    r for r in RULES if r not in (missing_license, unresolved_license, metadata_file_mismatch)
)

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def _sort_key(v: Violation) -> tuple:
    return (_SEVERITY_ORDER.get(v.severity, 9), v.rule, v.parent or "", v.message)


#: Per tuple of rules, each rule's ``NEEDS`` (or ``None``) beside the rule; a few tuples exist
#: (``RULES``, ``LINEAGE_RULES``, a caller's own), so this stays small.
_PLANS: dict[tuple[ModuleType, ...], tuple[tuple[str | None, ModuleType], ...]] = {}


def _plan(rules: tuple[ModuleType, ...]) -> tuple[tuple[str | None, ModuleType], ...]:
    """``rules`` as ``(needs, rule)`` pairs, in order; read once per tuple, not per call."""
    plan = _PLANS.get(rules)
    if plan is None:
        plan = tuple((getattr(rule, "NEEDS", None), rule) for rule in rules)
        _PLANS[rules] = plan
    return plan


def evaluate_violations(ctx: RuleContext, rules: tuple[ModuleType, ...] = RULES) -> list[Violation]:
    """Every rule's findings for one repository: errors first, then by rule id, parent and
    message, so that the output is stable across runs and diffs cleanly.

    A rule whose ``NEEDS`` field is empty in ``ctx`` is not called: it would return ``[]``.
    """
    found: list[Violation] = []
    for needs, rule in _plan(tuple(rules)):
        if needs is not None and not getattr(ctx, needs):
            continue
        found.extend(rule.check(ctx))
    if len(found) > 1:
        found.sort(key=_sort_key)
    return found


__all__ = ["LINEAGE_RULES", "RULES", "ResolvedParent", "RuleContext", "build_context", "evaluate_violations"]
