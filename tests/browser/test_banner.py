"""The clinic-wide banner is read out once: a polite status region whose text is put
back after load only when this tab has not announced it yet (platform/static/js/app.js)."""

from __future__ import annotations

from typing import Any

import pytest

from ketaclinic.platform import web
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_the_banner_is_announced_when_new_and_not_again_on_the_next_pages(
    live_server: str, page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = [{"level": "alarm", "text": "1 open suicidality alert", "href": "/outcomes/alerts"}]
    monkeypatch.setattr(web, "banner_providers", lambda: [lambda request, who: list(shown)])
    log_in(page, live_server, "nurse.okafor")
    banner = page.locator("#banners")
    assert banner.get_attribute("role") == "status"
    assert banner.get_attribute("aria-live") == "polite"
    page.wait_for_selector('#banners[data-announced="now"]')
    assert "1 open suicidality alert" in banner.inner_text()
    page.goto(f"{live_server}/patients")
    page.wait_for_selector('#banners[data-announced="before"]')
    assert "1 open suicidality alert" in banner.inner_text()  # still shown, not read again
    shown[0] = {"level": "alarm", "text": "2 open suicidality alerts", "href": "/outcomes/alerts"}
    page.goto(f"{live_server}/")
    page.wait_for_selector('#banners[data-announced="now"]')  # it changed: read once more
