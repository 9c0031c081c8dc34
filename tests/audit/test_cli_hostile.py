"""``modelhub audit`` and ``analyze`` on hostile or broken input: a bounded answer, a clear error
with the contract's exit code, never a traceback and never a gate that passes without looking
(found by exploratory testing, session 8).

Permission errors are simulated by patching the call that meets them: CI runs as root, which
reads every file whatever its mode.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from licenses.engine.references import scan_paths
from licenses.engine.refscan import config_scan
from modelhub.cli import main
from tests.audit.test_audit_cli import _Registry, audit_json

ROOT = Path(__file__).resolve().parents[2]
REPOS = ROOT / "tests" / "fixtures" / "repos"


def alias_bomb(levels: int, key: str = "model") -> str:
    """``levels`` lists of nine aliases of the list before: 9**levels scalars once expanded."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "\n".join([*lines, f"{key}: *a{levels - 1}"]) + "\n"


def test_a_yaml_alias_bomb_in_the_audited_code_is_walked_once(monkeypatch, tmp_path):
    (tmp_path / "bomb.yaml").write_text(alias_bomb(9))  # 9**9 = 387 million scalars expanded
    (tmp_path / "ok.py").write_text("A.from_pretrained('org/model')\n")
    visits = 0
    walk = config_scan._yaml_hits

    def counted(*args, **kwargs):
        nonlocal visits
        visits += 1
        if visits > 10_000:
            raise AssertionError("the walk expands aliases")
        yield from walk(*args, **kwargs)

    monkeypatch.setattr(config_scan, "_yaml_hits", counted)
    result = scan_paths([tmp_path])
    assert visits < 1000  # linear in the file; expanded, 9**9
    assert [r.model for r in result.references] == ["org/model"]


def test_a_folder_the_audit_cannot_list_is_a_scan_error_not_the_end(monkeypatch, tmp_path):
    (tmp_path / "a.py").write_text("A.from_pretrained('org/model')\n")
    locked = tmp_path / "pgdata"
    locked.mkdir()
    (locked / "b.py").write_text("A.from_pretrained('org/hidden')\n")
    scandir = os.scandir

    def refusing(path=".", *args):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path, *args)

    monkeypatch.setattr(os, "scandir", refusing)
    monkeypatch.setattr(Path, "is_file", lambda self: self.name != "pyvenv.cfg" and os.path.isfile(self))
    result = scan_paths([tmp_path])
    assert [r.model for r in result.references] == ["org/model"]
    assert [(e.file, "cannot list folder" in e.message) for e in result.errors] == [("pgdata", True)]


def test_an_unreadable_path_fails_the_audit(monkeypatch, capsys, tmp_path):
    target = tmp_path / "locked.py"
    target.write_text("A.from_pretrained('org/model')\n")
    policy = ROOT / "tests" / "fixtures" / "policies" / "pass.yaml"
    opened = Path.open

    def refusing(self, *args, **kwargs):
        if self == target:
            raise PermissionError(13, "Permission denied", str(self))
        return opened(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refusing)
    assert main(["audit", str(target), "--policy", str(policy), "--offline"]) == 2
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.parametrize(
    "tamper",
    [
        {"verdict": "maybe"},
        {"reasons": "oops"},
        {"reasons": [{"message": "no code"}]},
        {"obligations": {"not": "a list"}},
    ],
)
@pytest.mark.parametrize("fmt", ["json", "sarif", "junit", "text"])
def test_a_malformed_registry_answer_is_a_registry_error(capsys, tmp_path, private_code, tamper, fmt):
    """Not a traceback, and not a pass: the answer is reported and the models judged offline."""
    policy = tmp_path / "policy.yaml"
    policy.write_text("name: strict\nuse: {commercial: true}\nlicenses: {unknown: deny}\n")
    args = [str(private_code), "--policy", str(policy), "--cache-dir", str(tmp_path / "c")]
    with _Registry(tamper=tamper) as reg:
        exit_code = main(["audit", *args, "--registry", reg.url, "--format", fmt])
    out = capsys.readouterr().out
    assert exit_code == 1  # acme/private-model is unknown offline: denied by the policy
    if fmt == "json":
        data = json.loads(out)
        assert data["registry_errors"] and "malformed result" in data["registry_errors"][0]
        assert {f["model"]: f["source"] for f in data["findings"]}["acme/private-model"] == "unknown"


