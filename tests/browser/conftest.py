"""Browser tests: a real ketaclinic server on a free local port, with the demo clinic,
driven by Playwright in Debian's headless Chromium (never a downloaded browser)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from ketaclinic import demo
from ketaclinic.platform.app import create_app
from ketaclinic.platform.settings import Settings
from tests import demo_clinic
from tests.conftest import BACKENDS

CHROMIUM = os.environ.get("KETACLINIC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
DEMO_PASSWORD = demo.PASSWORD


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Browser tests run on a fresh copy of the demo clinic (this overrides the empty
    database of the other tests), so ``settings`` and ``db`` see what the server sees."""
    return demo_clinic.copy(request, request.param, tmp_path)


@pytest.fixture
def live_server(settings: Settings) -> Iterator[str]:
    """Serves the app over HTTP in a thread, on this test's copy of the demo clinic."""
    application = create_app(settings)
    port = _free_port()
    config = uvicorn.Config(
        application, host="127.0.0.1", port=port, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    application.state.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    with_axe = request.node.get_closest_marker("axe") is not None
    # axe-core goes in as a script tag, which the app's Content-Security-Policy refuses.
    context = browser.new_context(bypass_csp=with_axe)  # type: ignore[attr-defined]
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    checker = None
    if with_axe:
        checker = Axe(tab, request.getfixturevalue("monkeypatch"))
    yield tab
    if checker is not None:
        checker.check()  # the page the test ends on
        checker.assert_accessible()
    context.close()


# ------------------------------------------------------------------ axe-core

AXE_JS = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = ("serious", "critical")
# WCAG 2.0/2.1 A and AA rules, and axe's best practices (landmarks, headings).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BUSY_TIMEOUT_MS = 30_000  # Swagger UI's 1.5 MB bundle on a slow CI host


class Axe:
    """Checks each page with axe-core before the test leaves it: before every click and
    every ``goto`` the current document is checked once (a mark in the document says it
    was), so every page of a journey is checked in the state the test left it, forms
    filled or refused with their errors. ``npm ci --prefix tests/browser/axe``
    (scripts/test) installs the pinned axe-core."""

    def __init__(self, tab: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        from playwright.sync_api import Locator, Page

        if not AXE_JS.exists():
            pytest.fail(f"{AXE_JS} is missing: run npm ci --prefix tests/browser/axe")
        self.tab = tab
        self.checked: list[str] = []
        self.violations: dict[str, list[str]] = {}  # what is wrong where -> on which pages

        def first_check(method: Any, page_of: Any) -> Any:
            def checked(this: Any, *args: Any, **kwargs: Any) -> Any:
                if page_of(this) is tab:
                    self.check()
                return method(this, *args, **kwargs)

            return checked

        monkeypatch.setattr(Page, "goto", first_check(Page.goto, lambda p: p))
        monkeypatch.setattr(Locator, "click", first_check(Locator.click, lambda loc: loc.page))

    def check(self) -> None:
        for _ in range(3):
            try:
                return self._check()
            except Exception as exc:  # a page that reloads itself went on meanwhile
                if "context was destroyed" not in str(exc):
                    raise
                self.tab.wait_for_load_state()
        raise AssertionError(f"{self.tab.url} changed under every axe check")

    def _check(self) -> None:
        tab = self.tab
        if not tab.url.startswith("http"):
            return
        if tab.evaluate("document.contentType !== 'text/html' || window.__axeChecked === true"):
            return
        # A region still drawing itself (Swagger UI fetching its document) is checked once
        # drawn: checked half-drawn, the result would depend on the host's speed.
        tab.locator('[aria-busy="true"]').first.wait_for(state="detached", timeout=BUSY_TIMEOUT_MS)
        if not tab.evaluate("typeof window.axe === 'object'"):
            tab.add_script_tag(path=str(AXE_JS))
        result = tab.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags},"
            " resultTypes: ['violations']}).then(r => { window.__axeChecked = true; return r; })",
            AXE_TAGS,
        )
        self.checked.append(tab.url)
        for v in result["violations"]:
            if v["impact"] in FAILING_IMPACTS:
                targets = "; ".join(",".join(n["target"]) for n in v["nodes"][:5])
                what = f"{v['id']} ({v['impact']}): {v['help']} at {targets}"
                self.violations.setdefault(what, []).append(tab.url)

    def assert_accessible(self) -> None:
        assert self.checked, "axe checked no page"
        found = [
            f"{what}\n    on {', '.join(dict.fromkeys(urls))}"
            for what, urls in self.violations.items()
        ]
        assert not found, "axe-core found serious or critical violations:\n" + "\n".join(found)


def log_in(page: object, base: str, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{base}/login")  # type: ignore[attr-defined]
    page.get_by_label("Username").fill(username)  # type: ignore[attr-defined]
    page.get_by_label("Password").fill(password)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Log in").click()  # type: ignore[attr-defined]
    # Staff land on the home page, patients on their portal.
    page.wait_for_url(lambda url: "/login" not in url)  # type: ignore[attr-defined]
