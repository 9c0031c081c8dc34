"""Being a good client of the upstream: rate limits, backoff with jitter, a concurrency cap.

The Hub answers 429 with ``Retry-After`` (seconds) and the IETF ``RateLimit`` header
(``"api";r=0;t=55``: nothing remaining, the window resets in 55 s). A 429 seen by one
thread means the whole upstream is saturated, so the wait is shared: every thread of
this process talking to that upstream sleeps until the window resets, instead of each
discovering the limit on its own. 5xx answers and transport errors are retried with
exponential backoff plus full jitter, so many workers that failed together do not
retry together. Waits are capped: an upstream asking for an hour is reported as a
failure of that repo rather than parking a worker for an hour.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx2
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.utils import parse_ratelimit_headers

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (
    httpx2.TimeoutException,
    httpx2.NetworkError,
    httpx2.RemoteProtocolError,
)


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying; settings.MIRROR_* feed it (see hub/settings.py)."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 300.0


class UpstreamGivingUp(Exception):
    """The upstream kept failing (or asked for a wait longer than we accept)."""


def retry_after_seconds(headers: httpx2.Headers | dict) -> float | None:
    """Seconds the server asked us to wait: ``RateLimit`` when exhausted, else ``Retry-After``."""
    info = parse_ratelimit_headers(headers)
    if info is not None and info.remaining == 0:
        return float(info.reset_in_seconds)
    for key in headers:
        if key.lower() == "retry-after":
            value = str(headers[key]).strip()
            try:
                return max(0.0, float(value))
            except ValueError:
                return None  # an HTTP-date; fall back to our own backoff
    return None


def status_of(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


class Throttle:
    """Per-upstream gate: at most ``max_concurrency`` requests in flight, and a shared pause."""

    _registry: dict[str, Throttle] = {}
    _registry_lock = threading.Lock()

    def __init__(self, max_concurrency: int) -> None:
        self.slots = threading.BoundedSemaphore(max(1, max_concurrency))
        self.max_concurrency = max(1, max_concurrency)
        self._resume_at = 0.0
        self._lock = threading.Lock()

    @classmethod
    def for_upstream(cls, upstream: str, max_concurrency: int) -> Throttle:
        """One throttle per upstream per process, shared by every run that talks to it."""
        key = upstream.rstrip("/").lower()
        with cls._registry_lock:
            throttle = cls._registry.get(key)
            if throttle is None or throttle.max_concurrency != max(1, max_concurrency):
                throttle = cls._registry[key] = cls(max_concurrency)
            return throttle

    def pause_for(self, seconds: float) -> None:
        with self._lock:
            self._resume_at = max(self._resume_at, time.monotonic() + seconds)

    def wait_turn(self, sleep: Callable[[float], None]) -> None:
        while True:
            with self._lock:
                delay = self._resume_at - time.monotonic()
            if delay <= 0:
                return
            sleep(min(delay, 5.0))


def polite_call(
    fn: Callable[[], T],
    *,
    throttle: Throttle,
    policy: RetryPolicy,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
    on_wait: Callable[[str, float], None] | None = None,
) -> T:
    """Run ``fn`` (one HTTP exchange) under the throttle, retrying what is worth retrying.

    Non-retryable errors (404, gated 401/403, 400) propagate at once: they are answers,
    not failures of the upstream.
    """
    attempt = 0
    while True:
        attempt += 1
        throttle.wait_turn(sleep)
        try:
            with throttle.slots:
                return fn()
        except HfHubHTTPError as exc:
            status = status_of(exc)
            if status not in RETRY_STATUSES:
                raise
            asked = retry_after_seconds(exc.response.headers) if exc.response is not None else None
            error: Exception = exc
        except TRANSPORT_ERRORS as exc:
            status, asked, error = None, None, exc
        if attempt >= policy.max_attempts:
            raise UpstreamGivingUp(f"{what}: gave up after {attempt} attempts: {error}") from error
        if asked is not None:
            if asked > policy.max_retry_after:
                raise UpstreamGivingUp(
                    f"{what}: upstream asked to wait {asked:.0f}s (more than {policy.max_retry_after:.0f}s)"
                ) from error
            delay = asked + random.uniform(0, min(1.0, policy.base_delay))
            throttle.pause_for(delay)  # everyone waits for a rate limit, not just this thread
        else:
            delay = random.uniform(0, min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1)))
        log.warning(
            "%s: %s; retrying in %.1fs (attempt %d)", what, status or type(error).__name__, delay, attempt
        )
        if on_wait is not None:
            on_wait(what, delay)
        if asked is None:
            sleep(delay)
