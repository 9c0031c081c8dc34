"""Openness ratings on the index's dimensions and the MOF class."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from licenses.engine.cardfacts import facts_from_snapshot
from licenses.engine.datasets import DatasetLicense, DatasetLicenses
from licenses.engine.disclosure import assess_disclosure
from licenses.engine.openness import DIMENSIONS, MOF_COMPONENTS, assess_openness, is_open_license
from licenses.engine.types import RepoSnapshot
from tests.engine.test_cardfacts import facts_for, st_blob

OPEN_CARD = """---
license: apache-2.0
datasets: [acme/open-web]
library_name: transformers
pipeline_tag: text-generation
model-index:
  - name: m
    results:
      - task: {type: text-generation}
        dataset: {type: acme/bench, name: Bench}
        metrics: [{type: acc, value: 50.0}]
---
# Open model

## Model Architecture
A 12-layer decoder-only transformer.

## Training Data
One billion English tokens crawled in 2023, see the datasheet at https://example.org/datasheet.

## Training Procedure
Trained for 3 days on 8 A100 GPUs with the code at https://github.com/acme/train-open.
Evaluated with https://github.com/acme/eval-suite. Intermediate checkpoints are published as revisions.
The data preprocessing code is in the same repository.

## Uses
Research on small language models.

## Limitations
It can produce biased and false statements.

## How to Get Started
Load it with `AutoModel.from_pretrained("acme/open")`.

## Citation
Preprint: https://arxiv.org/abs/2401.00001

```bibtex
@inproceedings{acme2024, title={Open}, booktitle={Proc.}}
```
"""
TABLE = DatasetLicenses([DatasetLicense("acme/open-web", "cc-by-4.0", (), "yes", True, "test")])


def open_facts():
    blobs = {"model.safetensors": st_blob({"w": ("F32", [4])})}
    return facts_for(
        OPEN_CARD, blobs=blobs, extra_texts={"config.json": json.dumps({"architectures": ["X"]})}
    )


def ratings(result: dict) -> dict[str, str]:
    return {d["dimension"]: d["rating"] for d in result["dimensions"]}


def test_open_release_rates_open_and_reaches_mof_class_one():
    facts = open_facts()
    dis = assess_disclosure(facts, TABLE)
    assert (
        ratings(assess_openness(facts, "apache-2.0", "osi-permissive", disclosure=dis))["licenses"]
        == "partial"
    )
    # "open" on licences needs the code licence too (the weights licence alone does not say)
    result = assess_openness(facts, "apache-2.0", "osi-permissive", {"code": "MIT"}, disclosure=dis)
    r = ratings(result)
    assert [d[0] for d in DIMENSIONS] == [d["dimension"] for d in result["dimensions"]]
    for dim in ("datasources_endmodel", "datasources_basemodel", "weights_endmodel", "trainingcode", "code",
                "hardware_architecture", "preprint", "paper", "modelcard", "datasheet", "licenses"):  # fmt: skip
        assert r[dim] == "open", dim
    assert result["openness_pct"] == 100.0
    mof = result["mof"]
    assert mof["class"] == "Class I", [c for c in mof["components"] if not c["counts"]]
    assert mof["progress"] == {"class3": 100.0, "class2": 100.0, "class1": 100.0}


def test_closed_licence_blocks_mof_and_licences_dimension():
    facts = open_facts()
    dis = assess_disclosure(facts, TABLE)
    result = assess_openness(facts, "llama3", "vendor-community", disclosure=dis)
    assert ratings(result)["licenses"] == "closed"
    assert result["mof"]["class"] is None and result["mof"]["progress"]["class3"] == 0.0
    # an open licence declared for the components the MOT way lifts it again
    comp = {"distribution": "Apache-2.0"}
    assert (
        assess_openness(facts, "llama3", "vendor-community", comp, disclosure=dis)["mof"]["class"]
        == "Class I"
    )


def test_component_licence_resolution_order():
    facts = open_facts()
    dis = assess_disclosure(facts, TABLE)
    comp = {
        "code": "Apache-2.0",
        "data": "CC-BY-4.0",
        "document": "CC-BY-4.0",
        "Training code": "proprietary",
    }
    mof = assess_openness(facts, None, None, comp, disclosure=dis)["mof"]
    row = {c["component"]: c for c in mof["components"]}
    assert row["Training code"]["license"] == "proprietary" and not row["Training code"]["counts"]
    assert row["Inference code"]["license_from"] == "code" and row["Inference code"]["counts"]
    assert (
        mof["class"] == "Class III" and mof["progress"]["class2"] == 75.0 and mof["progress"]["class1"] == 0.0
    )


def test_gated_weights_are_partial_and_empty_card_is_closed():
    gated = facts_for("---\nlicense: mit\nextra_gated_prompt: agree\n---\n# m\n",
                      blobs={"model.safetensors": st_blob({"w": ("F32", [1])})})  # fmt: skip
    assert ratings(assess_openness(gated, "mit", "osi-permissive"))["weights_endmodel"] == "partial"
    empty = assess_openness(facts_for("", repo_id="a/b"))
    assert empty["openness_pct"] == 0.0
    assert empty["mof"]["class"] is None


def test_derivative_base_dimensions_are_marked_unobservable():
    facts = facts_for("---\nbase_model: acme/base\nlicense: mit\n---\n# m\n")
    dims = {d["dimension"]: d for d in assess_openness(facts, "mit", "osi-permissive")["dimensions"]}
    assert dims["datasources_basemodel"]["observable"] is False
    assert dims["weights_basemodel"]["observable"] is False


@pytest.mark.parametrize(("value", "expected"), [("Apache-2.0", True), ("GPL-3.0-only", True), ("cc-by-nc-4.0", False),
                                                 ("llama2", False), (None, False), ("CC-BY-SA-4.0", True)])  # fmt: skip
def test_is_open_license(value, expected):
    assert is_open_license(value) is expected


def test_mof_components_match_the_framework_definition(corpus_dir: Path):
    with (corpus_dir / "mof_mot" / "mof_class_components.csv").open(encoding="utf-8") as fh:
        required = {
            (r["component"], int(r["introduced_at_class"]))
            for r in csv.DictReader(fh)
            if r["required"] == "True"
        }
    assert {(name, cls) for name, _, cls in MOF_COMPONENTS} == required


def test_dimensions_match_the_index_criteria(corpus_dir: Path):
    with (corpus_dir / "osai_index" / "osai_index_criteria.csv").open(encoding="utf-8") as fh:
        criteria = [(r["dimension"], r["dimension_name"], r["category"]) for r in csv.DictReader(fh)]
    assert sorted(criteria) == sorted(DIMENSIONS)


def test_corpus_cards_get_ratings(corpus_dir: Path):
    n = 0
    for readme in sorted((corpus_dir / "model-cards").glob("*/README.md")):
        text = readme.read_text(encoding="utf-8", errors="replace")
        facts = facts_from_snapshot(RepoSnapshot(id=readme.parent.name, files={"README.md": len(text)},
                                                 texts={"README.md": text}))  # fmt: skip
        result = assess_openness(facts, facts.license[0] if facts.license else None, None)
        assert 0.0 <= result["openness_pct"] <= 100.0
        assert all(d["rating"] in ("open", "partial", "closed") for d in result["dimensions"])
        n += 1
    assert n > 100
