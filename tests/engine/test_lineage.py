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
