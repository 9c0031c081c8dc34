"""The rule registry matches the contract's rule table, and evaluation is deterministic."""

from __future__ import annotations

import re

import pytest

from licenses.engine.rules import RULES, evaluate_violations
from tests.engine.rules.helpers import ctx, parent

# docs/contract.md "Violation rules" table, transcribed: the ids and severities are public vocabulary.
CONTRACT = {
    "missing-license": "error",
    "unresolved-license": "warning",
    "metadata-file-mismatch": "error",
    "relicensed-derivative": "error",
    "use-restrictions-dropped": "error",
    "no-derivatives": "error",
    "naming-requirement": "error",
    "incompatible-parents": "error",
    "output-use-restricted": "warning",
    "guardrail-removal": "error",
    "noncommercial-upstream-data": "error",
    "missing-notice": "warning",
    "version-mismatch": "warning",
    "unsafe-serialization": "error",
}


def test_every_contract_rule_is_registered_once_with_its_severity():
    assert {m.RULE_ID: m.SEVERITY for m in RULES} == CONTRACT
    assert len(RULES) == len(CONTRACT)


@pytest.mark.parametrize("module", RULES, ids=lambda m: m.RULE_ID)
def test_spec_names_d_rules(module):
    assert all(re.fullmatch(r"D\d{1,2}", d) for d in module.SPEC)


def test_shared_docs_contract_table_matches(shared_dir):
    text = (shared_dir / "docs" / "contract.md").read_text(encoding="utf-8")
    table = dict(re.findall(r"^\| `([a-z-]+)` \| (error|warning) \|", text, flags=re.M))
    assert table == CONTRACT


def test_findings_are_sorted_errors_first_and_stable():
    c = ctx(
        child_id="someone/finetune",
        key="apache-2.0",
        parents=[parent("meta-llama/Meta-Llama-3-8B", "llama3"), parent("org/nc", "cc-by-nc-4.0")],
        scan=[{"path": "a.bin", "dangerous": ["os.system"], "scanner": "t"}],
    )
    first = evaluate_violations(c)
    assert first == evaluate_violations(c)
    severities = [v.severity for v in first]
    assert severities == sorted(severities, key=lambda s: {"error": 0, "warning": 1}[s])
    assert {v.rule for v in first} >= {"relicensed-derivative", "naming-requirement", "unsafe-serialization"}


def test_lineage_rules_exclude_the_licence_only_rules():
    from licenses.engine.rules import LINEAGE_RULES

    ids = {m.RULE_ID for m in LINEAGE_RULES}
    assert ids == set(CONTRACT) - {"missing-license", "unresolved-license", "metadata-file-mismatch"}
    c = ctx(key="none", metadata={})
    assert [v.rule for v in evaluate_violations(c)] == ["missing-license"]
    assert evaluate_violations(c, LINEAGE_RULES) == []
