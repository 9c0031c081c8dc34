"""Static discovery of model references: the fixture code base (exact findings) and each language rule."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from licenses.engine.references import scan_paths

# (file, line, kind, model) for every resolved reference in tests/fixtures/audit_codebase.
EXPECTED = [
    ("Dockerfile", 5, "model", "black-forest-labs/FLUX.1-schnell"),
    ("Dockerfile", 6, "model", "openai/whisper-small"),
    ("app/embeddings.py", 11, "model", "sentence-transformers/all-MiniLM-L6-v2"),
    ("app/embeddings.py", 15, "model", "mistralai/Mistral-7B-Instruct-v0.2"),
    ("app/embeddings.py", 19, "model", "google/gemma-2-2b"),
    ("app/embeddings.py", 24, "model", "EleutherAI/pythia-160m"),
    ("app/embeddings.py", 24, "model", "microsoft/phi-2"),
    ("app/embeddings.py", 25, "dataset", "wikitext"),
    ("app/images.py", 14, "model", "stabilityai/stable-diffusion-xl-base-1.0"),
    ("app/images.py", 15, "model", "DeepFloyd/IF-I-XL-v1.0"),
    ("app/images.py", 20, "model", "stabilityai/stable-diffusion-xl-refiner-1.0"),
    ("app/images.py", 24, "dataset", "Gustavosta/Stable-Diffusion-Prompts"),
    ("app/inference.py", 13, "model", "meta-llama/Llama-3.1-8B-Instruct"),
    ("app/inference.py", 14, "model", "meta-llama/Llama-3.1-8B-Instruct"),
    ("app/inference.py", 19, "model", "distilbert/distilbert-base-uncased"),
    ("app/inference.py", 23, "model", "google-t5/t5-small"),
    ("app/inference.py", 32, "model", "Qwen/Qwen2.5-72B-Instruct"),
    ("app/inference.py", 36, "model", "./models/acme__support-bot"),
    ("configs/eval.toml", 5, "model", "bigscience/bloom-560m"),
    ("configs/serve.json", 4, "model", "meta-llama/Llama-3.2-11B-Vision-Instruct"),
    ("configs/train.yaml", 2, "model", "mistralai/Mistral-7B-v0.1"),
    ("configs/train.yaml", 3, "model", "mistralai/Mistral-7B-v0.1"),
    ("configs/train.yaml", 5, "dataset", "tatsu-lab/alpaca"),
    ("notebooks/explore.ipynb", 17, "model", "Qwen/Qwen2.5-7B-Instruct"),
    ("notebooks/explore.ipynb", 38, "model", "google-bert/bert-base-uncased"),
    ("notebooks/explore.ipynb", 39, "model", "facebook/opt-125m"),
    ("scripts/fetch.sh", 4, "model", "google/gemma-2-2b"),
    ("scripts/fetch.sh", 6, "model", "google/gemma-2-2b"),
    ("scripts/fetch.sh", 7, "dataset", "HuggingFaceH4/ultrachat_200k"),
]
EXPECTED_UNRESOLVED = [("app/inference.py", 28, "name"), ("scripts/fetch.sh", 8, "${CHECKPOINT}")]


def test_fixture_codebase_exact_findings(codebase):
    result = scan_paths([codebase])
    assert result.errors == []
    found = sorted((r.file, r.line, r.kind, r.model) for r in result.references if r.resolved)
    assert found == sorted(EXPECTED)
    unresolved = sorted((r.file, r.line, r.expression) for r in result.references if not r.resolved)
    assert unresolved == EXPECTED_UNRESOLVED


def test_fixture_lines_point_at_the_model_text(codebase):
    """Every reported line of a non-notebook file holds the call or the id (no off-by-one)."""
    for r in scan_paths([codebase]).references:
        if r.file.endswith(".ipynb") or not r.resolved:
            continue
        line = (codebase / r.file).read_text().splitlines()[r.line - 1]
        assert (
            r.call.split(".")[-1].split()[0].lstrip("-") in line
            or r.model.split("/")[-1] in line
            or "$" in line
        )


def test_fixture_notebook_cells(codebase):
    refs = {r.model: r for r in scan_paths([codebase / "notebooks"]).references}
    bert = refs["google-bert/bert-base-uncased"]  # defined in cell 3, used in cell 4
    assert (bert.cell, bert.cell_line) == (4, 1)
    assert (refs["Qwen/Qwen2.5-7B-Instruct"].cell, refs["Qwen/Qwen2.5-7B-Instruct"].call) == (
        2,
        "huggingface-cli download",
    )
    raw = (codebase / "notebooks" / "explore.ipynb").read_text().splitlines()
    assert "from_pretrained(ENCODER)" in raw[bert.line - 1]


def test_local_folder_is_not_a_hub_id(codebase):
    ref = next(r for r in scan_paths([codebase / "app"], root=codebase).references if r.local_path)
    assert ref.model == "./models/acme__support-bot"
    assert Path(ref.local_path) == (codebase / "models" / "acme__support-bot").resolve()


def test_fixture_provenance_notes(codebase):
    refs = scan_paths([codebase / "app" / "inference.py"]).references
    qwen = next(r for r in refs if r.model == "Qwen/Qwen2.5-72B-Instruct")
    assert "SERVED_MODEL" in qwen.note
    chat = next(r for r in refs if r.model == "meta-llama/Llama-3.1-8B-Instruct")
    assert chat.expression == "CHAT_MODEL"


# --------------------------------------------------------------------------- python rules


def scan_source(tmp_path: Path, source: str, name: str = "mod.py"):
    f = tmp_path / name
    f.write_text(textwrap.dedent(source))
    return scan_paths([tmp_path]).references


def models(refs) -> list[tuple[int, str | None]]:
    return [(r.line, r.model) for r in refs]


def test_loop_dict_format_and_percent(tmp_path):
    refs = scan_source(
        tmp_path,
        """\
        from transformers import AutoModel
        SIZES = {"small": "a/small", "large": "a/large"}
        for m in ["o/x", "o/y"]:
            AutoModel.from_pretrained(m)
        AutoModel.from_pretrained(SIZES["large"])
        AutoModel.from_pretrained("{}/{}".format("org", "fmt"))
        AutoModel.from_pretrained("%s/%s" % ("org", "pct"))
        AutoModel.from_pretrained("/".join(["org", "joined"]))
        for v in SIZES.values():
            AutoModel.from_pretrained(v)
        """,
    )
    assert models(refs) == [
        (4, "o/x"), (4, "o/y"), (5, "a/large"), (6, "org/fmt"), (7, "org/pct"), (8, "org/joined"),
        (10, "a/large"), (10, "a/small"),
    ]  # fmt: skip


def test_parameters_defaults_and_callers(tmp_path):
    refs = scan_source(
        tmp_path,
        """\
        from transformers import AutoModel

        def load(name="org/default"):
            return AutoModel.from_pretrained(name)

        load("org/passed")
        load(name="org/keyword")

        class Loader:
            def __init__(self, repo="org/ctor"):
                self.repo = repo

            def get(self):
                return AutoModel.from_pretrained(self.repo)
        """,
    )
    assert sorted(r.model for r in refs if r.line == 4) == ["org/default", "org/keyword", "org/passed"]
    assert [r.model for r in refs if r.line == 14] == ["org/ctor"]
    assert all(r.resolved for r in refs)


def test_argparse_and_dataclass_defaults(tmp_path):
    refs = scan_source(
        tmp_path,
        """\
        import argparse
        from dataclasses import dataclass, field
        from transformers import AutoModel

        @dataclass
        class ModelArguments:
            model_name_or_path: str = field(default="org/dc-default")

        parser = argparse.ArgumentParser()
        parser.add_argument("--base-model", default="org/cli-default")
        args = parser.parse_args()
        AutoModel.from_pretrained(args.base_model)

        def main(model_args: ModelArguments):
            AutoModel.from_pretrained(model_args.model_name_or_path)
        """,
    )
    got = {(r.line, r.model, r.resolved) for r in refs}
    assert (12, "org/cli-default", True) in got
    assert (15, "org/dc-default", True) in got
    assert "--base-model" in next(r.note for r in refs if r.line == 12)


def test_unresolved_are_reported_not_dropped(tmp_path):
    refs = scan_source(
        tmp_path,
        """\
        import os
        from config import MODEL
        from transformers import AutoModel, pipeline

        AutoModel.from_pretrained(MODEL)
        AutoModel.from_pretrained(os.environ["M"])
        AutoModel.from_pretrained(os.getenv("M") or "org/fallback")
        pipeline("sentiment-analysis")
        def f(x):
            return AutoModel.from_pretrained(x)
        """,
    )
    unresolved = {r.line: r for r in refs if not r.resolved}
    assert set(unresolved) == {5, 6, 7, 8, 10}
    assert "imported from config" in unresolved[5].note
    assert "default model" in unresolved[8].note
    assert [r.model for r in refs if r.resolved] == ["org/fallback"]  # partial: value + unresolved part


def test_hub_api_kinds_and_prefixes(tmp_path):
    refs = scan_source(
        tmp_path,
        """\
        import timm
        from datasets import load_dataset
        from huggingface_hub import HfApi, hf_hub_download, snapshot_download
        from peft import PeftModel

        hf_hub_download("org/data", "x.csv", repo_type="dataset")
        snapshot_download(repo_id="org/space", repo_type="space")
        HfApi().dataset_info("org/ds")
        load_dataset("csv", data_files="x.csv")
        load_dataset(path="org/hubds")
        timm.create_model("hf-hub:timm/resnet50.a1_in1k")
        timm.create_model("resnet50")
        PeftModel.from_pretrained(base, "org/adapter")
        """,
    )
    assert [(r.line, r.kind, r.model) for r in refs] == [
        (6, "dataset", "org/data"),
        (8, "dataset", "org/ds"),
        (10, "dataset", "org/hubds"),
        (11, "model", "timm/resnet50.a1_in1k"),
        (13, "model", "org/adapter"),
    ]


def test_hub_urls_are_hub_ids_however_many_slashes_they_have(tmp_path):
    """``from_single_file`` takes a file's URL on the Hub; such URLs were listed as local paths and
    never judged."""
    refs = scan_source(
        tmp_path,
        """        from diffusers import StableDiffusionXLPipeline
        from transformers import AutoModel
        from datasets import load_dataset

        StableDiffusionXLPipeline.from_single_file(
            "https://huggingface.co/stabilityai/sdxl-base/blob/main/sd_xl_base_1.0.safetensors"
        )
        AutoModel.from_pretrained("hf://org/model")
        load_dataset("parquet", data_files="hf://datasets/org/table/data/train.parquet")
        AutoModel.from_pretrained("https://huggingface.co/datasets/org/not-a-model")
        AutoModel.from_pretrained("https://huggingface.co/spaces/org/a-demo-app")
        AutoModel.from_pretrained("https://huggingface.co/docs/transformers/index")
        """,
    )
    assert [(r.kind, r.model, r.local_path) for r in refs] == [
        ("model", "stabilityai/sdxl-base", None),
        ("model", "org/model", None),
        ("dataset", "org/not-a-model", None),
    ]


def test_local_files_folders_and_dates_are_not_hub_ids(tmp_path):
    """An axolotl config's data files and a training script's output folder were denied as Hub models."""
    (tmp_path / "axolotl.yaml").write_text(
        textwrap.dedent(
            """            base_model: org/base
            datasets:
              - path: data/train.jsonl
              - path: data/extra.parquet
            dataset_name: data/my_corpus.csv
            model: models/final.pt
            dataset: 2024/01
            """
        )
    )
    refs = scan_source(
        tmp_path,
        """        from transformers import AutoModel
        from datasets import load_dataset

        AutoModel.from_pretrained("output")
        AutoModel.from_pretrained("gpt2-medium")
        AutoModel.from_pretrained("bert-base-uncased")
        load_dataset("data/train.csv")
        load_dataset("wikitext", "wikitext-2-raw-v1")
        """,
        name="train.py",
    )
    judged = sorted((r.file, r.model) for r in refs if not r.local_path)
    assert judged == [
        ("axolotl.yaml", "org/base"), ("train.py", "bert-base-uncased"), ("train.py", "gpt2-medium"),
        ("train.py", "wikitext"),
    ]  # fmt: skip
    (output,) = [r for r in refs if r.local_path]
    assert (output.model, output.note) == ("output", "a folder name (not found here), not a Hub id")


def test_loaders_imported_under_another_name(tmp_path):
    """``import … as …`` of a loading call or of transformers itself: the calls were dropped silently."""
    refs = scan_source(
        tmp_path,
        """        import transformers as tr
        from transformers import pipeline as hf_pipeline
        from huggingface_hub import snapshot_download as fetch

        hf_pipeline("text-generation", model="org/p1")
        tr.pipeline("fill-mask", model="org/p2")
        fetch("org/p3")
        """,
    )
    assert [(r.line, r.model, r.call) for r in refs] == [
        (5, "org/p1", "hf_pipeline"), (6, "org/p2", "tr.pipeline"), (7, "org/p3", "fetch"),
    ]  # fmt: skip


def test_columns_are_one_based(tmp_path):
    refs = scan_source(tmp_path, "x = AutoModel.from_pretrained('org/m')\n")
    assert (refs[0].line, refs[0].column) == (1, 5)


def test_columns_count_characters_not_bytes(tmp_path):
    """``ast`` counts UTF-8 bytes: the call after ``größe = `` was reported at column 11."""
    refs = scan_source(
        tmp_path, "größe = AutoModel.from_pretrained('org/m')\r\ny = 1\r\nz = pipeline(model='org/p')\n"
    )
    assert [(r.line, r.column) for r in refs] == [(1, 9), (3, 5)]


def test_syntax_error_is_reported(tmp_path):
    (tmp_path / "bad.py").write_text("from_pretrained(\n")
    result = scan_paths([tmp_path])
    assert result.references == []
    assert result.errors and result.errors[0].file == "bad.py"


# --------------------------------------------------------------------------- walking


def test_skips_vcs_venvs_node_modules_and_big_files(tmp_path):
    code = "AutoModel.from_pretrained('org/m')\n"
    for d in (".git", "node_modules", "venv", "myenv"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "x.py").write_text(code)
    (tmp_path / "myenv" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / "big.py").write_text(code + "#" * 3_000_000)
    (tmp_path / "ok.py").write_text(code)
    result = scan_paths([tmp_path])
    assert [r.file for r in result.references] == ["ok.py"]
    assert [e.file for e in result.errors] == ["big.py"]


def test_a_package_named_env_is_code_and_a_bom_is_not(tmp_path):
    """RL projects keep their environments in ``env/``; only folders with ``pyvenv.cfg`` are virtual
    environments. A UTF-8 byte-order mark (Python accepts it) made the file a scan error."""
    for d in ("env", "rl/.env"):
        (tmp_path / d).mkdir(parents=True)
        (tmp_path / d / "reward.py").write_text("load_dataset('org/rewards')\n")
    (tmp_path / "bom.py").write_bytes("AutoModel.from_pretrained('org/m')\n".encode("utf-8-sig"))
    (tmp_path / "bom.json").write_bytes(json.dumps({"model_name_or_path": "org/j"}).encode("utf-8-sig"))
    result = scan_paths([tmp_path])
    assert sorted((r.file, r.model) for r in result.references) == [
        ("bom.json", "org/j"), ("bom.py", "org/m"), ("env/reward.py", "org/rewards"), ("rl/.env/reward.py", "org/rewards"),
    ]  # fmt: skip
    assert result.errors == []


# --------------------------------------------------------------------------- configs, shell, notebooks


def test_yaml_ci_run_blocks_and_generic_keys(tmp_path):
    (tmp_path / "ci.yml").write_text(
        textwrap.dedent(
            """\
            jobs:
              eval:
                steps:
                  - run: |
                      echo start
                      huggingface-cli download org/ci-model
            model: gpt-4o
            model_id: org/generic
            """
        )
    )
    refs = scan_paths([tmp_path]).references
    assert [(r.line, r.model) for r in refs] == [(6, "org/ci-model"), (8, "org/generic")]


def test_json_and_toml_lines(tmp_path):
    (tmp_path / "a.json").write_text(
        json.dumps({"x": 1, "cfg": {"base_model": ["org/p1", "org/p2"]}}, indent=2)
    )
    (tmp_path / "b.toml").write_text('[tool]\nname = "x"\n\n[tool.model]\nmodel_name_or_path = "gpt2"\n')
    refs = scan_paths([tmp_path]).references
    assert [(r.file, r.line, r.model) for r in refs] == [
        ("a.json", 5, "org/p1"),
        ("a.json", 6, "org/p2"),
        ("b.toml", 5, "gpt2"),
    ]


def test_shell_variables_flags_and_git_clone(tmp_path):
    (tmp_path / "run.sh").write_text(
        textwrap.dedent(
            """\
            export ORG=acme
            MODEL="${ORG}/base"
            hf download $MODEL --repo-type dataset
            git clone https://huggingface.co/org/cloned
            vllm serve org/served --port 8000
            python x.py --model-name-or-path=org/inline --model gpt-4o
            """
        )
    )
    refs = scan_paths([tmp_path]).references
    assert [(r.line, r.kind, r.model) for r in refs] == [
        (3, "dataset", "acme/base"), (4, "model", "org/cloned"), (5, "model", "org/served"), (6, "model", "org/inline"),
    ]  # fmt: skip


def test_download_options_before_the_repository_are_not_taken_for_it(tmp_path):
    """``--repo-type dataset X`` is the documented form; the option's value was judged as a model
    named "dataset" and the real repository never seen."""
    (tmp_path / "Dockerfile").write_text(
        textwrap.dedent(
            """            RUN huggingface-cli download --repo-type dataset tatsu-lab/alpaca
            RUN huggingface-cli download --local-dir /models/sdxl --quiet stabilityai/sdxl-base
            RUN hf download --revision main --include "*.json" "*.txt" --exclude x -- org/after-lists
            RUN hf download --repo-type=dataset --token=abc org/inline-values file.bin
            RUN hf download org/first --include "*.safetensors" --local-dir out
            """
        )
    )
    refs = scan_paths([tmp_path]).references
    assert [(r.line, r.kind, r.model) for r in refs] == [
        (1, "dataset", "tatsu-lab/alpaca"), (2, "model", "stabilityai/sdxl-base"), (3, "model", "org/after-lists"),
        (4, "dataset", "org/inline-values"), (5, "model", "org/first"),
    ]  # fmt: skip


def test_compose_exec_form_commands_and_environments(tmp_path):
    """``command: ["--model", "org/x"]`` was read one word at a time, and ``environment:`` entries
    (``- HF_MODEL=org/x``, ``HF_MODEL_ID: org/x``) not at all."""
    (tmp_path / "docker-compose.yml").write_text(
        textwrap.dedent(
            """            services:
              llm:
                command: ["--model", "org/exec", "--port", "8000"]
                environment:
                  - HF_MODEL=org/env-list
                  - OTHER=foo/bar
              tgi:
                command: --model-id org/string
                environment:
                  HF_MODEL_ID: org/env-map
              job:
                script: ["hf download org/first", "hf download org/second"]
            """
        )
    )
    refs = scan_paths([tmp_path]).references
    assert [(r.line, r.model) for r in refs] == [
        (3, "org/exec"), (5, "org/env-list"), (8, "org/string"), (10, "org/env-map"), (12, "org/first"),
        (12, "org/second"),
    ]  # fmt: skip
    assert next(r for r in refs if r.model == "org/env-list").column == 18


def test_ci_template_expressions_are_reported_unresolved(tmp_path):
    """``hf download ${{ env.BASE }}`` in a workflow was dropped without a word."""
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "train.yml").write_text(
        textwrap.dedent(
            """            jobs:
              train:
                steps:
                  - run: hf download ${{ env.BASE }} --local-dir base
            """
        )
    )
    (ref,) = scan_paths([tmp_path]).references
    assert (ref.resolved, ref.file, ref.line) == (False, ".github/workflows/train.yml", 4)
    assert ref.note == "not set in this file: ${{ env.BASE }} (filled in by the CI system)"


def test_notebook_with_string_sources(tmp_path):
    nb = {
        "cells": [{"cell_type": "code", "source": "M = 'org/one'\nAutoModel.from_pretrained(M)\n"}],
        "nbformat": 4,
    }
    (tmp_path / "n.ipynb").write_text(json.dumps(nb))
    (ref,) = scan_paths([tmp_path]).references
    assert (ref.model, ref.cell, ref.cell_line, ref.line) == ("org/one", 1, 2, 1)
