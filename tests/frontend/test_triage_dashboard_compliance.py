"""Violation triage, the dashboard and the compliance-check page, through the test client."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from frontend.forms import parse_model_list
from licenses.models import Violation, ViolationEvent
from tests.frontend.catalogue_data import PASSWORD

pytestmark = pytest.mark.django_db


def v(catalogue, key: str) -> Violation:
    return Violation.objects.get(pk=catalogue.violations[key].pk)


def test_queue_filters(client, catalogue):
    html = client.get("/violations?rule=unsafe-serialization").content.decode()
    assert "research-lab/nc-vision-model" in html and "acme/support-bot-8b" not in html
    html = client.get("/violations?severity=warning").content.decode()
    assert "<code>missing-notice</code>" in html and "<code>missing-license</code>" not in html
    html = client.get("/violations?org=acme").content.decode()
    assert "acme/support-bot-8b" in html and "nc-vision-model" not in html


def test_triage_requires_sign_in_and_reason(client, catalogue):
    target = v(catalogue, "acme/support-bot-8b:naming-requirement")
    assert client.post("/violations/triage", {"ids": [target.pk], "action": "acknowledge", "reason": "x"})[
        "Location"
    ].startswith("/login")
    client.login(username="alice", password=PASSWORD)
    client.post("/violations/triage", {"ids": [target.pk], "action": "acknowledge", "reason": "   "})
    assert v(catalogue, "acme/support-bot-8b:naming-requirement").status == "open"


def test_bulk_acknowledge_records_history(client, catalogue):
    client.login(username="alice", password=PASSWORD)
    keys = ["acme/support-bot-8b:naming-requirement", "acme/support-bot-8b:missing-notice"]
    ids = [catalogue.violations[k].pk for k in keys]
    response = client.post(
        "/violations/triage", {"ids": ids, "action": "acknowledge", "reason": "Known, fix in v2"}, follow=True
    )
    assert "2 violation(s) updated" in response.content.decode()
    for key in keys:
        row = v(catalogue, key)
        assert (
            row.status == "acknowledged"
            and row.status_reason == "Known, fix in v2"
            and row.status_changed_by == catalogue.alice
        )
    event = ViolationEvent.objects.filter(violation_id=ids[0], action="status").get()
    assert (event.from_status, event.to_status, event.actor, event.reason) == (
        "open",
        "acknowledged",
        catalogue.alice,
        "Known, fix in v2",
    )
    history = client.get(f"/violations/{ids[0]}").content.decode()
    assert "open → acknowledged" in history and "Known, fix in v2" in history
    assert (
        "<code>naming-requirement</code>" not in client.get("/violations?org=acme").content.decode()
    )  # left the open queue


def test_outsiders_cannot_triage(client, catalogue):
    client.login(username="bob", password=PASSWORD)
    target = v(catalogue, "acme/support-bot-8b:relicensed-derivative")
    response = client.post(
        "/violations/triage", {"ids": [target.pk], "action": "false_positive", "reason": "nah"}, follow=True
    )
    assert "1 violation(s) skipped" in response.content.decode()
    assert v(catalogue, "acme/support-bot-8b:relicensed-derivative").status == "open"
    assert f'value="{target.pk}"' not in client.get("/violations").content.decode()  # no checkbox offered


def test_dashboard_charts(client, catalogue):
    html = client.get("/dashboard").content.decode()
    assert html.count('<svg class="chart') == 4  # classes, violations, transparency, mirror runs
    assert "OSI permissive: 38" in html  # 34 fillers + 4 public permissive models
    assert "Vendor community: 2" in html and "Non-commercial: 1" in html
    assert "84/200" in html and 'data-running="1"' in html
    assert "first seen" in html
    partial = client.get("/dashboard/mirror-runs")
    assert partial["Cache-Control"] == "no-store" and "<html" not in partial.content.decode()
    assert "Repositories fetched per mirror run" in partial.content.decode()


def test_compliance_check_page(client, catalogue):
    response = client.post(
        "/compliance",
        {"models": "mistralai/Mistral-7B-v0.1\nresearch-lab/nc-vision-model\n", "policy": "commercial-saas"},
    )
    html = response.content.decode()
    assert 'data-model="mistralai/Mistral-7B-v0.1"' in html
    row = html[html.index('data-model="research-lab/nc-vision-model"') :]
    assert '<span class="verdict deny">deny</span>' in row[: row.index("</tr>")]


def test_compliance_upload_and_inline_policy_and_markdown(client, catalogue):
    upload = SimpleUploadedFile(
        "models.txt", b"# our models\nmeta-llama/Llama-3.1-8B==main\nsomeone/no-license-model\n"
    )
    policy = "name: research\nlicenses:\n  unknown: warn\n"
    response = client.post("/compliance", {"upload": upload, "policy_text": policy, "download": "markdown"})
    assert response["Content-Disposition"] == 'attachment; filename="compliance-report.md"'
    text = response.content.decode()
    assert (
        "policy research" in text
        and "| meta-llama/Llama-3.1-8B |" in text
        and "| someone/no-license-model |" in text
    )


def test_the_markdown_report_reads_hostile_ids_as_text(client, catalogue):
    """Model ids are echoed as typed; pasted into a wiki or a pull request, the report rendered them."""
    ids = "<script>alert(1)</script>\n[x](javascript:alert(3))\nsomeone/no-license-model"
    text = client.post(
        "/compliance", {"models": ids, "policy": "commercial-saas", "download": "markdown"}
    ).content.decode()
    assert "<script>" not in text and "](javascript:" not in text
    assert "\\<script\\>alert\\(1\\)\\</script\\>" in text and "\\[x\\]\\(javascript:" in text
    assert "| someone/no-license-model |" in text


def test_the_markdown_report_reads_a_hostile_policy_name_as_text():
    from frontend.reports import markdown_report

    text = markdown_report("x` <img src=x onerror=alert(1)> `", [])
    assert "\\<img" in text and "\\`" in text and " <img" not in text  # every < and ` escaped


def test_the_sort_menu_lists_each_order_once(client, catalogue):
    html = client.get("/models").content.decode()
    assert html.count(">Most downloads</option>") == 1
    assert client.get("/models?search=llama").content.decode().count(">Most downloads</option>") == 1


def test_compliance_reports_a_bad_policy(client, catalogue):
    response = client.post(
        "/compliance", {"models": "a/b", "policy_text": "name: x\nlicenses:\n  unknown: maybe\n"}
    )
    assert response.status_code == 400 and "licenses.unknown" in response.content.decode()
    response = client.post("/compliance", {"models": "", "policy": "commercial-saas"})
    assert "Give at least one model id" in response.content.decode()


def test_parse_model_list():
    text = (
        "a/b  # comment\nc/d==v1.0\ne/f@abc1234, g/h\nhttps://huggingface.co/i/j\n\n# only a comment\na/b\n"
    )
    assert parse_model_list(text) == [
        ("a/b", None),
        ("c/d", "v1.0"),
        ("e/f", "abc1234"),
        ("g/h", None),
        ("i/j", None),
    ]


@pytest.mark.parametrize("fmt", ["cyclonedx", "spdx3", "spdx2"])
def test_compliance_ai_bom_download(client, catalogue, fmt):
    response = client.post(
        "/compliance",
        {
            "models": "mistralai/Mistral-7B-v0.1\nacme/internal-secret-model\n",
            "policy": "commercial-saas",
            "download": fmt,
        },
    )
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Disposition"] == f'attachment; filename="ai-bom.{fmt}.json"'
    text = response.content.decode()
    assert "Mistral-7B-v0.1" in text
    assert "internal-secret-model" not in text  # private and the viewer is anonymous
