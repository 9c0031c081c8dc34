"""Another Modelhub instance as the upstream: the mirror speaks the Hub API, whoever serves it.

A second instance runs beside the test (its own ``MODELHUB_VAR``, its own port, the
contract's "two instances side by side"); real cards and a small safetensors file are
pushed to it with the unmodified ``huggingface_hub`` client, then mirrored into the
test's registry. Commit shas, file oids and LFS sha256s must come out identical.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from hub.models import RepoFile, Repository
from tests.fixtures.upstream.server import tiny_safetensors
from tests.services import free_port, tcp_open
from workers.models import MirrorRun

ROOT = Path(__file__).resolve().parents[2]
PUSH = """
import json, sys
from huggingface_hub import HfApi
endpoint, token, plan = sys.argv[1], sys.argv[2], json.loads(sys.stdin.read())
api = HfApi(endpoint=endpoint, token=token)
out = {}
for repo_id, folder in plan.items():
    api.create_repo(repo_id, exist_ok=True)
    api.upload_folder(repo_id=repo_id, folder_path=folder, commit_message="import")
    out[repo_id] = api.model_info(repo_id, files_metadata=True).sha
print(json.dumps(out))
"""


@pytest.fixture
def modelhub_upstream(tmp_path):
    var = tmp_path / "upstream-var"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(MODELHUB_VAR=str(var), MODELHUB_TASKS_EAGER="1", LOG_LEVEL="WARNING", HF_HUB_DISABLE_XET="1")
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=180)
    token = subprocess.run(
        [*manage, "token", "create", "alice", "--write", "--create-user"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=60,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    port = free_port()
    server = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload", "--nothreading"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not tcp_open("127.0.0.1", port):
            if time.monotonic() > deadline or server.poll() is not None:
                pytest.fail("the upstream Modelhub did not start")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", token, env
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_mirror_a_second_modelhub_instance(modelhub_upstream, model_cards, tmp_path):
    url, token, env = modelhub_upstream
    folders = sorted(p for p in model_cards.iterdir() if p.is_dir() and "__" in p.name and "--" not in p.name)
    plan: dict[str, str] = {}
    for i, folder in enumerate(folders[:12]):
        staged = tmp_path / "push" / folder.name
        staged.mkdir(parents=True)
        for f in folder.iterdir():
            if f.is_file() and f.name != "manifest.yaml":
                (staged / f.name).write_bytes(f.read_bytes())
        if i % 4 == 0:
            (staged / "model.safetensors").write_bytes(tiny_safetensors(folder.name))
        plan[f"alice/{folder.name.split('__', 1)[1]}"] = str(staged)
    pushed = subprocess.run(
        [sys.executable, "-c", PUSH, url, token], input=json.dumps(plan), cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert pushed.returncode == 0, pushed.stderr[-3000:]
    upstream_shas = json.loads(pushed.stdout.strip().splitlines()[-1])

    out = io.StringIO()
    call_command(
        "mirror", "--upstream", url, "--author", "alice", "--files", "all", "--no-progress", stdout=out
    )
    run = MirrorRun.objects.latest("pk")
    assert (run.status, run.listed, run.changed, run.failed) == ("done", len(plan), len(plan), 0), run.errors
    for repo_id, folder in plan.items():
        local = Repository.objects.get(namespace__name="alice", name=repo_id.split("/")[1])
        assert local.head.sha == upstream_shas[repo_id] == local.upstream_sha
        files = {f.path: f for f in RepoFile.objects.filter(commit=local.head)}
        for path in os.listdir(folder):
            content = Path(folder, path).read_bytes()
            assert files[path].sha256 == hashlib.sha256(content).hexdigest()
        if "model.safetensors" in files:
            assert files["model.safetensors"].lfs
    call_command(
        "mirror", "--upstream", url, "--author", "alice", "--files", "all", "--no-progress", stdout=out
    )
    again = MirrorRun.objects.latest("pk")
    assert (again.listed, again.changed, again.fetched) == (len(plan), 0, 0)
