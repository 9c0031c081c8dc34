"""Schemathesis against the native API's own OpenAPI schema, in process, shared by
``tests/hardening/test_api_fuzz.py`` (bounded) and ``benchmarks/fuzz_api.py`` (long run).

The schema comes from drf-spectacular (``/api/v1/schema``); every generated request goes
through Django's real WSGI handler (middleware, authentication, the exception handler), so
an unhandled exception shows as the 500 a client would get. Failures are collected, not
raised, so one run reports all of them: each is (operation, check, status, request, excerpt).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

#: What "the response is acceptable" means here: never a 5xx, and 2xx bodies, content types
#: and headers as the schema documents them. status_code_conformance is left out because
#: drf-spectacular documents only the success response, so every 400/404 would "violate" it.
CHECK_NAMES = (
    "not_a_server_error",
    "response_schema_conformance",
    "content_type_conformance",
    "response_headers_conformance",
)

SAAS_POLICY = {
    "name": "commercial-saas",
    "use": {"commercial": True, "distribution": "saas", "monthly_active_users": 5_000_000, "regions": ["US"]},
    "licenses": {"deny_classes": ["noncommercial"], "unknown": "deny"},
}


@dataclass
class Failure:
    operation: str
    check: str
    message: str
    status: int | None
    request: str
    response: str

    def line(self) -> str:
        return f"{self.operation} [{self.check}: {self.message}] -> {self.status}: {self.request} :: {self.response}"


@dataclass
class OperationRun:
    operation: str
    mode: str
    identity: str
    cases: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0
    unsatisfiable: bool = False
    seeded: bool = False


def native_schema_dict() -> dict[str, Any]:
    """The OpenAPI document exactly as ``GET /api/v1/schema?format=json`` serves it."""
    from django.test import Client

    resp = Client().get("/api/v1/schema", {"format": "json"})
    assert resp.status_code == 200, resp.content[:500]
    return json.loads(resp.content)


def operation_labels(schema_dict: dict[str, Any]) -> list[str]:
    methods = ("get", "put", "post", "delete", "patch")
    return [
        f"{method.upper()} {path}"
        for path, ops in schema_dict["paths"].items()
        for method in ops
        if method in methods
    ]


@contextmanager
def wsgi_app() -> Iterator[Any]:
    """Django's production WSGI handler, minus the per-request connection closing.

    ``close_old_connections`` would close the test's transaction-wrapped connection after the
    first request (Django's own test client unhooks it for the same reason).
    """
    from django.core import signals
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def load_schema(app: Any, schema_dict: dict[str, Any]):
    import schemathesis

    schema = schemathesis.openapi.from_dict(schema_dict)
    schema.app = app
    return schema


def seed_registry() -> dict[str, str]:
    """Rows for the fuzzer to hit: analysed public and private models, a stored policy,
    violations, a staff user with read and write tokens. Returns the identities' headers."""
    from django.contrib.auth import get_user_model

    from hub.auth import mint_token
    from hub.models import ApiToken
    from licenses.models import Policy, PolicyVersion
    from licenses.services.lineage import record_lineage
    from licenses.services.violations import sync_violations
    from tests.licenses.factories import analysed_model

    permissive = analysed_model("acme/bert-ft", "apache-2.0", "osi-permissive", "yes")
    analysed_model("acme/nc-model", "cc-by-nc-4.0", "noncommercial", "no")
    parents = [{"id": "acme/nc-model", "relation": "finetune", "license_class": "noncommercial"}]
    analysed_model("acme/Llama-3.1-bot", "llama3.1", "vendor-community", "conditional", base_models=parents)
    private = analysed_model("secret/inhouse", "mit", "osi-permissive", "yes", private=True)
    # lineage edges: nc-model -> bert-ft (public) and bert-ft -> secret/inhouse (private)
    record_lineage(permissive, parents)
    record_lineage(private, [{"id": "acme/bert-ft", "relation": "adapter"}])
    sync_violations(permissive, None, [{"rule": "missing-notice", "severity": "warning", "message": "m"}])
    # ids differ between databases (PostgreSQL sequences are not reset between tests)
    SEEDED_BY_PREFIX["/api/v1/violations/"] = {"id": permissive.violations.values_list("pk", flat=True)[0]}
    sync_violations(private, None, [{"rule": "missing-license", "severity": "error", "message": "m"}])
    policy = Policy.objects.create(name="commercial-saas", description="fuzz")
    PolicyVersion.objects.create(policy=policy, version=1, document=SAAS_POLICY)

    admin = get_user_model().objects.create_user("fuzz-admin", is_staff=True, is_superuser=True)
    write_token, _ = mint_token(admin, scope=ApiToken.Scope.WRITE)
    reader = get_user_model().objects.create_user("fuzz-reader")
    read_token, _ = mint_token(reader, scope=ApiToken.Scope.READ)
    return {
        "anonymous": "",
        "read-token": f"Bearer {read_token}",
        "admin-write-token": f"Bearer {write_token}",
    }


#: Path parameters naming rows seed_registry() made, so generated requests reach the code behind
#: the 404 (random owners and names almost never exist). Only operations whose every path
#: parameter is known here get a seeded pass.
SEEDED_PATHS = {
    "owner": "acme",
    "name": "bert-ft",
}
SEEDED_BY_PREFIX = {
    "/api/v1/policies/": {"name": "commercial-saas"},
    "/api/v1/violations/": {"id": 1},
}


def seeded_path_parameters(label: str) -> dict[str, Any] | None:
    """Path parameters that hit seeded rows for this operation, or None when it has none."""
    import re

    path = label.split(" ", 1)[1]
    wanted = re.findall(r"{(\w+)}", path)
    if not wanted:
        return None
    for prefix, params in SEEDED_BY_PREFIX.items():
        if path.startswith(prefix) and set(wanted) <= set(params):
            return {k: params[k] for k in wanted}
    if set(wanted) <= set(SEEDED_PATHS) and not path.startswith("/api/v1/mirror/"):
        return {k: SEEDED_PATHS[k] for k in wanted}
    return None


def _checks():
    from schemathesis import checks

    return [getattr(checks, name) for name in CHECK_NAMES]


def _describe_request(case) -> str:
    from schemathesis.core import NotSet

    parts = [f"{case.method} {case.formatted_path}"]
    if case.query:
        parts.append(f"query={case.query!r}")
    if case.body is not None and not isinstance(case.body, NotSet):
        body = repr(case.body)
        parts.append(f"body={body[:300]}")
    return " ".join(parts)


def _failure_names(exc: BaseException) -> list[tuple[str, str]]:
    """(check title, message) of each failure inside a schemathesis failure group."""
    inner = getattr(exc, "exceptions", None) or [exc]
    out = []
    for item in inner:
        title = getattr(item, "title", None) or type(item).__name__
        message = getattr(item, "message", None) or str(item)
        out.append((str(title), str(message).replace("\n", " ")[:300]))
    return out


def fuzz_operation(
    schema,
    label: str,
    *,
    max_examples: int,
    mode: str = "positive",
    identity: str = "anonymous",
    auth_header: str = "",
    seed: int = 0,
    derandomize: bool = True,
    path_parameters: dict[str, Any] | None = None,
) -> OperationRun:
    """Generate up to ``max_examples`` requests for one operation, send them, check each."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hyp_seed
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode

    operation = schema.find_operation_by_label(label)
    assert operation is not None, f"{label} is not in the schema"
    run = OperationRun(operation=label, mode=mode, identity=identity, seeded=path_parameters is not None)
    generation_mode = GenerationMode.NEGATIVE if mode == "negative" else GenerationMode.POSITIVE
    headers = {"Authorization": auth_header} if auth_header else None
    checks = _checks()
    seen: set[tuple[str, int | None, str]] = set()

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=derandomize,
        phases=[Phase.explicit, Phase.generate],  # collect every failure; no shrinking in the loop
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=generation_mode, path_parameters=path_parameters))
    def body(case):
        run.cases += 1
        response = case.call(headers=headers)
        run.statuses[response.status_code] = run.statuses.get(response.status_code, 0) + 1
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except (AssertionError, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup
            for title, message in _failure_names(exc):
                key = (title, response.status_code, message[:80])
                if key in seen:
                    continue
                seen.add(key)
                run.failures.append(
                    Failure(
                        operation=label,
                        check=title,
                        message=message,
                        status=response.status_code,
                        request=_describe_request(case),
                        response=(response.text or "")[:300].replace("\n", " "),
                    )
                )

    if not derandomize:
        body = hyp_seed(seed)(body)
    started = time.perf_counter()
    try:
        body()
    except Unsatisfiable:  # negative mode: nothing in this operation's schema can be made invalid
        run.unsatisfiable = True
    run.seconds = time.perf_counter() - started
    return run
