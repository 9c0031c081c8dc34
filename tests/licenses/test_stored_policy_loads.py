"""A policy stored before licence entries were resolved through the knowledge base must still work."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from licenses.engine.policy import UNKNOWN_KEYS, load_policy
from licenses.models import Policy, PolicyVersion
from tests.licenses.factories import analysed_model

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("entry", ["noassertion", "acme-internal-1.0"])
def test_a_previously_stored_policy_still_answers_checks(entry):
    analysed_model("acme/bert-ft", "apache-2.0", "osi-permissive", "yes")
    policy = Policy.objects.create(name="legacy")
    PolicyVersion.objects.create(
        policy=policy,
        version=1,
        document={"name": "legacy", "licenses": {"deny": [entry], "unknown": "warn"}},
    )
    answer = APIClient().post(
        "/api/v1/compliance/check", {"models": ["acme/bert-ft"], "policy": "legacy"}, format="json"
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["results"][0]["verdict"] == "allow"


@pytest.mark.parametrize("key", sorted(UNKNOWN_KEYS - {""}))
def test_every_key_the_engine_treats_as_unknown_is_accepted(key):
    load_policy({"name": "p", "licenses": {"deny": [key]}})


def test_a_new_document_still_refuses_an_unknown_licence_entry():
    from licenses.engine.policy import PolicyError

    with pytest.raises(PolicyError):
        load_policy({"name": "p", "licenses": {"deny": ["acme-internal-1.0"]}})
    answer = APIClient().post(
        "/api/v1/compliance/check",
        {"models": ["x/y"], "policy": {"name": "p", "licenses": {"deny": ["acme-internal-1.0"]}}},
        format="json",
    )
    assert answer.status_code == 400


def test_the_catalogue_filters_by_a_previously_stored_policy(client):
    analysed_model("acme/bert-ft", "apache-2.0", "osi-permissive", "yes")
    policy = Policy.objects.create(name="legacy")
    PolicyVersion.objects.create(
        policy=policy, version=1, document={"name": "legacy", "licenses": {"deny": ["acme-internal-1.0"]}}
    )
    page = client.get("/models?policy=legacy")
    assert page.status_code == 200
    assert b"acme/bert-ft" in page.content
