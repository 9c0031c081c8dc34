"""Lineage: parent references, relation inference, and the resolver chain."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from licenses.engine.basemodels import BundledBaseModels
from licenses.engine.frontmatter import parse_front_matter
from licenses.engine.kb import default_kb
from licenses.engine.lineage import (
    BaseModelRef,
    ChainResolver,
    LocalResolver,
    ParentRecord,
    RegistryResolver,
    base_model_refs,
    normalise_model_id,
)
from licenses.engine.rules import build_context, evaluate_violations
from licenses.engine.snapshot import MERGEKIT_CONFIG_BYTES, snapshot_from_dir
from licenses.engine.types import LicenseFinding, RepoSnapshot


def snap(files=(), texts=None, repo_id="me/child", **kw) -> RepoSnapshot:
    texts = dict(texts or {})
    return RepoSnapshot(id=repo_id, files={f: 1 for f in [*files, *texts]}, texts=texts, **kw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("meta-llama/Llama-2-7b-hf", "meta-llama/Llama-2-7b-hf"),
        ("  https://huggingface.co/meta-llama/Llama-2-7b-hf/ ", "meta-llama/Llama-2-7b-hf"),
        ("https://huggingface.co/org/name/tree/main", "org/name"),
        ("hf.co/org/name", "org/name"),
        ("", None),
        (None, None),
        (42, None),
    ],
)
def test_normalise_model_id(raw, expected):
    assert normalise_model_id(raw) == expected


def test_declared_relation_wins_over_files():
    refs = base_model_refs(
        {"base_model": "org/base", "base_model_relation": "finetune"}, snap(["model.gguf"])
    )
    assert refs == [BaseModelRef("org/base", "finetune", False)]


@pytest.mark.parametrize(
    ("files", "texts", "meta", "relation"),
    [
        (["adapter_config.json", "adapter_model.safetensors"], {}, {}, "adapter"),
        (["adapter_model.bin"], {}, {}, "adapter"),
        ([], {}, {"library_name": "peft"}, "adapter"),
        (["model-Q4_K_M.gguf"], {}, {}, "quantized"),
        (["quantize_config.json", "model.safetensors"], {}, {}, "quantized"),
        ([], {"config.json": json.dumps({"quantization_config": {"quant_method": "awq"}})}, {}, "quantized"),
        ([], {}, {"tags": ["gptq"]}, "quantized"),
        (["model.safetensors"], {"config.json": "{}"}, {}, "finetune"),
        (["adapter_config.json", "model.gguf"], {}, {}, "adapter"),
    ],
)
def test_relation_inference(files, texts, meta, relation):
    refs = base_model_refs({"base_model": "org/base", **meta}, snap(files, texts))
    assert [(r.relation, r.relation_inferred) for r in refs] == [(relation, True)]


def test_several_parents_are_a_merge_and_ids_are_normalised_and_deduplicated():
    meta = {"base_model": ["org/a", " https://huggingface.co/org/b ", "ORG/A", None, ""]}
    refs = base_model_refs(meta, snap(["model.gguf"]))
    assert [(r.id, r.relation) for r in refs] == [("org/a", "merge"), ("org/b", "merge")]


def test_no_base_model_no_refs_and_self_reference_dropped():
    assert base_model_refs({}, snap()) == []
    assert base_model_refs({"base_model": "me/child"}, snap()) == []


class _Static:
    def __init__(self, records):
        self.records = records
        self.calls = []

    def resolve(self, model_id, as_of):
        self.calls.append(model_id)
        return self.records.get(model_id)


def _rec(mid, key, source="registry"):
    return ParentRecord(mid, key, None, source)


def test_chain_first_informative_hit_wins():
    local = _Static({"org/a": _rec("org/a", "mit", "local"), "org/b": _rec("org/b", "none", "local")})
    registry = _Static({"org/a": _rec("org/a", "apache-2.0"), "org/b": _rec("org/b", "llama2")})
    chain = ChainResolver(local, None, registry)
    assert chain.resolve("org/a", None).license_key == "mit"
    assert (
        chain.resolve("org/b", None).license_key == "llama2"
    )  # local copy without a licence does not hide it
    assert chain.resolve("org/c", None) is None


def test_chain_keeps_uninformative_hit_as_last_resort():
    chain = ChainResolver(_Static({"org/b": _rec("org/b", "none", "local")}), _Static({}))
    assert chain.resolve("org/b", None).source == "local"


def test_local_resolver_reads_analyse_json_case_insensitively():
    local = LocalResolver(
        [{"id": "Org/Model", "license": {"key": "llama3", "class": "vendor-community"}}, {"id": None}]
    )
    rec = local.resolve("https://huggingface.co/org/model", None)
    assert (rec.id, rec.license_key, rec.license_class, rec.source) == (
        "Org/Model",
        "llama3",
        "vendor-community",
        "local",
    )
    assert local.resolve("org/other", None) is None


class _Hub(BaseHTTPRequestHandler):
    models = {
        "org/llama-ft": {
            "id": "org/llama-ft",
            "cardData": {"license": "llama3"},
            "lastModified": "2024-06-01T10:00:00.000Z",
        },
        "org/other-lic": {
            "id": "org/other-lic",
            "cardData": {"license": "other", "license_name": "tongyi-qianwen"},
            "createdAt": "2023-09-01T00:00:00Z",
        },
        "org/nolicence": {"id": "org/nolicence", "cardData": {}},
    }
    seen_auth: list = []

    def do_GET(self):
        self.seen_auth.append(self.headers.get("Authorization"))
        mid = self.path.removeprefix("/api/models/")
        if self.path == "/api/models/org/slow":
            import time

            time.sleep(1.0)
        body = self.models.get(mid)
        if body is None:
            self.send_response(404)
            self.end_headers()
            self.wfile.write(b'{"error": "Repository not found"}')
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def hub_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_registry_resolver_reads_card_licence(hub_url):
    reg = RegistryResolver(hub_url, token="secret", kb=default_kb())
    rec = reg.resolve("org/llama-ft", None)
    assert (rec.license_key, rec.license_class, rec.source, rec.as_of) == (
        "llama3",
        "vendor-community",
        "registry",
        date(2024, 6, 1),
    )
    assert _Hub.seen_auth[-1] == "Bearer secret"
    assert reg.resolve("org/other-lic", None).license_key == "tongyi-qianwen"
    assert reg.resolve("org/nolicence", None).license_key == "none"
    assert reg.errors == []


def test_registry_failures_return_none_and_are_recorded(hub_url):
    reg = RegistryResolver(hub_url, timeout=0.2)
    assert reg.resolve("org/missing", None) is None
    assert reg.resolve("org/slow", None) is None
    assert len(reg.errors) == 2 and "404" in reg.errors[0]
    down = RegistryResolver("http://127.0.0.1:9", timeout=0.5)
    assert down.resolve("org/a", None) is None and down.errors
    assert RegistryResolver("file:///etc", timeout=0.5).resolve("org/a", None) is None


def test_build_context_resolves_parents_as_of_the_childs_date():
    readme = "---\nlicense: apache-2.0\nbase_model: 01-ai/Yi-34B\n---\nA fine-tune.\n"
    finding = LicenseFinding("apache-2.0", "osi-permissive", "Apache-2.0", "yes", 1.0)
    chain = ChainResolver(BundledBaseModels.load())
    old = snap(texts={"README.md": readme}, last_modified=datetime(2024, 1, 10, tzinfo=UTC))
    new = snap(texts={"README.md": readme}, last_modified=datetime(2024, 7, 1, tzinfo=UTC))
    c_old = build_context(old, parse_front_matter(readme), finding, chain)
    c_new = build_context(new, parse_front_matter(readme), finding, chain)
    assert c_old.parents[0].license.key == "yi-license" and c_new.parents[0].license.key == "apache-2.0"
    assert [v.rule for v in evaluate_violations(c_old) if v.severity == "error"] == ["relicensed-derivative"]
    assert [v.rule for v in evaluate_violations(c_new) if v.severity == "error"] == []


def test_build_context_unresolved_parent_is_kept_but_not_judged():
    readme = "---\nlicense: apache-2.0\nbase_model: nobody/unknown-model\n---\n"
    finding = LicenseFinding("apache-2.0", "osi-permissive", "Apache-2.0", "yes", 1.0)
    c = build_context(snap(texts={"README.md": readme}), parse_front_matter(readme), finding, ChainResolver())
    assert c.parents[0].record is None and evaluate_violations(c) == []


def test_build_context_picks_up_output_sources():
    readme = (
        "---\nlicense: apache-2.0\n---\nSynthetic data generated by meta-llama/Llama-2-70b-chat-hf.\n"
        "Distilled from gemma-2-27b-it. Outputs of SomeUnknownModel-7B were filtered.\n"
    )
    finding = LicenseFinding("apache-2.0", "osi-permissive", "Apache-2.0", "yes", 1.0)
    c = build_context(
        snap(texts={"README.md": readme}), parse_front_matter(readme), finding, BundledBaseModels.load()
    )
    assert sorted(s.id for s in c.output_sources) == [
        "google/gemma-2-27b-it",
        "meta-llama/Llama-2-70b-chat-hf",
    ]
    assert [v.rule for v in evaluate_violations(c)] == ["output-use-restricted"] * 2


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("org/base-7b", [BaseModelRef("org/base-7b", "adapter", True)]),
        ("https://huggingface.co/org/base-7b", [BaseModelRef("org/base-7b", "adapter", True)]),
        ("/mnt/checkpoints/llama/checkpoint-24000/", []),  # a training machine's path names nothing
        ("./output-32b/merged", []),
        ("base-7b", []),
        ("me/child", []),
        (None, []),
    ],
)
def test_an_adapter_card_without_base_model_takes_its_parent_from_adapter_config(path, expected):
    texts = {"adapter_config.json": json.dumps({"base_model_name_or_path": path, "peft_type": "LORA"})}
    assert base_model_refs({"license": "apache-2.0"}, snap(["adapter_model.safetensors"], texts)) == expected
    # the card's own base_model still wins
    declared = base_model_refs({"base_model": "org/other"}, snap(["adapter_model.safetensors"], texts))
    assert [r.id for r in declared] == ["org/other"]


@pytest.mark.parametrize(
    "config", ["[" * 100_000, '{"a":' * 5_000, "\x00\xff" * 100, "[1, 2]", '"org/x"', "null"]
)
def test_a_hostile_adapter_or_model_config_names_nothing_and_raises_nothing(config):
    # JSON nested past the parser's recursion limit raises RecursionError, not ValueError
    texts = {"adapter_config.json": config, "config.json": config}
    assert base_model_refs({}, snap(["adapter_model.safetensors"], texts)) == []
    # a declared single parent makes lineage read config.json for quantization markers
    refs = base_model_refs({"base_model": "org/other"}, snap(["model.safetensors"], {"config.json": config}))
    assert refs == [BaseModelRef("org/other", "finetune", True)]


def test_an_undeclared_adapter_parent_is_judged_by_the_derivative_rules():
    readme = "---\nlicense: apache-2.0\nlibrary_name: peft\n---\nA LoRA.\n"
    texts = {
        "README.md": readme,
        "adapter_config.json": json.dumps({"base_model_name_or_path": "meta-llama/Meta-Llama-3-8B"}),
    }
    finding = LicenseFinding("apache-2.0", "osi-permissive", "Apache-2.0", "yes", 1.0)
    c = build_context(
        snap(texts=texts), parse_front_matter(readme), finding, ChainResolver(BundledBaseModels.load())
    )
    assert [(p.ref.relation, p.license.key) for p in c.parents] == [("adapter", "llama3")]
    assert "relicensed-derivative" in [v.rule for v in evaluate_violations(c)]


def merged(*ids: str) -> list[BaseModelRef]:
    return [BaseModelRef(i, "merge", True) for i in ids]


def merge_snap(recipe: str, **kw) -> RepoSnapshot:
    return snap(["model-00001-of-00002.safetensors"], {"mergekit_config.yml": recipe}, **kw)


@pytest.mark.parametrize(
    ("recipe", "expected"),
    [
        (  # slerp: base_model first, then the models in recipe order, duplicates once
            "merge_method: slerp\nbase_model: org/alpha-7b\nmodels:\n"
            "  - model: org/alpha-7b\n  - model: lab/beta-7b\n    parameters: {weight: 0.5}\n",
            merged("org/alpha-7b", "lab/beta-7b"),
        ),
        (  # passthrough slices, one distinct model: still a merge (a self-stack)
            "merge_method: passthrough\nslices:\n"
            "  - sources:\n      - model: org/alpha-7b\n        layer_range: [0, 24]\n"
            "  - sources:\n      - {model: org/alpha-7b, layer_range: [8, 32]}\n",
            merged("org/alpha-7b"),
        ),
        (  # model+lora names two models; revisions are cut; Hub URLs normalised
            "base_model: https://huggingface.co/org/alpha-7b/tree/main\nmodels:\n"
            "  - model: lab/beta-7b@0a1b2c+team/style-lora\n  - model: ORG/Alpha-7B\n",
            merged("org/alpha-7b", "lab/beta-7b", "team/style-lora"),
        ),
        (  # the mapping form of a model reference, with mapping paths
            "models:\n  - model:\n      model: {path: lab/beta-7b, revision: main}\n"
            "      lora: {path: team/style-lora}\n  - model: {model: org/alpha-7b}\n",
            merged("lab/beta-7b", "team/style-lora", "org/alpha-7b"),
        ),
        (  # local paths, bare names and the repository itself name nothing
            "base_model: /mnt/ckpt/alpha\nmodels:\n  - model: ./out/beta\n  - model: ~/models/gamma\n"
            "  - model: beta-7b\n  - model: me/child\n  - model: org/alpha-7b+./loras/style\n"
            "slices:\n  - sources:\n      - model: C:\\\\models\\\\delta\n      - model: a/b/c\n",
            merged("org/alpha-7b"),
        ),
        # entries mergekit itself refuses, and shapes that are not its schema, are skipped alone
        (
            "models:\n  - model: org/a+org/b+org/c\n  - model: org/a@x@y\n  - model: lab/ok-7b\n",
            merged("lab/ok-7b"),
        ),
        (
            "models: {model: org/alpha-7b}\nslices: [{sources: {model: org/b}}, 3, {sources: [{model: lab/ok-7b}]}]\n",
            merged("lab/ok-7b"),
        ),
        (
            "base_model: [org/alpha-7b]\nmodels: [org/alpha-7b, {model: 7}, {model: null}, {model: lab/ok-7b}]\n",
            merged("lab/ok-7b"),
        ),
    ],
    ids=[
        "slerp",
        "self-stack",
        "plus-lora",
        "mapping-form",
        "local-paths",
        "refused",
        "off-schema",
        "wrong-types",
    ],
)
def test_a_merge_card_without_base_model_takes_its_parents_from_mergekit_config(recipe, expected):
    assert base_model_refs({"license": "apache-2.0"}, merge_snap(recipe)) == expected


_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.parametrize(
    "recipe",
    [
        "models:\n  - model: org/alpha-7b\n - model: [unclosed\n",  # invalid YAML
        "models: [" * 200 + "]" * 200,  # nested deeper than the loader allows
        _BOMB + "models:\n  - model: org/alpha-7b\n    bomb: *i\n",  # billion laughs
        "r: &r [*r]\nbase_model: org/alpha-7b\n",  # recursive alias
        "base_model: !!python/object/apply:os.system ['true']\nmodels: [{model: org/alpha-7b}]\n",
        "- model: org/alpha-7b\n",  # a list, not a mapping
        "\x00\x01binary",
        "",
    ],
    ids=[
        "invalid",
        "too-deep",
        "alias-bomb",
        "recursive-alias",
        "python-tag",
        "not-a-mapping",
        "binary",
        "empty",
    ],
)
def test_a_hostile_or_malformed_mergekit_config_names_nothing(recipe):
    # the well-formed recipe is read; the hostile one names nothing (and raises nothing)
    assert base_model_refs({}, merge_snap("models:\n  - model: org/alpha-7b\n")) == merged("org/alpha-7b")
    assert base_model_refs({}, merge_snap(recipe)) == []


def test_a_mergekit_config_cut_at_the_snapshot_cap_names_nothing():
    recipe = "models:\n  - model: org/alpha-7b\n"
    s = RepoSnapshot(
        id="me/child", files={"mergekit_config.yml": 64 * 1024 + 1}, texts={"mergekit_config.yml": recipe}
    )
    assert base_model_refs({}, s) == []
    s = RepoSnapshot(
        id="me/child", files={"mergekit_config.yml": 64 * 1024}, texts={"mergekit_config.yml": recipe}
    )
    assert base_model_refs({}, s) == merged("org/alpha-7b")


def test_the_card_and_adapter_config_win_over_mergekit_config():
    recipe = "models:\n  - model: org/alpha-7b\n  - model: lab/beta-7b\n"
    declared = base_model_refs({"base_model": "org/other"}, merge_snap(recipe))
    assert declared == [BaseModelRef("org/other", "finetune", True)]
    listed = base_model_refs(
        {"base_model": ["org/a", "org/b"], "base_model_relation": "merge"}, merge_snap(recipe)
    )
    assert [r.id for r in listed] == ["org/a", "org/b"]
    adapter = snap(
        texts={
            "mergekit_config.yml": recipe,
            "adapter_config.json": json.dumps({"base_model_name_or_path": "org/x"}),
        }
    )
    assert base_model_refs({}, adapter) == [BaseModelRef("org/x", "adapter", True)]
    # an adapter config that names no Hub model leaves the recipe to speak
    local = snap(
        texts={"mergekit_config.yml": recipe, "adapter_config.json": '{"base_model_name_or_path": "/mnt/x"}'}
    )
    assert base_model_refs({}, local) == merged("org/alpha-7b", "lab/beta-7b")


def test_snapshot_from_dir_reads_mergekit_config_with_a_small_cap(tmp_path):
    (tmp_path / "README.md").write_text("---\nlicense: mit\n---\n")
    (tmp_path / "mergekit_config.yml").write_text("base_model: org/alpha-7b\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "mergekit_config.yml").write_text("base_model: org/beta-7b\n")
    s = snapshot_from_dir(tmp_path, "me/child")
    assert s.texts["mergekit_config.yml"] == "base_model: org/alpha-7b\n"
    assert "sub/mergekit_config.yml" not in s.texts
    assert base_model_refs({}, s) == merged("org/alpha-7b")
    (tmp_path / "mergekit_config.yml").write_text("base_model: org/alpha-7b\n#" + "x" * MERGEKIT_CONFIG_BYTES)
    s = snapshot_from_dir(tmp_path, "me/child")
    assert len(s.texts["mergekit_config.yml"]) == MERGEKIT_CONFIG_BYTES
    assert s.extra["text_problems"]["mergekit_config.yml"]
    assert base_model_refs({}, s) == []


def test_undeclared_merge_parents_are_judged_by_the_derivative_rules():
    """A merge of a CC-BY-NC and a CC-BY-SA model, relabelled apache-2.0, whose card names no parents."""
    readme = "---\nlicense: apache-2.0\ntags: [merge]\n---\nA merge.\n"
    texts = {
        "README.md": readme,
        "mergekit_config.yml": "merge_method: ties\nbase_model: lab/nc-7b\nmodels:\n"
        "  - model: lab/nc-7b\n  - model: lab/sa-7b\n    parameters: {density: 0.5, weight: 0.5}\n",
    }
    local = LocalResolver(
        [
            {"id": "lab/nc-7b", "license": {"key": "cc-by-nc-4.0", "class": "noncommercial"}},
            {"id": "lab/sa-7b", "license": {"key": "cc-by-sa-4.0", "class": "open-content-sharealike"}},
        ]
    )
    finding = LicenseFinding("apache-2.0", "osi-permissive", "Apache-2.0", "yes", 1.0)
    c = build_context(snap(texts=texts), parse_front_matter(readme), finding, ChainResolver(local))
    assert [(p.ref.id, p.ref.relation, p.license.key) for p in c.parents] == [
        ("lab/nc-7b", "merge", "cc-by-nc-4.0"),
        ("lab/sa-7b", "merge", "cc-by-sa-4.0"),
    ]
    found = {(v.rule, v.parent) for v in evaluate_violations(c)}
    assert {
        ("relicensed-derivative", "lab/nc-7b"),
        ("relicensed-derivative", "lab/sa-7b"),
    } <= found
    assert "incompatible-parents" in {rule for rule, _ in found}


# -- mergekit-moe recipes ------------------------------------------------------------------------
# ``mergekit-moe`` builds a mixture of experts from a ``base_model`` (attention and norms) and
# ``experts[].source_model`` (and, for some architectures, ``shared_experts[].source_model``); it
# writes its recipe as ``mergekit_moe_config.yml``, and publishers also upload it under the plain
# recipe's name. Either way every model it names is an input of the merge.

_MOE = (
    "base_model: org/alpha-7b\ngate_mode: hidden\ndtype: bfloat16\nexperts_per_token: 2\nexperts:\n"
    '  - source_model: lab/nc-expert-7b\n    positive_prompts: ["write a story"]\n'
    '    negative_prompts: ["solve"]\n'
    '  - source_model: team/code-expert-7b@v2\n    positive_prompts: ["code"]\n'
)


@pytest.mark.parametrize("name", ["mergekit_moe_config.yml", "mergekit_config.yml"])
def test_a_moe_recipe_names_its_base_and_experts_as_merge_parents(name):
    s = snap(["model-00001-of-00003.safetensors"], {name: _MOE})
    assert base_model_refs({"license": "apache-2.0"}, s) == merged(
        "org/alpha-7b", "lab/nc-expert-7b", "team/code-expert-7b"
    )


@pytest.mark.parametrize(
    ("recipe", "expected"),
    [
        (  # shared experts (Qwen MoE) are inputs too; a model named twice counts once
            "base_model: org/alpha-7b\nexperts:\n  - source_model: lab/beta-7b\n  - source_model: org/alpha-7b\n"
            "shared_experts:\n  - source_model: team/shared-7b\n    positive_prompts: [x]\n",
            merged("org/alpha-7b", "lab/beta-7b", "team/shared-7b"),
        ),
        (  # an expert with a LoRA and the mapping form, as any mergekit model reference
            "base_model: {model: {path: org/alpha-7b}}\nexperts:\n"
            "  - source_model: lab/beta-7b+team/style-lora\n  - source_model: {model: {path: lab/gamma-7b}}\n",
            merged("org/alpha-7b", "lab/beta-7b", "team/style-lora", "lab/gamma-7b"),
        ),
        (  # the training machine's paths (``H:\\merge\\...``, ``./out``) and the repository itself name nothing
            "base_model: H:\\merge\\base-7b\nexperts:\n  - source_model: ./out/expert\n"
            "  - source_model: /mnt/ckpt/expert\n  - source_model: me/child\n  - source_model: lab/ok-7b\n",
            merged("lab/ok-7b"),
        ),
        (  # shapes that are not the schema are skipped alone
            "experts: {source_model: org/alpha-7b}\nshared_experts: [3, null, {source_model: [lab/x]}]\n"
            "base_model: lab/ok-7b\n",
            merged("lab/ok-7b"),
        ),
        (  # a recipe that mixes both schemas gives both, in recipe order
            "merge_method: slerp\nbase_model: org/alpha-7b\nmodels:\n  - model: lab/beta-7b\n"
            "experts:\n  - source_model: team/gamma-7b\n",
            merged("org/alpha-7b", "lab/beta-7b", "team/gamma-7b"),
        ),
    ],
    ids=["shared-experts", "references", "local-paths", "off-schema", "both-schemas"],
)
def test_moe_recipe_references(recipe, expected):
    assert base_model_refs({}, snap(texts={"mergekit_moe_config.yml": recipe})) == expected


def test_both_recipes_are_read_and_each_is_bounded_on_its_own():
    plain = "models:\n  - model: org/alpha-7b\n"
    moe = "base_model: org/alpha-7b\nexperts:\n  - source_model: lab/nc-expert-7b\n"
    texts = {"mergekit_config.yml": plain, "mergekit_moe_config.yml": moe}
    assert base_model_refs({}, snap(texts=texts)) == merged("org/alpha-7b", "lab/nc-expert-7b")
    # a MoE recipe cut at the cap names nothing; the other recipe still speaks
    cut = RepoSnapshot(
        id="me/child",
        files={"mergekit_config.yml": 100, "mergekit_moe_config.yml": MERGEKIT_CONFIG_BYTES + 1},
        texts=texts,
    )
    assert base_model_refs({}, cut) == merged("org/alpha-7b")
    # and the card or an adapter config still wins over either
    assert base_model_refs({"base_model": "org/other"}, snap(texts=texts)) == [
        BaseModelRef("org/other", "finetune", True)
    ]


@pytest.mark.parametrize(
    "recipe", ["experts:\n  - source_model: [unclosed\n", _BOMB + "experts: *i\n", "\x00"]
)
def test_a_hostile_moe_recipe_names_nothing(recipe):
    assert base_model_refs({}, snap(texts={"mergekit_moe_config.yml": recipe})) == []


def test_snapshot_from_dir_reads_the_moe_recipe_with_the_recipe_cap(tmp_path):
    (tmp_path / "README.md").write_text("---\nlicense: apache-2.0\n---\n")
    (tmp_path / "mergekit_moe_config.yml").write_text(_MOE + "#" + "x" * MERGEKIT_CONFIG_BYTES)
    s = snapshot_from_dir(tmp_path, "me/child")
    assert len(s.texts["mergekit_moe_config.yml"]) == MERGEKIT_CONFIG_BYTES
    assert base_model_refs({}, s) == []  # cut: half a list of experts is no statement
    (tmp_path / "mergekit_moe_config.yml").write_text(_MOE)
    assert base_model_refs({}, snapshot_from_dir(tmp_path, "me/child")) == merged(
        "org/alpha-7b", "lab/nc-expert-7b", "team/code-expert-7b"
    )


def test_an_nc_expert_under_an_apache_card_is_a_relicensed_derivative():
    """The contract's rule for a non-commercial parent relabelled with a commercial licence."""
    readme = "---\nlicense: apache-2.0\ntags: [moe, merge]\n---\nA mixture of experts.\n"
    texts = {"README.md": readme, "mergekit_moe_config.yml": _MOE}
    local = LocalResolver(
        [
            {"id": "org/alpha-7b", "license": {"key": "apache-2.0", "class": "osi-permissive"}},
            {"id": "lab/nc-expert-7b", "license": {"key": "cc-by-nc-4.0", "class": "noncommercial"}},
            {"id": "team/code-expert-7b", "license": {"key": "mit", "class": "osi-permissive"}},
        ]
    )
    finding = LicenseFinding("apache-2.0", "osi-permissive", "Apache-2.0", "yes", 1.0)
    c = build_context(snap(texts=texts), parse_front_matter(readme), finding, ChainResolver(local))
    assert [(p.ref.id, p.ref.relation, p.license.key) for p in c.parents] == [
        ("org/alpha-7b", "merge", "apache-2.0"),
        ("lab/nc-expert-7b", "merge", "cc-by-nc-4.0"),
        ("team/code-expert-7b", "merge", "mit"),
    ]
    errors = [(v.rule, v.severity, v.parent) for v in evaluate_violations(c) if v.severity == "error"]
    assert errors == [("relicensed-derivative", "error", "lab/nc-expert-7b")]
