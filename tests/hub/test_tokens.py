"""API tokens: hashed at rest, shown once, scoped, revocable (also through `manage.py token`)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hub.auth import hash_token, lookup_token, mint_token
from hub.models import ApiToken

pytestmark = pytest.mark.django_db


def test_token_is_stored_hashed_only(alice):
    token, row = mint_token(alice, scope="write", name="laptop")
    assert token.startswith("mh_") and len(token) > 40
    stored = ApiToken.objects.get(pk=row.pk)
    assert stored.token_hash == hash_token(token)
    values = [str(v) for v in ApiToken.objects.values_list().get(pk=row.pk)]
    assert not any(token in v for v in values), "plaintext token found in the database row"
    assert stored.prefix == token[:10]
    assert lookup_token(token).user == alice
    assert lookup_token(token + "x") is None


def test_command_create_and_revoke(alice):
    out = io.StringIO()
    call_command("token", "create", "alice", "--write", "--name", "ci", stdout=out)
    token = out.getvalue().strip()
    assert lookup_token(token).scope == "write"
    call_command("token", "revoke", token[:10], stdout=io.StringIO())
    assert lookup_token(token) is None


def test_command_revoke_checks_more_than_the_prefix_as_the_whole_token(alice):
    token, _ = mint_token(alice, scope="write")
    wrong = token[:10] + "not-the-rest-of-it"
    with pytest.raises(CommandError, match="give the whole token"):
        call_command("token", "revoke", wrong, stdout=io.StringIO())
    with pytest.raises(CommandError, match="give the whole token"):
        call_command("token", "revoke", token[:-1], stdout=io.StringIO())  # one character short
    assert lookup_token(token) is not None  # still active
    call_command("token", "revoke", token, stdout=io.StringIO())
    assert lookup_token(token) is None


def test_command_create_user_flag(django_user_model):
    with pytest.raises(CommandError):
        call_command("token", "create", "carol", stdout=io.StringIO())
    out = io.StringIO()
    call_command("token", "create", "carol", "--create-user", stdout=out)
    row = lookup_token(out.getvalue().strip())
    assert row.user.username == "carol" and row.scope == "read"


def test_whoami_and_read_only_tokens(client, alice, fs_store):
    read, _ = mint_token(alice, scope="read")
    resp = client.get("/api/whoami-v2", HTTP_AUTHORIZATION=f"Bearer {read}")
    assert resp.status_code == 200
    body = resp.json()
    assert body["name"] == "alice" and body["auth"]["accessToken"]["role"] == "read"
    resp = client.post(
        "/api/repos/create", data={"name": "nope"}, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {read}",
    )  # fmt: skip
    assert resp.status_code == 403
    bad = client.get("/api/whoami-v2", HTTP_AUTHORIZATION="Bearer mh_not-a-token")
    assert bad.status_code == 401
    assert bad["X-Error-Message"] == "Invalid credentials in Authorization header"


@pytest.mark.parametrize(
    "name, why",
    [
        ("x y", "not a valid user name"),
        ("a" * 200, "not a valid user name"),  # was a 60-line DataError traceback on PostgreSQL
        ("a@b", "not a valid user name"),
        ("ALICE", "another case"),  # beside "alice": could own nothing (was a 500 at create_repo)
    ],
)
def test_command_create_user_refuses_names_that_cannot_be_users_here(alice, name, why):
    from django.contrib.auth import get_user_model

    with pytest.raises(CommandError, match=why):
        call_command("token", "create", name, "--create-user", stdout=io.StringIO())
    assert not get_user_model().objects.filter(username=name).exists()


def test_command_create_user_still_creates_ordinary_users_and_reuses_existing_ones(alice):
    out = io.StringIO()
    call_command("token", "create", "new-bot_1.x", "--create-user", stdout=out)
    assert lookup_token(out.getvalue().strip()).user.username == "new-bot_1.x"
    call_command("token", "create", "alice", "--create-user", stdout=io.StringIO())  # exists: no check


def test_command_revokes_every_token_of_a_user(alice, django_user_model):
    """After a password leak: a password change signs sessions out but leaves tokens working."""
    bob = django_user_model.objects.create_user("bob")
    mine = [mint_token(alice, scope=s)[0] for s in ("read", "write")]
    theirs, _ = mint_token(bob)
    out = io.StringIO()
    call_command("token", "revoke", "--user", "alice", stdout=out)
    assert "revoked 2 tokens of alice" in out.getvalue()
    assert all(lookup_token(t) is None for t in mine)
    assert lookup_token(theirs) is not None
    with pytest.raises(CommandError, match="no user"):
        call_command("token", "revoke", "--user", "nobody", stdout=io.StringIO())
    with pytest.raises(CommandError, match="not both"):
        call_command("token", "revoke", theirs[:10], "--user", "bob", stdout=io.StringIO())
