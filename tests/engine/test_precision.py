"""Precision of the error-severity rules on real cards, against a hand-checked fixture.

``tests/fixtures/error_findings.csv`` lists every error finding the rules produce over
``model-cards/`` and the Mistral-Small-24B tree, each with a verdict written after reading
the card. Recomputing the set catches drift in either direction (a rule that starts or
stops firing must be reviewed and the fixture updated); the verdicts give the precision.
"""

from __future__ import annotations

import csv

from tests.engine.corpus_findings import error_findings


def _fixture(fixtures_dir):
    with open(fixtures_dir / "error_findings.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_fixture_is_well_formed(fixtures_dir):
    rows = _fixture(fixtures_dir)
    assert rows, "fixture is empty"
    assert all(r["verdict"] in ("correct", "wrong") and r["reason"].strip() for r in rows)
    keys = [(r["model"], r["rule"], r["parent"]) for r in rows]
    assert len(keys) == len(set(keys))


def test_findings_match_the_reviewed_fixture(corpus_dir, fixtures_dir):
    expected = {(r["model"], r["rule"], r["parent"]) for r in _fixture(fixtures_dir)}
    found = error_findings(corpus_dir)
    assert sorted(found - expected) == [], "new error findings: review them and add them to the fixture"
    assert sorted(expected - found) == [], "findings disappeared: review and update the fixture"


def test_precision_above_95_percent(fixtures_dir):
    rows = _fixture(fixtures_dir)
    correct = sum(r["verdict"] == "correct" for r in rows)
    assert correct / len(rows) > 0.95, f"precision {correct}/{len(rows)}"
