"""Schemathesis against the native API's OpenAPI schema: no 5xx, responses as documented.

Bounded for the suite (a few examples per operation and identity, derandomized so a run is
reproducible); ``benchmarks/fuzz_api.py`` runs the same kit longer, in both positive and
negative generation modes, and its figures are in docs/RELIABILITY.md.
"""

from __future__ import annotations

import pytest

pytest.importorskip("schemathesis")

from tests.hardening import fuzzkit

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

MAX_EXAMPLES = 10  # per operation and identity: the whole file stays under 2 minutes


#: Open findings in files owned by others: (identity, operation) -> reason. Strict, so the
#: day the owner fixes it the suite says so and the entry is removed.
OPEN_FINDINGS: dict[tuple[str, str], str] = {}
IDENTITIES = ["anonymous", "admin-write-token"]


def _cases() -> list:
    params = []
    for identity in IDENTITIES:
        for label in fuzzkit.operation_labels(fuzzkit.native_schema_dict()):
            reason = OPEN_FINDINGS.get((identity, label))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(pytest.param(identity, label, marks=marks, id=f"{identity}-{label}"))
    return params


@pytest.fixture(scope="module")
def schema_dict():
    return fuzzkit.native_schema_dict()


@pytest.fixture
def fuzz(schema_dict, settings):
    from django.core.cache import cache

    settings.MODELHUB_API_RATE = "100000/min"  # the fuzzer is not testing throttling
    cache.clear()
    identities = fuzzkit.seed_registry()
    with fuzzkit.wsgi_app() as app:
        yield fuzzkit.load_schema(app, schema_dict), identities


@pytest.mark.parametrize(("identity", "label"), _cases())
def test_operation_never_5xx_and_conforms(fuzz, label, identity):
    schema, identities = fuzz
    run = fuzzkit.fuzz_operation(
        schema, label, max_examples=MAX_EXAMPLES, identity=identity, auth_header=identities[identity]
    )
    assert run.cases > 0
    assert not run.failures, "\n".join(f.line() for f in run.failures)


def _seeded_labels() -> list:
    labels = fuzzkit.operation_labels(fuzzkit.native_schema_dict())
    params = []
    for label in labels:
        if fuzzkit.seeded_path_parameters(label) is None:
            continue
        reason = OPEN_FINDINGS.get(("seeded", label))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(label, marks=marks, id=label))
    return params


@pytest.mark.parametrize("label", _seeded_labels())
def test_operation_on_existing_rows_never_5xx_and_conforms(fuzz, label):
    """The same checks with the path naming a seeded model, policy or violation, so the
    generated query and body reach the code behind the look-up (as the staff write token)."""
    schema, identities = fuzz
    run = fuzzkit.fuzz_operation(
        schema,
        label,
        max_examples=MAX_EXAMPLES,
        identity="admin-write-token",
        auth_header=identities["admin-write-token"],
        path_parameters=fuzzkit.seeded_path_parameters(label),
    )
    assert run.cases > 0
    assert any(status != 404 for status in run.statuses), run.statuses  # the rows were reached
    assert not run.failures, "\n".join(f.line() for f in run.failures)


# --- regression tests for what the fuzzer found ------------------------------------------------


def _validated_call(schema, label: str, **case_kwargs):
    """Send one hand-written case and run the fuzzer's checks on its response; returns it."""
    from schemathesis import checks

    operation = schema.find_operation_by_label(label)
    case = operation.Case(**case_kwargs)
    headers = case_kwargs.get("headers")
    response = case.call(headers=headers)
    case.validate_response(
        response, checks=[getattr(checks, name) for name in fuzzkit.CHECK_NAMES], headers=headers
    )
    return response


def test_policy_version_without_author_matches_schema(fuzz):
    """Found: GET /api/v1/policies answered ``created_by: null`` (a version made by a script)
    where the schema promised a string. Fixed: the field is documented as nullable."""
    schema, _ = fuzz
    response = _validated_call(schema, "GET /api/v1/policies")
    assert response.json()["results"][0]["current"]["created_by"] is None


