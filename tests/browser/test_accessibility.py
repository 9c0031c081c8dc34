"""Accessibility of the catalogue, checked in real Chromium with targeted assertions.

Session 12 ran axe-core (installed by hand, not a project dependency) over every page type
and then a keyboard-only pass; these tests pin what it found, without axe, so the suite
downloads nothing: the catalogue and model pages have one ``<h1>`` and the card's headings
nest under "Model card", the live filter announces its count from a status line that
survives the re-render and is usable without a mouse, scrolling regions take focus, links
are told apart by more than colour, and the lineage graph's links are named by the words
they show.
"""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_catalogue_has_one_h1_and_the_live_filter_works_from_the_keyboard(page, site):
    page.goto("/models")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator("h1").count() == 1
    status = page.locator("#results-status")
    # the status line is outside the list the script swaps, and the list itself is not a live region
    assert status.get_attribute("role") == "status"
    assert page.locator("#results[aria-live]").count() == 0

    # keyboard only: Tab to the search field (skip link, brand, five nav links, sign-in before it)
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "search":
            break
    assert page.evaluate("document.activeElement.id") == "search"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")  # focus is visible
    page.keyboard.type("llama")
    page.wait_for_url(re.compile(r"search=llama"))
    page.wait_for_function("document.querySelectorAll('#results .model-item').length === 3")
    page.wait_for_function("document.getElementById('results-status').textContent.includes('3')")
    assert "matching" in status.inner_text()
    assert page.evaluate("document.activeElement.id") == "search"  # the re-render kept the focus

    # open the filter panel and pick a licence class with keys alone
    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")
    page.locator("#filter-panel summary").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "license_class"
    page.locator("#license_class").press("End")  # the last class, chosen by keyboard
    page.wait_for_url(re.compile(r"license_class="))
    page.wait_for_function(
        "document.getElementById('results-status').textContent.trim().length > 0"
        " && !location.search.includes('search=llama')"
    )
    assert not page.js_errors


def test_model_page_outline_focusable_commands_and_underlined_owner(page, site):
    page.goto("/acme/support-bot-8b")
    assert page.locator("h1").count() == 1  # the card's "# Title" no longer adds a second one
    levels = page.evaluate(
        "Array.from(document.querySelectorAll('.card-body h1, .card-body h2, .card-body h3, .card-body h4'))"
        ".map(h => h.tagName)"
    )
    assert levels and all(tag in ("H3", "H4") for tag in levels)
    for pre in page.locator("pre.command").all():
        assert pre.get_attribute("tabindex") == "0"  # long commands scroll sideways: reachable by keyboard
    owner = page.locator("header.model-header h1 a")
    assert "underline" in owner.evaluate("a => getComputedStyle(a).textDecorationLine")


def test_lineage_links_are_named_by_what_they_show(page, site):
    page.goto("/acme/support-bot-8b")
    nodes = page.locator("#lineage svg a.node")
    assert nodes.count() >= 1
    for node in nodes.all():
        name = node.get_attribute("aria-label") or ""
        shown = [t.strip() for t in node.locator("text").all_text_contents() if t.strip()]
        # every piece of visible text (the warning count aside) is in the name, in order
        words = [t for t in shown if not t.startswith("⚠")]
        assert " ".join(words) in name, (words, name)


def test_dashboard_chart_with_links_is_not_an_image(page, site):
    page.goto("/dashboard")
    for chart in page.locator("svg.chart").all():
        if chart.locator("a").count():
            # role=img would hide the links inside it from assistive technology
            assert chart.get_attribute("role") != "img"
