"""``/models.csv`` and ``/violations.csv``: the page's filters, every row, what the viewer may see."""

from __future__ import annotations

import csv
import io

import pytest

from frontend.exports import cell
from hub.models import Repository
from licenses.models import Violation
from tests.frontend.catalogue_data import PASSWORD

pytestmark = pytest.mark.django_db


def rows(client, url: str) -> list[dict[str, str]]:
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_catalogue_as_csv_has_every_filtered_model_and_no_private_one(client, catalogue):
    everything = rows(client, "/models.csv")
    assert len(everything) == Repository.objects.filter(repo_type="model", private=False).count() > 30
    assert "acme/internal-secret-model" not in {r["model"] for r in everything}
    downloads = [int(r["downloads"]) for r in everything]
    assert downloads == sorted(downloads, reverse=True)  # the page's default order

    nc = rows(client, "/models.csv?license=cc-by-nc-4.0")
    assert [(r["model"], r["licence"], r["commercial use"]) for r in nc] == [
        ("research-lab/nc-vision-model", "cc-by-nc-4.0", "no")
    ]
    assert nc[0]["url"].endswith("/research-lab/nc-vision-model")
    client.login(username="alice", password=PASSWORD)
    assert "acme/internal-secret-model" in {r["model"] for r in rows(client, "/models.csv?search=internal")}
    page = client.get("/models?license_class=rail").content.decode()
    assert 'href="/models.csv?license_class=rail"' in page


def test_the_queue_as_csv_keeps_its_filters(client, catalogue):
    found = rows(client, "/violations.csv?severity=warning&status=all")
    assert found and {r["severity"] for r in found} == {"warning"}
    assert {r["rule"] for r in found} >= {"missing-notice"}
    assert (
        len(rows(client, "/violations.csv?status=all"))
        == Violation.objects.filter(repository__private=False).count()
    )
    assert (
        'href="/violations.csv?rule=missing-notice"'
        in client.get("/violations?rule=missing-notice").content.decode()
    )


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x")', "+1", "-1+2", "@SUM(A1)", "\tx"])
def test_a_cell_a_spreadsheet_would_run_is_written_as_text(text):
    assert cell(text) == "'" + text
    assert cell("acme/model-1") == "acme/model-1" and cell(None) == ""


def test_messages_that_look_like_formulas_are_exported_as_text(client, catalogue):
    Violation.objects.filter(repository__private=False).update(message="=cmd|' /C calc'!A0")
    found = rows(client, "/violations.csv?status=all")
    assert {r["message"] for r in found} == {"'=cmd|' /C calc'!A0"}


def test_scripts_fetch_the_exports_with_a_token(client, catalogue):
    """Session only: a script with alice's token silently got the public rows, hers left out."""
    from django.contrib.auth import get_user_model

    from hub.auth import mint_token

    token = mint_token(get_user_model().objects.get(username="alice"), name="export")[0]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    found = client.get("/models.csv?search=internal", **auth)
    assert found.status_code == 200
    assert "acme/internal-secret-model" in b"".join(found.streaming_content).decode()
    assert client.get("/violations.csv?status=all", **auth).status_code == 200

    wrong = client.get("/models.csv", HTTP_AUTHORIZATION="Bearer mh_not-a-token")
    assert wrong.status_code == 401 and wrong["WWW-Authenticate"] == "Bearer"  # never anonymous rows
    assert "acme/internal-secret-model" not in {
        r["model"] for r in rows(client, "/models.csv?search=internal")
    }
