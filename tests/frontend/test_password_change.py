"""A user's own password: /settings/password, the password rules, and what a change signs out.

Before: no page let a user change their password (only an admin could), and no password rule was
configured, so the admin, ``createsuperuser`` and ``changepassword`` accepted "1".
"""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client

from hub.auth import lookup_token, mint_token

pytestmark = pytest.mark.django_db

OLD, NEW = "correct-horse-battery", "staple-ocean-violet-42"


@pytest.fixture
def alice(django_user_model, fast_passwords):
    return django_user_model.objects.create_user("alice", password=OLD)


def signed_in(username: str, password: str) -> Client:
    c = Client()
    assert c.post("/login", {"username": username, "password": password}).status_code == 302
    return c


def change(c: Client, old: str, new: str):
    return c.post("/settings/password", {"old_password": old, "new_password1": new, "new_password2": new})


def test_changing_the_password_signs_out_the_other_sessions_but_not_this_one_nor_tokens(alice):
    laptop, phone = signed_in("alice", OLD), signed_in("alice", OLD)
    token, _ = mint_token(alice, name="ci")
    response = change(laptop, OLD, NEW)
    assert response.status_code == 302 and response["Location"] == "/settings/password"
    assert laptop.get("/settings/tokens").status_code == 200  # this session stays
    assert phone.get("/settings/tokens")["Location"].startswith("/login")  # the other is signed out
    assert lookup_token(token) is not None  # tokens are not sessions (documented)
    signed_in("alice", NEW)


def test_the_page_needs_the_current_password_and_a_sign_in(client, alice):
    assert client.get("/settings/password")["Location"].startswith("/login")
    c = signed_in("alice", OLD)
    assert "Current password" in c.get("/settings/password").content.decode()
    assert change(c, "wrong-password", NEW).status_code == 200
    alice.refresh_from_db()
    assert alice.check_password(OLD)


@pytest.mark.parametrize("weak", ["1", "password123", "12345678901", "qwertyuiop"])
def test_weak_passwords_are_refused_everywhere_passwords_are_set(alice, weak):
    with pytest.raises(ValidationError):
        validate_password(weak, user=alice)  # the admin, createsuperuser, changepassword use this
    c = signed_in("alice", OLD)
    response = change(c, OLD, weak)
    assert response.status_code == 200 and 'class="error"' in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(OLD)


def test_guessing_the_current_password_is_throttled_like_a_sign_in(alice, settings):
    """A borrowed session must not find the password out at the hasher's speed."""
    settings.MODELHUB_LOGIN_ACCOUNT_FAILURES = 3
    c = signed_in("alice", OLD)
    for _ in range(3):
        assert change(c, "guess", NEW).status_code == 200
    refused = change(c, OLD, NEW)
    assert refused.status_code == 429 and "Too many failed sign-ins" in refused.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(OLD)
