"""docs/compliance-api.md: "Policies are also editable in the admin (`/admin/`)". They were not
registered there at all (404). Each save of a changed document stores a new version, validated as
the API validates it, and the next check uses it."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from licenses.models import Policy
from tests.licenses.factories import analysed_model

pytestmark = pytest.mark.django_db


def _form(name: str, document, comment: str = "") -> dict:
    return {
        "name": name,
        "description": "prod",
        "document": json.dumps(document),
        "comment": comment,
        "versions-TOTAL_FORMS": "0",
        "versions-INITIAL_FORMS": "0",
        "versions-MIN_NUM_FORMS": "0",
        "versions-MAX_NUM_FORMS": "1000",
    }


def test_policies_are_created_versioned_and_validated_in_the_admin(admin_client):
    analysed_model("acme/nc-model", "cc-by-nc-4.0", "noncommercial", "no")
    assert admin_client.get("/admin/licenses/policy/").status_code == 200

    doc = {"name": "ignored", "use": {"commercial": True}, "licenses": {"unknown": "warn"}}
    r = admin_client.post("/admin/licenses/policy/add/", _form("saas", doc, "first"))
    assert r.status_code == 302, r.content[:2000]
    policy = Policy.objects.get(name="saas")
    assert [(v.version, v.document["name"], v.comment) for v in policy.versions.all()] == [
        (1, "saas", "first")
    ]

    # an invalid document is refused, naming the field, and stores nothing
    bad = {"use": {"commercial": True}, "licenses": {"unknown": "maybe"}}
    r = admin_client.post(f"/admin/licenses/policy/{policy.pk}/change/", _form("saas", bad))
    assert r.status_code == 200 and b"licenses.unknown" in r.content
    assert policy.versions.count() == 1

    # a changed document is a new version; the check uses it at once
    deny_nc = {"use": {"commercial": True}, "licenses": {"deny_classes": ["noncommercial"]}}
    r = admin_client.post(f"/admin/licenses/policy/{policy.pk}/change/", _form("saas", deny_nc, "deny NC"))
    assert r.status_code == 302
    assert list(policy.versions.order_by("version").values_list("version", flat=True)) == [1, 2]
    answer = APIClient().post(
        "/api/v1/compliance/check", {"models": ["acme/nc-model"], "policy": "saas"}, format="json"
    )
    assert answer.json()["policy"] == "saas@v2"
    assert answer.json()["results"][0]["verdict"] == "deny"

    # saving the same document again (e.g. only the description changed) adds no version
    r = admin_client.post(f"/admin/licenses/policy/{policy.pk}/change/", _form("saas", deny_nc))
    assert r.status_code == 302 and policy.versions.count() == 2

    # a second policy whose name differs only in case is refused
    r = admin_client.post("/admin/licenses/policy/add/", _form("SaaS", deny_nc))
    assert r.status_code == 200 and b"compared without case" in r.content
    assert Policy.objects.count() == 1
