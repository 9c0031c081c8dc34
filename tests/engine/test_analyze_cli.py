"""``modelhub analyze``: discovery and id rules, the JSON shape, formats, exit codes, snapshots."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from licenses.engine.analyze import analyze_paths
from licenses.engine.snapshot import MAX_TEXT_BYTES, discover_repos, snapshot_from_dir
from modelhub.cli import main

ROOT = Path(__file__).resolve().parents[2]
REPOS = ROOT / "tests" / "fixtures" / "repos"
IDS = ["acme/apache-model", "acme/llama-mismatch", "acme/no-license", "acme/other-named", "someorg/somemodel"]


def cli_json(capsys, *args: str) -> list[dict]:
    assert main(["analyze", "--format", "json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def by_id(results: list[dict]) -> dict[str, dict]:
    return {r["id"]: r for r in results}


def test_discovery_and_id_rules():
    found = discover_repos([REPOS])
    assert [rid for rid, _ in found] == IDS
    assert dict(found)["someorg/somemodel"] == REPOS / "tree" / "someorg" / "somemodel"


def test_readme_path_and_repo_folder_and_duplicates():
    readme = REPOS / "acme__no-license" / "README.md"
    found = discover_repos([readme, REPOS / "acme__no-license", REPOS / "tree" / "someorg" / "somemodel"])
    assert found == [
        ("acme/no-license", REPOS / "acme__no-license"),
        ("somemodel", REPOS / "tree/someorg/somemodel"),
    ]


def test_discovery_does_not_descend_into_a_repository(tmp_path):
    (tmp_path / "org__model" / "sub").mkdir(parents=True)
    (tmp_path / "org__model" / "README.md").write_text("# top\n")
    (tmp_path / "org__model" / "sub" / "README.md").write_text("# part of the repo\n")
    assert [rid for rid, _ in discover_repos([tmp_path])] == ["org/model"]


def test_bad_paths_raise():
    with pytest.raises(FileNotFoundError):
        discover_repos([REPOS / "does-not-exist"])
    with pytest.raises(ValueError):
        discover_repos([REPOS / "acme__apache-model" / "config.json"])


def test_contract_shape_and_licence_part(capsys):
    results = cli_json(capsys, str(REPOS))
    assert [r["id"] for r in results] == IDS
    for r in results:
        assert list(r)[:6] == ["id", "license", "lineage", "data", "transparency", "violations"]
        assert {"key", "class", "spdx", "commercial_use", "evidence", "conflicts", "confidence"} <= set(
            r["license"]
        )
        for v in r["violations"]:
            assert set(v) == {"rule", "severity", "parent", "message", "clause", "evidence"}
    r = by_id(results)
    apache = r["acme/apache-model"]
    assert apache["license"]["key"] == "apache-2.0" and apache["violations"] == []
    [parent] = apache["lineage"]["base_models"]
    assert (parent["id"], parent["relation"], parent["license_key"], parent["source"]) == (
        "acme/base-7b",
        "finetune",
        None,
        "unresolved",
    )
    assert apache["lineage"]["unresolved"] == ["acme/base-7b"]  # reported, not guessed
    assert apache["data"]["datasets"] == ["acme/instructions"]
    assert apache["data"]["disclosure_level"] >= 1  # a dataset is named
    assert 0 <= apache["transparency"]["score"] <= 100
    assert all({"id", "met", "evidence"} <= set(i) for i in apache["transparency"]["indicators"])
    assert apache["transparency"]["indicators"]

    mismatch = r["acme/llama-mismatch"]
    assert mismatch["license"]["key"] == "llama3.1"
    assert [(v["rule"], v["severity"]) for v in mismatch["violations"]] == [
        ("metadata-file-mismatch", "error")
    ]
    assert [b["relation"] for b in mismatch["lineage"]["base_models"]] == ["merge", "merge"]

    missing = r["acme/no-license"]
    assert missing["license"]["key"] == "none"
    assert [(v["rule"], v["severity"]) for v in missing["violations"]] == [("missing-license", "error")]

    assert r["acme/other-named"]["license"]["key"] == "deepseek"
    assert r["acme/other-named"]["violations"] == []

    family = r["someorg/somemodel"]
    assert (family["license"]["key"], family["license"]["class"]) == ("openrail", "rail")
    assert [(v["rule"], v["severity"]) for v in family["violations"]] == [("unresolved-license", "warning")]


def test_unknown_licence_gives_unresolved_warning(tmp_path):
    (tmp_path / "README.md").write_text("---\nlicense: other\n---\n# x\n")
    [result] = analyze_paths([tmp_path])
    assert result["id"] == tmp_path.name
    assert [v["rule"] for v in result["violations"]] == ["unresolved-license"]
    assert "names no terms" in result["violations"][0]["message"]


def test_hostile_card_still_produces_a_result(tmp_path):
    (tmp_path / "README.md").write_bytes(b"---\nlicense: [mit\n---\n\xff\xfe body")
    [result] = analyze_paths([tmp_path])
    assert any("invalid YAML" in p for p in result["card"]["problems"])
    assert any("UTF-8" in p for p in result["card"]["problems"])


def test_table_and_markdown(capsys):
    assert main(["analyze", "--format", "table", str(REPOS)]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split() == [
        "id",
        "licence",
        "class",
        "commercial",
        "violations",
        "confidence",
    ]
    assert "acme/llama-mismatch" in table and "llama3.1" in table
    assert table.rstrip().endswith("5 repositories analysed")
    assert main(["analyze", "--format", "markdown", str(REPOS / "acme__apache-model")]) == 0
    md = capsys.readouterr().out.splitlines()
    assert md[0].startswith("| id |") and md[1].startswith("|---|")
    assert md[2].startswith("| acme/apache-model | apache-2.0 | osi-permissive | yes | 0 |")


def test_missing_path_exits_2(capsys):
    assert main(["analyze", str(REPOS / "nope")]) == 2
    assert "no such file or directory" in capsys.readouterr().err


def test_no_path_is_a_usage_error(capsys):
    assert main(["analyze"]) == 2


def test_registry_is_accepted(capsys):
    results = cli_json(capsys, "--registry", "http://localhost:1", str(REPOS / "acme__apache-model"))
    assert [r["id"] for r in results] == ["acme/apache-model"]


def test_subprocess_entry_point():
    proc = subprocess.run(
        [sys.executable, "-m", "modelhub.cli", "analyze", "--format", "json", str(REPOS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert [r["id"] for r in json.loads(proc.stdout)] == IDS
    bad = subprocess.run(
        [sys.executable, "-m", "modelhub.cli", "analyze", "/nonexistent/path"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and bad.stderr


def test_snapshot_reads_only_engine_files_and_caps_them(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("secret")
    (tmp_path / "README.md").write_text("# r\n")
    (tmp_path / "LICENSE").write_bytes(b"x" * (MAX_TEXT_BYTES + 10))
    (tmp_path / "model.safetensors").write_bytes(b"\0" * 64)
    (tmp_path / "onnx").mkdir()
    (tmp_path / "onnx" / "model.onnx").write_bytes(b"\0" * 8)
    snap = snapshot_from_dir(tmp_path, "o/n")
    assert snap.files == {
        "LICENSE": MAX_TEXT_BYTES + 10,
        "README.md": 4,
        "model.safetensors": 64,
        "onnx/model.onnx": 8,
    }
    assert set(snap.texts) == {"LICENSE", "README.md"}
    assert len(snap.texts["LICENSE"]) == MAX_TEXT_BYTES
    assert "only the first" in snap.extra["text_problems"]["LICENSE"][0]
    with snap.open_file("model.safetensors") as handle:
        assert handle.read(4) == b"\0\0\0\0"
    with pytest.raises(FileNotFoundError):
        snap.open_file(".git/config")


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_snapshot_never_follows_symlinks_out_of_the_repo(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("private")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "README.md").write_text("# r\n")
    (repo / "LICENSE").symlink_to(outside)
    (repo / "linked-dir").symlink_to(tmp_path)
    (repo / "NOTICE").symlink_to(repo / "README.md")
    snap = snapshot_from_dir(repo, "o/n")
    assert set(snap.files) == {"README.md", "NOTICE"}
    assert "private" not in "".join(snap.texts.values())


def test_folder_without_repositories_runs_and_says_so(tmp_path, capsys):
    assert main(["analyze", "--format", "json", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == []
    assert "no repositories" in captured.err


def test_twenty_megabyte_readme_through_the_whole_pipeline(tmp_path):
    repo = tmp_path / "big__card"
    repo.mkdir()
    filler = b"## License\nThis model is released under the MIT license.\n" + b"filler text\n" * 1_800_000
    (repo / "README.md").write_bytes(b"---\ntags: [big]\n---\n" + filler)
    start = time.perf_counter()
    [result] = analyze_paths([tmp_path])
    assert time.perf_counter() - start < 5.0
    assert result["id"] == "big/card"
    assert result["license"]["key"] == "mit"
    assert [v["rule"] for v in result["violations"]] == ["missing-license"]
    assert any("only the first" in p for p in result["card"]["problems"])


def _card(tmp_path: Path, folder: str, front: str) -> None:
    (tmp_path / folder).mkdir()
    (tmp_path / folder / "README.md").write_text(f"---\n{front}---\n# model\n", encoding="utf-8")


def test_licence_block_lists_the_obligations_of_every_licence_in_force(tmp_path, capsys):
    """``license.obligations``: both licences of an AND, the lighter choice of an OR (said so), and
    a base model's terms a relabelled fine-tune still carries (the block had no conditions at all)."""
    _card(tmp_path, "acme__both", "license: llama3.1 AND cc-by-nc-4.0\n")
    _card(tmp_path, "acme__either", "license: apache-2.0 OR mit\n")
    _card(tmp_path, "acme__relabelled", "license: apache-2.0\nbase_model: meta-llama/Llama-3.1-8B\n")
    found = by_id(cli_json(capsys, str(tmp_path)))

    def pairs(model: str) -> set[tuple[str, str]]:
        return {(o["license"], o["kind"]) for o in found[model]["license"]["obligations"]}

    assert {("llama3.1", "name-prefix"), ("cc-by-nc-4.0", "noncommercial")} <= pairs("acme/both")
    assert pairs("acme/either") == {("mit", "license-copy")}
    assert "fewest obligations" in found["acme/either"]["license"]["obligations"][0]["via"]
    relabelled = found["acme/relabelled"]["license"]["obligations"]
    assert {("apache-2.0", "notice"), ("llama3.1", "acceptable-use-policy"), ("llama3.1", "mau-cap")} <= {
        (o["license"], o["kind"]) for o in relabelled
    }
    llama = next(o for o in relabelled if o["license"] == "llama3.1" and o["kind"] == "mau-cap")
    assert llama["value"] == 700_000_000 and llama["clause"] == "§2"
    assert llama["via"] == "base model meta-llama/Llama-3.1-8B"
