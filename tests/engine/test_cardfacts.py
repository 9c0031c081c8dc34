"""Card facts: section synonyms, placeholders, links, metadata, configs and weight headers."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import pytest

from licenses.engine.cardfacts import (
    CardFacts,
    canonical_sections,
    classify_url,
    extract_facts,
    facts_from_snapshot,
    parse_sections,
)
from licenses.engine.frontmatter import parse_front_matter
from licenses.engine.types import RepoSnapshot


def make_snapshot(readme: str | None, extra_texts: dict[str, str] | None = None,
                  blobs: dict[str, bytes] | None = None, repo_id: str = "acme/tiny-model") -> RepoSnapshot:  # fmt: skip
    """A repository in memory: ``texts`` for small files, ``blobs`` for binary ones."""
    texts = dict(extra_texts or {})
    if readme is not None:
        texts["README.md"] = readme
    blobs = dict(blobs or {})
    files = {name: len(text.encode()) for name, text in texts.items()}
    files.update({name: len(data) for name, data in blobs.items()})
    return RepoSnapshot(id=repo_id, files=files, texts=texts,
                        open_file=lambda path: io.BytesIO(blobs[path]))  # fmt: skip


def facts_for(readme: str | None, **kwargs) -> CardFacts:
    snap = make_snapshot(readme, **kwargs)
    return extract_facts(snap, parse_front_matter(readme or ""))


def st_blob(tensors: dict[str, tuple[str, list[int]]]) -> bytes:
    """A hand-written safetensors file (8-byte LE length, JSON header, zero data)."""
    sizes = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8}
    header, offset = {}, 0
    for name, (dtype, shape) in tensors.items():
        n = sizes[dtype]
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + b"\0" * offset


CARD = """---
license: apache-2.0
language: [en, fr]
datasets:
  - acme/clean-web
  - 42
pipeline_tag: text-generation
library_name: transformers
tags: [chat]
base_model: acme/base-7b
base_model_relation: finetune
co2_eq_emissions:
  emissions: 1200
  source: CodeCarbon
  hardware_used: 8x A100
model-index:
  - name: tiny
    results:
      - task: {type: text-generation, name: Text Generation}
        dataset: {type: acme/eval-set, name: Acme Eval}
        metrics:
          - {type: accuracy, value: 71.5, name: Accuracy}
extra_gated_prompt: Agree to the terms
extra_gated_fields:
  Company: text
---
# Tiny Model

## Model Details
A 7 billion parameter decoder-only transformer trained by Acme for chat in English and French.

## Intended uses & limitations
Use it for drafting replies. It makes factual mistakes, may reflect social biases and should not be used for medical advice.

## Training data
We trained on 1.2 trillion tokens crawled from the web between 2019 and 2023, see
https://huggingface.co/datasets/acme/clean-web and the paper https://arxiv.org/abs/2401.01234v2.

## Evaluation
[More Information Needed]

## Environmental Impact
- **Hardware Type:** [More Information Needed]
- **Hours used:** [More Information Needed]

## How to use
```bash
# Limitations of this shell snippet are not a heading
pip install acme
```

