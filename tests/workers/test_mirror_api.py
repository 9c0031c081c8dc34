"""The mirror's API and admin, and the beat dispatcher that turns specifications into runs."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from workers.models import MirroredRepo, MirrorRun, MirrorSpec
from workers.tasks import mirror_dispatch

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff() -> APIClient:
    user = get_user_model().objects.create_user("ops", password="x", is_staff=True, is_superuser=True)
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_specs_are_created_validated_and_run_through_the_api(staff, upstream):
    body = {"name": "cards", "upstream": upstream.url + "/", "repo_ids": sorted(upstream.state.repos)[:5],
            "files": "small", "interval_minutes": 30}  # fmt: skip
    created = staff.post("/api/v1/mirror/specs", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["upstream"] == upstream.url

    bad = staff.post("/api/v1/mirror/specs", {**body, "name": "bad", "repo_ids": ["gpt2"]}, format="json")
    assert bad.status_code == 400 and "repo_ids" in bad.json()["error"]["detail"]
    assert APIClient().post("/api/v1/mirror/specs", {**body, "name": "anon"}, format="json").status_code in (
        401,
        403,
    )

    changed = staff.patch("/api/v1/mirror/specs/cards", {"max_concurrency": 2}, format="json")
    assert changed.status_code == 200 and changed.json()["max_concurrency"] == 2

    started = staff.post("/api/v1/mirror/specs/cards/run")  # eager in tests: runs to completion at once
    assert started.status_code == 202
    run = staff.get(f"/api/v1/mirror/runs/{started.json()['id']}").json()
    assert (run["status"], run["listed"], run["changed"], run["failed"], run["spec"]) == (
        "done",
        5,
        5,
        0,
        "cards",
    )
    assert run["fetched"] >= 5 and run["bytes"] > 0
    listing = staff.get("/api/v1/mirror/runs?spec=cards").json()
    assert [r["id"] for r in listing["results"]] == [run["id"]]
    assert staff.get("/api/v1/mirror/specs/cards").json()["last_run"]["id"] == run["id"]
    assert MirroredRepo.objects.filter(spec__name="cards").count() == 5


def test_run_now_refuses_while_a_run_is_active(staff):
    spec = MirrorSpec.objects.create(name="busy", upstream="http://127.0.0.1:9")
    MirrorRun.objects.create(spec=spec, upstream=spec.upstream, status=MirrorRun.Status.RUNNING)
    assert staff.post("/api/v1/mirror/specs/busy/run").status_code == 409


def test_dispatcher_starts_due_specs_only(upstream, settings):
    due = MirrorSpec.objects.create(
        name="due", upstream=upstream.url, repo_ids=[upstream.state.order[0]], files="none"
    )
    MirrorSpec.objects.create(
        name="recent", upstream=upstream.url, repo_ids=[upstream.state.order[1]], last_run_at=timezone.now()
    )
    MirrorSpec.objects.create(
        name="off", upstream=upstream.url, repo_ids=[upstream.state.order[2]], enabled=False
    )
    assert mirror_dispatch() == {"started": 1, "rescued": 0}
    assert list(MirrorRun.objects.values_list("spec__name", "status")) == [("due", "done")]
    due.refresh_from_db()
    assert due.last_run_at is not None
    assert mirror_dispatch() == {"started": 0, "rescued": 0}  # not due again before its interval


def test_dispatcher_rescues_a_run_whose_worker_died(upstream, settings):
    settings.MIRROR_STALE_AFTER = 60
    spec = MirrorSpec.objects.create(name="orphan", upstream=upstream.url, repo_ids=upstream.state.order[:3],
                                     files="none", last_run_at=timezone.now())  # fmt: skip
    run = MirrorRun.objects.create(
        spec=spec, upstream=spec.upstream, status=MirrorRun.Status.RUNNING, worker="gone:1",
        heartbeat_at=timezone.now() - timedelta(minutes=5),
    )  # fmt: skip
    fresh = MirrorRun.objects.create(
        spec=spec, upstream=spec.upstream, status=MirrorRun.Status.RUNNING, worker="alive:2",
        heartbeat_at=timezone.now(),
    )  # fmt: skip
    assert mirror_dispatch() == {"started": 0, "rescued": 1}
    run.refresh_from_db()
    fresh.refresh_from_db()
    assert run.status == "done" and run.changed == 3
    assert fresh.status == "running" and fresh.worker == "alive:2"  # a live lease is never taken over


def test_admin_lists_and_starts_specs(upstream, client):
    user = get_user_model().objects.create_superuser("admin", password="x")
    client.force_login(user)
    spec = MirrorSpec.objects.create(name="adm", upstream=upstream.url, repo_ids=[upstream.state.order[0]])
    assert client.get("/admin/workers/mirrorspec/").status_code == 200
    assert client.get(f"/admin/workers/mirrorspec/{spec.pk}/change/").status_code == 200
    answer = client.post(
        "/admin/workers/mirrorspec/", {"action": "run_now", "_selected_action": [spec.pk]}, follow=True
    )
    assert answer.status_code == 200
    assert MirrorRun.objects.get(spec=spec).status == "done"
    assert client.get("/admin/workers/mirrorrun/").status_code == 200
    assert client.get("/admin/workers/mirroredrepo/").status_code == 200


@pytest.mark.services
def test_simultaneous_run_requests_start_one_run(upstream):
    """Eight "run now" requests at once (or one and the dispatcher) start one run; the others are
    told which run is active. The check and the insert happen with the spec's row locked."""
    import threading

    from django.db import connection, connections

    from tests.services import unavailable
    from workers.tasks import start_run_unless_active

    if connection.vendor != "postgresql":
        unavailable("PostgreSQL", f"DATABASE_URL points at {connection.vendor}, not PostgreSQL")
    spec = MirrorSpec.objects.create(name="busy-at-once", upstream=upstream.url + "/", repo_ids=["x/y"])
    barrier = threading.Barrier(8)
    answers: list[tuple[int, bool]] = []

    def ask() -> None:
        try:
            barrier.wait()
            answers.append(start_run_unless_active(spec))
        finally:
            connections.close_all()

    from unittest import mock

    with mock.patch("workers.tasks.enqueue_on_commit_or"):  # only the rows matter here, not the runs
        threads = [threading.Thread(target=ask) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    assert len(answers) == 8
    assert sum(started for _, started in answers) == 1
    assert len({run_id for run_id, _ in answers}) == 1
    assert MirrorRun.objects.filter(spec=spec).count() == 1


@pytest.mark.services
def test_a_run_whose_database_connection_dies_is_recorded_as_failed(upstream, monkeypatch):
    """The connection is killed mid-run (a PostgreSQL restart, an administrator's terminate): the
    run is marked failed with the reason through a new connection, not left "running" for the
    stale-heartbeat sweep with the error lost."""
    from django.db import OperationalError, connection

    from tests.services import unavailable
    from workers.mirror import run as run_module

    if connection.vendor != "postgresql":
        unavailable("PostgreSQL", f"DATABASE_URL points at {connection.vendor}, not PostgreSQL")
    spec = MirrorSpec.objects.create(name="dies", upstream=upstream.url + "/", repo_ids=["x/y"])
    mirror_run = MirrorRun.objects.create(spec=spec, upstream=spec.upstream)

    def killed(self):
        # (the kill may report an error of its own)
        with connection.cursor() as cursor, contextlib.suppress(OperationalError):
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        MirrorRun.objects.count()  # the next query meets the dead connection

    monkeypatch.setattr(run_module.Runner, "go", killed)
    result = run_module.execute(mirror_run.pk)
    assert result.status == MirrorRun.Status.FAILED
    assert "OperationalError" in result.error and result.finished_at is not None


def _queue_down(monkeypatch):
    """The send fails as Celery fails with its Redis result backend unreachable."""
    from workers import tasks

    def refuse(*args, **kwargs):
        raise RuntimeError(
            "Retry limit exceeded while trying to reconnect to the Celery result store backend."
        )

    monkeypatch.setitem(tasks.mirror_run.app.conf, "task_always_eager", False)  # a real queue, down
    monkeypatch.setattr(tasks.mirror_run, "apply_async", refuse)


def test_run_now_with_the_queue_down_is_a_503_and_blocks_nothing(staff, monkeypatch):
    """It was an HTML 500 after 19 s, and the run stayed ``queued`` for good: every later "run now"
    answered 409 and the dispatcher never started the spec again."""
    spec = MirrorSpec.objects.create(name="probe", upstream="http://127.0.0.1:9", files="none")
    _queue_down(monkeypatch)
    resp = staff.post("/api/v1/mirror/specs/probe/run")
    assert resp.status_code == 503 and resp.json()["error"]["code"] == "queue-unavailable"
    assert "check /readyz" in resp.json()["error"]["message"]
    (run,) = MirrorRun.objects.filter(spec=spec)
    assert run.status == MirrorRun.Status.FAILED and run.finished_at is not None
    monkeypatch.undo()
    retried = staff.post("/api/v1/mirror/specs/probe/run")
    assert retried.status_code == 202  # not 409: nothing is left holding the spec


def test_the_dispatcher_rescues_a_queued_run_whose_message_was_lost(settings, monkeypatch):
    from workers import tasks

    spec = MirrorSpec.objects.create(name="lost", upstream="http://127.0.0.1:9", enabled=False)
    old = MirrorRun.objects.create(spec=spec, upstream=spec.upstream, status=MirrorRun.Status.QUEUED)
    fresh = MirrorRun.objects.create(spec=spec, upstream=spec.upstream, status=MirrorRun.Status.QUEUED)
    MirrorRun.objects.filter(pk=old.pk).update(started_at=timezone.now() - timedelta(hours=1))
    sent = []
    monkeypatch.setattr(tasks.mirror_run, "apply_async", lambda args: sent.append(args[0]))
    assert mirror_dispatch() == {"started": 0, "rescued": 1}
    assert sent == [old.pk] and fresh.pk not in sent  # a run just queued may still be on its way
    assert mirror_dispatch() == {"started": 0, "rescued": 0}  # once per window, not on every tick
    MirrorRun.objects.filter(pk=old.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert mirror_dispatch()["rescued"] == 1 and sent == [old.pk, old.pk]  # still lost: sent again


def test_the_admin_action_starts_one_run_per_spec(upstream, client):
    user = get_user_model().objects.create_user("admin", password="x", is_staff=True, is_superuser=True)
    client.force_login(user)
    spec = MirrorSpec.objects.create(name="once", upstream=upstream.url, repo_ids=[upstream.state.order[0]])
    MirrorRun.objects.create(spec=spec, upstream=spec.upstream, status=MirrorRun.Status.RUNNING)
    body = {"action": "run_now", "_selected_action": [spec.pk]}
    page = client.post("/admin/workers/mirrorspec/", body, follow=True).content.decode()
    assert "Already queued or running: once" in page
    assert MirrorRun.objects.filter(spec=spec).count() == 1


def test_a_spec_with_an_active_run_is_not_deleted(staff):
    spec = MirrorSpec.objects.create(name="busy-del", upstream="http://127.0.0.1:9")
    run = MirrorRun.objects.create(spec=spec, upstream=spec.upstream, status=MirrorRun.Status.RUNNING)
    resp = staff.delete("/api/v1/mirror/specs/busy-del")
    assert resp.status_code == 409 and f"run {run.pk}" in resp.json()["error"]["message"]
    MirrorRun.objects.filter(pk=run.pk).update(status=MirrorRun.Status.DONE)
    assert staff.delete("/api/v1/mirror/specs/busy-del").status_code == 204
    assert not MirrorSpec.objects.filter(name="busy-del").exists()


def test_the_admin_does_not_delete_a_spec_under_its_running_run(upstream, client):
    user = get_user_model().objects.create_user("admin2", password="x", is_staff=True, is_superuser=True)
    client.force_login(user)
    spec = MirrorSpec.objects.create(name="busy-admin", upstream=upstream.url)
    MirrorRun.objects.create(spec=spec, upstream=spec.upstream, status=MirrorRun.Status.RUNNING)
    client.post(f"/admin/workers/mirrorspec/{spec.pk}/delete/", {"post": "yes"})
    body = {"action": "delete_selected", "_selected_action": [spec.pk], "post": "yes"}
    client.post("/admin/workers/mirrorspec/", body, follow=True)
    assert MirrorSpec.objects.filter(pk=spec.pk).exists()


def test_a_task_that_fails_in_process_is_not_reported_as_a_queue_outage(caplog, monkeypatch):
    """In-process (no Redis), the send runs the task: its own error must surface as itself."""
    from workers.enqueue import send
    from workers.mirror import run as mirror_run_module
    from workers.tasks import mirror_run

    spec = MirrorSpec.objects.create(name="crash", upstream="http://127.0.0.1:9")
    run = MirrorRun.objects.create(spec=spec, upstream=spec.upstream, status=MirrorRun.Status.QUEUED)

    def crash(run_id):
        raise ZeroDivisionError("a bug in the task")

    monkeypatch.setattr(mirror_run_module, "execute", crash)
    with pytest.raises(ZeroDivisionError):
        send(mirror_run, (run.pk,), {})
    assert "task queue unavailable" not in caplog.text


@pytest.mark.parametrize(
    "upstream",
    [
        "http://user:pass@127.0.0.1:9/",
        "https://hf_secret@hub.example.org",
        "https://mirror:pw@hub.example.org:8443/",
    ],
)
def test_an_upstream_with_credentials_is_refused_everywhere(staff, upstream):
    """The spec list, the runs and every mirrored repository's ``mirrored_from`` are public: credentials
    written into the upstream URL were served to anonymous callers (and logged by the worker)."""
    from django.core.exceptions import ValidationError
    from django.core.management import CommandError, call_command

    resp = staff.post("/api/v1/mirror/specs", {"name": "creds", "upstream": upstream}, format="json")
    assert resp.status_code == 400, resp.content
    assert "token_env" in str(resp.json()["error"]["detail"])
    assert not MirrorSpec.objects.filter(name="creds").exists()
    MirrorSpec.objects.create(name="plain", upstream="https://hub.example.org")
    assert staff.patch("/api/v1/mirror/specs/plain", {"upstream": upstream}, format="json").status_code == 400

    with pytest.raises(ValidationError, match="credentials"):  # the admin's form runs the model's clean()
        MirrorSpec(name="admin-made", upstream=upstream).full_clean()

    with pytest.raises(CommandError, match="credentials"):
        call_command("mirror", "--upstream", upstream, "--repo", "a/b", "--no-progress")
    assert not MirrorRun.objects.exists()