def test_a_malformed_registry_url_is_reported_not_fatal(capsys, tmp_path, private_code):
    policy = ROOT / "tests" / "fixtures" / "policies" / "pass.yaml"
    exit_code, data = audit_json(
        capsys,
        str(private_code),
        "--policy",
        str(policy),
        "--registry",
        "http://[::1",
        "--cache-dir",
        str(tmp_path / "c"),
    )
    assert exit_code == 0 and data["registry_errors"]


def test_an_unwritable_baseline_or_summary_is_a_clear_error(monkeypatch, capsys, tmp_path, private_code):
    code = private_code
    policy = ROOT / "tests" / "fixtures" / "policies" / "pass.yaml"
    for target in (tmp_path / "missing" / "bl.json", tmp_path):
        args = ["audit", str(code), "--policy", str(policy), "--offline", "--baseline", str(target)]
        assert main([*args, "--update-baseline"]) == 2
        assert "cannot write baseline" in capsys.readouterr().err
    # the job summary is a courtesy: it cannot change the verdict
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "missing" / "summary.md"))
    assert main(["audit", str(code), "--policy", str(policy), "--offline"]) == 0
    assert "GITHUB_STEP_SUMMARY" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (bytes(range(128, 256)) * 2, "not UTF-8"),
        (
            b"name: x\nexceptions: [{model: a/b, reason: r, expires: 2027-13-01}]\n",
            "'exceptions[0].expires': not a date",
        ),
        (
            b"name: x\nexceptions: [{model: a/b, reason: r, expires: 2024-02-30}]\n",
            "not a date: '2024-02-30'",
        ),
        (b"z: " + b"[" * 3000 + b"]" * 3000 + b"\n", "nesting deeper"),
        (alias_bomb(9, "name").encode(), "alias expansion"),
    ],
)
def test_a_hostile_policy_file_exits_2_naming_the_problem(capsys, tmp_path, private_code, content, needle):
    policy = tmp_path / "policy.yaml"
    policy.write_bytes(content)
    assert main(["audit", str(private_code), "--policy", str(policy), "--offline"]) == 2
    assert needle in capsys.readouterr().err


def test_analyze_of_an_unreadable_card_exits_2(monkeypatch, capsys):
    from licenses.engine import snapshot

    read = snapshot._read_head

    def refusing(path, *args):
        if str(path).endswith("README.md"):
            raise PermissionError(13, "Permission denied", str(path))
        return read(path, *args)

    monkeypatch.setattr(snapshot, "_read_head", refusing)
    assert main(["analyze", "--format", "json", str(REPOS / "acme__no-license")]) == 2
    assert "could not read acme/no-license: README.md: unreadable" in capsys.readouterr().err


def test_analyze_of_a_folder_it_cannot_list_exits_2(monkeypatch, capsys, tmp_path):
    from licenses.engine import snapshot

    monkeypatch.setattr(snapshot, "_listing", lambda folder: None)
    assert main(["analyze", str(tmp_path)]) == 2
    assert "cannot list" in capsys.readouterr().err


def test_a_symlinked_readme_belongs_to_the_folder_it_is_in(capsys, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "card.md").write_text("---\nlicense: mit\n---\n# card\n")
    repo = tmp_path / "acme__linked"
    repo.mkdir()
    (repo / "README.md").symlink_to(shared / "card.md")
    assert main(["analyze", "--format", "json", str(repo / "README.md")]) == 0
    [by_readme] = json.loads(capsys.readouterr().out)
    assert main(["analyze", "--format", "json", str(repo)]) == 0
    [by_folder] = json.loads(capsys.readouterr().out)
    # the repository is the folder the README is in (it was "shared", the link's target folder);
    # its README points outside it, which a snapshot never follows, however the folder is named
    assert by_readme["id"] == "acme/linked" and by_readme == by_folder


