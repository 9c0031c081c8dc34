"""Sign-in, tokens (create once-shown, list, revoke) and organisation membership."""

from __future__ import annotations

import pytest

from hub.auth import lookup_token
from hub.models import ApiToken, Namespace, OrgMembership
from tests.frontend.catalogue_data import PASSWORD

pytestmark = pytest.mark.django_db


def test_sign_in_and_out(client, catalogue):
    response = client.post("/login", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert "Sign out" in client.get("/models").content.decode()
    client.post("/logout")
    assert "Sign in" in client.get("/models").content.decode()


def test_wrong_password_is_refused(client, catalogue):
    response = client.post("/login", {"username": "alice", "password": "nope"})
    assert response.status_code == 200 and "do not match" in response.content.decode()


def test_tokens_need_sign_in(client, catalogue):
    assert client.get("/settings/tokens")["Location"].startswith("/login")


def test_create_list_and_revoke_a_token(client, catalogue):
    client.login(username="bob", password=PASSWORD)
    response = client.post("/settings/tokens", {"name": "ci", "scope": "write"})
    html = response.content.decode()
    row = ApiToken.objects.get(user=catalogue.bob, name="ci")
    token = html.split('id="new-token-value" class="token-value" readonly value="')[1].split('"')[0]
    assert token.startswith(row.prefix) and lookup_token(token).pk == row.pk and row.can_write
    assert response["Cache-Control"] == "no-store"
    listing = client.get("/settings/tokens").content.decode()
    assert row.prefix in listing and token not in listing  # shown once only
    client.post(f"/settings/tokens/{row.pk}/revoke")
    assert lookup_token(token) is None
    assert "revoked" in client.get("/settings/tokens").content.decode()


def test_cannot_revoke_someone_elses_token(client, catalogue):
    from hub.auth import mint_token

    token, row = mint_token(catalogue.alice, name="alice's")
    client.login(username="bob", password=PASSWORD)
    assert client.post(f"/settings/tokens/{row.pk}/revoke").status_code == 404
    assert lookup_token(token) is not None
    assert client.get(f"/settings/tokens/{row.pk}/revoke").status_code == 405


def test_organisation_page_and_admin_adds_member(client, catalogue):
    acme = Namespace.objects.get(name="acme")
    client.login(username="alice", password=PASSWORD)
    html = client.get("/settings/organizations").content.decode()
    assert "acme" in html and "1 private repo" in html
    # alice writes but is not admin: she cannot add members
    assert (
        client.post(
            "/settings/organizations", {"org": acme.pk, "username": "bob", "role": "read"}
        ).status_code
        == 404
    )
    OrgMembership.objects.filter(org=acme, user=catalogue.alice).update(role="admin")
    client.post("/settings/organizations", {"org": acme.pk, "username": "bob", "role": "read"})
    assert OrgMembership.objects.filter(org=acme, user=catalogue.bob, role="read").exists()
    client.logout()
    client.login(username="bob", password=PASSWORD)
    assert client.get("/acme/internal-secret-model").status_code == 200
