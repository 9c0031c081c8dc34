"""Reading the environment into typed settings values.

Every knob the README's configuration table lists is read here, once, so settings.py
stays a flat list of assignments and the parsing rules (what counts as true, how
lists are split, where the embedded instance keeps its state) are tested in one place.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


class ConfigError(RuntimeError):
    """A configuration value is missing or malformed; the message says which and what to do."""


def env_bool(name: str, default: bool, environ: Mapping[str, str] = os.environ) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no or on/off")


def env_list(name: str, default: list[str], environ: Mapping[str, str] = os.environ) -> list[str]:
    raw = environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int(name: str, default: int, environ: Mapping[str, str] = os.environ) -> int:
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw.replace("_", ""))
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from exc


def var_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """Where an embedded-default instance keeps its state (contract: ``MODELHUB_VAR``)."""
    path = Path(environ.get("MODELHUB_VAR") or BASE_DIR / "var").expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_key(var: Path, production: bool, environ: Mapping[str, str] = os.environ) -> str:
    """``SECRET_KEY`` from the environment; in embedded mode generated once into ``var/``.

    Production refuses to start without one, because a key generated on one web
    process would differ from its neighbours' and silently invalidate sessions.
    """
    if environ.get("SECRET_KEY"):
        return environ["SECRET_KEY"]
    if production:
        raise ConfigError("SECRET_KEY must be set when MODELHUB_MODE=production (50+ random characters)")
    key_file = var / "secret_key"
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # made earlier, or by a sibling process starting at the same moment
        pass
    else:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(64))
    return key_file.read_text().strip()


def env_seconds(name: str, default: float, environ: Mapping[str, str] = os.environ) -> float:
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a number of seconds") from exc
    if not value > 0 or value == float("inf"):
        raise ConfigError(f"{name}={raw!r} must be a positive number of seconds")
    return value


def env_interval(name: str, default: float, environ: Mapping[str, str] = os.environ) -> float | None:
    """Seconds between runs of a beat entry; ``None`` (leave the entry out) for ``0`` or less.

    Celery beat takes a zero interval literally: the entry is due again at once, so beat sent
    ``MODELHUB_OUTBOX_EVERY=0``'s sweep about 1,300 times a second, filling the queue and keeping
    the sweeps that wait for an empty queue (re-analysis, requeue) from ever running. ``0`` means
    off for every beat interval, as the README already said of ``MODELHUB_GC_EVERY`` and
    ``MODELHUB_REANALYSE_EVERY``; a value that is no number names the variable.
    """
    raw = environ.get(name)
    if raw is not None and raw.strip():
        try:
            if float(raw) <= 0:
                return None
        except ValueError:
            pass  # env_seconds names it
    return env_seconds(name, float(default), environ)


def redis_cache(url: str, timeout: float) -> dict:
    """The cache configuration for ``REDIS_URL``: a Redis outage costs cache misses, not pages.

    The cache only saves work (catalogue totals, facets, the API's rate-limit counters), yet
    Django's own Redis backend raises on every call while Redis is down, so the catalogue and
    every ``/api/v1/`` request (the throttle reads the cache) answered 500. django-redis's
    ``IGNORE_EXCEPTIONS`` turns those calls into misses (logged), and the socket timeouts bound a
    Redis that stops answering without closing its connections (a partition, a failover), which
    would otherwise hold each request for ever; ``hub.cache.BreakerClient`` then stops calling
    a failed Redis for a few seconds, so a page pays that timeout once, not once per call.
    """
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "OPTIONS": {
            "CLIENT_CLASS": "hub.cache.BreakerClient",
            "SOCKET_CONNECT_TIMEOUT": timeout,
            "SOCKET_TIMEOUT": timeout,
            "IGNORE_EXCEPTIONS": True,
        },
    }
