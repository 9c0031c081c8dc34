"""End-to-end: the catalogue in real headless Chromium against a live server with fixture data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

from hub.auth import lookup_token
from licenses.models import Violation
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def result_ids(page) -> list[str]:
    return [t.strip().replace("\n", "") for t in page.locator("#results .model-id").all_inner_texts()]


def test_search_and_filter_live(page, site):
    page.goto("/models")
    assert page.locator("#results .model-item").count() == 30  # first page of 45 visible models
    page.get_by_label("Search models").fill("llama")
    page.wait_for_url(re.compile(r"search=llama"))
    page.wait_for_function("document.querySelectorAll('#results .model-item').length === 3")
    # Names and descriptions are searched: the acme finetune says it is "fine-tuned from Llama 3.1".
    assert sorted(result_ids(page)) == [
        "acme/support-bot-8b",
        "meta-llama/Llama-3.1-8B",
        "meta-llama/Llama-3.1-8B-Instruct",
    ]

    page.get_by_label("Search models").fill("")
    page.locator("#filter-panel summary").click()
    page.get_by_label("Licence class").select_option("noncommercial")
    page.wait_for_url(re.compile(r"license_class=noncommercial"))
    page.wait_for_function("document.querySelectorAll('#results .model-item').length === 1")
    assert result_ids(page) == ["research-lab/nc-vision-model"]
    assert "cc-by-nc-4.0" in page.locator("#results").inner_text()
    assert not page.js_errors


def test_pagination_reaches_every_model(page, site):
    page.goto("/models?sort=downloads")
    seen = result_ids(page)
    page.get_by_role("link", name="Next →").click()
    page.wait_for_url(re.compile(r"cursor="))
    seen += result_ids(page)
    assert len(seen) == len(set(seen)) == 44  # every public model once, the private one never
    assert "acme/internal-secret-model" not in seen


def test_open_model_and_follow_lineage_to_parent_with_keyboard(page, site):
    page.goto("/models?search=support")
    page.get_by_role("link", name=re.compile("support-bot-8b")).click()
    page.wait_for_url("**/acme/support-bot-8b")
    licence = page.locator("#licence")
    assert "apache-2.0" in licence.inner_text()
    assert page.locator("#violations .violation").count() == 3
    assert "relicensed-derivative" in page.locator("#violations").inner_text()
    assert page.locator("#lineage svg .edge.violation").count() == 1  # the edge to the parent is marked

    parent = page.locator('#lineage svg a.node[data-ref="meta-llama/llama-3.1-8b-instruct"]')
    parent.focus()  # reachable by keyboard: an SVG link, Enter follows it
    page.keyboard.press("Enter")
    page.wait_for_url("**/meta-llama/Llama-3.1-8B-Instruct")
    assert (
        page.locator("header.model-header h1").inner_text().replace("\n", "")
        == "meta-llama/Llama-3.1-8B-Instruct"
    )
    graph = page.locator("#lineage svg")
    assert graph.locator('[data-ref="meta-llama/llama-3.1-8b"]').count() == 1  # its own parent
    assert graph.locator('[data-ref="acme/support-bot-8b"]').count() == 1  # the derivative, flagged
    assert graph.locator('.node.has-violations[data-ref="acme/support-bot-8b"]').count() == 1
    assert "hf download meta-llama/Llama-3.1-8B-Instruct" in page.locator("#files").inner_text()


def test_triage_a_violation_with_reason_and_history(page, site):
    sign_in(page, "alice")
    page.goto("/violations?org=acme")
    row = page.locator("tr", has=page.locator("code", has_text="naming-requirement"))
    row.get_by_role("checkbox").check()
    page.get_by_label("Action").select_option("false_positive")
    page.get_by_label("Reason (required)").fill("Name approved by Meta, ticket LEGAL-42")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state()
    assert "1 violation(s) updated" in page.locator(".messages").inner_text()

    violation = Violation.objects.get(pk=site.violations["acme/support-bot-8b:naming-requirement"].pk)
    assert violation.status == Violation.Status.FALSE_POSITIVE
    assert violation.status_reason == "Name approved by Meta, ticket LEGAL-42"
    page.goto(f"/violations/{violation.pk}")
    history = page.locator(".history").inner_text()
    assert "open → false_positive" in history and "LEGAL-42" in history and "alice" in history


def test_compliance_check_and_markdown_report(page, site):
    page.goto("/compliance")
    page.get_by_label("Model ids").fill(
        "mistralai/Mistral-7B-v0.1\nresearch-lab/nc-vision-model  # research only\nnobody/does-not-exist\n"
    )
    page.get_by_label("Policy", exact=True).select_option("commercial-saas")
    page.get_by_role("button", name="Check", exact=True).click()
    page.wait_for_selector(".verdicts")
    verdicts = {
        r.get_attribute("data-model"): r.locator(".verdict").inner_text().lower()
        for r in page.locator("tr.verdict-row").all()
    }
    assert verdicts["mistralai/Mistral-7B-v0.1"] == "allow"
    assert verdicts["research-lab/nc-vision-model"] == "deny"
    assert verdicts["nobody/does-not-exist"] == "deny"
    with page.expect_download() as download:
        page.get_by_role("button", name="Download report (Markdown)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("# Compliance check — policy commercial-saas")
    assert "| research-lab/nc-vision-model |" in text and "**deny**" in text


def test_create_and_revoke_a_token(page, site, live_server):
    sign_in(page, "bob")
    page.goto("/settings/tokens")
    page.get_by_label("Token name").fill("ci downloads")
    page.get_by_role("button", name="Create token").click()
    token = page.locator("#new-token-value").input_value()
    assert token.startswith("mh_") and lookup_token(token) is not None
    # Outside the browser (no session cookie): only the token authenticates.
    whoami = requests.get(
        f"{live_server.url}/api/whoami-v2", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert whoami.status_code == 200 and whoami.json()["name"] == "bob"

    page.get_by_role("button", name="Revoke token ci downloads").click()
    page.wait_for_load_state()
    assert "revoked" in page.locator('tr[data-token="ci downloads"]').inner_text()
    assert lookup_token(token) is None
    after = requests.get(
        f"{live_server.url}/api/whoami-v2", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert after.status_code == 401
    page.reload()
    assert page.locator("#new-token-value").count() == 0  # shown once only


def test_private_model_is_invisible_when_signed_out(page, site):
    page.goto("/models?search=internal")
    assert page.locator("#results .model-item").count() == 0
    response = page.goto("/acme/internal-secret-model")
    assert response.status == 404
    page.goto("/models?search=acme%2F")
    assert "acme/internal-secret-model" not in result_ids(page)

    sign_in(page, "bob")  # signed in, but not a member of acme
    assert page.goto("/acme/internal-secret-model").status == 404

    page.context.clear_cookies()
    sign_in(page, "alice")  # member of acme
    assert page.goto("/acme/internal-secret-model").status == 200
    page.goto("/models?search=internal")
    assert result_ids(page) == ["acme/internal-secret-model"]


def test_xss_payload_in_a_card_is_inert(page, site):
    page.goto("/community/xss-demo")
    card = page.locator(".card-body")
    card.locator("div", has_text="hover").first.hover()
    for link in card.locator("a").all():
        assert not (link.get_attribute("href") or "").lower().startswith("javascript")
    card.get_by_text("click me").click()
    assert page.evaluate("window.__xss") is None
    assert page.title() != "pwned"
    html = card.inner_html()
    assert (
        "<script" not in html
        and "onerror" not in html
        and "onmouseover" not in html
        and "<iframe" not in html
    )
    safe = card.get_by_role("link", name="safe link")
    assert safe.get_attribute("href") == "https://example.org/docs"
    assert safe.get_attribute("rel") == "noopener nofollow"
    assert not page.js_errors


def test_pages_fit_a_phone_screen(browser, live_server, site):
    # no is_mobile: it makes the page zoom out to its content, so innerWidth grows with any
    # overflow and the check below could never fail
    from licenses.models import Violation

    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 812})
    page = context.new_page()
    # violation pages cite clauses ("Llama 3.1 Community License Agreement §1.b.iv") that would not wrap
    longest = Violation.objects.first()
    longest.clause = "Llama 3.1 Community License Agreement §1.b.iv"  # a real clause, as long as they come
    longest.save(update_fields=["clause"])
    cited = [f"/violations/{pk}" for pk in Violation.objects.exclude(clause="").values_list("pk", flat=True)]
    try:
        for url in ("/models", "/acme/support-bot-8b", "/research-lab/nc-vision-model", "/dashboard", "/violations",
                    "/licenses/llama3.1", *cited):  # fmt: skip
            page.goto(url)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{url} scrolls sideways by {overflow}px on a phone"
    finally:
        context.close()


def test_every_page_runs_under_its_content_security_policy(page, site):
    """The policy is a second line behind the card sanitiser; nothing of our own may need an
    exception to it (live filtering, the lineage graph's colours, the dashboard's charts)."""
    sign_in(page, "alice")
    for url in ("/models", "/acme/support-bot-8b", "/research-lab/nc-vision-model", "/dashboard", "/violations",
                "/licenses", "/licenses/llama3.1", "/compliance", "/settings/tokens"):  # fmt: skip
        response = page.goto(url)
        policy = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy and "object-src 'none'" in policy, url
    page.goto("/models")
    page.get_by_label("Search models").fill("llama")
    page.wait_for_timeout(600)  # the live results arrive and replace the list
    assert not page.js_errors, page.js_errors
    assert "content-security-policy" not in {k.lower() for k in page.goto("/admin/login/").headers}
