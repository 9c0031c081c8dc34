"""``modelhub analyze`` resolves parents: analysed together first, then a registry, then the bundled table."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from licenses.engine.analyze import analyze_paths, registry_resolver
from modelhub.cli import main


def repo(root, folder: str, card: str, **files: str) -> None:
    path = root / folder
    path.mkdir(parents=True)
    (path / "README.md").write_text(card)
    for name, text in files.items():
        (path / name).write_text(text)


def card(license_key: str, base: str | None = None, extra: str = "") -> str:
    lines = ["---", f"license: {license_key}"] + ([f"base_model: {base}"] if base else [])
    return "\n".join([*lines, extra, "---", "# model", ""]).replace("\n\n---", "\n---")


def rules(result) -> list[tuple[str, str | None]]:
    return [(v["rule"], v["parent"]) for v in result["violations"]]


def test_parent_analysed_together_wins(tmp_path):
    repo(tmp_path, "lab__research-base", card("cc-by-nc-4.0"))
    repo(tmp_path, "lab__chat", card("apache-2.0", "lab/research-base"))
    results = {r["id"]: r for r in analyze_paths([tmp_path])}
    chat = results["lab/chat"]
    [parent] = chat["lineage"]["base_models"]
    assert (parent["license_key"], parent["license_class"], parent["source"]) == (
        "cc-by-nc-4.0",
        "noncommercial",
        "local",
    )
    assert ("relicensed-derivative", "lab/research-base") in rules(chat)


def test_bundled_table_resolves_well_known_bases(tmp_path):
    repo(tmp_path, "someone__my-finetune", card("apache-2.0", "meta-llama/Meta-Llama-3-8B"))
    [result] = analyze_paths([tmp_path])
    [parent] = result["lineage"]["base_models"]
    assert (parent["license_key"], parent["source"]) == ("llama3", "bundled")
    found = {rule for rule, _ in rules(result)}
    assert "relicensed-derivative" in found  # a Llama 3 derivative relabelled apache-2.0
    assert "naming-requirement" in found  # and its name does not start with "Llama 3"


def test_unresolvable_parent_is_reported_not_guessed(tmp_path):
    repo(tmp_path, "a__child", card("mit", "nobody/unknown-base"))
    [result] = analyze_paths([tmp_path])
    assert result["lineage"]["unresolved"] == ["nobody/unknown-base"]
    assert all(v["parent"] != "nobody/unknown-base" for v in result["violations"])


@pytest.fixture
def registry():
    """A minimal Hub-compatible registry on loopback answering one model."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/api/models/inhouse/base-model":
                body = json.dumps({"id": "inhouse/base-model", "cardData": {"license": "cc-by-nc-sa-4.0"}})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())
            else:
                self.send_response(404)
                self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_registry_resolves_what_is_not_local(tmp_path, registry):
    repo(tmp_path, "team__tuned", card("mit", "inhouse/base-model"))
    [without] = analyze_paths([tmp_path])
    assert without["lineage"]["unresolved"] == ["inhouse/base-model"]
    [with_registry] = analyze_paths([tmp_path], registry=registry_resolver(registry))
    [parent] = with_registry["lineage"]["base_models"]
    assert (parent["license_key"], parent["source"]) == ("cc-by-nc-sa-4.0", "registry")
    assert ("relicensed-derivative", "inhouse/base-model") in rules(with_registry)


