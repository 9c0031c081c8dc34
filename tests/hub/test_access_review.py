"""Access-request review through Django's test client: who may review, the Hub's error codes, effect on downloads."""

from __future__ import annotations

import json

import pytest

from hub.models import AccessRequest, Namespace, OrgMembership
from tests.hub.conftest import make_repo, token_for

pytestmark = pytest.mark.django_db
BASE = "/api/models/acme/gate/user-access-request"


@pytest.fixture
def org_repo(alice, bob, django_user_model, fs_store):
    """acme/gate (manual gating): alice admin, bob writer of acme; dave has a pending request."""
    org = Namespace.objects.create(name="acme", kind=Namespace.Kind.ORG)
    OrgMembership.objects.create(org=org, user=alice, role=OrgMembership.Role.ADMIN)
    OrgMembership.objects.create(org=org, user=bob, role=OrgMembership.Role.WRITE)
    repo = make_repo(alice, "tmp", {"config.json": b"{}"})
    repo.namespace, repo.name, repo.gated = org, "gate", "manual"
    repo.save(update_fields=["namespace", "name", "gated"])
    dave = django_user_model.objects.create_user("dave")
    AccessRequest.objects.create(repository=repo, user=dave)
    return repo


def auth(user, write: bool = True) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token_for(user, write=write)}"}


def post(client, path: str, body: dict, who: dict):
    return client.post(f"{BASE}/{path}", json.dumps(body), content_type="application/json", **who)


def test_only_namespace_admins_review(client, org_repo, alice, bob):
    assert client.get(f"{BASE}/pending").status_code == 401
    writer = client.get(f"{BASE}/pending", **auth(bob))
    assert writer.status_code == 403  # write access is not enough: reviewing is an admin's job
    assert post(client, "handle", {"user": "dave", "status": "accepted"}, auth(bob)).status_code == 403
    assert post(client, "grant", {"user": "bob"}, auth(bob)).status_code == 403
    listed = client.get(f"{BASE}/pending", **auth(alice))
    assert listed.status_code == 200 and [r["user"]["user"] for r in listed.json()] == ["dave"]
    # A read-only token of an admin may look but not decide.
    assert client.get(f"{BASE}/pending", **auth(alice, write=False)).status_code == 200
    assert (
        post(client, "handle", {"user": "dave", "status": "accepted"}, auth(alice, write=False)).status_code
        == 403
    )


def test_private_gated_repo_is_404_to_outsiders(client, org_repo, django_user_model):
    org_repo.private = True
    org_repo.save(update_fields=["private"])
    outsider = auth(django_user_model.objects.create_user("eve"))
    resp = client.get(f"{BASE}/pending", **outsider)
    assert resp.status_code == 404 and resp["X-Error-Code"] == "RepoNotFound"
    assert post(client, "grant", {"user": "eve"}, outsider).status_code == 404


def test_decisions_follow_the_hub_rules(client, org_repo, alice):
    admin = auth(alice)
    dave_id = client.get(f"{BASE}/pending", **admin).json()[0]["requestId"]
    # By request id, as newer clients can.
    assert post(client, "handle", {"requestId": dave_id, "status": "accepted"}, admin).status_code == 200
    again = post(client, "handle", {"user": "dave", "status": "accepted"}, admin)
    assert again.status_code == 404  # already in the accepted list
    assert post(client, "handle", {"user": "ghost", "status": "accepted"}, admin).status_code == 404
    assert (
        post(client, "handle", {"user": "alice", "status": "accepted"}, admin).status_code == 404
    )  # no request
    assert post(client, "handle", {"user": "dave", "status": "maybe"}, admin).status_code == 400
    reason_on_accept = post(
        client, "handle", {"user": "dave", "status": "pending", "rejectionReason": "x"}, admin
    )
    assert reason_on_accept.status_code == 400
    rejected = post(
        client, "handle", {"user": "dave", "status": "rejected", "rejectionReason": "sorry"}, admin
    )
    assert rejected.status_code == 200 and rejected.json()["rejectionReason"] == "sorry"
    row = AccessRequest.objects.get(repository=org_repo, user__username="dave")
    assert row.status == "rejected" and row.decided_by == alice and row.rejection_reason == "sorry"
    assert post(client, "grant", {"user": "dave"}, admin).status_code == 200
    assert post(client, "grant", {"user": "dave"}, admin).status_code == 409
    org_repo.gated = ""
    org_repo.save(update_fields=["gated"])
    assert client.get(f"{BASE}/pending", **admin).status_code == 400  # not gated


def test_decisions_take_effect_on_downloads(client, org_repo, alice, django_user_model):
    dave = auth(django_user_model.objects.get(username="dave"))
    assert client.get("/acme/gate/resolve/main/config.json", **dave).status_code == 403
    post(client, "handle", {"user": "dave", "status": "accepted"}, auth(alice))
    assert client.get("/acme/gate/resolve/main/config.json", **dave).status_code == 200
    post(client, "handle", {"user": "dave", "status": "pending"}, auth(alice))  # cancel revokes
    assert client.get("/acme/gate/resolve/main/config.json", **dave).status_code == 403


def test_listing_pages_with_link(client, org_repo, alice, django_user_model, settings):
    settings.MODELHUB_API_PAGE_SIZE = 2
    for i in range(3):
        AccessRequest.objects.create(repository=org_repo, user=django_user_model.objects.create_user(f"u{i}"))
    first = client.get(f"{BASE}/pending", **auth(alice))
    assert len(first.json()) == 2 and 'rel="next"' in first["Link"]
    nxt = first["Link"].split(">")[0].lstrip("<").replace("http://testserver", "")
    second = client.get(nxt, **auth(alice))
    names = [r["user"]["user"] for r in first.json() + second.json()]
    assert names == ["dave", "u0", "u1", "u2"] and "Link" not in second
