"""Browser fixtures: the system Chromium with a phone and a desktop profile, and axe-core."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from importlib.resources import files

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright

from tests.conftest import LiveServer

AXE_SOURCE = (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
DESKTOP = {"viewport": {"width": 1280, "height": 800}}


def _profile(playwright: Playwright, name: str) -> dict:
    device = dict(playwright.devices[name])
    device.pop("default_browser_type", None)
    return device


@pytest.fixture
def open_page(
    browser: Browser, playwright: Playwright, live_server: LiveServer
) -> Iterator[Callable[[str], Page]]:
    """Open pages in fresh contexts; fail the test on any CSP report or page error."""
    contexts = []
    problems: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(message.text)

    def opener(profile: str) -> Page:
        options = DESKTOP if profile == "desktop" else _profile(playwright, profile)
        context = browser.new_context(**options, base_url=live_server.url)
        contexts.append(context)
        page = context.new_page()
        page.on("console", watch)
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.set_default_timeout(10_000)
        return page

    yield opener
    for context in contexts:
        context.close()
    assert not problems, "the browser reported problems:\n" + "\n".join(problems)


@pytest.fixture
def phone(open_page: Callable[[str], Page]) -> Page:
    return open_page("iPhone 13")


@pytest.fixture
def desktop(open_page: Callable[[str], Page]) -> Page:
    return open_page("desktop")


def assert_no_axe_violations(page: Page) -> None:
    """Run axe-core in the page and fail on any WCAG 2.2 A/AA violation."""
    page.evaluate(AXE_SOURCE)
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    violations = results["violations"]
    report = [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [node["target"] for node in v["nodes"]][:5],
        }
        for v in violations
    ]
    assert not violations, f"axe found violations on {page.url}:\n{json.dumps(report, indent=2)}"


def log_in(page: Page, email: str, password: str) -> None:
    page.goto("/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
