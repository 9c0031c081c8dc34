"""Violation rules of the contract, one module per rule, run by ``evaluate_violations``.

Each module exposes ``RULE_ID``, ``SEVERITY`` (as in docs/contract.md), ``SPEC`` (the
licenses.md §3 D-rules it implements) and ``check(ctx) -> list[Violation]``. Rules are
independent and pure; the registry below is the only place that lists them, so adding a
rule is adding a module and a line.
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


def evaluate_violations(ctx: RuleContext, rules: tuple[ModuleType, ...] = RULES) -> list[Violation]:
    """Every rule's findings for one repository: errors first, then by rule id, parent and
    message, so that the output is stable across runs and diffs cleanly."""
    found: list[Violation] = []
    for rule in rules:
        found.extend(rule.check(ctx))
    return sorted(found, key=_sort_key)


__all__ = ["LINEAGE_RULES", "RULES", "ResolvedParent", "RuleContext", "build_context", "evaluate_violations"]
