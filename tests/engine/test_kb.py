"""Tests of the licence knowledge base: data files, schema, loader, lookups and normalisation."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from licenses.engine.kb import (
    LICENSES_DIR,
    SCHEMA_PATH,
    KnowledgeBaseError,
    default_kb,
    load_knowledge_base,
    normalise_name,
)
from licenses.engine.types import COMMERCIAL_USE_VALUES, LICENSE_CLASSES, OBLIGATION_KINDS

#: Keys docs/contract.md fixes for licences the Hub only knows as ``other``.
CONTRACT_KEYS = [
    "deepseek",
    "tongyi-qianwen",
    "tongyi-qianwen-research",
    "qwen",
    "qwen-research",
    "yi-license",
    "baichuan2",
    "chatglm-6b",
    "dbrx",
    "stabilityai-ai-community",
    "sai-nc-community",
    "stability-svd-nc-community",
    "stability-nc-community",
    "nvidia-open-model-license",
    "falcon-180b",
    "falcon-2-11b",
    "falcon-llm",
    "tii-falcon-llm-1.0",
    "llama-1",
    "opt-175b",
    "sdxl-0.9",
    "mrl",
    "mnpl",
    "chameleon-research",
]

#: Hub ids named in the contract's key list and class table.
CONTRACT_HUB_KEYS = [
    "apache-2.0",
    "mit",
    "llama2",
    "llama3",
    "llama3.1",
    "llama3.2",
    "llama3.3",
    "llama4",
    "gemma",
    "creativeml-openrail-m",
    "openrail",
    "openrail++",
    "bigscience-openrail-m",
    "bigscience-bloom-rail-1.0",
    "bigcode-openrail-m",
    "cc-by-nc-4.0",
    "deepfloyd-if-license",
    "apple-ascl",
    "apple-amlr",
]

VALID = """\
key: test-licence
name: Test Licence
spdx: LicenseRef-hub-test-licence
class: osi-permissive
commercial_use: "yes"
osi_approved: false
url: https://example.org/test
aliases: [Test Licence 1.0]
summary: A licence used by the tests.
obligations:
  - kind: mau-cap
    clause: "§2"
    summary: A cap.
    value: 1000
