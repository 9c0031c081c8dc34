"""How the ``Authorization`` header is read, on the Hub API and the native API alike, and how the
API's anonymous throttle finds the client's address.

Before: a token sent as git sends it (``Basic`` with the token as password), or after a tab, or a
``Bearer`` header with no token, was silently ignored, so a private repository answered 404 as to
a stranger; and any client could reset the anonymous rate limit by sending its own
``X-Forwarded-For``.
"""

from __future__ import annotations

import base64

import pytest
from django.core.cache import cache

from hub.auth import bearer_from_header
from tests.hub.conftest import make_repo, token_for

pytestmark = pytest.mark.django_db

HUB = "/api/models/alice/secret"
NATIVE = "/api/v1/repos/alice/secret"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def secret(alice, fs_store):
    return make_repo(alice, "secret", {"config.json": b"{}"}, private=True)


@pytest.fixture
def token(alice):
    return token_for(alice, write=False)


@pytest.mark.parametrize("url", [HUB, NATIVE])
@pytest.mark.parametrize(
    "header",
    [
        "Bearer {t}",
        "bearer {t}",
        "Bearer   {t}  ",
        "Bearer\t{t}",
        "basic:alice:{t}",  # git-credential: user name and the token as password
        "basic:anything:{t}",  # the Hub ignores the user name
        "basic:{t}:",  # token as the user name, no password (https://TOKEN@host/…)
    ],
)
def test_the_token_is_taken_from_every_spelling_clients_send(client, secret, token, url, header):
    if header.startswith("basic:"):
        _, user, password = header.format(t=token).split(":", 2)
        value = basic(user, password)
    else:
        value = header.format(t=token)
    assert client.get(url, HTTP_AUTHORIZATION=value).status_code == 200


@pytest.mark.parametrize("url", [HUB, NATIVE])
@pytest.mark.parametrize(
    "header",
    [
        "Bearer",  # the token variable was empty
        "Bearer ",
        "Token {t}",  # GitHub's scheme
        "{t}",  # no scheme at all
        "Bearer {t} extra",
        "Bearer mh_" + "a" * 5000,  # very long: refused without hashing it
        "basic:alice:mh_not-a-token",
    ],
)
def test_a_credential_that_cannot_be_used_is_a_401_never_anonymous(client, secret, token, url, header):
    if header.startswith("basic:"):
        _, user, password = header.split(":", 2)
        value = basic(user, password)
    else:
        value = header.format(t=token)
    response = client.get(url, HTTP_AUTHORIZATION=value)
    assert response.status_code == 401, (value[:40], response.status_code)


@pytest.mark.parametrize("url", [HUB, NATIVE])
def test_a_proxys_own_basic_credentials_are_left_alone(client, secret, url):
    """A reverse proxy's password (Basic, no token in it) is not ours: anonymous, as before."""
    public = url.replace("secret", "open")
    response = client.get(public, HTTP_AUTHORIZATION=basic("staff", "proxy-password"))
    assert response.status_code == 404  # the same as without the header: nothing there, no 401
    assert client.get(url, HTTP_AUTHORIZATION="Basic !!!not-base64").status_code == 404


def test_header_parser_outcomes():
    assert bearer_from_header(None) is None
    assert bearer_from_header("") is None
    assert bearer_from_header("Bearer \t mh_x ") == "mh_x"
    assert bearer_from_header("Bearer") == ""
    assert bearer_from_header("Digest username=x") is None
    assert bearer_from_header("Token mh_x") == ""
    assert bearer_from_header(basic("u", "mh_x")) == "mh_x"
    assert bearer_from_header(basic("u", "not-a-token")) is None


def test_a_write_token_sent_as_basic_can_push_and_a_read_one_cannot(client, alice, fs_store):
    write, read = token_for(alice, write=True), token_for(alice, write=False)
    body = {"name": "pushed"}
    refused = client.post("/api/repos/create", body, "application/json", HTTP_AUTHORIZATION=basic("a", read))
    assert refused.status_code == 403
    made = client.post("/api/repos/create", body, "application/json", HTTP_AUTHORIZATION=basic("a", write))
    assert made.status_code == 200


@pytest.fixture
def api_rate(settings):
    settings.MODELHUB_API_RATE = "3/min"
    cache.clear()
    yield settings
    cache.clear()


def test_a_spoofed_x_forwarded_for_does_not_reset_the_anonymous_rate_limit(client, api_rate):
    codes = [client.get("/api/v1/ping", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code for i in range(5)]
    assert codes == [200, 200, 200, 429, 429]


def test_behind_a_trusted_proxy_the_api_limits_each_client_apart(client, api_rate):
    api_rate.REST_FRAMEWORK = {**api_rate.REST_FRAMEWORK, "NUM_PROXIES": 1}  # MODELHUB_TRUSTED_PROXIES=1
    one = [
        client.get("/api/v1/ping", HTTP_X_FORWARDED_FOR=f"6.6.6.{i}, 198.51.100.7").status_code
        for i in range(4)
    ]
    assert one == [200, 200, 200, 429]  # forging the first entry does not help
    assert client.get("/api/v1/ping", HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 200


def test_tokens_match_the_pattern_documented_for_secret_scanners(alice):
    """docs/hub-api.md gives ``mh_[A-Za-z0-9_-]{40}`` for GitHub secret scanning, gitleaks …"""
    import re

    for _ in range(50):
        assert re.fullmatch(r"mh_[A-Za-z0-9_-]{40}", token_for(alice))
