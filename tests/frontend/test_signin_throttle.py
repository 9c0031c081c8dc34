"""Sign-in throttling (hub.signin): per account, per client address, on /login and /admin/login/.

Before it, both login views tested every password sent to them: 30 wrong passwords and then the
right one signed in, from one address, with nothing logged but the requests.
"""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


@pytest.fixture
def alice(django_user_model, fast_passwords):
    return django_user_model.objects.create_user("alice", password=PASSWORD, is_staff=True)


@pytest.fixture
def limits(settings):
    settings.MODELHUB_LOGIN_ACCOUNT_FAILURES = 3
    settings.MODELHUB_LOGIN_ADDRESS_FAILURES = 6
    settings.MODELHUB_LOGIN_WINDOW = 600
    return settings


def sign_in(client, username, password, **extra):
    return client.post("/login", {"username": username, "password": password}, **extra)


def test_right_password_is_refused_once_the_account_has_failed_too_often(client, alice, limits):
    for _ in range(3):
        assert sign_in(client, "alice", "guess").status_code == 200
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 600
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session  # not signed in


def test_a_success_forgets_the_accounts_failures(client, alice, limits):
    for _ in range(2):
        sign_in(client, "alice", "guess")
    assert sign_in(client, "alice", PASSWORD).status_code == 302
    client.post("/logout")
    for _ in range(2):  # would be the 3rd and 4th failure without the reset
        assert sign_in(client, "alice", "guess").status_code == 200
    assert sign_in(client, "alice", PASSWORD).status_code == 302


def test_lock_out_looks_the_same_for_accounts_that_do_not_exist(client, alice, limits):
    answers = []
    for name in ("alice", "nobody"):
        for _ in range(3):
            sign_in(client, name, "guess", REMOTE_ADDR=f"10.0.0.{len(answers)}")
        response = sign_in(client, name, "guess", REMOTE_ADDR=f"10.0.0.{len(answers)}")
        page = re.sub(r'value="[A-Za-z0-9]{64}"', "CSRF", response.content.decode())
        answers.append((response.status_code, page.replace(name, "NAME")))
    assert answers[0][0] == answers[1][0] == 429
    assert answers[0][1] == answers[1][1]


def test_one_address_trying_many_accounts_is_refused(client, alice, limits):
    codes = [sign_in(client, f"user{i}", "Summer2024!").status_code for i in range(8)]
    assert codes == [200] * 6 + [429] * 2
    assert sign_in(client, "alice", PASSWORD).status_code == 429  # this address, any account
    assert sign_in(client, "alice", PASSWORD, REMOTE_ADDR="10.9.9.9").status_code == 302  # another


def test_a_spoofed_x_forwarded_for_does_not_buy_a_new_bucket(client, alice, limits):
    codes = [
        sign_in(client, f"user{i}", "x", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code for i in range(8)
    ]
    assert codes.count(429) == 2


def test_behind_trusted_proxies_each_client_has_its_own_bucket(client, alice, limits):
    limits.MODELHUB_TRUSTED_PROXIES = 1
    limits.REST_FRAMEWORK = {**limits.REST_FRAMEWORK, "NUM_PROXIES": 1}  # what the variable sets
    proxy = {"REMOTE_ADDR": "192.0.2.1"}
    for i in range(7):  # one client, a different forged first entry each time: still one bucket
        last = sign_in(client, f"user{i}", "x", HTTP_X_FORWARDED_FOR=f"6.6.6.{i}, 198.51.100.7", **proxy)
    assert last.status_code == 429
    other = sign_in(client, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.8", **proxy)
    assert other.status_code == 302  # another client behind the same proxy is not locked out


def test_admin_sign_in_counts_against_the_same_limits(client, alice, limits):
    for _ in range(3):
        client.post("/admin/login/", {"username": "alice", "password": "guess", "next": "/admin/"})
    response = client.post("/admin/login/", {"username": "alice", "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 200 and "Too many failed sign-ins" in response.content.decode()
    assert sign_in(client, "alice", PASSWORD).status_code == 429  # and the catalogue's shares them


def test_limits_of_zero_turn_the_throttle_off(client, alice, settings):
    settings.MODELHUB_LOGIN_ACCOUNT_FAILURES = 0
    settings.MODELHUB_LOGIN_ADDRESS_FAILURES = 0
    for _ in range(15):
        sign_in(client, "alice", "guess")
    assert sign_in(client, "alice", PASSWORD).status_code == 302
