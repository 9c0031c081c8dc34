"""API tokens: minting, hashing, and authenticating requests that carry one.

Tokens are shown once and stored only as their sha256, so a database leak gives no
usable credentials; the first characters (``prefix``) are kept in clear so a user can
tell tokens apart and revoke one. A token is ``mh_`` + 40 url-safe random characters
(240 bits), long enough that a plain sha256 (no salt, no slow KDF) is safe: there is
nothing to brute-force, and lookup stays a single indexed query per request.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from hub.models import ApiToken

TOKEN_PREFIX = "mh_"
PREFIX_LENGTH = 10  # "mh_" + 7 characters: shown in listings, used by `token revoke`
LAST_USED_RESOLUTION_SECONDS = 60  # don't write last_used_at on every request


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mint_token(user, *, scope: str = ApiToken.Scope.READ, name: str = "") -> tuple[str, ApiToken]:
    """Create a token for ``user``; returns the plaintext (to show once) and the stored row."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(30)
    row = ApiToken.objects.create(
        user=user, name=name, scope=scope, prefix=token[:PREFIX_LENGTH], token_hash=hash_token(token)
    )
    return token, row


def lookup_token(token: str) -> ApiToken | None:
    """The active token row for ``token``, or None (unknown, revoked or expired)."""
    if not token or len(token) > 200:
        return None
    row = ApiToken.objects.select_related("user").filter(token_hash=hash_token(token)).first()
    if row is None or not row.active or not row.user.is_active:
        return None
    now = timezone.now()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row


def bearer_from_header(value: str | None) -> str | None:
    """The token an ``Authorization`` header carries: ``None`` when it carries none of ours (no
    header, or another scheme's credentials, such as a reverse proxy's own Basic password), else the
    token to look up, ``""`` for one that can only be refused.

    ``Bearer <token>``, with any case and any white space, is what every client sends. ``Basic``
    with a token as the password (or as the user name, password empty) is what git and git-lfs send
    from a credential helper that ``hf auth login --add-to-git-credential`` filled; the Hub takes it,
    so it is taken here. A ``Bearer`` header with no credential, or a token in a scheme we do not
    read (``token mh_…``, a bare ``mh_…``), is refused rather than ignored: the caller meant to
    authenticate, and silently answering as anonymous turned a private repository into a 404.
    """
    if not value:
        return None
    parts = value.split(None, 1)
    if not parts:
        return None
    scheme, credential = parts[0].lower(), (parts[1].strip() if len(parts) > 1 else "")
    if scheme == "bearer":
        return credential
    if scheme == "basic":
        return _token_from_basic(credential)
    if parts[0].startswith(TOKEN_PREFIX) or credential.startswith(TOKEN_PREFIX):
        return ""
    return None


def _token_from_basic(credential: str) -> str | None:
    try:
        decoded = base64.b64decode(credential, validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None  # not ours to judge: a proxy in front may use Basic for itself
    user, _, password = decoded.partition(":")
    if password.startswith(TOKEN_PREFIX):
        return password
    if user.startswith(TOKEN_PREFIX) and not password:
        return user
    return None


@dataclass(frozen=True)
class Caller:
    """Who is calling: a user (or None), the token used (None for sessions), and whether a
    token was sent that we could not accept (the Hub API then answers 401 where it matters)."""

    user: object | None
    token: ApiToken | None = None
    bad_token: bool = False

    @property
    def can_write(self) -> bool:
        """Sessions may write; tokens only with the write scope."""
        return self.user is not None and (self.token is None or self.token.can_write)


def caller_for(request, *, allow_session: bool = True) -> Caller:
    """Authenticate a plain Django request: bearer token first, then (if allowed) the session."""
    session_user = getattr(request, "user", None) if allow_session else None
    if session_user is not None and not session_user.is_authenticated:
        session_user = None
    raw = bearer_from_header(request.headers.get("Authorization"))
    if raw is not None:
        row = lookup_token(raw)
        if row is not None:
            return Caller(row.user, row)
        return Caller(session_user, None, bad_token=True)
    return Caller(session_user)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """DRF authentication with ``Authorization: Bearer <token>``; ``request.auth`` is the ApiToken."""

    keyword = "Bearer"

    def authenticate(self, request):
        raw = bearer_from_header(request.headers.get("Authorization"))
        if raw is None:
            return None
        row = lookup_token(raw)
        if row is None:
            raise exceptions.AuthenticationFailed("Invalid credentials in Authorization header")
        return row.user, row

    def authenticate_header(self, request) -> str:
        return self.keyword


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "hub.auth.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A token from `manage.py token create`."}


class BadUsername(ValueError):
    """A user name ``token create --create-user`` may not create; the message says why."""


def new_username_problem(username: str) -> str:
    """Why a new account may not be called this, or ``""``.

    A user's name is also its namespace (``alice/model``), so it follows the repository name rule; and
    one account per name whatever its case, as the admin's own form insists (a second "Alice" beside
    "alice" could own nothing: the namespace is taken).
    """
    from hub.services.repos import is_valid_name

    if not is_valid_name(username):
        return (
            f"{username[:100]!r} is not a valid user name: it is also the namespace of the user's repositories, "
            "so letters, digits, '.', '_' and '-' only, starting with a letter or digit, at most 96 characters"
        )
    if get_user_model().objects.filter(username__iexact=username).exists():
        return f"a user {username!r} already exists in another case; use that name"
    return ""


def get_or_create_user(username: str, create: bool):
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None and create:
        if problem := new_username_problem(username):
            raise BadUsername(problem)
        user = User.objects.create_user(username=username)
    return user
