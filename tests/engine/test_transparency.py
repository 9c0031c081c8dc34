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


def _indicator(body: str, indicator: str, repo_id: str = "acme/widget-lm") -> dict:
    return by_id(assess_transparency(facts_for(body, repo_id=repo_id)))[indicator]


@pytest.mark.parametrize(
    ("body", "met"),
    [
        # another model's id, a URL path, a comparison-table row, an accelerator: not our version
        (
            "## Model Details\n\nFine-tuned from [other/Base-3B-v0.2](https://huggingface.co/other/Base-3B-v0.2).\n",
            False,
        ),
        (
            "## Model Details\n\nUses the norm of [this paper](https://proceedings.example.org/v150/x23.html).\n",
            False,
        ),
        ("## Model Details\n\n| model | score |\n|---|---|\n| Rival Coder V2.5 | 30.1 |\n", False),
        ("## Model Details\n\nIt beats Other-Chat-v3 on most tasks.\n", False),
        ("## Model Details\n\nTrained on 4x Tesla V100.\n", False),
        # this model's own version
        ("## Model Details\n\nThis is widget-lm v1.2, the second release.\n", True),
        ("## Model Details\n\nThis is Widget-LM-v2, the second release.\n", True),
        ("## Model Details\n\n| field | value |\n|---|---|\n| version | v3 |\n", True),
        ("## Model Details\n\n**Model Dates** trained in 2023.\n", True),
    ],
)
def test_versioning_is_this_models_version(body, met):
    assert _indicator(f"# Card\n\n{body}", "versioning")["met"] is met


def test_model_size_prefers_the_size_in_the_repository_name():
    body = "# Card\n\nThe family comes in 7B, 13B and 34 billion parameters variants.\n\nThis one has 13B parameters.\n"
    evidence = _indicator(body, "model-size", repo_id="acme/widget-13b")["evidence"]
    assert "13B parameters" in evidence
    # only the family's other size stated: the name is the evidence, not the contradicting size
    body = "# Card\n\nPart of a family whose largest model has 70 billion parameters.\n"
    evidence = _indicator(body, "model-size", repo_id="acme/widget-7b")["evidence"]
    assert evidence == "repository name: 7b"
    # no size in the name: the card's statement stands
    assert "70 billion parameters" in _indicator(body, "model-size", repo_id="acme/widget")["evidence"]
    # a mixture of experts: 8 x 7B
    body = "# Card\n\nIt has 56B parameters in total.\n"
    assert "56B parameters" in _indicator(body, "model-size", repo_id="acme/widget-8x7b")["evidence"]


@pytest.mark.parametrize(
    ("body", "met"),
    [
        # a runtime / file-format project linked from the description: not training code
        (
            "## Description\n\n### About the format\n\n* [runner.cpp](https://github.com/someone/runner.cpp). "
            "The source project for the format. Offers a CLI and a server option.\n",
            False,
        ),
        (
            "## Description\n\nIt follows the [chat format](https://github.com/someone/spec/blob/main/chat.md).\n",
            False,
        ),
        # the developer's own repository, a line about code or training, a training section
        ("## Description\n\nSee [here](https://github.com/acme/widget).\n", True),
        ("## Description\n\nTraining code is available at https://github.com/someone/trainer-kit\n", True),
        ("## Training procedure\n\nWe used https://github.com/someone/toolkit\n", True),
    ],
)
def test_training_code_needs_a_training_context(body, met):
    assert _indicator(f"# Card\n\n{body}", "training-code")["met"] is met


@pytest.mark.parametrize(
    ("body", "met"),
    [
        (
            "## Hardware requirements\n\n| model | GPU |\n|---|---|\n| widget | 1 x RTX 3090 (24 GB) |\n",
            False,
        ),
        ("## Usage\n\nIt runs on a single RTX 4090 or an A100.\n", False),
        ("## Usage\n\nThe free Colab T4 is enough to try it.\n", False),
        ("## Usage\n\nThe model was trained on 8x A100 GPUs for 3 days.\n", True),
        ("## Training procedure\n\n- Hardware: 32 x 8 x A100 GPUs\n", True),
        ("## Usage\n\n**Trained on**\nH100 80GB x 8\n", True),
    ],
)
def test_compute_hardware_is_training_hardware(body, met):
    assert _indicator(f"# Card\n\n{body}", "compute-hardware")["met"] is met


