"""Screenshots for the README: the catalogue, a model page and the dashboard (``make screenshots``).

They are taken from the same fixture registry as the browser tests, in real headless
Chromium, and written to ``docs/screenshots/``; the test fails if a page errors or a
screenshot comes out empty.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("name", "url", "full_page"),
    [
        ("catalogue", "/models", False),
        ("model", "/acme/support-bot-8b", True),
        ("dashboard", "/dashboard", True),
    ],
)
def test_screenshot(browser, live_server, site, name, url, full_page):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 960}, device_scale_factor=1
    )
    page = context.new_page()
    try:
        response = page.goto(url)
        assert response.status == 200
        page.wait_for_load_state("networkidle")
        OUT.mkdir(parents=True, exist_ok=True)
        target = OUT / f"{name}.png"
        page.screenshot(path=str(target), full_page=full_page)
        data = target.read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 20_000
    finally:
        context.close()
