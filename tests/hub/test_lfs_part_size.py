"""The LFS multipart part size comes from the environment (``MODELHUB_LFS_CHUNK_SIZE``).

It used to be read from a setting nothing defined, so the variable (and the transfer benchmark's
``--chunk-size``) silently had no effect. Each case imports the settings in a fresh interpreter,
since they are read once at start-up.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import django; django.setup(); "
    "from hub.hfapi.lfs import chunk_size; from django.conf import settings; "
    "print(settings.MODELHUB_LFS_CHUNK_SIZE, chunk_size())"
)


def _probe(tmp_path: Path, value: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MODELHUB_LFS_CHUNK_SIZE"}
    env |= {"DJANGO_SETTINGS_MODULE": "hub.settings", "MODELHUB_VAR": str(tmp_path / "var")}
    if value is not None:
        env["MODELHUB_LFS_CHUNK_SIZE"] = value
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_default_is_64_mib(tmp_path):
    done = _probe(tmp_path, None)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == [str(64 * 1024**2)] * 2


def test_environment_sets_the_advertised_part_size(tmp_path):
    done = _probe(tmp_path, str(256 * 1024**2))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == [str(256 * 1024**2)] * 2


@pytest.mark.parametrize("value", [str(4 * 1024**2), str(6 * 1024**3), "64MiB"])
def test_part_sizes_s3_would_refuse_stop_start_up(tmp_path, value):
    done = _probe(tmp_path, value)
    assert done.returncode != 0
    assert "MODELHUB_LFS_CHUNK_SIZE" in done.stderr
