"""Catalogue and account pages fed odd input: clean answers, never a 500 (exploratory testing,
session 8), and the organisation never left without an admin."""

from __future__ import annotations

import pytest

from hub.models import Namespace, OrgMembership
from licenses.models import Violation
from tests.frontend.catalogue_data import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query", ["tmin=inf", "tmax=-inf", "tmin=1e309", "disclosure=inf", "search=tiny&p=inf"]
)
def test_catalogue_number_filters_ignore_values_without_an_integer(client, catalogue, query):
    assert client.get(f"/models?{query}").status_code == 200


def test_triage_form_ignores_ids_that_are_not_plain_numbers(client, catalogue):
    client.login(username="alice", password=PASSWORD)
    target = catalogue.violations["acme/support-bot-8b:naming-requirement"]
    response = client.post(
        "/violations/triage",
        {"ids": ["\u00b2", "9" * 40, str(target.pk), str(target.pk), "999999"], "action": "acknowledge", "reason": "x"},
        follow=True,
    )  # fmt: skip
    assert response.status_code == 200
    html = response.content.decode()
    # the duplicate is one violation, and an id naming nothing is no permission refusal
    assert "1 violation(s) updated" in html and "skipped" not in html
    assert Violation.objects.get(pk=target.pk).status == "acknowledged"


@pytest.mark.parametrize(
    "form", [{"org": "abc"}, {"org": ""}, {"org": "1.5"}, {"org": "ORG", "remove": "abc"}]
)
def test_organisation_form_with_malformed_ids_is_not_found(client, catalogue, form):
    acme = Namespace.objects.get(name="acme")
    OrgMembership.objects.filter(org=acme, user=catalogue.alice).update(role="admin")
    client.login(username="alice", password=PASSWORD)
    data = {k: (str(acme.pk) if v == "ORG" else v) for k, v in form.items()}
    assert client.post("/settings/organizations", data).status_code == 404


def test_the_last_admin_cannot_step_down(client, catalogue):
    acme = Namespace.objects.get(name="acme")
    OrgMembership.objects.filter(org=acme).exclude(user=catalogue.alice).update(role="write")
    OrgMembership.objects.filter(org=acme, user=catalogue.alice).update(role="admin")
    client.login(username="alice", password=PASSWORD)
    response = client.post(
        "/settings/organizations", {"org": acme.pk, "username": "alice", "role": "read"}, follow=True
    )
    assert "only admin" in response.content.decode()
    assert OrgMembership.objects.get(org=acme, user=catalogue.alice).role == "admin"
    # with a second admin, stepping down is fine
    OrgMembership.objects.update_or_create(org=acme, user=catalogue.bob, defaults={"role": "admin"})
    client.post("/settings/organizations", {"org": acme.pk, "username": "alice", "role": "read"})
    assert OrgMembership.objects.get(org=acme, user=catalogue.alice).role == "read"


def test_sign_in_link_on_the_login_page_does_not_point_back_to_itself(client, catalogue):
    html = client.get("/login").content.decode()
    assert "next=/login" not in html and "next=%2Flogin" not in html
    assert "next=/models" in client.get("/models").content.decode().replace("%2F", "/")


def test_static_files_are_served_without_debug(client, settings):
    """scripts/serve.sh runs without DEBUG and nothing ran collectstatic: pages must still get their CSS."""
    assert settings.DEBUG is False
    response = client.get("/static/frontend/site.css")
    assert response.status_code == 200
    assert b"".join(response.streaming_content if response.streaming else [response.content])


@pytest.mark.parametrize(("key", "spdx"), [("none", "NONE"), ("unknown", "NOASSERTION")])
def test_the_no_licence_keys_have_pages(client, catalogue, key, spdx):
    """Model pages link every licence key, and the contract's none/unknown name no licence text."""
    response = client.get(f"/licenses/{key}")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"<code>{spdx}</code>" in html


def test_every_licence_link_on_a_model_page_resolves(client, catalogue):
    import re

    html = client.get("/someone/no-license-model").content.decode()
    links = set(re.findall(r'href="(/licenses/[^"?#]+)"', html))
    assert links and all(client.get(link).status_code == 200 for link in links)
