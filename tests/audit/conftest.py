"""Fixtures of the audit tests: the fixture code base and its two policies."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="session")
def codebase() -> Path:
    return FIXTURES / "audit_codebase"


@pytest.fixture(scope="session")
def pass_policy() -> Path:
    return FIXTURES / "policies" / "pass.yaml"


@pytest.fixture(scope="session")
def fail_policy() -> Path:
    return FIXTURES / "policies" / "fail.yaml"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """No runner's step summary, token or cache leaks into (or out of) a test."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("MODELHUB_TOKEN", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


@pytest.fixture
def private_code(tmp_path):
    """A code base naming a model only a registry knows and one the bundled table knows."""
    code = tmp_path / "code"
    code.mkdir()
    (code / "m.py").write_text(
        "A.from_pretrained('acme/private-model')\nA.from_pretrained('microsoft/phi-2')\n"
    )
    return code
