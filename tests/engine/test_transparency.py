"""Transparency index: table/rule consistency, individual rules, score arithmetic, corpus cards."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from licenses.engine.cardfacts import facts_from_snapshot
from licenses.engine.transparency import RULES, TABLE_PATH, assess_transparency, load_indicators
from licenses.engine.types import RepoSnapshot
from tests.engine.test_cardfacts import CARD, facts_for, st_blob


def by_id(result: dict) -> dict[str, dict]:
    return {i["id"]: i for i in result["indicators"]}


def test_table_and_rules_cover_the_same_ids():
    rows = load_indicators()
    assert 25 <= len(rows) <= 40
    assert {r["id"] for r in rows} == set(RULES)
    assert all(r["fmti_id"].startswith(("v1-", "2025-")) for r in rows)


def test_table_mismatch_raises(tmp_path: Path):
    data = yaml.safe_load(TABLE_PATH.read_text())
    data["indicators"] = data["indicators"][1:]
    bad = tmp_path / "t.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError, match="differ"):
        load_indicators(bad)


def test_fmti_ids_exist_in_the_fmti_table(corpus_dir: Path):
    with (corpus_dir / "fmti" / "fmti_indicators.csv").open(encoding="utf-8") as fh:
        known = {row["indicator_id"] for row in csv.DictReader(fh)}
    for row in load_indicators():
        assert row["fmti_id"] in known, row["id"]
        assert row.get("fmti_2025_id", "2025-001") in known, row["id"]


def test_empty_card_scores_zero_and_every_indicator_reports():
    result = assess_transparency(facts_for("", repo_id="acme/model"))
    assert result["score"] == 0 and result["met"] == 0
    assert result["max"] == len(load_indicators())
    assert all(i["evidence"] is None and i["rule"] for i in result["indicators"])


def test_rich_card_meets_the_indicators_it_shows():
    blobs = {"model.safetensors": st_blob({"w": ("F32", [8, 8])})}
    texts = {
        "tokenizer_config.json": json.dumps({"chat_template": "{{ messages }}"}),
        "config.json": json.dumps({"architectures": ["AcmeForCausalLM"], "num_hidden_layers": 4}),
        "USE_POLICY.md": "policy",
    }
    result = by_id(assess_transparency(facts_for(CARD, blobs=blobs, extra_texts=texts), "apache-2.0",
                                       "osi-permissive"))  # fmt: skip
    expect_met = [
        "data-size", "data-sources", "data-acquisition", "data-access", "compute-hardware", "carbon-emissions",
        "core-frameworks", "training-code", "input-modality", "model-components", "model-size",
        "model-architecture", "deeper-model-properties", "centralized-documentation", "access-protocol",
        "open-weights", "capabilities-description", "capabilities-evaluation", "limitations-description",
        "risks-description", "model-license", "permitted-users", "permitted-uses", "system-prompt",
    ]  # fmt: skip
    for ind in expect_met:
        assert result[ind]["met"], ind
        assert result[ind]["evidence"], ind
    for ind in ("change-log", "energy-usage", "quantization", "compute-usage"):
        assert not result[ind]["met"], ind
    assert result["model-size"]["evidence"].startswith("64 parameters")
    assert "co2_eq_emissions" in result["carbon-emissions"]["evidence"]


def test_evidence_points_at_readme_lines():
    text = "# Card\n\nWe used 512 GPU hours on 8 H100 GPUs.\nTraining took 3.1e22 FLOPs and 12 MWh.\n"
    result = by_id(assess_transparency(facts_for(text)))
    assert result["compute-usage"]["evidence"].startswith("README line 4")
    assert "H100" in result["compute-hardware"]["evidence"]
    assert "12 mwh" in result["energy-usage"]["evidence"].lower()


def test_fmti_strictness_vague_claims_do_not_count():
    text = ("# Card\n\n## Training Data\nPublicly available sources, filtered.\n\n"
            "We used 512 GPU hours. Carbon Emitted (Power consumption x Time x Carbon produced).\n")  # fmt: skip
    result = by_id(assess_transparency(facts_for(text)))
    assert not result["data-sources"]["met"]
    assert not result["compute-usage"]["met"]
    assert not result["energy-usage"]["met"]
    named = by_id(assess_transparency(facts_for(text.replace("Publicly available", "Wikipedia and GitHub"))))
    assert named["data-sources"]["met"]


@pytest.mark.parametrize(
    ("license_key", "license_class", "indicator", "met"),
    [
        ("llama2", "vendor-community", "permitted-users", True),
        ("mit", "osi-permissive", "permitted-users", False),
        ("openrail", "rail", "permitted-uses", True),
        ("none", "unknown", "model-license", False),
        ("mit", "osi-permissive", "model-license", True),
    ],
)
def test_licence_driven_indicators(license_key, license_class, indicator, met):
    result = by_id(assess_transparency(facts_for("# x\n"), license_key, license_class))
    assert result[indicator]["met"] is met


def test_score_is_weighted_share():
    result = assess_transparency(facts_for("---\npipeline_tag: text-generation\nlicense: mit\n---\n# x\n"))
    met = sum(i["weight"] for i in result["indicators"] if i["met"])
    assert met == 3  # input, output modality and licence
    assert result["score"] == round(100 * met / result["max"])


def test_placeholder_template_card_scores_low():
    template = "\n".join(
        f"## {h}\n\n[More Information Needed]\n"
        for h in (
            "Model Details",
            "Uses",
            "Bias, Risks, and Limitations",
            "Training Data",
            "Evaluation",
            "Environmental Impact",
            "Citation",
        )
    )
    assert assess_transparency(facts_for(template))["score"] == 0


def test_corpus_cards_score_in_range(corpus_dir: Path):
    scores = []
    for readme in sorted((corpus_dir / "model-cards").glob("*/README.md")):
        folder = readme.parent
        texts = {
            p.name: p.read_text(encoding="utf-8", errors="replace") for p in folder.iterdir() if p.is_file()
        }
        snap = RepoSnapshot(id=folder.name.replace("__", "/"), files={k: len(v) for k, v in texts.items()},
                            texts=texts)  # fmt: skip
        result = assess_transparency(facts_from_snapshot(snap))
        assert 0 <= result["score"] <= 100
        assert all(isinstance(i["met"], bool) for i in result["indicators"])
        scores.append(result["score"])
    assert len(scores) > 100
    assert max(scores) >= 50 and min(scores) <= 10  # the corpus spans rich and empty cards


@pytest.mark.parametrize(
    ("body", "met"),
    [
        ("Aligned with reinforcement learning from human feedback (RLHF).\n", False),
        ("We trained with DPO on openbmb/UltraFeedback and CodeFeedback pairs.\n", False),
        ("Preferences were labelled by AI feedback.\n", False),
        ("Please send feedback to the authors by e-mail.\n", True),
        ("Feedback: open a discussion on the model page.\n", True),
    ],
)
def test_feedback_mechanism_needs_a_channel_not_the_training_method(body, met):
    result = by_id(assess_transparency(facts_for(f"# Model\n\n{body}", repo_id="acme/model")))
    assert result["feedback-mechanism"]["met"] is met
