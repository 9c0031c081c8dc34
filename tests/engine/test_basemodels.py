"""The bundled base-model table: validation, case-insensitive lookup, dated licence history."""

from __future__ import annotations

from datetime import date

import pytest

from licenses.engine.basemodels import DEFAULT_PATH, BaseModelTableError, BundledBaseModels
from licenses.engine.kb import default_kb


def test_default_table_loads_and_every_key_is_in_the_kb():
    table = BundledBaseModels.load()
    assert len(table) >= 300
    kb = default_kb()
    unknown = [(m.id, s.key) for m in table for s in m.history if kb.get(s.key) is None]
    assert unknown == []


def test_lookup_is_case_insensitive_and_url_tolerant():
    table = BundledBaseModels.load()
    rec = table.resolve("https://huggingface.co/META-LLAMA/llama-2-7b-HF", None)
    assert (rec.id, rec.license_key, rec.source) == ("meta-llama/Llama-2-7b-hf", "llama2", "bundled")
    assert table.resolve("nobody/nothing", None) is None


@pytest.mark.parametrize(
    ("model", "as_of", "key"),
    [
        ("01-ai/Yi-34B", date(2024, 1, 1), "yi-license"),
        ("01-ai/Yi-34B", date(2024, 5, 30), "apache-2.0"),
        ("01-ai/Yi-34B", None, "apache-2.0"),
        ("tiiuae/falcon-40b", date(2023, 5, 26), "tii-falcon-llm-1.0"),
        ("tiiuae/falcon-40b", date(2023, 6, 15), "apache-2.0"),
        ("tiiuae/falcon-7b", date(2020, 1, 1), "tii-falcon-llm-1.0"),
        ("mistralai/Mistral-Large-Instruct-2407", None, "mrl"),
        ("Qwen/Qwen2.5-3B-Instruct", None, "qwen-research"),
        ("Qwen/Qwen2.5-72B-Instruct", None, "qwen"),
        ("Qwen/Qwen2.5-7B-Instruct", None, "apache-2.0"),
        ("meta-llama/Meta-Llama-3-8B", None, "llama3"),
        ("meta-llama/Llama-3.1-8B-Instruct", None, "llama3.1"),
        ("stabilityai/stable-diffusion-xl-base-1.0", None, "openrail++"),
    ],
)
def test_licence_in_force_at_a_date(model, as_of, key):
    rec = BundledBaseModels.load().resolve(model, as_of)
    assert rec.license_key == key
    assert rec.as_of is not None and (as_of is None or rec.as_of <= as_of or key == "tii-falcon-llm-1.0")


def _write(tmp_path, text):
    p = tmp_path / "t.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_unknown_licence_key_fails_loudly(tmp_path):
    p = _write(
        tmp_path, "models:\n  - id: a/b\n    license_history: [{key: no-such-licence, since: 2024-01-01}]\n"
    )
    with pytest.raises(BaseModelTableError, match="no-such-licence"):
        BundledBaseModels.load(p, known_key=lambda k: default_kb().get(k) is not None)


@pytest.mark.parametrize(
    "text",
    [
        "models:\n  - id: a/b\n    license_history: []\n",
        "models:\n  - id: a/b\n    license_history: [{key: mit, since: 2024-02-01}, {key: apache-2.0, since: 2024-01-01}]\n",
        "models:\n  - id: a/b\n    license_history: [{key: mit, since: 2024-02-01}]\n"
        "  - id: A/B\n    license_history: [{key: mit, since: 2024-02-01}]\n",
        "models:\n  - id: a/b\n    licence: mit\n    license_history: [{key: mit, since: 2024-02-01}]\n",
        "models:\n  - id: a/b\n    license_history: [{key: mit, since: not-a-date}]\n",
        "rows: []\n",
    ],
)
def test_malformed_tables_are_rejected(tmp_path, text):
    with pytest.raises(BaseModelTableError):
        BundledBaseModels.load(_write(tmp_path, text), known_key=lambda k: True)


def test_default_path_is_the_bundled_file():
    assert DEFAULT_PATH.name == "base_models.yaml" and DEFAULT_PATH.is_file()


def test_resolve_by_name_only_when_unambiguous():
    table = BundledBaseModels.load()
    assert (
        table.resolve_by_name("Llama-2-70b-chat-hf", None).license_key == "llama2"
    )  # meta-llama + mirror agree
    assert table.resolve_by_name("no-such-model", None) is None
    assert table.resolve_by_name("01-ai/Yi-34B", date(2024, 1, 1)).license_key == "yi-license"
