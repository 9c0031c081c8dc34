"""Classifier accuracy on real model cards, against labels assigned by reading them.

``tests/fixtures/card_labels.csv`` was written by hand from each card, its licence files
and ``licenses.md`` (column ``reason`` says why), not from classifier output. The corpus is
read from ``../shared/corpus/model-cards`` and the test skips when it is absent.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from licenses.engine.analyze import analyze_paths
from licenses.engine.types import COMMERCIAL_USE_VALUES, LICENSE_CLASSES

LABELS = Path(__file__).resolve().parents[1] / "fixtures" / "card_labels.csv"
MIN_KEY_ACCURACY = 0.95


def load_labels() -> list[dict[str, str]]:
    with LABELS.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_labels_are_well_formed():
    labels = load_labels()
    assert len(labels) >= 60
    assert len({row["id"] for row in labels}) == len(labels)
    for row in labels:
        assert row["class"] in LICENSE_CLASSES, row
        assert row["commercial_use"] in COMMERCIAL_USE_VALUES, row
        assert row["reason"].strip(), row


def test_accuracy_on_labelled_cards(corpus_dir):
    labels = load_labels()
    results = {r["id"]: r["license"] for r in analyze_paths([corpus_dir / "model-cards"])}
    missing = [row["id"] for row in labels if row["id"] not in results]
    assert not missing, f"labelled ids not found in the corpus: {missing}"

    hits = {"key": 0, "class": 0, "commercial_use": 0}
    mismatches = []
    for row in labels:
        got = results[row["id"]]
        for field in hits:
            hits[field] += got[field] == row[field]
        if got["key"] != row["key"]:
            detail = got.get("reason") or "; ".join(e["detail"] for e in got["evidence"])
            mismatches.append(
                f"{row['id']}: labelled {row['key']} ({row['reason']}), got {got['key']}: {detail}"
            )
    n = len(labels)
    print(
        f"\nlicence accuracy on {n} labelled cards: " + ", ".join(f"{k} {v / n:.1%}" for k, v in hits.items())
    )
    for line in mismatches:
        print("  MISMATCH " + line)
    assert hits["key"] / n > MIN_KEY_ACCURACY, "\n".join(mismatches)


@pytest.mark.parametrize(
    "key", ["llama3.1", "yi-license", "deepseek", "mrl", "creativeml-openrail-m", "none", "unknown"]
)
def test_labels_cover_the_hard_cases(key):
    """The label set must keep exercising files, license_name, link URLs and the no-licence cases."""
    assert any(row["key"] == key for row in load_labels())
