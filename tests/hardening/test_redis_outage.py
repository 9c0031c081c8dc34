"""Redis down, or Redis that stops answering: pages, the API and commits still answer.

Redis is only a cache and the task queue here; what matters lives in the database. Two
outages are staged without touching the shared Redis: a port nobody listens on (refused at
once) and a "black hole" that accepts connections and never replies, which is what a
network partition or a failover looks like to a client and which, without socket timeouts,
held a request for ever.
"""

from __future__ import annotations

import socket
import threading

import pytest

from hub.config import redis_cache
from tests.services import free_port

pytestmark = [pytest.mark.django_db(transaction=True)]

README = b"---\nlicense: apache-2.0\n---\n# Outage test\n"


class BlackHole:
    """A TCP listener that accepts every connection and never sends a byte."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def hole():
    hole = BlackHole()
    yield hole
    hole.close()


@pytest.fixture
def closed_circuit():
    from hub import cache

    cache.circuit.open_until = 0.0
    yield cache.circuit
    cache.circuit.open_until = 0.0


@pytest.fixture
def redis_cache_at(settings, closed_circuit):
    def point(url: str, timeout: float = 0.5) -> None:
        settings.CACHES = {"default": redis_cache(url, timeout)}  # Django drops its cache handlers

    return point


def test_catalogue_and_api_answer_while_redis_refuses_connections(client, redis_cache_at, caplog):
    """Was: /models and every /api/v1/ request (DRF's throttle reads the cache) answered 500."""
    redis_cache_at(f"redis://127.0.0.1:{free_port()}/0")
    assert client.get("/models").status_code == 200
    assert client.get("/api/v1/ping").status_code == 200
    assert client.get("/api/v1/policies").status_code == 200
    warnings = [r for r in caplog.records if r.name == "hub.cache"]
    assert len(warnings) == 1  # one line per outage window, not a traceback per cache call
    assert "Check that Redis is running" in warnings[0].getMessage()


def test_a_silent_redis_costs_one_timeout_then_is_skipped(client, redis_cache_at, hole, closed_circuit):
    """Was: each cache call waited for ever on a Redis that accepted and never answered."""
    redis_cache_at(hole.url, timeout=0.3)
    assert client.get("/models").status_code == 200  # several cache calls: only the first waits
    assert closed_circuit.is_open()
    connections = len(hole.accepted)
    assert connections == 1
    assert client.get("/api/v1/ping").status_code == 200
    assert client.get("/models").status_code == 200
    assert len(hole.accepted) == connections  # while open, Redis is not asked at all

    closed_circuit.open_until = 0.0  # the window is over: the next call tries Redis again
    assert client.get("/api/v1/ping").status_code == 200
    assert closed_circuit.is_open()


def test_the_outage_warning_names_host_and_port_but_no_password(client, redis_cache_at, caplog):
    port = free_port()
    redis_cache_at(f"redis://admin:s3cr3t-pass@127.0.0.1:{port}/0")
    client.get("/models")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"127.0.0.1:{port}" in logged
    assert "s3cr3t-pass" not in logged and "admin" not in logged


def test_a_commit_lands_while_the_broker_never_answers(live_server, django_user_model, hole, broker_at):
    """Was: the commit was stored, then its analysis's publish waited for ever, so the client saw
    its request hang until the web server killed it, and retried a commit that had landed."""
    from hub.auth import mint_token
    from hub.models import RevisionAnalysis
    from tests.hardening.hubwire import HubWire

    user = django_user_model.objects.create_user("writer", email="writer@example.com")
    writer = HubWire(live_server.url, mint_token(user, scope="write", name="outage")[0])
    repo_id = writer.create_repo("silent-broker")
    broker_at(hole.url)

    sha = writer.commit(repo_id, files={"README.md": README})  # answers: the socket timeout bounds the send
    assert hole.accepted  # the send really went to the silent broker
    assert RevisionAnalysis.objects.get(commit__sha=sha).status == RevisionAnalysis.Status.PENDING
    assert writer.download(repo_id, "README.md") == README


def test_tasks_never_wait_on_the_result_backend_when_sent():
    """Nothing reads task results; asking for one made each send subscribe to Redis first."""
    from django.conf import settings

    from workers.celery import app

    assert app.conf.task_ignore_result is True
    assert app.conf.task_store_errors_even_if_ignored is True
    options = app.conf.broker_transport_options
    assert options["socket_timeout"] == options["socket_connect_timeout"] == settings.REDIS_TIMEOUT
