"""Configuration from the environment: parsing rules, the generated secret, production mode."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hub.config import ConfigError, env_bool, env_int, env_list, secret_key, var_dir

ROOT = Path(__file__).resolve().parents[2]


def test_env_bool_words():
    assert env_bool("X", False, {"X": "yes"}) is True
    assert env_bool("X", True, {"X": "0"}) is False
    assert env_bool("X", True, {}) is True
    with pytest.raises(ConfigError, match="not a boolean"):
        env_bool("X", False, {"X": "maybe"})


def test_env_list_and_int():
    assert env_list("H", ["a"], {"H": "a.example, b.example,,"}) == ["a.example", "b.example"]
    assert env_list("H", ["a"], {}) == ["a"]
    assert env_int("N", 3, {"N": "10_000"}) == 10000
    with pytest.raises(ConfigError):
        env_int("N", 3, {"N": "ten"})


def test_var_dir_is_created(tmp_path):
    target = tmp_path / "state"
    assert var_dir({"MODELHUB_VAR": str(target)}) == target.resolve()
    assert target.is_dir()


def test_secret_key_generated_once_and_private(tmp_path):
    first = secret_key(tmp_path, production=False, environ={})
    assert len(first) >= 50
    assert secret_key(tmp_path, production=False, environ={}) == first
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"
    assert secret_key(tmp_path, production=False, environ={"SECRET_KEY": "given"}) == "given"


def test_production_requires_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY must be set"):
        secret_key(tmp_path, production=True, environ={})


def run_manage(args: list[str], **env: str) -> subprocess.CompletedProcess:
    # DJANGO_ALLOW_ASYNC_UNSAFE may be left in this process by the browser tests' Playwright set-up;
    # a production check must see a production environment.
    dropped = {"SECRET_KEY", "DEBUG", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    full_env = {k: v for k, v in os.environ.items() if k not in dropped}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_refuse_to_start_without_secret(tmp_path):
    proc = run_manage(["check"], MODELHUB_MODE="production", MODELHUB_VAR=str(tmp_path))
    assert proc.returncode != 0
    assert "SECRET_KEY must be set" in proc.stderr


def test_check_deploy_passes_with_production_settings(tmp_path):
    proc = run_manage(
        ["check", "--deploy", "--fail-level", "WARNING"],
        MODELHUB_MODE="production",
        MODELHUB_VAR=str(tmp_path),
        SECRET_KEY="k" * 20 + "-production-secret-with-enough-entropy-9f8e7d6c5b4a",
        ALLOWED_HOSTS="hub.example.org",
        DEBUG="0",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no issues" in proc.stdout


def test_two_instances_keep_separate_state(tmp_path):
    code = (
        "from django.conf import settings; print(settings.DATABASES['default']['NAME'], settings.BLOB_ROOT)"
    )
    outs = []
    for name in ("a", "b"):
        proc = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {code}"],
            cwd=ROOT,
            env={**os.environ, "MODELHUB_VAR": str(tmp_path / name), "DJANGO_SETTINGS_MODULE": "hub.settings"}
            | {"DATABASE_URL": ""},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        outs.append(proc.stdout.strip())
    assert str(tmp_path / "a") in outs[0] and str(tmp_path / "b") in outs[1]
    assert (tmp_path / "a" / "secret_key").read_text() != (tmp_path / "b" / "secret_key").read_text()


def test_blob_fs_sync_setting_reaches_the_store_and_refuses_unknown_modes(tmp_path):
    show = "from hub.blobstore import get_blob_store; print(get_blob_store().sync_mode)"
    proc = run_manage(["shell", "-c", show], MODELHUB_VAR=str(tmp_path), BLOB_FS_SYNC="fsync")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "fsync"  # shell may print auto-imports first
    proc = run_manage(["check"], MODELHUB_VAR=str(tmp_path), BLOB_FS_SYNC="sometimes")
    assert proc.returncode != 0
    assert "BLOB_FS_SYNC='sometimes'" in proc.stderr
