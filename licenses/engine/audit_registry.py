"""The audit's online source: a Modelhub registry, behind a small JSON cache on disk.

Why a cache: CI runs the audit on every push, usually with the same models. Answers are kept under
``~/.cache/modelhub/audit`` (or ``--cache-dir``) keyed by registry, policy and model; a fresh entry
(younger than the TTL) skips the network, and a stale one is still used when the registry cannot
be reached or ``--offline`` is given, so a second run works without a network at all.

Two registry calls are used (contract.md): ``POST /api/v1/compliance/check`` judges a batch of
models with the inline policy server-side; when the server does not offer it (404/405), each model's
report is fetched with ``GET /api/models/{id}`` and judged locally.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# An hour: CI runs the audit on every push with mostly the same models, yet a gate must not keep
# allowing a model for a day after its licence (or the policy's answer) changed on the registry.
DEFAULT_TTL = 3600
#: How long "the registry does not hold (or cannot yet judge) this model" stays fresh: the model may be
#: uploaded, or its analysis finish, minutes later, and a day of red builds would follow.
NEGATIVE_TTL = 300
TOKEN_ENV = "MODELHUB_TOKEN"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "modelhub" / "audit"


class RegistryError(Exception):
    """The registry could not be reached or answered something unusable."""


@dataclass
class CacheHit:
    value: Any
    fresh: bool
    age: float = 0.0


class JsonCache:
    """One JSON file per key; the stored time decides freshness."""

    def __init__(self, root: Path | None, ttl: float = DEFAULT_TTL):
        self.root = Path(root) if root is not None else default_cache_dir()
        self.ttl = ttl

    def _path(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return self.root / digest[:2] / f"{digest}.json"

    def get(self, key: str) -> CacheHit | None:
        path = self._path(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("key") != key:
            return None
        age = time.time() - float(data.get("stored", 0))
        return CacheHit(data.get("value"), age < self.ttl, age)

    def put(self, key: str, value: Any) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"key": key, "stored": time.time(), "value": value}), encoding="utf-8")
            tmp.replace(path)
        except OSError:
            pass  # a read-only cache slows the next run down; it must not fail this one


VERDICTS = ("allow", "warn", "deny")


def malformed_result(result: Mapping[str, Any]) -> str | None:
    """What is wrong with one compliance-check result (contract shape), or None when it is usable."""
    if result.get("verdict") not in VERDICTS:
        return f"verdict {result.get('verdict')!r} is not one of {', '.join(VERDICTS)}"
    reasons = result.get("reasons", [])
    if not isinstance(reasons, list) or not all(
        isinstance(r, Mapping) and isinstance(r.get("code"), str) for r in reasons
    ):
        return "reasons must be a list of objects with a string 'code'"
    if not isinstance(result.get("obligations", []), list):
        return "obligations must be a list"
    return None


class RegistryClient:
    """Minimal HTTP client (stdlib only, so the audit installs with the engine's own deps)."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 20.0):
        self.base = base_url.rstrip("/")
        self.token = token if token is not None else os.environ.get(TOKEN_ENV)
        self.timeout = timeout

    def _request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        status, payload, _ = self._exchange(method, path, body)
        return status, payload

    def _exchange(self, method: str, path: str, body: Any = None) -> tuple[int, Any, Mapping[str, str]]:
        data = json.dumps(body).encode("utf-8") if body is not None else None
        try:
            # built inside the try: a malformed --registry URL ("http://[::1") raises here
            req = urllib.request.Request(self.base + path, data=data, method=method)
            req.add_header("Accept", "application/json")
            if data is not None:
                req.add_header("Content-Type", "application/json")
            if self.token:
                req.add_header("Authorization", f"Bearer {self.token}")
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return resp.status, json.loads(resp.read().decode("utf-8") or "null"), resp.headers
        except urllib.error.HTTPError as exc:
            try:
                payload = json.loads(exc.read().decode("utf-8") or "null")
            except ValueError:
                payload = None
            return exc.code, payload, exc.headers
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise RegistryError(f"{method} {self.base}{path}: {getattr(exc, 'reason', exc)}") from exc

    def compliance_check(self, models: Iterable[str], policy: Mapping[str, Any]) -> dict[str, dict] | None:
        """model id → result; None when the server has no compliance endpoint."""
        ids = list(models)
        status, payload = self._request(
            "POST", "/api/v1/compliance/check", {"models": ids, "policy": dict(policy)}
        )
        if status in (404, 405, 501):
            return None
        if status in (401, 403):
            whose = f"the token in {TOKEN_ENV}" if self.token else "anonymous callers"
            raise RegistryError(
                f"compliance check answered HTTP {status}: the registry refused {whose}"
                f"{_server_message(payload)}; set a valid read token"
            )
        if status != 200 or not isinstance(payload, dict) or not isinstance(payload.get("results"), list):
            raise RegistryError(f"compliance check answered HTTP {status}{_server_message(payload)}")
        answered = {str(r.get("model")): r for r in payload["results"] if isinstance(r, dict)}
        for model, result in answered.items():
            problem = malformed_result(result)
            if problem:  # a gate must not pass (or crash) on an answer it cannot read
                raise RegistryError(f"compliance check answered a malformed result for {model}: {problem}")
        # The registry resolves ids as the Hub does, case-insensitively, and answers with the id as
        # it holds it (`BOB/Tiny-Bert` → `bob/tiny-bert`): key every answer by the id the code used.
        folded = {model.casefold(): result for model, result in answered.items()}
        results = dict(answered)
        for model in ids:
            if model not in results and model.casefold() in folded:
                results[model] = folded[model.casefold()]
        return results

    def model_report(self, model_id: str) -> dict | None:
        """The analyze-shaped report of one model; None when the registry does not hold it."""
        status, payload, headers = self._exchange(
            "GET", f"/api/models/{urllib.parse.quote(model_id, safe='/')}"
        )
        if status == 404 and headers.get("X-Error-Code") == "RepoNotFound":
            return None
        if status == 404:
            # the Hub API (and this hub) says "no such repository" with X-Error-Code; a bare 404 is a
            # server that has no such API: every model would silently read as "not held", and be cached
            raise RegistryError(
                f"GET {self.base}/api/models/{model_id} answered 404 without the Hub's RepoNotFound: "
                "is --registry the address of a Modelhub (or Hub-compatible) server?"
            )
        if status != 200 or not isinstance(payload, dict):
            raise RegistryError(f"GET /api/models/{model_id} answered HTTP {status}")
        return payload


def _server_message(payload: Any) -> str:
    """The registry's own error message (``{"error": {"message"}}``), as ``": …"``, if it sent one."""
    error = payload.get("error") if isinstance(payload, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return f" ({str(message)[:200]})" if message else ""