@pytest.mark.parametrize(
    ("body", "met"),
    [
        ("## Training Data\n\nThe model was fine-tuned on a laptop GPU for 5 hours.\n", False),
        ("## Training Data\n\nTraining took about 2 hours on one GPU.\n", False),
        ("## Training Data\n\nWe trained it on 4 x A100 80GB with our private set.\n", False),
        ("## Training Data\n\nIt was trained on 960 hours of read English speech.\n", True),
        ("## Training Data\n\nThe corpus holds 35 GB of text.\n", True),
        ("## Training Data\n\nIt was trained for 3 epochs on 2 trillion tokens.\n", True),
        # a duration first, the data's size after it
        ("## Training Data\n\nTrained for 6 hours on 120k examples.\n", True),
    ],
)
def test_data_size_is_not_a_duration_or_gpu_memory(body, met):
    assert _indicator(f"# Card\n\n{body}", "data-size")["met"] is met


class _CountingPattern:
    """A compiled pattern's ``search`` that adds up the characters it is asked to scan."""

    def __init__(self, rx):
        self.rx, self.scanned = rx, 0

    def search(self, text, pos=0, endpos=None):
        end = len(text) if endpos is None else min(endpos, len(text))
        self.scanned += max(0, end - pos)
        return self.rx.search(text, pos, end)


def _count_alnum(monkeypatch) -> list[int]:
    import licenses.engine.transparency as tr

    seen = [0]
    real = tr._alnum

    def counting(name: str) -> str:
        seen[0] += len(name)
        return real(name)

    monkeypatch.setattr(tr, "_alnum", counting)
    return seen


@pytest.mark.parametrize(
    "details",
    [
        "-v1" * 3000,  # one word of other models' version tokens: each token read back to the line's start
        "| " + "v1 " * 3000 + "|",  # one table row of them: the row judged again per token
    ],
)
def test_versioning_reads_a_hostile_line_of_version_tokens_in_linear_work(monkeypatch, details):
    seen = _count_alnum(monkeypatch)
    body = f"# Card\n\n## Model Details\n\n{details}\n"
    assert _indicator(body, "versioning")["met"] is False
    assert seen[0] <= 64 * len(details)  # (quadratic: over 10 million characters)


def test_compute_hardware_reads_a_line_of_accelerators_once(monkeypatch):
    import licenses.engine.transparency as tr

    counter = _CountingPattern(tr._TRAINING_WORDS)
    monkeypatch.setattr(tr, "_TRAINING_WORDS", counter)
    line = "a100 " * 2000
    assert _indicator(f"# Card\n\n## Usage\n\n{line}\n", "compute-hardware")["met"] is False
    assert counter.scanned <= 3 * len(line)  # (per accelerator: 20 million characters)


def test_compute_hardware_still_finds_training_hardware_after_a_line_of_accelerators():
    body = "# Card\n\n## Usage\n\n" + "a100 " * 200 + "\n\nIt was trained on 8 x H100.\n"
    assert _indicator(body, "compute-hardware")["met"] is True
    spans = "## Training Details\n\nx\n\n## Usage\n\na100\n\n" * 50 + "## Training Details\n\nOn 8 x H100.\n"
    assert _indicator("# Card\n\n" + spans, "compute-hardware")["met"] is True


def test_training_code_reads_a_line_of_links_once(monkeypatch):
    import licenses.engine.transparency as tr

    counter = _CountingPattern(tr._CODE_WORDS)
    monkeypatch.setattr(tr, "_CODE_WORDS", counter)
    line = " ".join(f"https://github.com/o{i}/r{i}" for i in range(1000))
    assert _indicator(f"# Card\n\n## Model Details\n\n{line}\n", "training-code")["met"] is False
    assert counter.scanned <= 2 * len(line)  # (per link: 30 million characters)
    # a later line about code still counts
    body = f"# Card\n\n## Model Details\n\n{line}\n\nCode: https://github.com/lab/kit\n"
    assert _indicator(body, "training-code")["met"] is True
