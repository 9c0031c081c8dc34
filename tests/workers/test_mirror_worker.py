"""A real Celery worker on a real Redis mirrors a local upstream, is killed mid-run, and a new one finishes.

Everything but the upstream runs out of process, the way it does in production: the
run is enqueued through Redis by ``manage.py shell``, executed by ``celery -A workers
worker``, and the worker is SIGKILLed (no warm shutdown, no chance to ack) in the
middle of the run. A second worker must finish the same run from its cursor, with
nothing duplicated and nothing lost. Worker and test share a file SQLite database in a
throw-away ``MODELHUB_VAR``; the test reads it with ``sqlite3`` directly.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.upstream.server import UpstreamServer
from tests.services import free_port, redis_url

ROOT = Path(__file__).resolve().parents[2]


def _env(var: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(
        MODELHUB_VAR=str(var), REDIS_URL=url, MODELHUB_TASKS_EAGER="0", MIRROR_STALE_AFTER="3",
        MIRROR_HEARTBEAT="0.5", MODELHUB_BROKER_VISIBILITY_TIMEOUT="6", MODELHUB_BROKER_RESTORE_INTERVAL="1",
        MODELHUB_BROKER_RESTORE_THROTTLE="1", MIRROR_BACKOFF_BASE="0.05",
        MIRROR_PAGE_SIZE="20", MIRROR_DISPATCH_EVERY="3600", LOG_LEVEL="WARNING",
    )  # fmt: skip
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workers", "worker", "--pool", "solo", "-c", "1",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _query(db: Path, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        return conn.execute(sql, args).fetchall()


def _wait_for(what: str, predicate, timeout: float) -> None:
    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        if predicate():
            print(f"{what}: {time.monotonic() - started:.1f}s")
            return
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


@pytest.mark.services
@pytest.mark.slow
def test_worker_killed_mid_run_is_finished_by_the_next_one(tmp_path, model_cards):
    url = redis_url().rsplit("/", 1)[0] + "/11"  # a database of its own: no other test's queue
    import redis

    redis.Redis.from_url(url).flushdb()
    env = _env(tmp_path / "var", url)
    _manage(env, "migrate", "-v0")
    db = tmp_path / "var" / "modelhub.sqlite3"
    log = tmp_path / "worker.log"
    with UpstreamServer(free_port()) as upstream:
        state = upstream.state
        state.seed_model_cards(model_cards, weights_every=10)
        total = len(state.repos)
        state.fail(r"/resolve/", 0, times=10**9, delay=0.03)  # a slow upstream, so the kill lands mid-run
        state.fail(r"^/api/models$", 429, times=1, headers={"Retry-After": "1"})
        state.fail(r"/resolve/", 503, times=3)
        spec_id = _manage(
            env, "shell", "-c",
            "from workers.models import MirrorSpec; from workers.tasks import start_run;"
            f"s = MirrorSpec.objects.create(name='w', upstream='{upstream.url}', files='all', max_concurrency=2);"
            "print(start_run(s))",
        ).strip().splitlines()[-1]  # fmt: skip
        run_id = int(spec_id)
        row = "SELECT status, listed, changed, fetched, failed FROM workers_mirrorrun WHERE id = ?"

        first = _worker(env, log)
        try:
            _wait_for("the first worker to sync 30 repos", lambda: _query(db, row, run_id)[0][2] >= 30, 90)
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            _stop(first)
        status, _, changed_at_kill, _, _ = _query(db, row, run_id)[0]
        assert status == "running" and changed_at_kill < total

        second = _worker(env, log)
        try:
            # acks_late: Redis hands the unacknowledged message out again after its visibility timeout
            _wait_for("the run to finish", lambda: _query(db, row, run_id)[0][0] in ("done", "failed"), 120)
            _wait_for(
                "every revision's analysis",
                lambda: (
                    _query(db, "SELECT count(*) FROM hub_revisionanalysis WHERE status = 'done'")[0][0]
                    == total
                ),
                120,
            )
        finally:
            _stop(second)

        status, listed, changed, fetched, failed = _query(db, row, run_id)[0]
        assert (status, listed, changed, failed) == ("done", total, total, 0), log.read_text()[-3000:]
        assert fetched <= sum(len(r.head.files) for r in state.repos.values())
        heads = dict(
            _query(
                db,
                "SELECT ns.name || '/' || r.name, c.sha FROM hub_repository r JOIN hub_namespace ns"
                " ON ns.id = r.namespace_id JOIN hub_commit c ON c.id = r.head_id",
            )
        )
        assert heads == {rid: r.head.sha for rid, r in state.repos.items()}
        assert _query(db, "SELECT count(*) FROM hub_commit")[0][0] == total
        assert _query(db, "SELECT count(*) FROM workers_mirroredrepo")[0][0] == total
        n_files = _query(db, "SELECT count(*) FROM hub_repofile")[0][0]
        assert n_files == sum(len(r.head.files) for r in state.repos.values())
        # nothing partial is visible: every stored object hashes to its name
        objects = [p for p in (tmp_path / "var" / "blobs" / "sha256").rglob("*") if p.is_file()]
        assert objects and all(hashlib.sha256(p.read_bytes()).hexdigest() == p.name for p in objects)
        for (sha,) in _query(db, "SELECT sha256 FROM hub_blob"):
            # one level: sha256/ab/<digest>
            assert (tmp_path / "var" / "blobs" / "sha256" / sha[:2] / sha).is_file()
        statuses = [s for _, _, s in state.log]
        assert statuses.count(429) == 1 and statuses.count(503) == 3