def test_a_closed_pipe_is_no_traceback(tmp_path):
    """``modelhub analyze … | head -c 1``: the reader leaves early; 141 as a shell reports it."""
    for i in range(150):  # far more JSON than a pipe buffers
        (tmp_path / f"acme__m{i}").mkdir()
        (tmp_path / f"acme__m{i}" / "README.md").write_text(
            f"---\nlicense: mit\nbase_model: org/base{i}\n---\n# m{i}\n"
        )
    script = "import sys; from modelhub.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen(
        [sys.executable, "-c", script, "analyze", "--format", "json", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    proc.stdout.read(1)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert "Traceback" not in err


def test_nbformat_3_notebooks_are_scanned(tmp_path):
    nb = {
        "nbformat": 3,
        "worksheets": [
            {
                "cells": [
                    {"cell_type": "markdown", "source": ["# Explore\n"]},
                    {
                        "cell_type": "code",
                        "input": ["M = 'CohereForAI/aya-expanse-32b'\n", "AutoModel.from_pretrained(M)\n"],
                    },
                ]
            }
        ],
    }
    (tmp_path / "old.ipynb").write_text(json.dumps(nb, indent=1))
    (ref,) = scan_paths([tmp_path]).references
    raw = (tmp_path / "old.ipynb").read_text().splitlines()
    assert (ref.model, ref.cell, ref.cell_line) == ("CohereForAI/aya-expanse-32b", 2, 2)
    assert "from_pretrained" in raw[ref.line - 1]  # the line in the .ipynb file holding that source line


def test_sarif_locations_resolve_for_a_file_path_and_odd_names(capsys, tmp_path):
    from urllib.parse import unquote, urljoin, urlparse

    folder = tmp_path / "my dir"
    folder.mkdir()
    target = folder / "train #2.py"
    target.write_text("A.from_pretrained('someorg/unknown-model')\n")  # unknown: a warning result
    policy = ROOT / "tests" / "fixtures" / "policies" / "pass.yaml"
    for audited in (target, folder):
        main(["audit", str(audited), "--policy", str(policy), "--offline", "--format", "sarif"])
        run = json.loads(capsys.readouterr().out)["runs"][0]
        base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
        assert uris == {"train%20%232.py"}
        resolved = Path(unquote(urlparse(urljoin(base, uris.pop())).path))
        assert resolved == target.resolve()


def test_junit_is_well_formed_whatever_the_scanned_files_hold(capsys, tmp_path):
    import xml.etree.ElementTree as ET

    (tmp_path / "a.sh").write_bytes(b"huggingface-cli download $UNSET\x01\x02abc\n")
    policy = ROOT / "tests" / "fixtures" / "policies" / "pass.yaml"
    main(["audit", str(tmp_path), "--policy", str(policy), "--offline", "--format", "junit"])
    suite = ET.fromstring(capsys.readouterr().out.split("\n", 1)[1])
    assert suite.find(".//skipped") is not None


def test_a_pipe_that_breaks_only_when_the_report_is_flushed_is_141_too(tmp_path, monkeypatch):
    """``modelhub audit … | head -1``: the report is written in one go and may still sit in
    stdout's buffer when the command returns; the pipe then breaks at the flush. That flush used
    to happen at interpreter exit, after the audit's own status had been returned."""
    import io
    import os

    class ClosedPipe(io.RawIOBase):
        def __init__(self, fd: int) -> None:
            self.fd = fd
            self.closed_once = False

        def writable(self) -> bool:
            return True

        def fileno(self) -> int:
            return self.fd

        def write(self, data) -> int:
            if not self.closed_once:  # once: the buffer's later flush when it is collected succeeds
                self.closed_once = True
                raise BrokenPipeError(32, "Broken pipe")
            return len(data)

    code = tmp_path / "code"
    code.mkdir()
    (code / "load.py").write_text(
        'from transformers import AutoModel\nAutoModel.from_pretrained("nobody-known/m")\n'
    )
    (tmp_path / "policy.yaml").write_text("name: p\nlicenses:\n  unknown: deny\n")
    fd = os.open(os.devnull, os.O_WRONLY)
    try:
        pipe = io.TextIOWrapper(io.BufferedWriter(ClosedPipe(fd), buffer_size=1 << 20))
        monkeypatch.setattr(sys, "stdout", pipe)
        status = main(["audit", str(code), "--policy", str(tmp_path / "policy.yaml"), "--offline"])
    finally:
        os.close(fd)
    assert status == 141


def test_an_output_that_cannot_be_written_is_exit_2_with_a_message(tmp_path):
    """``modelhub analyze … > /dev/full``: said in one line on stderr, no traceback."""
    import os

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    (tmp_path / "acme__m").mkdir()
    (tmp_path / "acme__m" / "README.md").write_text("---\nlicense: mit\n---\n# m\n")
    script = "import sys; from modelhub.cli import main; sys.exit(main(sys.argv[1:]))"
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-c", script, "analyze", "--format", "json", str(tmp_path)],
            stdout=full, stderr=subprocess.PIPE, cwd=ROOT, text=True, timeout=60,
        )  # fmt: skip
    assert proc.returncode == 2
    assert (
        "cannot write the output: No space left on device" in proc.stderr and "Traceback" not in proc.stderr
    )
