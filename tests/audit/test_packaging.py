"""The audit as CI runs it: the pre-commit hook through ``pre-commit try-repo`` and the composite Action.

Both install the project from source (pre-commit: ``pip install .`` into its own virtualenv; the Action:
``pip install $GITHUB_ACTION_PATH``), so they are slow and marked ``slow``. The project is copied to a
temporary folder first, so building it never writes ``build/`` or ``*.egg-info`` into the checkout.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROJECT_FILES = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "action.yml")
PROJECT_PACKAGES = ("hub", "licenses", "workers", "frontend", "modelhub")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules", "var")


def _git(cwd: Path, *args: str) -> str:
    env = dict(
        os.environ,
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@t",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@t",
    )
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory) -> Path:
    """The installable project (what a clone of the repository holds), committed in its own git repo."""
    dest = tmp_path_factory.mktemp("project")
    for name in PROJECT_FILES:
        shutil.copy2(ROOT / name, dest / name)
    for pkg in PROJECT_PACKAGES:
        shutil.copytree(ROOT / pkg, dest / pkg, ignore=_IGNORE)
    _git(dest, "init", "-q")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", "snapshot")
    return dest


@pytest.fixture
def user_repo(tmp_path, codebase) -> Path:
    """A user's repository: the fixture code base, committed."""
    repo = tmp_path / "user-repo"
    shutil.copytree(codebase, repo)
    _git(repo, "init", "-q")
    return repo


def _commit(repo: Path) -> None:
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "code")


# --------------------------------------------------------------------------- static checks (fast)


def test_pre_commit_manifest():
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "modelhub-audit"
    assert hook["language"] == "python"
    assert hook["entry"] == "modelhub audit"
    assert hook["pass_filenames"] is False
    assert "--policy" in hook["args"]


def test_action_manifest():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert {"path", "policy", "format", "registry", "upload-sarif"} <= set(action["inputs"])
    uses = [s["uses"] for s in action["runs"]["steps"] if "uses" in s]
    assert any(u.startswith("actions/setup-python@") for u in uses)
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    for step in action["runs"]["steps"]:
        assert "uses" in step or step.get("shell") == "bash"


def test_console_script_is_declared():
    text = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^modelhub\s*=\s*"modelhub\.cli:main"', text, re.M)


# --------------------------------------------------------------------------- pre-commit try-repo


def _pre_commit() -> str:
    exe = Path(sys.executable).with_name("pre-commit")
    if not exe.exists():
        pytest.skip("pre-commit is not installed in this environment (pip install pre-commit)")
    return str(exe)


@pytest.mark.slow
def test_pre_commit_try_repo(tmp_path, project_copy, user_repo, pass_policy, fail_policy):
    exe = _pre_commit()
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path.parent / "pre-commit-home"), PRE_COMMIT_COLOR="never")
    env.pop("VIRTUAL_ENV", None)

    shutil.copy(pass_policy, user_repo / "modelhub-policy.yaml")
    _commit(user_repo)
    cmd = [exe, "try-repo", str(project_copy), "modelhub-audit", "--all-files", "--verbose"]
    ok = subprocess.run(cmd, cwd=user_repo, env=env, capture_output=True, text=True, timeout=1500)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert re.search(r"modelhub licence audit\.+Passed", ok.stdout)
    assert "PASSED" in ok.stdout

    shutil.copy(fail_policy, user_repo / "modelhub-policy.yaml")
    _commit(user_repo)
    bad = subprocess.run(cmd, cwd=user_repo, env=env, capture_output=True, text=True, timeout=1500)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert re.search(r"modelhub licence audit\.+Failed", bad.stdout)
    assert "configs/serve.json:4: DENY meta-llama/Llama-3.2-11B-Vision-Instruct" in bad.stdout


# --------------------------------------------------------------------------- the composite Action


_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _substitute(value: str, inputs: dict[str, str], github: dict[str, str]) -> str:
    """The subset of GitHub expressions the action's run/env values use: inputs.* and github.*."""

    def repl(m: re.Match[str]) -> str:
        expr = m.group(1)
        if expr.startswith("inputs."):
            return inputs[expr.split(".", 1)[1]]
        if expr.startswith("github."):
            return github[expr.split(".", 1)[1]]
        raise AssertionError(f"unsupported expression in a run step: {expr}")

    return _EXPR.sub(repl, value)


def _runner_python(tmp_path: Path) -> Path:
    """A fresh venv that sees the dev venv's packages (as a runner would after installing deps)."""
    venv = tmp_path / "runner-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    purelib = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    Path(purelib, "dev-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin"


def _run_action(tmp_path: Path, project: Path, workspace: Path, bin_dir: Path, with_: dict[str, str]):
    action = yaml.safe_load((project / "action.yml").read_text())
    inputs = {k: str(v.get("default", "")) for k, v in action["inputs"].items()} | with_
    github = {"action_path": str(project), "workspace": str(workspace)}
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    files = {
        name: tmp_path / name for name in ("step_summary.md", "github_output", "github_env", "github_path")
    }
    for f in files.values():
        f.write_text("")
    base_env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_ACTION_PATH": str(project),
        "GITHUB_STEP_SUMMARY": str(files["step_summary.md"]),
        "GITHUB_OUTPUT": str(files["github_output"]),
        "GITHUB_ENV": str(files["github_env"]),
        "GITHUB_PATH": str(files["github_path"]),
        "RUNNER_TEMP": str(runner_temp),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    base_env |= {k: v for k, v in os.environ.items() if k.startswith("PIP_")}
    codes = []
    for step in action["runs"]["steps"]:
        if "uses" in step:
            continue  # other actions (setup-python, upload-sarif) are not ours to run
        env = base_env | {k: _substitute(str(v), inputs, github) for k, v in (step.get("env") or {}).items()}
        script = _substitute(step["run"], inputs, github)
        cwd = _substitute(step.get("working-directory", "${{ github.workspace }}"), inputs, github)
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=cwd, env=env, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        codes.append((step["name"], proc.returncode, proc.stdout, proc.stderr))
        if proc.returncode != 0:
            break
    outputs = dict(
        line.split("=", 1) for line in files["github_output"].read_text().splitlines() if "=" in line
    )
    return codes, outputs, files["step_summary.md"].read_text()


@pytest.mark.slow
def test_action_run_steps(tmp_path, project_copy, user_repo, fail_policy):
    bin_dir = _runner_python(tmp_path)
    shutil.copy(fail_policy, user_repo / "policy.yaml")
    codes, outputs, summary = _run_action(
        tmp_path, project_copy, user_repo, bin_dir, {"policy": "policy.yaml", "upload-sarif": "true"}
    )
    names = [c[0] for c in codes]
    assert names == ["Install modelhub", "Run modelhub audit"]
    install, audit = codes
    assert install[1] == 0, install[3]
    assert audit[1] == 1, audit[2] + audit[3]  # a denied model fails the job
    assert "configs/serve.json:4: DENY" in audit[2]
    assert outputs["exit-code"] == "1"
    sarif = Path(outputs["sarif-file"])
    assert sarif.is_file() and '"version": "2.1.0"' in sarif.read_text()
    assert summary.count("## Model licence audit: ❌ failed") == 1  # the SARIF pass must not add a second one

    codes, outputs, _ = _run_action(
        tmp_path,
        project_copy,
        user_repo,
        bin_dir,
        {"policy": "policy.yaml", "warn-only": "true", "format": "json"},
    )
    assert codes[-1][1] == 0 and outputs["exit-code"] == "0"
    assert '"findings"' in codes[-1][2]