## BibTeX
Code at https://github.com/acme/tiny-train and https://doi.org/10.1000/xyz123.
"""


def test_sections_map_real_world_headings_to_the_template():
    facts = facts_for(CARD)
    present = set(facts.present_sections)
    assert {"Model Details", "Uses", "Bias, Risks, and Limitations", "Training Data", "Citation"} <= present
    # placeholder-only sections are recorded but do not count
    assert "Evaluation" in facts.sections and facts.section("Evaluation") is None
    assert facts.section("Environmental Impact") is None
    # a '# comment' inside a code fence is not a heading
    assert all("shell snippet" not in h for h in facts.headings)
    assert facts.sections["Training Data"].line == CARD.split("\n").index("## Training data") + 1


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("Limitations", "Bias, Risks, and Limitations"),
        ("Intended Use", "Uses"),
        ("Training data", "Training Data"),
        ("Dataset", "Training Data"),
        ("Carbon Emissions", "Environmental Impact"),
        ("BibTeX", "Citation"),
        ("2. How to use", "How to Get Started"),
        ("**Out-of-Scope Use**", "Out-of-Scope Use"),
        ("Model Architecture and Objective", "Model Architecture"),
        ("Hardware and Software", "Compute Infrastructure"),
        ("Evaluation Results", "Results"),
        ("Model Card Contact", "Contact"),
    ],
)
def test_heading_synonyms(heading, expected):
    assert expected in canonical_sections(heading)


def test_unknown_heading_maps_to_nothing():
    assert canonical_sections("Discord server") == ()


def test_bold_labels_open_sections_like_headings():
    body = "**Model Architecture** An auto-regressive transformer with grouped-query attention.\n\n" \
           "**Training Data** Two trillion tokens of publicly available text with a 2022 cutoff.\n"  # fmt: skip
    sections, _ = parse_sections(body)
    assert sections["Model Architecture"].substantive
    assert "trillion" in sections["Training Data"].text


def test_parent_heading_includes_subsections_but_not_siblings():
    body = "## Training Details\n### Training Data\nA corpus of forty thousand legal documents.\n" \
           "## Evaluation\n[More Information Needed]\n"  # fmt: skip
    sections, _ = parse_sections(body)
    assert sections["Training Details"].substantive
    assert not sections["Evaluation"].substantive


def test_metadata_fields():
    facts = facts_for(CARD)
    assert facts.datasets == ("acme/clean-web", "42")
    assert facts.linked_datasets == ("acme/clean-web",)
    assert facts.all_datasets == ("acme/clean-web", "42")
    assert facts.languages == ("en", "fr")
    assert facts.pipeline_tag == "text-generation" and facts.library_name == "transformers"
    assert facts.base_models == ("acme/base-7b",) and facts.base_model_relation == "finetune"
    assert facts.co2_eq_emissions == {"emissions": 1200.0, "source": "CodeCarbon", "hardware_used": "8x A100"}
    assert [(r.task, r.dataset, r.metric, r.value) for r in facts.eval_results] == [
        ("Text Generation", "Acme Eval", "Accuracy", 71.5)
    ]
    assert facts.gated and facts.gating_fields == ("extra_gated_fields", "extra_gated_prompt")
    assert facts.parameter_mentions and "7 billion parameter" in facts.parameter_mentions[0][0]
    json.dumps(facts.to_dict())  # JSON-serialisable


def test_links_are_classified_with_section():
    facts = facts_for(CARD)
    by_kind = {link.kind: link for link in facts.links}
    assert by_kind["arxiv"].target == "2401.01234"
    assert by_kind["arxiv"].section == "Training Data"
    assert by_kind["github"].target == "acme/tiny-train"
    assert by_kind["doi"].target == "10.1000/xyz123"
    assert by_kind["hf-dataset"].target == "acme/clean-web"


@pytest.mark.parametrize(
    ("url", "kind", "target"),
    [
        ("https://huggingface.co/meta/some-model", "hf-model", "meta/some-model"),
        ("https://huggingface.co/datasets/squad", "hf-dataset", "squad"),
        ("https://huggingface.co/spaces/a/b", "hf-space", "a/b"),
        ("https://aclanthology.org/2023.acl-long.1/", "paper", None),
        ("https://huggingface.co/blog/post", "blog", None),
        ("https://example.com/x", "web", None),
    ],
)
def test_classify_url(url, kind, target):
    assert classify_url(url) == (kind, target)


def test_template_boilerplate_is_not_evidence():
    card = (
        "## Environmental Impact\n\nCarbon emissions can be estimated using the [Machine Learning Impact "
        "calculator](https://mlco2.github.io/impact#compute) presented in [Lacoste et al. (2019)]"
        "(https://arxiv.org/abs/1910.09700).\n\n- **Hardware Type:** [More Information Needed]\n"
    )
    facts = facts_for(card)
    assert facts.section("Environmental Impact") is None
    assert not facts.links_of("arxiv")


def test_chat_template_config_and_gating_absent():
    facts = facts_for(
        "plain card, no front matter",
        extra_texts={
            "tokenizer_config.json": json.dumps(
                {"chat_template": "{% for m in messages %}{{ m }}{% endfor %}"}
            ),
            "config.json": json.dumps({"architectures": ["LlamaForCausalLM"], "model_type": "llama"}),
        },
    )
    assert facts.chat_template == "file:tokenizer_config.json"
    assert facts.config["model_type"] == "llama"
    assert not facts.gated and not facts.has_front_matter


def test_safetensors_headers_give_parameters_and_dtypes():
    blobs = {
        "model-00001-of-00002.safetensors": st_blob({"a": ("F32", [4, 4]), "b": ("F32", [4])}),
        "model-00002-of-00002.safetensors": st_blob({"c": ("BF16", [10])}),
    }
    index = json.dumps({"metadata": {"total_size": 100}, "weight_map": {}})
    facts = facts_for("# m", blobs=blobs, extra_texts={"model.safetensors.index.json": index})
    w = facts.weights
    assert (w.parameters, w.tensors) == (30, 3)
    assert w.dtypes == {"F32": 20, "BF16": 10}
    assert w.total_size == 100 and w.formats == ("safetensors",) and not w.errors


def test_lying_safetensors_header_is_reported_not_believed():
    good = st_blob({"a": ("F32", [2])})
    liar = struct.pack("<Q", 10**6) + b"{}"
    facts = facts_for("# m", blobs={"a.safetensors": good, "b.safetensors": liar})
    assert facts.weights.parameters == 2
    assert len(facts.weights.errors) == 1 and "b.safetensors" in facts.weights.errors[0]


def test_gguf_quantizations_from_file_names():
    facts = facts_for(
        "# m", blobs={"m.Q4_K_M.gguf": b"GGUF", "m.Q8_0.gguf": b"GGUF", "training_args.bin": b"x"}
    )
    assert facts.weights.formats == ("gguf",)
    assert set(facts.weights.quantizations) == {"Q4_K_M", "Q8_0"}


def test_no_readme_and_hostile_metadata_never_crash():
    facts = facts_for(None)
    assert not facts.has_readme and facts.present_sections == ()
    weird = "---\ndatasets: {a: 1}\nmodel-index: 5\nco2_eq_emissions: [1]\nlanguage: 7\ngated: auto\n---\nx"
    facts = facts_for(weird)
    assert facts.datasets == () and facts.eval_results == () and facts.co2_eq_emissions is None
    assert facts.languages == ("7",) and facts.gated


def test_facts_from_snapshot_parses_the_readme():
    facts = facts_from_snapshot(make_snapshot(CARD))
    assert facts.license == ("apache-2.0",)


def test_every_corpus_card_parses(corpus_dir: Path):
    cards = sorted((corpus_dir / "model-cards").glob("*/README.md"))
    assert len(cards) > 100
    with_sections = 0
    for readme in cards:
        folder = readme.parent
        texts = {
            p.name: p.read_text(encoding="utf-8", errors="replace") for p in folder.iterdir() if p.is_file()
        }
        snap = RepoSnapshot(id=folder.name, files={k: len(v) for k, v in texts.items()}, texts=texts)
        facts = facts_from_snapshot(snap)
        json.dumps(facts.to_dict())
        with_sections += bool(facts.present_sections)
    assert with_sections > len(cards) * 0.6


def test_pathological_cards_stay_fast_and_bounded():
    """Thousands of repeated headings and links, a 1 MB line, junk bytes: linear, no crash."""
    import time

    from licenses.engine.cardfacts import MAX_LINKS
    from licenses.engine.disclosure import assess_disclosure
    from licenses.engine.openness import assess_openness

    repeated = "".join(
        f"## Usage\nsee https://example.com/{i} and **Training Data** row {i}\n" for i in range(5000)
    )
    cards = [
        repeated,
        "# x\n" + "a" * 1_000_000 + "\n",
        "---\nlicense: mit\n---\n" + "\x00\x01\x02 junk" * 1000,
        "#" * 10_000 + "\n" + "```\n" * 3 + "**" * 5000,
    ]
    for text in cards:
        start = time.perf_counter()
        facts = facts_for(text)
        result = assess_openness(facts, "mit", "osi-permissive", disclosure=assess_disclosure(facts))
        assert time.perf_counter() - start < 10
        json.dumps(result)
        assert len(facts.links) <= MAX_LINKS
    assert facts_for(repeated).section("How to Get Started") is not None


def test_at_word_start_matches_exactly_like_a_leading_word_boundary():
    """The speed spelling of ``\\b(?:...)`` used by the probes finds the same matches, the
    boundary an ASCII one (``re.ASCII``): a CJK or accented letter beside a token no longer
    hides it ("8张a100", "é4bit"), as a space would not."""
    import random
    import re

    from licenses.engine.keyword_probe import WORD_END, at_word_start

    alternatives = ("a100", "a10g?", r"rtx ?\d{4}", "moe", "4-?bit", "trained", "tuned")
    fast = re.compile(at_word_start(*alternatives) + WORD_END)
    plain = re.compile(r"\b(?:" + "|".join(alternatives) + r")\b", re.ASCII)
    rnd = random.Random(7)
    pieces = ["a100", "a10", "a10g", "xa100", "_a100", "é4bit", "4bit", "4-bit", "rtx 3090", "rtx3090", "moe",
              "amoe", "trained", "retrained", "tuned", " ", "\n", "-", ".", "(", "a", "1", "张", "训练"]  # fmt: skip
    for _ in range(3000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 12)))
        assert [m.span() for m in fast.finditer(text)] == [m.span() for m in plain.finditer(text)], text
        for pos in range(len(text)):  # a window start inside the text still sees the character before it
            a, b = fast.search(text, pos), plain.search(text, pos)
            assert (a and a.span()) == (b and b.span()), (text, pos)
    with pytest.raises(ValueError):
        at_word_start(r"\bx")


def test_a_folder_s_shard_index_and_pipeline_config_are_read(tmp_path):
    """The facts above come from ``snapshot.texts``: the snapshot reader must load these files
    (it once skipped both, so no folder, hub revision or mirror ever showed them)."""
    from licenses.engine.snapshot import snapshot_from_dir

    (tmp_path / "README.md").write_text("# m\n")
    (tmp_path / "model.safetensors.index.json").write_text(
        json.dumps(
            {"metadata": {"total_size": 4_000_000}, "weight_map": {"a": "model-00001-of-00002.safetensors"}}
        )
    )
    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    facts = facts_from_snapshot(snapshot_from_dir(tmp_path, "acme/pipe"))
    assert facts.weights.total_size == 4_000_000
    assert facts.config.get("_class_name") == "StableDiffusionPipeline"
