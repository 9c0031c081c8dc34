"""Fixtures for the hub tests: users and tokens, repos built through the commit service,
a blob store per test (filesystem or S3 on moto), and a runner for the real client."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from hub.blobstore import get_blob_store
from tests.services import unavailable

CLIENT_SCRIPT = Path(__file__).with_name("hf_client.py")
HF0_SPEC = "huggingface_hub<1"


@pytest.fixture
def fs_store(settings, tmp_path):
    """A fresh filesystem blob store for this test."""
    settings.BLOB_STORE = "filesystem"
    settings.BLOB_ROOT = tmp_path / "blobs"
    get_blob_store.cache_clear()
    yield get_blob_store()
    get_blob_store.cache_clear()


@pytest.fixture
def s3_store(settings, s3_bucket, moto_s3_endpoint):
    """An S3 blob store on the moto server (a real HTTP endpoint, so presigned URLs work)."""
    settings.BLOB_STORE = "s3"
    settings.S3_BUCKET = s3_bucket
    settings.S3_ENDPOINT_URL = moto_s3_endpoint
    get_blob_store.cache_clear()
    yield get_blob_store()
    get_blob_store.cache_clear()


@pytest.fixture(params=["filesystem", "s3"])
def store(request):
    """Both blob stores: tests using it run once per store."""
    return request.getfixturevalue("fs_store" if request.param == "filesystem" else "s3_store")


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", email="alice@example.com")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob")


def token_for(user, write: bool = True) -> str:
    from hub.auth import mint_token

    return mint_token(user, scope="write" if write else "read", name="test")[0]


def make_repo(
    user, name: str, files: dict[str, bytes], *, private=False, gated="", repo_type="model", lfs=()
):
    """A repository with one commit of ``files`` on main, made through the real services."""
    from hub.auth import Caller
    from hub.models import ApiToken
    from hub.services.blobs import record_blob, store_small
    from hub.services.commits import AddFile, CommitRequest, create_commit
    from hub.services.repos import create_repository

    caller = Caller(user, ApiToken(scope="write"))
    repo, _ = create_repository(caller, name=name, repo_type=repo_type, private=private)
    ops = []
    for path, content in files.items():
        if path in lfs or len(content) >= 10 * 1024 * 1024:
            info = get_blob_store().put(
                io.BytesIO(content), expected_sha256=hashlib.sha256(content).hexdigest()
            )
            record_blob(info)
            ops.append(AddFile(path, info.sha256, info.size, lfs=True))
        else:
            stored = store_small(content, 50 * 1024 * 1024)
            ops.append(AddFile(path, stored.sha256, stored.size, lfs=False, git_oid=stored.git_oid))
    from django.test import TestCase

    # Run the on-commit analysis task even inside a test transaction.
    with TestCase.captureOnCommitCallbacks(execute=True):
        create_commit(repo, "main", CommitRequest(title="add files", operations=ops), author=user)
    if gated:
        repo.gated = gated
        repo.save(update_fields=["gated"])
    repo.refresh_from_db()
    return repo


def run_client(python: str, endpoint: str, action: str, args: dict, *, token: str | None = None, home: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update(
        HF_ENDPOINT=endpoint, HF_HUB_DISABLE_XET="1", HF_HUB_OFFLINE="0", HF_HOME=str(home),
        HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_PROGRESS_BARS="1", HF_HUB_ETAG_TIMEOUT="30",
        HF_HUB_DOWNLOAD_TIMEOUT="60",
    )  # fmt: skip
    if token:
        env["HF_TOKEN"] = token
    proc = subprocess.run(
        [python, str(CLIENT_SCRIPT), action, json.dumps(args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise AssertionError(
            f"client produced no result (rc={proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return json.loads(lines[-1])


@pytest.fixture
def hf(live_server, tmp_path):
    """Run client actions with the newest huggingface_hub against the live server."""

    def run(action: str, token: str | None = None, python: str = sys.executable, **args):
        return run_client(python, live_server.url, action, args, token=token, home=tmp_path / "hf-home")

    return run


@pytest.fixture(scope="session")
def hf0_python() -> str:
    """Python of a virtualenv with the newest 0.x huggingface_hub (reused between runs)."""
    venv = Path(os.environ.get("MODELHUB_HF0_VENV") or Path(tempfile.gettempdir()) / "modelhub-hf0-venv")
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import huggingface_hub as h; assert h.__version__.startswith('0.')"]
    if not python.exists() or subprocess.run(probe, capture_output=True).returncode != 0:
        made = subprocess.run(
            [sys.executable, "-m", "venv", "--clear", str(venv)], capture_output=True, text=True
        )
        if made.returncode != 0:
            unavailable("huggingface_hub 0.x", f"python -m venv failed: {made.stderr[-500:]}")
        pip = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", HF0_SPEC], capture_output=True, text=True
        )
        if pip.returncode != 0:
            unavailable("huggingface_hub 0.x", f"pip install {HF0_SPEC!r} failed: {pip.stderr[-500:]}")
    return str(python)


@pytest.fixture(params=["newest", "0.x"])
def client_python(request) -> str:
    return sys.executable if request.param == "newest" else request.getfixturevalue("hf0_python")


@pytest.fixture
def run(live_server, tmp_path, client_python):
    def go(action: str, token: str | None = None, home: str = "hf-home", **args):
        return run_client(client_python, live_server.url, action, args, token=token, home=tmp_path / home)

    return go
