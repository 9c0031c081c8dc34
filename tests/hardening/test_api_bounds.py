"""Requests at the edges of the native API's parsing and paging: answered with a 4xx in the API's
error format or a bounded page, never a 500 (found by exploratory testing, session 8)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from hub.api.drf import MAX_PAGE_SIZE
from tests.licenses.factories import analysed_model

pytestmark = pytest.mark.django_db

WRITE_ENDPOINTS = ["/api/v1/compliance/check", "/api/v1/compliance/bom", "/api/v1/violations/triage"]


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def signed_in(api, django_user_model):
    """Signed in, so the write endpoints get as far as reading the body (the compliance check
    reads it anonymously too)."""
    api.force_authenticate(django_user_model.objects.create_user("writer"))
    return api


@pytest.mark.parametrize("path", WRITE_ENDPOINTS)
def test_absurdly_nested_json_is_a_malformed_request(signed_in, path):
    api = signed_in
    body = "[" * 5000 + "]" * 5000  # 10 KB that json.loads cannot decode without recursing 5000 deep
    resp = api.generic("POST", path, body, content_type="application/json")
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "malformed-request"


def test_the_compliance_check_refuses_deep_json_anonymously(api):
    resp = api.generic(
        "POST", "/api/v1/compliance/check", "[" * 5000 + "]" * 5000, content_type="application/json"
    )
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "malformed-request"


@pytest.mark.parametrize("path", WRITE_ENDPOINTS)
def test_bodies_are_json_only(signed_in, path):
    """A form body cannot express the endpoints' lists: refused as unsupported, not half-read."""
    resp = signed_in.post(path, {"models": ["a/b", "c/d"]}, format="multipart")
    assert resp.status_code == 415
    assert resp.json()["error"]["code"] == "unsupported-media-type"


def test_schema_advertises_json_bodies_only(api):
    schema = api.get("/api/v1/schema", HTTP_ACCEPT="application/json").json()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            if body:
                assert set(body["content"]) == {"application/json"}, (method, path)


@pytest.mark.parametrize(
    ("query", "rows"),
    [
        ("limit=99999999999999999999", 3),  # past any database integer: capped, not a 500
        (f"limit={MAX_PAGE_SIZE * 10}", 3),
        ("offset=99999999999999999999", 0),  # far past the end: an empty page
        ("limit=2", 2),
    ],
)
def test_list_paging_is_bounded(api, query, rows):
    for i in range(3):
        analysed_model(f"acme/m{i}", "mit", "osi-permissive", "yes")
    resp = api.get(f"/api/v1/repos?{query}")
    assert resp.status_code == 200
    body = resp.json()
    assert body["count"] == 3 and len(body["results"]) == rows


def test_page_size_is_capped(api, monkeypatch):
    import hub.api.drf as drf

    monkeypatch.setattr(drf.BoundedLimitOffsetPagination, "max_limit", 2)
    for i in range(3):
        analysed_model(f"acme/m{i}", "mit", "osi-permissive", "yes")
    assert len(api.get("/api/v1/repos?limit=1000").json()["results"]) == 2


@pytest.mark.parametrize(
    "path",
    ["/api/v1/nonexistent", "/api/v1/violations/abc", "/api/v1/policies/a.b", "/api/v1/mirror/runs/abc"],
)
@pytest.mark.parametrize("debug", [False, True])
def test_unrouted_api_paths_answer_in_the_api_error_format(api, path, settings, debug):
    """With DEBUG on too (``make run``), where Django answers with its technical 404 page."""
    settings.DEBUG = debug
    resp = api.get(path)
    assert resp.status_code == 404 and resp["Content-Type"] == "application/json"
    assert resp.json()["error"]["code"] == "not-found"


def test_a_views_own_errors_are_left_as_they_are_for_browser_clients(api):
    """The DEBUG-page rewrite applies only where no view answered: a view's 400 rendered as HTML
    for ``Accept: text/html`` keeps its own code and message."""
    resp = api.get("/api/v1/repos?sort=bogus", HTTP_ACCEPT="text/html")
    assert resp.status_code == 400 and b"invalid-request" in resp.content and b"malformed" not in resp.content


def test_a_body_over_djangos_limit_answers_in_the_api_error_format(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    resp = api.generic("POST", "/api/v1/compliance/check", '{"models": ["' + "a" * 4096 + '"]}',
                       content_type="application/json")  # fmt: skip
    assert resp.status_code == 400 and resp["Content-Type"] == "application/json"
    assert resp.json()["error"]["code"] == "malformed-request"


def test_pages_outside_the_api_keep_html_errors(client):
    resp = client.get("/no/such/page/here")
    assert resp.status_code == 404 and resp["Content-Type"].startswith("text/html")


def test_schema_documents_the_errors_of_every_operation(api):
    schema = api.get("/api/v1/schema", HTTP_ACCEPT="application/json").json()
    assert schema["components"]["schemas"]["Error"]["required"] == ["error"]
    operations = [
        (path, method, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    assert len(operations) > 20
    for path, method, op in operations:
        assert {"400", "401", "429"} <= set(op["responses"]), (method, path)
        if "{" in path:
            assert "404" in op["responses"], (method, path)
        if method != "get":
            assert "403" in op["responses"], (method, path)


def test_documented_error_body_is_what_the_api_answers(api):
    """The schema's Error matches a real error response (required keys and their types)."""
    schema = api.get("/api/v1/schema", HTTP_ACCEPT="application/json").json()
    error = schema["components"]["schemas"]["Error"]["properties"]["error"]
    body = api.get("/api/v1/violations/999999").json()
    assert set(error["required"]) <= set(body["error"])
    assert all(isinstance(body["error"][k], str) for k in error["required"])


def test_the_schema_documents_each_operations_own_error_statuses(api, db):
    """A second POST of a policy (409), of a repository (409), a BOM or a triage naming nothing the
    caller may see (404): real answers, in the one error body, that the schema did not list."""
    from django.contrib.auth import get_user_model

    schema = api.get("/api/v1/schema", HTTP_ACCEPT="application/json").json()
    staff = get_user_model().objects.create_user("schema-staff", is_staff=True)
    api.force_authenticate(staff)
    body = {"document": {"name": "dup"}}
    assert api.post("/api/v1/policies", body, format="json").status_code == 201
    calls = [
        ("/api/v1/policies", body),
        ("/api/v1/repos", {"name": "twice"}),
        ("/api/v1/compliance/bom?bom_format=spdx3", {"models": ["nobody/x"], "policy": {"name": "p"}}),
        ("/api/v1/violations/triage", {"ids": [987654], "status": "open"}),
    ]
    assert api.post("/api/v1/repos", {"name": "twice"}, format="json").status_code == 201
    for url, payload in calls:
        resp = api.post(url, payload, format="json")
        assert resp.status_code in (404, 409), (url, resp.status_code, resp.content)
        assert set(resp.json()["error"]) >= {"code", "message"}
        documented = schema["paths"][url.split("?")[0]]["post"]["responses"]
        assert str(resp.status_code) in documented, (url, resp.status_code, sorted(documented))
