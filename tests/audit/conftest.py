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