"""


@pytest.fixture(scope="module")
def kb():
    return load_knowledge_base(cache_dir=False)


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def hub_ids_from_table(text: str) -> dict[str, str]:
    """``{identifier: full name}`` from a Markdown table whose rows hold a backticked Hub id."""
    ids = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("|")]
        ticked = [c for c in cells if re.fullmatch(r"`[^`]+`", c)]
        if line.startswith("|") and ticked:
            ident = ticked[0].strip("`")
            name = next(c for c in cells[1:] if c and c != ticked[0])
            ids[ident] = name.replace("\\*", "*")
    return ids


# ----------------------------------------------------------------------------- loading and schema


def test_bundled_knowledge_base_loads_and_is_cached():
    assert default_kb() is default_kb()
    assert len(default_kb()) == len(list(LICENSES_DIR.glob("*.yaml"))) >= 100


def test_schema_enums_match_the_shared_types():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert tuple(schema["properties"]["class"]["enum"]) == LICENSE_CLASSES
    assert tuple(schema["properties"]["commercial_use"]["enum"]) == COMMERCIAL_USE_VALUES
    assert tuple(schema["$defs"]["obligation"]["properties"]["kind"]["enum"]) == OBLIGATION_KINDS
    assert schema["additionalProperties"] is False


def test_valid_file_loads_into_license_info(tmp_path):
    write(tmp_path, "test-licence", VALID)
    info = load_knowledge_base(tmp_path, cache_dir=False).get("test-licence")
    assert info.license_class == "osi-permissive"
    assert info.commercial_use == "yes"
    assert info.obligation("mau-cap").value == 1000
    assert info.published is None


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("class: osi-permissive", "class: permissive"), "class"),
        (('commercial_use: "yes"', "commercial_use: maybe"), "commercial_use"),
        (("url: https://example.org/test\n", "url: https://example.org/test\ncolour: blue\n"), "colour"),
        (("summary: A licence used by the tests.\n", ""), "summary"),
        (("value: 1000", "value: lots"), "value"),
        (("kind: mau-cap", "kind: be-nice"), "kind"),
        (("osi_approved: false\n", "osi_approved: false\npublished: 2024-13\n"), "published"),
        (("key: test-licence", "key: other-name"), "file name"),
        (("aliases: [Test Licence 1.0]", "aliases: [unterminated"), "YAML"),
    ],
)
def test_broken_file_raises_naming_file_and_problem(tmp_path, change, problem):
    assert change[0] in VALID
    write(tmp_path, "test-licence", VALID.replace(*change))
    with pytest.raises(KnowledgeBaseError) as err:
        load_knowledge_base(tmp_path, cache_dir=False)
    assert "test-licence.yaml" in str(err.value)
    assert problem in str(err.value)


def test_cap_without_value_is_rejected(tmp_path):
    write(tmp_path, "test-licence", VALID.replace("    value: 1000\n", ""))
    with pytest.raises(KnowledgeBaseError, match="value"):
        load_knowledge_base(tmp_path, cache_dir=False)


def test_alias_colliding_across_licences_raises(tmp_path):
    write(tmp_path, "test-licence", VALID)
    other = VALID.replace("test-licence", "second").replace("Test Licence 1.0", "TEST-LICENCE-1.0")
    other = other.replace("name: Test Licence", "name: Second").replace(
        "example.org/test", "example.org/second"
    )
    write(tmp_path, "second", other)
    with pytest.raises(KnowledgeBaseError, match="collides with licence 'second'"):
        load_knowledge_base(tmp_path, cache_dir=False)


def test_alias_that_is_a_placeholder_raises(tmp_path):
    write(tmp_path, "test-licence", VALID.replace("[Test Licence 1.0]", "[Other License]"))
    with pytest.raises(KnowledgeBaseError, match="placeholder"):
        load_knowledge_base(tmp_path, cache_dir=False)


def test_empty_directory_raises(tmp_path):
    with pytest.raises(KnowledgeBaseError, match="no licence files"):
        load_knowledge_base(tmp_path, cache_dir=False)


def test_cache_is_reused_and_invalidated_by_mtime(tmp_path):
    data, cache = tmp_path / "data", tmp_path / "cache"
    data.mkdir()
    path = write(data, "test-licence", VALID)
    first = load_knowledge_base(data, cache_dir=cache)
    assert len(list(cache.glob("kb-*.json"))) == 1
    assert load_knowledge_base(data, cache_dir=cache).get("test-licence") == first.get("test-licence")

    path.write_text(VALID.replace("class: osi-permissive", "class: bogus"), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with pytest.raises(KnowledgeBaseError, match="class"):
        load_knowledge_base(data, cache_dir=cache)


def test_copied_bundled_data_loads_from_another_directory(tmp_path):
    shutil.copytree(LICENSES_DIR, tmp_path / "licenses")
    assert len(load_knowledge_base(tmp_path / "licenses", cache_dir=False)) == len(default_kb())


# ----------------------------------------------------------------------------- data content


def test_every_contract_key_exists(kb):
    missing = [k for k in CONTRACT_KEYS + CONTRACT_HUB_KEYS if kb.get(k) is None]
    assert missing == []


@pytest.mark.parametrize(
    ("key", "cls", "commercial"),
    [
        ("apache-2.0", "osi-permissive", "yes"),
        ("mit", "osi-permissive", "yes"),
        ("gpl-3.0", "osi-copyleft", "yes"),
        ("agpl-3.0", "osi-copyleft", "yes"),
        ("cc-by-4.0", "open-content", "yes"),
        ("cc0-1.0", "open-content", "yes"),
        ("openmdw-1.0", "open-content", "yes"),
        ("cc-by-sa-4.0", "open-content-sharealike", "yes"),
        ("odbl", "open-content-sharealike", "yes"),
        ("cc-by-nd-4.0", "no-derivatives", "yes"),
        ("openrail", "rail", "yes"),
        ("creativeml-openrail-m", "rail", "yes"),
        ("openrail++", "rail", "yes"),
        ("bigcode-openrail-m", "rail", "yes"),
        ("deepseek", "rail", "yes"),
        ("llama2", "vendor-community", "conditional"),
        ("llama3.1", "vendor-community", "conditional"),
        ("gemma", "vendor-community", "yes"),
        ("qwen", "vendor-community", "conditional"),
        ("falcon-180b", "vendor-community", "conditional"),
        ("nvidia-open-model-license", "vendor-community", "yes"),
        ("cc-by-nc-4.0", "noncommercial", "no"),
        ("cc-by-nc-nd-4.0", "noncommercial", "no"),
        ("llama-1", "noncommercial", "no"),
        ("tongyi-qianwen-research", "noncommercial", "no"),
        ("sai-nc-community", "noncommercial", "no"),
        ("mnpl", "noncommercial", "no"),
        ("cc", "unknown", "unknown"),
    ],
)
def test_class_and_commercial_use_of_representative_licences(kb, key, cls, commercial):
    info = kb.get(key)
    assert (info.license_class, info.commercial_use) == (cls, commercial)


def test_class_and_commercial_use_agree_everywhere(kb):
    for info in kb.all():
        if info.license_class == "noncommercial":
            assert info.commercial_use == "no", info.key
            assert info.has("noncommercial"), info.key
        if info.license_class.startswith("osi-") or info.license_class.startswith("open-content"):
            assert info.commercial_use == "yes", info.key
        if info.license_class == "rail":
            assert info.has("use-restrictions-flow-down"), info.key


def test_caps_are_integers_with_the_documented_values(kb):
    for info in kb.all():
        for o in info.obligations:
            if o.kind.endswith("-cap"):
                assert type(o.value) is int and o.value > 0, (info.key, o)
    for key in ("llama2", "llama3", "llama3.1", "llama3.2", "llama3.3", "llama4", "dbrx"):
        assert kb.get(key).obligation("mau-cap").value == 700_000_000, key
    for key in ("qwen", "tongyi-qianwen"):
        assert kb.get(key).obligation("mau-cap").value == 100_000_000, key
    assert kb.get("baichuan2").obligation("dau-cap").value == 1_000_000
    assert kb.get("stabilityai-ai-community").obligation("revenue-cap").value == 1_000_000
    assert not kb.get("gemma").has("mau-cap")


def test_llama_versions_differ_where_the_texts_do(kb):
    llama3, llama31 = kb.get("llama3"), kb.get("llama3.1")
    assert llama3.obligation("name-prefix").value == "Llama 3"
    assert llama31.obligation("name-prefix").value == "Llama"
    assert llama3.has("no-output-training") and kb.get("llama2").has("no-output-training")
    assert not llama31.has("no-output-training")
    assert llama3.obligation("display-phrase").value == "Built with Meta Llama 3"
    assert llama31.obligation("display-phrase").value == "Built with Llama"
    assert all(kb.get(k).has("eu-carve-out") for k in ("llama3.2", "llama3.3", "llama4"))
    assert not llama31.has("eu-carve-out")
    assert kb.get("llama2").obligation("mau-cap").clause == "§2"
    assert kb.get("llama2").obligation("no-output-training").clause == "§1.b.v"


def test_vendor_specific_obligations(kb):
    assert kb.get("qwen").obligation("display-phrase").value == "Built with Qwen | Improved using Qwen"
    assert kb.get("stabilityai-ai-community").obligation("display-phrase").value == "Powered by Stability AI"
    assert kb.get("nvidia-open-model-license").obligation("guardrail-termination").clause == "§2.1"
    assert kb.get("gemma").has("outputs-are-derivatives")
    assert kb.get("gemma").obligation("use-restrictions-flow-down").clause == "§3.1"
    assert kb.get("falcon-180b").has("hosting-restricted")
    assert kb.get("yi-license").has("registration-required")
    assert kb.get("tii-falcon-llm-1.0").has("royalty")
    assert kb.get("cc-by-nd-4.0").has("no-derivatives")
    assert kb.get("cc-by-sa-4.0").obligation("share-alike").clause == "§3(b)(1)"
    assert kb.get("gpl-3.0").obligation("same-license-required").clause == "§5(c)"


def test_family_ids_are_marked(kb):
    families = {info.key for info in kb.all() if info.is_family_id}
    assert families == {"openrail", "cc", "bsd", "gpl", "lgpl", "gfdl"}


def test_published_dates_and_versions(kb):
    assert kb.get("llama3").published.isoformat() == "2024-04-18"
    assert kb.get("qwen").published.isoformat() == "2024-09-19"
    assert kb.get("llama3.1").version == "3.1"


def test_all_is_sorted_and_family_groups_versions(kb):
    keys = [info.key for info in kb.all()]
    assert keys == sorted(keys)
    llama = [info.key for info in kb.family("llama")]
    assert llama == ["llama-1", "llama2", "llama3", "llama3.1", "llama3.2", "llama3.3", "llama4"]
    assert {"qwen", "qwen-research", "tongyi-qianwen", "tongyi-qianwen-research"} <= {
        i.key for i in kb.family("qwen")
    }
    assert kb.family("no-such-family") == []


# ----------------------------------------------------------------------------- lookups


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Apache License, Version 2.0", "apache-2.0"),
        ("apache 2.0", "apache-2.0"),
        ("Apache-2.0", "apache-2.0"),
        ("APACHE LICENSE 2.0", "apache-2.0"),
        ("Apache-2", "apache-2.0"),
        ("Apache Licence 2.0", "apache-2.0"),
        ("MIT License", "mit"),
        ("Llama-3", "llama3"),
        ("Llama3", "llama3"),
        ("LLaMA 3", "llama3"),
        ("llama 3 community license", "llama3"),
        ("Llama 3.1", "llama3.1"),
        ("llama-3.2", "llama3.2"),
        ("LLaMA 2", "llama2"),
        ("Llama 2 Community License Agreement", "llama2"),
        ("llama-2-community-license", "llama2"),
        ("llama-license", "llama-1"),
        ("CC BY-NC 4.0", "cc-by-nc-4.0"),
        ("Creative Commons Attribution 4.0 International", "cc-by-4.0"),
        ("Creative Commons Attribution-ShareAlike 4.0 International", "cc-by-sa-4.0"),
        ("Creative Commons Attribution Non Commercial Share Alike 4.0", "cc-by-nc-sa-4.0"),
        ("GNU Lesser General Public License v3.0", "lgpl-3.0"),
        ("GNU Affero General Public License v3.0", "agpl-3.0"),
        ("GPL-3.0-or-later", "gpl-3.0"),
        ("gemma-terms-of-use", "gemma"),
        ("tongyi-qianwen-license-agreement", "tongyi-qianwen"),
        ("qwen-license", "qwen"),
        ("deepseek-license", "deepseek"),
        ("yi-license", "yi-license"),
        ("Open Rail++", "openrail++"),
        ("falcon-llm-license", "falcon-llm"),
        ("CC0", "cc0-1.0"),
        ("LicenseRef-scancode-llama-3.1-license-2024", "llama3.1"),
        ("LicenseRef-hub-llama3", "llama3"),
        ("LicenseRef-qwen", "qwen"),
        ("https://mistral.ai/licences/MRL-0.1.md", "mrl"),
        ("https://ai.meta.com/llama/license/", "llama2"),
    ],
)
def test_lookup_normalises_spellings(kb, text, key):
    assert kb.lookup(text) is not None, text
    assert kb.lookup(text).key == key


@pytest.mark.parametrize(
    "group",
    [
        ("llama3", "llama3.1", "llama3.2", "llama3.3", "llama4", "llama2", "llama-1"),
        ("cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0", "cc-by-nd-4.0", "cc-by-nc-sa-4.0", "cc-by-3.0"),
        ("gpl-3.0", "lgpl-3.0", "agpl-3.0", "gpl-2.0", "gpl"),
        ("openrail", "openrail++", "creativeml-openrail-m"),
        ("qwen", "qwen-research", "tongyi-qianwen", "tongyi-qianwen-research"),
        (
            "sai-nc-community",
            "stability-nc-community",
            "stability-svd-nc-community",
            "stabilityai-ai-community",
        ),
    ],
)
def test_normalisation_keeps_versions_and_variants_apart(kb, group):
    assert len({normalise_name(k) for k in group}) == len(group)
    assert [kb.lookup(k).key for k in group] == list(group)


def test_normalise_name_examples():
    assert normalise_name("The Apache License, Version 2.0") == normalise_name("apache-2") == "apache2"
    assert normalise_name("Llama 3.1") == normalise_name("LLAMA-3.1") == "llama3.1"
    assert normalise_name("falcon 2 11b") != normalise_name("falcon 21 1b")
    assert normalise_name("CC BY 4.0") == normalise_name("Creative Commons Attribution 4.0")


def test_unknown_names_do_not_resolve(kb):
    for text in ("", "Llama 5", "CC BY 5.0", "CC BY", "totally-made-up-licence", "https://example.com/x"):
        assert kb.lookup(text) is None, text


@pytest.mark.parametrize(
    "text", ["MIT AND", "mit and", "AND MIT", "or Apache-2.0", "MIT WITH", "(MIT", "MIT)"]
)
def test_a_cut_expression_is_not_the_licence_it_still_names(kb, text):
    """Name matching ignores "and" and brackets, so "MIT AND" once read as MIT."""
    assert kb.lookup(text) is None


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("(MIT)", "mit"),
        ("Falcon LLM Terms and Conditions", "falcon-llm"),
        ('BSD 3-clause "New" or "Revised" license', "bsd-3-clause"),
    ],
)
def test_names_with_operator_words_inside_still_resolve(kb, text, key):
    assert kb.lookup(text).key == key


def test_by_spdx(kb):
    assert kb.by_spdx("Apache-2.0").key == "apache-2.0"
    assert kb.by_spdx("apache-2.0").key == "apache-2.0"
    assert kb.by_spdx("LicenseRef-scancode-gemma-tou-2025-03-24").key == "gemma"
    assert kb.by_spdx("LicenseRef-hub-llama3").key == "llama3"
    assert kb.by_spdx("llama3") is None
    assert kb.by_spdx("NOASSERTION") is None


def test_spdx_ids_are_unique(kb):
    spdx = [info.spdx.casefold() for info in kb.all()]
    assert len(spdx) == len(set(spdx))


@pytest.mark.parametrize(
    "value", ["other", "unknown", "", "custom", "Other License", "proprietary", "Undisclosed"]
)
def test_placeholders_are_unresolved_ids(kb, value):
    assert kb.is_unresolved_id(value)
    assert kb.lookup(value) is None


@pytest.mark.parametrize("value", ["mit", "openrail", "cc", "llama3", "none", "unlicense"])
def test_licences_and_none_are_not_unresolved_ids(kb, value):
    assert not kb.is_unresolved_id(value)


# ----------------------------------------------------------------------------- reference material


def test_every_hub_id_in_the_api_notes_resolves(kb, shared_dir):
    text = (shared_dir / "docs" / "hf-hub-api.md").read_text(encoding="utf-8")
    section = text.split("### 5.1", 1)[1].split("### 5.2", 1)[0]
    ids = hub_ids_from_table(section)
    assert len(ids) >= 80
    for ident, name in ids.items():
        if ident in ("other", "unknown"):
            assert kb.is_unresolved_id(ident)
            continue
        assert kb.get(ident) is not None, ident
        assert kb.lookup(name) is kb.get(ident), (ident, name)


def test_every_id_in_the_hubs_official_list_resolves(kb, corpus_dir):
    text = (corpus_dir / "hf-hub-docs-license-challenge" / "repositories-licenses.md").read_text(
        encoding="utf-8"
    )
    section = text.split("<!-- region licenses -->", 1)[1].split("<!-- endregion -->", 1)[0]
    ids = hub_ids_from_table(section)
    assert len(ids) >= 80
    unresolved = [i for i in ids if kb.get(i) is None and not kb.is_unresolved_id(i)]
    assert unresolved == []
    assert all(kb.lookup(name).key == ident for ident, name in ids.items() if kb.get(ident))


def test_license_names_on_real_cards_resolve(kb, corpus_dir):
    rows = list(csv.DictReader((corpus_dir / "model-cards" / "INDEX.csv").open(encoding="utf-8")))
    declared = {r["declared_license"] for r in rows if r["declared_license"]}
    names = {r["license_name"] for r in rows if r["license_name"]}
    assert {"deepseek-license", "yi-license", "qwen-research", "mrl"} <= names
    assert [d for d in declared if kb.lookup(d) is None and not kb.is_unresolved_id(d)] == []
    assert [n for n in names if kb.lookup(n) is None] == []


def test_license_names_in_the_hubs_challenge_lists_resolve(kb, corpus_dir):
    folder = corpus_dir / "hf-hub-docs-license-challenge"
    names = set()
    for name in ("model_license_other.csv", "model_no_license.csv"):
        rows = csv.DictReader((folder / name).open(encoding="utf-8"))
        names |= {r["suggested_license_name"] for r in rows if r["suggested_license_name"]}
    expected = {"llama2": "llama2", "llama-license": "llama-1", "llama-2-community-license": "llama2"}
    assert set(expected) <= names
    assert {n: kb.lookup(n).key for n in expected} == expected
    assert kb.lookup("cc-attribution-sharealike-4.0-international-license").key == "cc-by-sa-4.0"


def test_license_names_from_license_text_index_resolve(kb, corpus_dir):
    text = (corpus_dir / "license-texts" / "INDEX.md").read_text(encoding="utf-8")
    names = set(re.findall(r"license_name: ([a-z0-9.-]+)(?: or ([a-z0-9.-]+))?", text))
    flat = {n for pair in names for n in pair if n}
    assert {
        "deepseek",
        "deepseek-license",
        "tongyi-qianwen",
        "qwen",
        "yi-license",
        "sai-nc-community",
    } <= flat
    assert [n for n in flat if kb.lookup(n) is None] == []


@pytest.mark.parametrize(
    ("folder", "file", "column", "spellings"),
    [
        (
            "stanford-ecosystem-graphs",
            "assets.csv",
            "license",
            {
                "Apache 2.0": "apache-2.0",
                "LLaMA 2": "llama2",
                "LLaMA2": "llama2",
                "CC BY-NC 4.0": "cc-by-nc-4.0",
                "CC-BY-NC-4.0": "cc-by-nc-4.0",
                "CC BY-NC-SA 4.0": "cc-by-nc-sa-4.0",
                "BigScience RAIL v1.0": "bigscience-bloom-rail-1.0",
                "BigCode OpenRail-M": "bigcode-openrail-m",
                "OpenRail++": "openrail++",
                "Stability Community License": "stabilityai-ai-community",
                "Llama 3.1 Community License Agreement": "llama3.1",
                "Databricks Open Model License": "dbrx",
                "OPT-175B License": "opt-175b",
                "Mistral AI Non-Production License": "mnpl",
                "ODC-By 1.0": "odc-by",
            },
        ),
        (
            "mof_mot",
            "mot_components.csv",
            "license_declared",
            {
                "Gemma Terms of Use": "gemma",
                "Meta Llama 3 Community License Agreement": "llama3",
                "Llama 3.2 Community License": "llama3.2",
                "apple-sample-code-license": "apple-ascl",
                "DeepSeek License Agreement": "deepseek",
                "Qwen License Agreement": "qwen",
                "tongyi-qianwen-research": "tongyi-qianwen-research",
                "NVIDIA Open Model License": "nvidia-open-model-license",
                "BSD-3": "bsd-3-clause",
                "Creative Commons Attribution Non Commercial 4.0": "cc-by-nc-4.0",
            },
        ),
        (
            "osai_index",
            "osai_index_models.csv",
            "endmodellicense",
            {
                "CreativeML Open RAIL++-M License": "openrail++",
                "FAIR Noncommercial Research License v1": "fair-noncommercial-research-license",
                "DeepFloyd IF Research License Agreement": "deepfloyd-if-license",
                "Attribution-NonCommercial-ShareAlike 4.0 International": "cc-by-nc-sa-4.0",
                "GNU General Public License v3.0": "gpl-3.0",
                "Stability AI Non-Commercial Research Community License Agreement": "sai-nc-community",
            },
        ),
    ],
)
def test_free_text_spellings_from_the_corpus_resolve(kb, corpus_dir, folder, file, column, spellings):
    rows = csv.DictReader((corpus_dir / folder / file).open(encoding="utf-8"))
    seen = {r[column].strip() for r in rows}
    assert set(spellings) <= seen
    assert {s: getattr(kb.lookup(s), "key", None) for s in spellings} == spellings
