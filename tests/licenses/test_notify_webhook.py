"""A violation webhook that fails is logged with what it could not announce, and tried again later."""

from __future__ import annotations

import logging

import pytest
import requests

from licenses.models import Violation
from licenses.services import notify
from tests.licenses.factories import relabel_error

pytestmark = pytest.mark.django_db
HOOK = "https://hooks.example.org/services/T000/B000/s3cr3t-path"


class _Answer:
    def __init__(self, status: int):
        self.status_code = status

    def raise_for_status(self):
        if self.status_code >= 400:
            raise requests.HTTPError(f"{self.status_code}", response=self)


@pytest.fixture
def violation(settings):
    settings.MODELHUB_NOTIFY_WEBHOOK = HOOK
    settings.MODELHUB_NOTIFY_EMAILS = []
    return relabel_error()


@pytest.fixture
def hook(monkeypatch):
    """The receiver: answers each POST with the next status of ``hook.statuses``."""
    posted: list[dict] = []

    def post(url, json=None, timeout=None):
        posted.append(json)
        return _Answer(post.statuses.pop(0))

    post.statuses = []
    post.posted = posted
    monkeypatch.setattr(notify.requests, "post", post)
    return post


@pytest.fixture
def queued(monkeypatch, settings):
    """Tasks on a worker (not in-process): what the retry task was given, and when."""
    from licenses.tasks import retry_violation_webhook

    sent: list[tuple[tuple, int]] = []
    conf = retry_violation_webhook.app.conf
    eager, conf.task_always_eager = conf.task_always_eager, False
    monkeypatch.setattr(
        retry_violation_webhook,
        "apply_async",
        lambda args, kwargs=None, countdown=None: sent.append((tuple(args), countdown)),
    )
    yield sent
    conf.task_always_eager = eager


def test_a_failing_webhook_is_logged_with_the_violations_and_not_its_secret_path(violation, hook, caplog):
    hook.statuses = [500]
    with caplog.at_level(logging.WARNING, logger="licenses.services.notify"):
        assert notify.notify_violations([violation.pk]) == 0
    assert "HTTP 500" in caplog.text and f"[{violation.pk}]" in caplog.text
    assert "hooks.example.org" in caplog.text and "s3cr3t" not in caplog.text


def test_a_failing_webhook_is_tried_again_later_then_given_up(violation, hook, queued, caplog):
    hook.statuses = [503, 502, 500, 500]
    notify.notify_violations([violation.pk])
    assert queued == [(([violation.pk], 2), notify.WEBHOOK_RETRY_DELAYS[0])]
    for attempt in range(2, 2 + len(notify.WEBHOOK_RETRY_DELAYS)):
        assert notify.retry_webhook([violation.pk], attempt) is False
    assert [countdown for _, countdown in queued] == list(notify.WEBHOOK_RETRY_DELAYS)
    assert len(hook.posted) == 1 + len(notify.WEBHOOK_RETRY_DELAYS)  # then no more
    assert "given up" in caplog.text


def test_a_retry_that_gets_through_sends_the_body_once(violation, hook, queued):
    hook.statuses = [500, 200]
    notify.notify_violations([violation.pk])
    assert notify.retry_webhook([violation.pk], 2) is True
    assert hook.posted[1]["violations"][0]["id"] == violation.pk
    assert len(queued) == 1


def test_a_violation_triaged_meanwhile_is_not_retried(violation, hook, queued):
    hook.statuses = [500]
    notify.notify_violations([violation.pk])
    Violation.objects.filter(pk=violation.pk).update(status=Violation.Status.RESOLVED)
    assert notify.retry_webhook([violation.pk], 2) is True
    assert len(hook.posted) == 1


def test_a_webhook_url_with_a_malformed_port_is_still_named_in_the_log():
    from licenses.services.notify import _origin

    assert _origin("https://hooks.example.org:notaport/secret-path") == "https://hooks.example.org"
    assert _origin("https://hooks.example.org:8443/secret-path") == "https://hooks.example.org:8443"
