"""Violation notifications (webhook and e-mail) must never hold up the analysis that found them."""

from __future__ import annotations

import importlib
import signal
import socket

import pytest

pytestmark = pytest.mark.django_db


def _tarpit() -> tuple[socket.socket, int]:
    """A TCP server that accepts connections and never says a word (a hung SMTP relay)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    return srv, srv.getsockname()[1]


def test_mail_has_a_timeout_by_default():
    import hub.settings

    assert hub.settings.EMAIL_TIMEOUT == 10


def test_a_silent_smtp_relay_does_not_hang_the_notification(settings, caplog):
    from licenses.services.notify import notify_violations
    from tests.licenses.factories import relabel_error

    v = relabel_error()
    srv, port = _tarpit()
    settings.MODELHUB_NOTIFY_WEBHOOK = ""
    settings.MODELHUB_NOTIFY_EMAILS = ["legal@example.org"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_TIMEOUT = getattr(importlib.import_module("hub.settings"), "EMAIL_TIMEOUT", None)

    def hung(signum, frame):
        raise AssertionError("notify_violations hung on an SMTP server that never answers")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(30)
    try:
        assert notify_violations([v.pk]) == 0
        assert "violation e-mail failed" in caplog.text
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        srv.close()
