"""Sign-in throttling: failed password attempts counted per account and per client address.

Django's login views (the catalogue's ``/login`` and the admin's) test every password they are
sent, as fast as the password hasher allows: a script could try thousands of passwords on one
account, or a list of leaked passwords across every account, from one address. Here every attempt
adds one to two counters in the cache (Redis in production, so every web process shares them)
before its password is checked: one for the user name as typed, one for the client's address.
Once either is over its limit, sign-in is refused without checking the password until the window
(fixed at the first attempt) has passed; a success clears the account's counter and gives the
address its attempt back, so only failures add up.

The account counter is kept for any name, existing or not, and the refusal says the same for
both, so the lock-out does not tell which accounts exist. The client address is the one DRF's
throttles use: ``REMOTE_ADDR``, or with ``MODELHUB_TRUSTED_PROXIES=N`` the address the N-th proxy
from the end of ``X-Forwarded-For`` saw, so a client cannot pick its own bucket by sending the
header. django-axes does this with database tables, a middleware and an authentication backend
of its own (which refuses ``Client.login`` without a request); the two cache counters here need
none of that.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from rest_framework.throttling import BaseThrottle

KEY = "signin-failures:{kind}:{ident}"
T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    """Failures allowed per window, per account and per address (0: no limit of that kind)."""

    per_account: int
    per_address: int
    window: int  # seconds, counted from the first attempt


def limits() -> Limits:
    return Limits(
        per_account=settings.MODELHUB_LOGIN_ACCOUNT_FAILURES,
        per_address=settings.MODELHUB_LOGIN_ADDRESS_FAILURES,
        window=settings.MODELHUB_LOGIN_WINDOW,
    )


def client_address(request) -> str:
    """The client's address as the API's throttles see it (honours ``MODELHUB_TRUSTED_PROXIES``)."""
    return BaseThrottle().get_ident(request) or "unknown"


def _counters(request, username: str) -> list[tuple[str, int]]:
    """The cache keys of the account's and the address's counters with their limits (0: none).

    User names are hashed: any characters, any length, one bucket per name whatever its case.
    """
    lim = limits()
    account = hashlib.sha256(username.strip().casefold().encode()).hexdigest()
    address = hashlib.sha256(client_address(request).encode()).hexdigest()
    return [
        (KEY.format(kind="account", ident=account), lim.per_account),
        (KEY.format(kind="address", ident=address), lim.per_address),
    ]


def _take(key: str, window: int) -> int:
    """Add one to the counter ``key`` atomically (Redis INCRBY, or the local cache's lock), starting
    it with a fixed ``window`` and a note of when that ends; the count, or 0 when the cache is
    down (sign-in then goes unthrottled rather than refused: the cache is not a sign-in service)."""
    for _ in range(2):
        if cache.add(key, 0, timeout=window):
            cache.set(key + ":until", time.time() + window, timeout=window)
        try:
            return cache.incr(key) or 0
        except ValueError:  # expired between add and incr: start a new window
            continue
    return 0


def begin_attempt(request, username: str) -> int:
    """Count a sign-in attempt before its password is checked; the seconds to wait when it must be
    refused, else 0.

    Counting first (and giving back on success) keeps parallel requests honest: each takes its own
    slot atomically, so a burst cannot all pass a check made before any of them had failed.
    """
    window = limits().window
    wait = 0
    for key, limit in _counters(request, username):
        if limit > 0 and _take(key, window) > limit:
            until = cache.get(key + ":until") or time.time() + window
            wait = max(wait, math.ceil(until - time.time()), 1)
    return wait


def attempt_succeeded(request, username: str) -> None:
    """The account's owner got in: the account's failures are forgotten and the address gets its
    slot back (an office behind one address signs in many times a day)."""
    (account, _), (address, limit) = _counters(request, username)
    cache.delete_many([account, account + ":until"])
    if limit > 0:
        with contextlib.suppress(ValueError):  # expired meanwhile
            cache.decr(address)


def refusal_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return (
        "Too many failed sign-ins for this account or from this address. "
        f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
    )


def guarded(form, username: str, check: Callable[[], T]) -> T:
    """Run a form's password ``check`` (it raises ``ValidationError`` on a wrong one) as one counted
    attempt: refused unchecked over the limits (``form.retry_after`` is set, so the view can answer
    429 with ``Retry-After``), the slot given back when it passes. ``form.request`` is the request."""
    wait = begin_attempt(form.request, username)
    if wait:
        form.retry_after = wait
        raise ValidationError(refusal_message(wait), code="throttled")
    result = check()
    attempt_succeeded(form.request, username)
    return result


class ThrottledSignInMixin:
    """For ``AuthenticationForm`` subclasses (the catalogue's and the admin's): refuse an attempt
    over the limits before any password is checked, and give the slot back on success. The form
    keeps ``retry_after`` (seconds) so the view can answer 429 with ``Retry-After``."""

    retry_after = 0

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if self.request is None or username is None or not password:
            return super().clean()  # a missing field is the field's error; nothing was tried
        return guarded(self, username, super().clean)
