"""The OpenAPI schema's error responses: every operation documents the errors it can answer.

drf-spectacular documents the responses a view declares, which is its success; clients and
contract testers (schemathesis flagged 34 undocumented statuses) need the errors too, and they
all share one body (``licenses.api.errors``). Added here once, by rule, rather than on each of
35 operations by hand, where they would drift.
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "stable machine-readable code, e.g. not-found"},
                "message": {"type": "string", "description": "what went wrong and what to do"},
                "detail": {"description": "field errors, when the body had the wrong shape"},
                "retry_after_seconds": {"type": "integer", "description": "with 429: when to retry"},
            },
        }
    },
}
UNSAFE = {"post", "put", "patch", "delete"}
#: Statuses particular to one operation, which no rule below can infer (no ``{}`` in the path …).
OPERATION_ERRORS: dict[tuple[str, str], dict[str, str]] = {
    ("/api/v1/policies", "post"): {"409": "a policy of that name exists; PUT a new version (policy-exists)"},
    ("/api/v1/repos", "post"): {"409": "the repository exists (conflict)"},
    ("/api/v1/compliance/bom", "post"): {
        "404": "none of the requested models is an analysed registry model the caller may see (not-found)"
    },
    ("/api/v1/violations/triage", "post"): {
        "404": "an id names no violation, or one on a model the caller cannot see (not-found)"
    },
}


def _errors_for(path: str, method: str, operation: dict[str, Any]) -> dict[str, str]:
    errors = {
        "400": "malformed or invalid request (invalid-request, malformed-request, …)",
        "401": "a bearer token that is unknown, revoked or expired; or a change attempted anonymously",
        "429": "the per-token rate is used up (rate-limited)",
        "503": "the database (or, to start a mirror run, the task queue) is unreachable; retry later",
    }
    if method in UNSAFE:
        errors["403"] = "a read-only token, or no right to change this object (permission-denied)"
        if operation.get("requestBody"):
            errors["415"] = "a body that is not application/json (unsupported-media-type)"
    if "{" in path:
        errors["404"] = "no such object, or a private one the caller cannot see (not-found)"
    if method == "delete":
        errors["409"] = "the object is in use (a mirror specification with a run under way) (conflict)"
    errors.update(OPERATION_ERRORS.get((path, method), {}))
    return errors


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the shared error body and each operation's error statuses."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or method not in {"get", "head", *UNSAFE}:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in _errors_for(path, method, operation).items():
                responses.setdefault(status, {"description": description, "content": ref})
    return result
