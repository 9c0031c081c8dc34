"""Listing counts: exact up to the cap, and on PostgreSQL the planner's estimate once counting overruns."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from frontend import counting
from frontend.catalogue import base_queryset
from tests.services import unavailable

pytestmark = pytest.mark.django_db


def _timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return cursor.fetchone()[0]


def test_exact_below_the_cap_and_capped_above(catalogue):
    qs = base_queryset(AnonymousUser())
    total = qs.count()
    assert counting.bounded_count(qs, total) == counting.Tally(total)
    assert counting.bounded_count(qs, total - 1) == counting.Tally(total - 1, capped=True)
    assert counting.bounded_count(qs.filter(license_class="noncommercial"), 100) == counting.Tally(
        qs.filter(license_class="noncommercial").count()
    )


@pytest.mark.services
def test_an_overrunning_count_gives_the_estimate(catalogue, monkeypatch):
    if connection.vendor != "postgresql":
        unavailable("PostgreSQL", f"DATABASE_URL points at {connection.vendor}, not PostgreSQL")
    before = _timeout()
    qs = base_queryset(AnonymousUser())
    assert counting.bounded_count(qs, 1000) == counting.Tally(qs.count())  # within the budget: exact
    assert _timeout() == before  # and the budget does not outlive the count
    monkeypatch.setattr(counting, "COUNT_BUDGET_MS", 5)
    slow = qs.extra(where=["(SELECT 1 FROM pg_sleep(0.01)) = 1"])  # 10 ms per row: overruns 5 ms
    tally = counting.bounded_count(slow, 1000)
    assert tally.approx and not tally.capped and tally.n >= 0
    assert _timeout() == before
    assert qs.count() > 0  # the enclosing transaction is still usable


def test_an_estimated_count_is_labelled(client, catalogue, monkeypatch):
    monkeypatch.setattr("frontend.catalogue.capped_count", lambda qs: counting.Tally(1200, approx=True))
    html = client.get("/models?license_class=osi-permissive").content.decode()
    assert "<strong>about 1,200</strong> models" in html
