"""Races on the licences side, forced on PostgreSQL (``tests.races``): policies saved by two web
processes at once, violations triaged from the API and the web queue at once, analyses and
re-evaluations storing violations at once.

Each test pauses one transaction before it commits and lets the other run into it; the expected
outcome is the one the two requests would have had one after the other.
"""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from rest_framework.test import APIClient

from hub.auth import mint_token
from licenses.models import Policy
from tests.races import require_postgresql, start, wait_for_lock_waiters

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

POLICY = {"name": "saas", "use": {"commercial": True}, "licenses": {"deny_classes": ["noncommercial"]}}


@pytest.fixture
def staff_api():
    cache.clear()  # the API's throttle counts per token in the cache
    staff = get_user_model().objects.create_user("staff", is_staff=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {mint_token(staff, scope='write')[0]}")
    return client


def _paused_in_transaction(work, ready: threading.Event, release: threading.Event):
    """``work()`` inside a transaction that stays open (its locks held) until ``release``."""

    def run():
        with transaction.atomic():
            result = work()
            ready.set()
            assert release.wait(30)
        return result

    return run


def test_two_versions_saved_at_once_are_numbered_one_after_the_other():
    """Two saves of a policy at once (two PUTs, or a PUT and the admin) both read the same highest
    version; the second insert broke the (policy, version) constraint: a 500, the save lost."""
    require_postgresql()
    policy = Policy.objects.create(name="saas")
    policy.add_version(POLICY, None)
    ready, release = threading.Event(), threading.Event()
    first = start(_paused_in_transaction(lambda: policy.add_version(POLICY, None, "first"), ready, release))
    assert ready.wait(30)
    second = start(lambda: Policy.objects.get(pk=policy.pk).add_version(POLICY, None, "second"))
    wait_for_lock_waiters(1)
    release.set()
    assert first.outcome().version == 2
    assert second.outcome().version == 3


def test_a_put_racing_another_put_keeps_both_versions_and_answers_200(staff_api):
    require_postgresql()
    Policy.objects.create(name="saas").add_version(POLICY, None)
    ready, release = threading.Event(), threading.Event()
    holder = start(
        _paused_in_transaction(
            lambda: Policy.objects.get(name="saas").add_version(POLICY, None), ready, release
        )
    )
    assert ready.wait(30)
    put = start(lambda: staff_api.put("/api/v1/policies/saas", {"document": POLICY}, format="json"))
    wait_for_lock_waiters(1)
    release.set()
    holder.outcome()
    assert put.outcome().status_code == 200
    assert sorted(Policy.objects.get(name="saas").versions.values_list("version", flat=True)) == [1, 2, 3]


@pytest.mark.parametrize("other", ["saas", "SaaS"])
def test_a_policy_created_twice_at_once_is_one_policy_and_a_409(staff_api, other):
    """Both creations pass the name check before either commits. The same name broke the unique
    index (a 500); names differing in case both went in, two policies a check could not tell
    apart. Now the database refuses the second and the API answers 409 ``policy-exists``."""
    require_postgresql()
    ready, release = threading.Event(), threading.Event()
    holder = start(_paused_in_transaction(lambda: Policy.objects.create(name="saas"), ready, release))
    assert ready.wait(30)
    post = start(
        lambda: staff_api.post("/api/v1/policies", {"document": {**POLICY, "name": other}}, format="json")
    )
    wait_for_lock_waiters(1)  # the second insert waits on the first's index entry
    release.set()
    holder.outcome()
    answer = post.outcome()
    assert answer.status_code == 409, answer.content
    assert answer.json()["error"]["code"] == "policy-exists"
    assert list(Policy.objects.values_list("name", flat=True)) == ["saas"]
