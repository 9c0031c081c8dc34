"""Follow-up work survives a broker outage: re-judging descendants and announcing new errors.

A real ``redis-server`` of the test's own is the broker. A worker has taken the analysis of a
parent whose licence just changed (apache-2.0 → cc-by-nc-4.0) when Redis goes away: the analysis
is stored, but the work it starts — re-judging the parent's fine-tune, announcing the error that
fine-tune now has — cannot be sent. Before the task outbox that work was logged and dropped: the
child kept its clean verdict until some unrelated event re-analysed it. Now it waits as rows in
``workers_outboxmessage`` and the beat sweep sends it once Redis is back.

The "worker" here takes messages from the real Redis and runs them in the test process (the
tasks' own code; what they send goes back through Redis), so the test runs on SQLite and
PostgreSQL alike and needs no timing.
"""

from __future__ import annotations

import json
import shutil
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth import get_user_model

from hub.auth import Caller
from hub.models import Repository
from licenses.models import Violation
from tests.hardening.test_faults import _start_redis, _stop
from tests.licenses.test_reevaluation_batch import card, make, push
from tests.services import free_port, unavailable

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]

#: The beat entries that re-send lost work (the analyses' sweep, and the outbox's where it exists).
SWEEPS = ("hub.requeue_pending_analyses", "workers.send_outbox")


class Receiver(BaseHTTPRequestHandler):
    """The webhook's receiver: records every POSTed body."""

    bodies: list[dict]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def webhook(settings):
    """A webhook receiver on loopback, configured as the violation webhook (and an e-mail list)."""
    bodies: list[dict] = []
    handler = type("Handler", (Receiver,), {"bodies": bodies})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.MODELHUB_NOTIFY_WEBHOOK = f"http://127.0.0.1:{server.server_address[1]}/hook"
    settings.MODELHUB_NOTIFY_EMAILS = ["legal@example.org"]
    yield bodies
    server.shutdown()
    server.server_close()


@dataclass
class Redis:
    port: int
    proc: object = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = _start_redis(self.port)  # empty: no persistence, like a failed-over Redis

    def stop(self) -> None:
        _stop(self.proc)


@pytest.fixture
def redis():
    if shutil.which("redis-server") is None:
        unavailable("Redis", "redis-server is not installed")
    server = Redis(free_port())
    server.start()
    yield server
    server.stop()


def take(app) -> list[tuple[str, list, dict]]:
    """Every message waiting in the default queue, as a worker receives them (removed from Redis)."""
    taken = []
    with app.connection_for_read() as conn:
        queue = conn.SimpleQueue(app.conf.task_default_queue)
        try:
            while True:
                try:
                    message = queue.get(block=False)
                except queue.Empty:
                    return taken
                args, kwargs, _ = message.decode()
                taken.append((message.headers["task"], args, kwargs))
                message.ack()
        finally:
            queue.close()


def run(app, messages: list[tuple[str, list, dict]]) -> None:
    for name, args, kwargs in messages:
        app.tasks[name](*args, **kwargs)


def work(app, rounds: int = 20) -> list[str]:
    """Run what the queue holds, and what that sends, until the queue is empty; the task names run."""
    ran: list[str] = []
    for _ in range(rounds):
        messages = take(app)
        if not messages:
            return ran
        run(app, messages)
        ran += [name for name, _, _ in messages]
    raise AssertionError(f"the queue never emptied: {ran}")


def beat(app) -> None:
    """One pass of the sweeps that re-send lost work (those this code base has)."""
    app.loader.import_default_modules()  # every app's tasks module, as a worker or beat loads them
    for name in SWEEPS:
        if name in app.tasks:
            app.tasks[name]()


def announced(bodies: list[dict]) -> list[int]:
    return [v["id"] for body in bodies for v in body["violations"]]


def test_a_relicensed_parents_follow_ups_survive_the_broker_going_away(
    redis, broker_at, webhook, mailoutbox, monkeypatch
):
    from hub import tasks as hub_tasks
    from workers.celery import app

    caller = Caller(get_user_model().objects.create_user("owner", is_superuser=True))
    parent = make(caller, "base/parent-model", card("apache-2.0"))  # in-process: analysed at once
    child = make(caller, "org/parent-ft", card("apache-2.0", "base/parent-model"))
    assert not Violation.objects.filter(repository=child, severity="error").exists()  # allowed today
    mailoutbox.clear()
    webhook.clear()

    broker_at(redis.url)  # from here on, tasks go through the real Redis, as in production
    monkeypatch.setattr(hub_tasks, "REQUEUE_GRACE_SECONDS", 0)
    push(parent, card("cc-by-nc-4.0"))  # the parent is relicensed non-commercial
    received = take(app)
    assert [name for name, _, _ in received] == ["hub.analyze_revision"]  # a worker takes the analysis
    redis.stop()  # ... and Redis goes away while it runs
    run(app, received)
    parent.refresh_from_db()
    assert parent.latest_analysis.license_key == "cc-by-nc-4.0"  # the analysis itself is stored
    assert not Violation.objects.filter(repository=child, severity="error").exists()  # not yet re-judged

    redis.start()  # Redis is back, empty: whatever was not sent is not there either
    beat(app)
    work(app)

    child.refresh_from_db()
    errors = Violation.objects.filter(repository=child, severity="error", status="open")
    assert errors.exists(), "the child kept the verdict it had under its parent's old licence"
    assert child.latest_analysis.n_errors == errors.count()  # its stored analysis re-judged too
    ids = announced(webhook)
    assert set(errors.values_list("pk", flat=True)) <= set(ids)
    assert len(ids) == len(set(ids))  # each new error announced once ...
    assert len(mailoutbox) == len(webhook)  # ... on each channel

    # Another sweep finds nothing to send; a duplicate delivery of the notification (a re-send after
    # a send the broker had in fact accepted) announces nothing again.
    beat(app)
    assert work(app) == []
    from licenses.tasks import notify_new_errors

    notify_new_errors.delay(ids)
    assert work(app) == ["licenses.notify_new_errors"]
    assert announced(webhook) == ids
    assert len(mailoutbox) == len(webhook)


def test_making_a_parent_private_while_the_broker_is_down_still_re_judges_its_children(redis, broker_at):
    """The visibility change enqueues the re-judging from the request itself (no analysis runs)."""
    from workers.celery import app

    caller = Caller(get_user_model().objects.create_user("owner", is_superuser=True))
    parent = make(caller, "base/research-model", card("cc-by-nc-4.0"))
    child = make(caller, "org/research-ft", card("apache-2.0", "base/research-model"))
    assert Violation.objects.filter(repository=child, severity="error", status="open").exists()

    broker_at(redis.url)
    redis.stop()
    parent.private = True
    parent.save(update_fields=["private"])  # the parent's licence must stop deciding its child's verdict
    redis.start()
    beat(app)
    work(app)
    assert not Violation.objects.filter(repository=child, severity="error", status="open").exists()
    assert Repository.objects.get(pk=child.pk).latest_analysis.n_errors == 0
