"""The native REST API (/api/v1/): repositories, revisions, files, analysis, token auth."""

from __future__ import annotations

import pytest

from tests.hub.conftest import make_repo, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def repos(alice, bob, fs_store):
    return (
        make_repo(alice, "pub", {"README.md": b"---\nlicense: mit\n---\n# x\n"}),
        make_repo(alice, "nc", {"README.md": b"---\nlicense: cc-by-nc-4.0\n---\n# x\n"}),
        make_repo(bob, "hidden", {"README.md": b"# x\n"}, private=True),
    )


def test_list_filter_and_visibility(client, repos, bob):
    ids = [r["id"] for r in client.get("/api/v1/repos").json()["results"]]
    assert set(ids) == {"alice/pub", "alice/nc"}
    assert [r["id"] for r in client.get("/api/v1/repos?license=mit").json()["results"]] == ["alice/pub"]
    assert [r["id"] for r in client.get("/api/v1/repos?license_class=noncommercial").json()["results"]] == [
        "alice/nc"
    ]
    mine = client.get("/api/v1/repos", HTTP_AUTHORIZATION=f"Bearer {token_for(bob)}").json()["results"]
    assert "bob/hidden" in [r["id"] for r in mine]
    assert client.get("/api/v1/repos", HTTP_AUTHORIZATION="Bearer mh_bogus").status_code == 401


def test_list_sorts_accept_the_hub_spellings_and_refuse_unknown_ones(client, repos):
    by_name = [r["id"] for r in client.get("/api/v1/repos?sort=name").json()["results"]]
    assert by_name == ["alice/nc", "alice/pub"]
    newest = [r["id"] for r in client.get("/api/v1/repos?sort=last_modified").json()["results"]]
    assert [r["id"] for r in client.get("/api/v1/repos?sort=lastModified").json()["results"]] == newest
    bad = client.get("/api/v1/repos?sort=popularity")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid-request"
    assert "last_modified" in bad.json()["error"]["message"]


def test_detail_revisions_files_analysis(client, repos):
    detail = client.get("/api/v1/repos/alice/pub").json()
    assert detail["sha"] == repos[0].head.sha and detail["analysis"]["license_key"] == "mit"
    revisions = client.get("/api/v1/repos/alice/pub/revisions").json()["results"]
    assert next(r["sha"] for r in revisions) == repos[0].head.sha and len(revisions) == 2
    files = [f["path"] for f in client.get("/api/v1/repos/alice/pub/files").json()["results"]]
    assert files == [".gitattributes", "README.md"]
    analysis = client.get("/api/v1/repos/alice/pub/analysis").json()
    assert analysis["revision"] == repos[0].head.sha and analysis["result"]["license"]["key"] == "mit"
    assert client.get("/api/v1/repos/alice/pub/analysis?revision=nope").status_code == 404
    refs = client.get("/api/v1/repos/alice/pub/refs").json()
    assert refs == [
        {"kind": "branch", "name": "main", "target": repos[0].head.sha, "updated_at": refs[0]["updated_at"]}
    ]


def test_create_and_update_visibility(client, alice, bob, fs_store):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token_for(alice)}"}
    resp = client.post(
        "/api/v1/repos", {"name": "made", "private": True}, content_type="application/json", **auth
    )
    assert resp.status_code == 201 and resp.json()["id"] == "alice/made" and resp.json()["private"] is True
    assert client.get("/api/v1/repos/alice/made").status_code == 404
    bob_auth = {"HTTP_AUTHORIZATION": f"Bearer {token_for(bob)}"}
    assert client.patch("/api/v1/repos/alice/made", {"private": False}, content_type="application/json",
                        **bob_auth).status_code == 404  # fmt: skip
    resp = client.patch("/api/v1/repos/alice/made", {"private": False, "gated": "auto"},
                        content_type="application/json", **auth)  # fmt: skip
    assert resp.status_code == 200 and resp.json()["private"] is False and resp.json()["gated"] == "auto"
    assert client.get("/api/v1/repos/alice/made").status_code == 200
    read_only = {"HTTP_AUTHORIZATION": f"Bearer {token_for(alice, write=False)}"}
    assert client.patch("/api/v1/repos/alice/made", {"private": True}, content_type="application/json",
                        **read_only).status_code == 403  # fmt: skip


def test_openapi_schema_lists_hub_endpoints(client):
    schema = client.get("/api/v1/schema?format=json").json()
    assert "/api/v1/repos/{owner}/{name}/analysis" in schema["paths"]
    assert "bearerAuth" in schema["components"]["securitySchemes"]


def test_nul_bytes_are_a_400(client, repos):
    assert client.get("/api/v1/repos/alice/pub/files?revision=ma%00in").status_code == 400
    assert client.get("/api/v1/repos?search=%00").status_code == 400


def test_a_failed_syncs_error_text_is_not_published_but_upstream_facts_are(client, repos):
    """A failed mirror sync stores our side's exception text (blob store, database, network),
    which can name internal hosts, buckets and paths; the public repository answer says only
    that it failed. What the upstream itself said (gone, gated, renamed) stays readable."""
    from hub.models import Repository

    repo = repos[0]
    Repository.objects.filter(pk=repo.pk).update(
        mirrored_from="https://hub.example/acme/x",
        mirror_status="failed",
        mirror_error="BlobStoreUnavailable: S3 refused the put: http://10.0.0.5:9000 bucket corp-models",
    )
    shown = client.get("/api/v1/repos/alice/pub").json()["mirror_error"]
    assert "failed" in shown and "10.0.0.5" not in shown and "corp-models" not in shown
    Repository.objects.filter(pk=repo.pk).update(
        mirror_status="moved", mirror_error="renamed upstream to b/x"
    )
    assert client.get("/api/v1/repos/alice/pub").json()["mirror_error"] == "renamed upstream to b/x"