def test_cli_registry_flag(tmp_path, registry, capsys):
    repo(tmp_path, "team__tuned", card("mit", "inhouse/base-model"))
    assert main(["analyze", "--format", "json", "--registry", registry, str(tmp_path)]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert result["lineage"]["base_models"][0]["source"] == "registry"


def test_a_merge_folder_without_base_model_is_judged_through_its_mergekit_config(tmp_path):
    repo(tmp_path, "lab__nc-7b", card("cc-by-nc-4.0"))
    recipe = (
        "merge_method: slerp\nbase_model: meta-llama/Meta-Llama-3-8B\nmodels:\n"
        "  - model: meta-llama/Meta-Llama-3-8B\n  - model: lab/nc-7b\n"
    )
    repo(tmp_path, "someone__Llama-3-nc-merge", card("apache-2.0"), **{"mergekit_config.yml": recipe})
    result = {r["id"]: r for r in analyze_paths([tmp_path])}["someone/Llama-3-nc-merge"]
    assert [(p["id"], p["relation"], p["license_key"]) for p in result["lineage"]["base_models"]] == [
        ("meta-llama/Meta-Llama-3-8B", "merge", "llama3"),
        ("lab/nc-7b", "merge", "cc-by-nc-4.0"),
    ]
    assert {
        ("relicensed-derivative", "meta-llama/Meta-Llama-3-8B"),
        ("relicensed-derivative", "lab/nc-7b"),
    } <= set(rules(result))


def test_a_moe_folder_without_base_model_is_judged_through_its_mergekit_moe_config(tmp_path):
    """``mergekit-moe`` names its parents as ``base_model`` and ``experts[].source_model``."""
    repo(tmp_path, "lab__nc-expert-7b", card("cc-by-nc-4.0"))
    repo(tmp_path, "lab__base-7b", card("apache-2.0"))
    recipe = (
        "base_model: lab/base-7b\ngate_mode: cheap_embed\ndtype: bfloat16\nexperts:\n"
        "  - source_model: lab/base-7b\n    positive_prompts: [chat]\n"
        "  - source_model: lab/nc-expert-7b\n    positive_prompts: [story]\n"
    )
    repo(tmp_path, "someone__moe-2x7b", card("apache-2.0"), **{"mergekit_moe_config.yml": recipe})
    result = {r["id"]: r for r in analyze_paths([tmp_path])}["someone/moe-2x7b"]
    assert [(p["id"], p["relation"], p["license_key"]) for p in result["lineage"]["base_models"]] == [
        ("lab/base-7b", "merge", "apache-2.0"),
        ("lab/nc-expert-7b", "merge", "cc-by-nc-4.0"),
    ]
    assert [(r, p) for r, p in rules(result) if r != "missing-notice"] == [
        ("relicensed-derivative", "lab/nc-expert-7b")
    ]


def _grandchild_of_llama(tmp_path) -> dict:
    """meta-llama/Meta-Llama-3-8B (bundled, llama3) -> lab/b (apache-2.0) -> lab/c (apache-2.0)."""
    repo(tmp_path, "lab__b", card("apache-2.0", "meta-llama/Meta-Llama-3-8B"))
    repo(tmp_path, "lab__c", card("apache-2.0", "lab/b"))
    return {r["id"]: r for r in analyze_paths([tmp_path])}


def test_ancestor_beyond_a_relabelled_parent_still_binds(tmp_path):
    """licenses.md §3: a derivative of a Llama derivative is a Llama derivative; its obligations
    used to list only the direct parent's (here apache-2.0, like its own)."""
    c = _grandchild_of_llama(tmp_path)["lab/c"]
    [ancestor] = c["lineage"]["ancestors"]
    assert (ancestor["id"], ancestor["depth"], ancestor["license_key"], ancestor["path"]) == (
        "meta-llama/Meta-Llama-3-8B",
        2,
        "llama3",
        ["lab/b"],
    )
    llama = [ob for ob in c["license"]["obligations"] if ob["license"] == "llama3"]
    assert llama, c["license"]["obligations"]
    assert {ob["via"] for ob in llama} == {"ancestor meta-llama/Meta-Llama-3-8B via lab/b"}


def test_ancestor_binds_in_the_policy_obligations_too(tmp_path):
    from licenses.engine.policy import evaluate_model, load_policy

    c = _grandchild_of_llama(tmp_path)["lab/c"]
    decision = evaluate_model(load_policy({"name": "t"}), c).to_dict()
    assert any(str(ob.get("text", "")).startswith("llama3:") for ob in decision["obligations"]), decision


def test_ancestor_walk_stops_at_the_depth_bound(tmp_path):
    from licenses.engine.ancestry import inherited_ancestors

    chain = {f"m{n}": [(f"m{n + 1}", "mit")] for n in range(200)}
    found = inherited_ancestors(["m0"], lambda mid: chain.get(mid, ()), max_depth=5)
    assert [a["depth"] for a in found] == [2, 3, 4, 5]
    assert found[-1]["path"] == ["m0", "m1", "m2", "m3"]


def test_ancestor_walk_does_not_pass_an_invisible_model(tmp_path):
    from licenses.engine.ancestry import inherited_ancestors

    chain = {"p": [("secret/mid", "mit")], "secret/mid": [("top", "llama3")]}
    found = inherited_ancestors(
        ["p"], lambda mid: chain.get(mid, ()), visible=lambda ref: ref != "secret/mid"
    )
    assert found == []
