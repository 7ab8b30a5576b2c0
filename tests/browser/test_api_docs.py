"""The API docs page renders the OpenAPI 3.1 document from local files, under the CSP."""

from __future__ import annotations

import os

import pytest

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_the_api_docs_show_the_operations(live_server: str, page) -> None:
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)
    page.set_default_timeout(30_000)  # the bundle is 1.5 MB
    log_in(page, live_server, "dr.rivera")
    page.goto(f"{live_server}/api/docs")
    page.locator(".opblock").first.wait_for()
    # Drawn, the region says so (the accessibility checks wait for it).
    page.locator('#swagger-ui[aria-busy="false"]').wait_for()
    assert page.locator(".opblock").count() > 50
    assert "Unable to render this definition" not in page.content()
    assert page.get_by_text("/api/patients/{patient_id}", exact=True).first.is_visible()
    assert not blocked
    if shot := os.environ.get("KETACLINIC_API_DOCS_SCREENSHOT"):
        page.screenshot(path=shot, full_page=False)
