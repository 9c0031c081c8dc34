"""A catalogue page whose database is gone answers 503 with Retry-After, not Django's 500."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper

pytestmark = pytest.mark.django_db


def _database_gone(*args, **kwargs):
    raise OperationalError('connection to server at "db.internal" (10.0.0.7), port 5432 failed')


@pytest.mark.parametrize("path", ["/models", "/acme/some-model", "/violations"])
def test_pages_answer_503_while_the_database_is_down(client, monkeypatch, caplog, path):
    monkeypatch.setattr(CursorWrapper, "execute", _database_gone)
    response = client.get(path)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.content.decode()
    assert (
        "database is unavailable" in body and "db.internal" not in body
    )  # the driver's text stays in the log
    assert any("db.internal" in r.getMessage() for r in caplog.records if r.name == "hub.errors_http")


def test_other_errors_still_reach_the_error_page(client, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("a bug, not an outage")

    monkeypatch.setattr(CursorWrapper, "execute", broken)
    client.raise_request_exception = False
    assert client.get("/models").status_code == 500
