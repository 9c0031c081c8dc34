"""Compiled policies, cached in-process by the exact document they were compiled from.

Validating a policy document against the JSON schema and building the engine's ``Policy``
cost more than the rest of a single-model check; CI pipelines send the same inline policy,
or name the same stored one, thousands of times. The cache key is the document itself
(canonical JSON), so it cannot go stale: a new stored version, or an admin edit of one, is
a different document and compiles afresh; the stored policy's current version is still
looked up on every check (one small indexed query). Entries are bounded (least recently
used goes first) because inline documents are caller-controlled.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from django.db import connection

from licenses.engine.policy import Policy, load_policy
from licenses.models import Policy as StoredPolicy
from licenses.models import PolicyVersion

MAX_ENTRIES = 256

_compiled: OrderedDict[str, Policy] = OrderedDict()
_lock = threading.Lock()


def _key(document: Mapping[str, Any]) -> str | None:
    try:
        return json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    except (TypeError, ValueError):  # keys that do not sort or serialise: compile without caching
        return None


def compile_policy(document: Mapping[str, Any], *, stored: bool = False) -> Policy:
    """``load_policy(document)``, compiled once per distinct document; ``PolicyError`` is not cached.

    ``stored``: a version already accepted and stored, compiled under the rules it was accepted by
    (``load_policy(known_licences=False)``); an inline document meets today's rules.
    """
    key = _key(document)
    if key is not None:
        key = f"{'stored' if stored else 'inline'}:{key}"
        with _lock:
            policy = _compiled.get(key)
            if policy is not None:
                _compiled.move_to_end(key)
                return policy
    policy = load_policy(document, known_licences=not stored)
    if key is not None:
        with _lock:
            _compiled[key] = policy
            while len(_compiled) > MAX_ENTRIES:
                _compiled.popitem(last=False)
    return policy


def clear() -> None:
    """Forget every compiled policy (tests; nothing else needs it, since keys cannot go stale)."""
    with _lock:
        _compiled.clear()


_CURRENT_SQL = f"""
    SELECT v.version, v.document FROM {PolicyVersion._meta.db_table} v
    JOIN {StoredPolicy._meta.db_table} p ON p.id = v.policy_id
    WHERE p.name = %s ORDER BY v.version DESC LIMIT 1
"""  # table names are ours; the name is a query parameter


def current_version(name: str) -> tuple[int, dict[str, Any]] | None:
    """Number and document of the newest version of the stored policy ``name``, or None."""
    with connection.cursor() as cursor:
        cursor.execute(_CURRENT_SQL, [name])
        row = cursor.fetchone()
    if row is None:
        return None
    version, document = row
    return version, _decoded(document)


def _decoded(document: Any) -> dict[str, Any]:
    """A stored document as read back by raw SQL: a dict, or JSON text where the column is text."""
    return json.loads(document) if isinstance(document, str) else document


_VERSION_SQL = f"""
    SELECT v.document FROM {PolicyVersion._meta.db_table} v
    JOIN {StoredPolicy._meta.db_table} p ON p.id = v.policy_id
    WHERE p.name = %s AND v.version = %s
"""


def pinned_version(name: str, version: int) -> dict[str, Any] | None:
    """The document of version ``version`` of the stored policy ``name``, or None."""
    with connection.cursor() as cursor:
        cursor.execute(_VERSION_SQL, [name, version])
        row = cursor.fetchone()
    return None if row is None else _decoded(row[0])