def test_untriaged_violation_matches_schema(fuzz):
    """Found: GET /api/v1/violations answered ``status_changed_by: null`` for an untriaged
    violation against a non-nullable string. Fixed in licenses/api/serializers.py."""
    schema, _ = fuzz
    response = _validated_call(schema, "GET /api/v1/violations")
    assert response.json()["results"][0]["status_changed_by"] is None
    vid = response.json()["results"][0]["id"]
    detail = _validated_call(schema, "GET /api/v1/violations/{id}", path_parameters={"id": vid})
    assert detail.json()["id"] == vid


@pytest.mark.parametrize("bad_id", [2**63, 128351271649055105127150518272, -(2**63) - 1, 0])
def test_triage_with_out_of_range_id_is_a_400(fuzz, bad_id):
    """Found: POST /api/v1/violations/triage with an id past 64 bits reached the database and
    overflowed the driver: 500. Fixed: ids are validated to 1..2**63-1 first."""
    schema, identities = fuzz
    response = _validated_call(
        schema,
        "POST /api/v1/violations/triage",
        body={"ids": [bad_id], "status": "acknowledged"},
        media_type="application/json",
        headers={"Authorization": identities["admin-write-token"]},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid-request"


@pytest.mark.parametrize("big", [2**63, 10**40])
def test_violation_detail_with_huge_id_is_a_404(fuzz, big):
    schema, _ = fuzz
    response = _validated_call(schema, "GET /api/v1/violations/{id}", path_parameters={"id": big})
    assert response.status_code == 404


def test_repository_listing_matches_schema(fuzz):
    """Regression: a native repository's empty ``mirrored_from`` once broke the documented ``format: uri``."""
    schema, _ = fuzz
    _validated_call(schema, "GET /api/v1/repos")


NUL_REQUESTS = {
    "derived-from class": ("GET /api/v1/lineage/derived-from", {"query": {"class": ["a\x00b"]}}),
    "violations filter": ("GET /api/v1/violations", {"query": {"rule": "x\x00", "organisation": "\x00"}}),
    "check model id": (
        "POST /api/v1/compliance/check",
        {
            "body": {"models": ["acme/bert\x00ft"], "policy": "commercial-saas"},
            "media_type": "application/json",
        },
    ),
    "inline policy": (
        "POST /api/v1/compliance/check",
        {
            "body": {"models": ["acme/bert-ft"], "policy": {**fuzzkit.SAAS_POLICY, "name": "p\x00"}},
            "media_type": "application/json",
        },
    ),
    "policy document": (
        "POST /api/v1/policies",
        {
            "body": {"document": {**fuzzkit.SAAS_POLICY, "name": "nul"}, "description": "a\x00b"},
            "media_type": "application/json",
        },
    ),
}


@pytest.mark.parametrize("document", [0.1, [], "commercial-saas", None, True])
def test_policy_put_with_a_document_that_is_not_an_object_is_a_400(fuzz, document):
    """Found: PUT /api/v1/policies/commercial-saas {"document": 0.1} was a 500 (the view merged
    the document into a dict before checking it was one). Fixed in licenses/api/views.py."""
    schema, identities = fuzz
    response = _validated_call(
        schema,
        "PUT /api/v1/policies/{name}",
        path_parameters={"name": "commercial-saas"},
        body={"document": document},
        media_type="application/json",
        headers={"Authorization": identities["admin-write-token"]},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"invalid-policy", "invalid-request"}


@pytest.mark.parametrize(("label", "kwargs"), NUL_REQUESTS.values(), ids=NUL_REQUESTS.keys())
def test_nul_characters_are_a_400_not_a_database_error(fuzz, label, kwargs):
    """Found on PostgreSQL: GET /api/v1/lineage/derived-from?class=<text with NUL> was a 500
    (PostgreSQL refuses NUL in text). Fixed for the whole licences API: a NUL anywhere in the
    query, path or JSON body is a 400 before any query runs (SQLite would have accepted it)."""
    schema, identities = fuzz
    response = _validated_call(
        schema, label, headers={"Authorization": identities["admin-write-token"]}, **kwargs
    )
    assert response.status_code == 400, response.text[:300]
    assert "NUL" in response.json()["error"]["message"]


def test_pathologically_nested_body_is_a_400(fuzz):
    schema, _ = fuzz
    deep: list = []
    for _ in range(500):
        deep = [deep]
    response = _validated_call(
        schema,
        "POST /api/v1/compliance/check",
        body={"models": deep, "policy": "commercial-saas"},
        media_type="application/json",
    )
    assert response.status_code == 400
