"""Dataset-licence lookup and the training-data disclosure ladder."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from licenses.engine.cardfacts import facts_from_snapshot
from licenses.engine.datasets import (
    DatasetLicense,
    DatasetLicenses,
    bundled,
    classify_declared,
    classify_verified,
)
from licenses.engine.disclosure import assess_disclosure
from licenses.engine.types import RepoSnapshot
from tests.engine.test_cardfacts import facts_for

TABLE = DatasetLicenses(
    [
        DatasetLicense("acme/open-web", "cc-by-4.0", (), "yes", True, "test"),
        DatasetLicense("acme/chat-nc", "mit", ("CC BY-NC 4.0",), "no", False, "test"),
        DatasetLicense("acme/rail-data", "openrail", (), "yes", False, "test"),
    ]
)


def card(datasets: list[str] | None, training: str | None) -> str:
    front = "---\nlicense: mit\n" + (f"datasets: {json.dumps(datasets)}\n" if datasets else "") + "---\n"
    body = "# Model\n\nA small model.\n"
    if training is not None:
        body += f"\n## Training Data\n{training}\n"
    return front + body


DESCRIBED = "About 2 million English documents crawled from news sites between 2019 and 2022."


@pytest.mark.parametrize(
    ("datasets", "training", "level"),
    [
        (None, None, 0),
        (None, "[More Information Needed]", 0),
        (["acme/unknown-set"], None, 1),
        (None, "We used a mix of things we found useful for this task.", 1),
        (None, DESCRIBED, 2),
        (["acme/unknown-set"], DESCRIBED, 2),  # licence of a named dataset unknown
        (["acme/open-web"], None, 4),  # documented by its dataset card, open licence
        (["acme/open-web", "acme/chat-nc"], DESCRIBED, 3),
        (["acme/rail-data"], DESCRIBED, 3),  # licence known but not open
        (["acme/open-web"], DESCRIBED + " Plus proprietary data from partners.", 3),
        (["acme/open-web", "acme/unknown-set"], None, 1),
    ],
)
def test_ladder(datasets, training, level):
    result = assess_disclosure(facts_for(card(datasets, training)), TABLE)
    assert result["disclosure_level"] == level, result["evidence"]
    assert all(e["level"] <= max(level + 1, 1) for e in result["evidence"])


@pytest.mark.parametrize(
    ("training", "level"),
    [
        # a size that is the GPU's memory or the training's duration describes no data
        ("English instructions, fine-tuned on 4 x A100 80GB; training took 42 hours.", 1),
        ("English instructions, fine-tuned with LoRA on 1 A100 80GB.", 1),
        # a later size of the data still counts; hours of audio are data
        ("Fine-tuned on 1 A100 80GB. The data: 35 GB of English instructions.", 2),
        ("960 hours of English read speech.", 2),
    ],
)
def test_durations_and_gpu_memory_are_not_a_size_of_data(training, level):
    result = assess_disclosure(facts_for(card(None, training)), TABLE)
    assert result["disclosure_level"] == level, result["evidence"]


def test_noncommercial_datasets_and_licence_rows():
    result = assess_disclosure(facts_for(card(["acme/chat-nc", "acme/open-web", "x/y"], DESCRIBED)), TABLE)
    assert result["noncommercial_datasets"] == ["acme/chat-nc"]
    rows = {r["id"]: r for r in result["dataset_licenses"]}
    assert rows["acme/chat-nc"]["verified"] == ["CC BY-NC 4.0"] and rows["acme/chat-nc"]["commercial"] == "no"
    assert rows["x/y"] == {
        "id": "x/y",
        "license": None,
        "commercial": "unknown",
        "open": None,
        "source": None,
    }
    assert result["datasets"] == ["acme/chat-nc", "acme/open-web", "x/y"]


def test_dataset_links_in_evaluation_sections_are_not_training_data():
    text = card(None, None) + "\n## Evaluation\nScores on https://huggingface.co/datasets/acme/bench\n"
    assert assess_disclosure(facts_for(text), TABLE)["datasets"] == []
    text = card(None, "Fine-tuned on https://huggingface.co/datasets/acme/open-web")
    assert assess_disclosure(facts_for(text), TABLE)["datasets"] == ["acme/open-web"]


def test_derivative_scope():
    text = "---\nbase_model: acme/base\ndatasets: [acme/open-web]\n---\n# x\n"
    assert assess_disclosure(facts_for(text), TABLE)["scope"] == "end-model"


def test_classifiers():
    assert classify_declared(["cc-by-nc-sa-4.0"]) == ("no", False)
    assert classify_declared(["apache-2.0", "cc-by-4.0"]) == ("yes", True)
    assert classify_declared(["creativeml-openrail-m"]) == ("yes", False)
    assert classify_declared(["other"]) == ("unknown", None)
    cats = {"MIT License": "All", "OpenAI": "NC", "Unspecified": "Unspecified"}
    assert classify_verified(["MIT License", "OpenAI"], cats) == ("no", False)
    assert classify_verified(["MIT License"], cats) == ("yes", True)
    assert classify_verified(["Unspecified"], cats) == ("unknown", None)


def test_lookup_normalises_ids_and_card_overlay():
    assert TABLE.lookup("https://huggingface.co/datasets/ACME/Open-Web/") is not None
    assert TABLE.lookup("") is None
    overlay = TABLE.with_card("acme/new", {"license": "cc-by-nc-4.0"})
    assert overlay.lookup("acme/new").commercial == "no" and TABLE.lookup("acme/new") is None
    # a card declaring MIT does not override the verified non-commercial terms
    assert TABLE.with_card("acme/chat-nc", {"license": "mit"}).lookup("acme/chat-nc").commercial == "no"


def test_bundled_table_is_loaded():
    table = bundled()
    assert len(table) > 1000
    assert all(e.commercial in ("yes", "no", "unknown") for e in table)


def test_bundled_table_follows_verified_noncommercial_terms(corpus_dir: Path):
    """Every DPI dataset whose verified licence is CC BY-NC* is non-commercial in the bundle."""
    checked = 0
    path = corpus_dir / "data-provenance-initiative" / "dataset_licenses.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["hf_dataset"] and "CC BY-NC" in row["verified_licenses"]:
                hit = bundled().lookup(row["hf_dataset"])
                assert hit is not None and hit.commercial == "no", row["hf_dataset"]
                checked += 1
    assert checked > 50


def test_corpus_cards_naming_noncommercial_data(corpus_dir: Path):
    """A real card whose ``datasets:`` names a dataset with verified NC terms lists it as such."""
    dpi_nc = set()
    with (corpus_dir / "data-provenance-initiative" / "dataset_licenses.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["hf_dataset"] and "CC BY-NC" in row["verified_licenses"]:
                dpi_nc.add(row["hf_dataset"].lower())
    found = 0
    for readme in sorted((corpus_dir / "model-cards").glob("*/README.md")):
        text = readme.read_text(encoding="utf-8", errors="replace")
        facts = facts_from_snapshot(RepoSnapshot(id=readme.parent.name, files={"README.md": len(text)},
                                                 texts={"README.md": text}))  # fmt: skip
        result = assess_disclosure(facts)
        assert 0 <= result["disclosure_level"] <= 4
        expected = [ds for ds in facts.all_datasets if ds.lower() in dpi_nc]
        assert set(expected) <= set(result["noncommercial_datasets"])
        found += bool(expected)
    assert found >= 1


def test_a_line_of_gpu_memory_sizes_is_read_in_linear_work():
    from licenses.engine.disclosure import DESCRIPTORS, is_data_size

    class Counting(str):
        scanned = 0

        def rfind(self, sub, start=0, end=None):  # the line's start, searched back from each size
            Counting.scanned += (len(self) if end is None else end) - start
            return str.rfind(self, sub, start, end)

    low = Counting("train " + "a100 1gb x " * 2000)
    sizes = list(DESCRIPTORS["size"].rx.finditer(low))
    assert len(sizes) == 2000
    assert not any(is_data_size(low, m) for m in sizes)
    assert Counting.scanned <= 21 * len(sizes)  # (to the line's start: 22 million characters)
