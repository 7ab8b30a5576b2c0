"""Every page in each staff role's navigation, checked with axe-core (the ``axe`` marker
of tests/browser/conftest.py): no serious or critical violation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.axe]


@pytest.mark.parametrize("username", ["nurse.okafor", "dr.rivera", "desk.baker", "dr.chen"])
def test_every_page_of_a_roles_navigation_passes_axe(
    live_server: str, page: Any, username: str
) -> None:
    log_in(page, live_server, username)
    links = page.locator('nav[aria-label="Main"] a')
    paths = list(dict.fromkeys(links.nth(i).get_attribute("href") for i in range(links.count())))
    assert len(paths) >= 3, paths
    for path in paths:
        response = page.goto(f"{live_server}{path}")
        assert response is not None and response.ok, path


def test_the_chairs_board_refreshes_itself_until_the_nurse_pauses_it(
    live_server: str, page: Any
) -> None:
    log_in(page, live_server, "nurse.okafor")
    page.goto(f"{live_server}/sessions/chairs")
    page.evaluate("window.__sameDocument = true")
    page.wait_for_function("window.__sameDocument !== true", timeout=15_000)  # reloaded
    pause = page.get_by_role("button", name="Pause refreshing")
    pause.click()
    assert pause.get_attribute("aria-pressed") == "true"
    page.evaluate("window.__sameDocument = true")
    page.wait_for_timeout(7_000)  # longer than the 5 seconds of a refresh
    assert page.evaluate("window.__sameDocument") is True
    page.reload()
    assert (
        page.get_by_role("button", name="Pause refreshing").get_attribute("aria-pressed") == "true"
    )
