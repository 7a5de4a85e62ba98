"""Patient pages on small phones: no axe violations, nothing wider than 320 px, tap targets of
at least 44 px, no request to another origin, first-load transfer ≤ 60 KB, and the player
logging a session with JavaScript off (DESIGN §5). The first load counts the figures it shows:
/today's still frames; the player shows its first figure on the first exercise screen."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, Playwright, expect

from app.extensions import db
from app.patient.models import Session
from tests.browser.conftest import assert_no_axe_violations, log_in
from tests.conftest import PASSWORD

BUDGET = 60 * 1024
PAGES = ("/today", "/session/{program}", "/checkin", "/checkin/symptom", "/progress")

SMALL_TARGETS = """() => {
  const sel = 'button, .button, select, textarea, summary, input[type=text], input[type=number],'
    + ' .scale-grid label, .choices label, label.check';
  return [...document.querySelectorAll(sel)]
    .filter((el) => el.getClientRects().length && !el.closest('[hidden]'))
    .map((el) => [el, el.getBoundingClientRect()])
    .filter(([, r]) => r.height < 44 || r.width < 44)
    .map(([el, r]) => `${el.tagName}.${el.className} ${r.width}x${r.height}`);
}"""


def device(playwright: Playwright, name: str) -> dict:
    options = dict(playwright.devices[name])
    options.pop("default_browser_type", None)
    return options


def check_page(page: Page, path: str) -> None:
    page.goto(path)
    expect(page.locator("h1")).to_be_visible()
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth"), path
    assert page.evaluate(SMALL_TARGETS) == [], path
    assert_no_axe_violations(page)


@pytest.mark.parametrize("profile", ["iPhone SE", "iPhone 13"])  # 320 px and 390 px wide
def test_patient_pages_are_accessible_and_usable_on_small_phones(open_page, make_patient, profile):
    bundle = make_patient()
    page = open_page(profile)
    log_in(page, bundle.user.email, PASSWORD)
    page.wait_for_url("**/today")
    for path in PAGES:
        check_page(page, path.format(program=bundle.program.id))
    # The enhanced player: an exercise screen with its timer.
    page.goto(f"/session/{bundle.program.id}")
    page.get_by_role("group", name=re.compile("right now")).get_by_role(
        "radio", name=re.compile("^3 ")
    ).check()
    page.get_by_role("button", name="Start", exact=True).click()
    expect(page.locator(".step.current .timer")).to_be_visible()
    assert page.evaluate(SMALL_TARGETS) == []
    assert_no_axe_violations(page)


def first_load(browser: Browser, playwright: Playwright, base_url: str, email: str, path: str):
    """Load `path` in a fresh phone context (empty cache) and list every response's size."""
    context = browser.new_context(
        **device(playwright, "iPhone 13"), base_url=base_url, service_workers="block"
    )
    try:
        context.request.post("/auth/login", form={"email": email, "password": PASSWORD})
        page = context.new_page()
        loaded: list[tuple[str, int]] = []
        page.on(
            "requestfinished",
            lambda request: loaded.append(
                (
                    request.url,
                    request.sizes()["responseBodySize"] + request.sizes()["responseHeadersSize"],
                )
            ),
        )
        page.goto(path, wait_until="networkidle")
        return loaded
    finally:
        context.close()


@pytest.mark.parametrize("language", ["en", "es"])  # Spanish: longer words and the scripts' words
def test_today_and_the_player_load_in_under_60_kb_from_this_origin_only(
    browser, playwright, live_server, make_patient, language
):
    bundle = make_patient()
    bundle.patient.language = language
    db.session.commit()
    for path in ("/today", f"/session/{bundle.program.id}"):
        loaded = first_load(browser, playwright, live_server.url, bundle.user.email, path)
        total = sum(size for _, size in loaded)
        print(f"\n{path}: {total / 1024:.1f} KB in {len(loaded)} responses")
        for url, size in loaded:
            print(f"  {size:>6} {url.removeprefix(live_server.url)}")
        assert any(url.endswith("/static/js/outbox.js") for url, _ in loaded)
        assert all(url.startswith(live_server.url) for url, _ in loaded), loaded
        assert total <= BUDGET, f"{path} loads {total} bytes"
        figures = [url for url, _ in loaded if "/figures/" in url]
        if path == "/today":  # with a still frame beside each exercise (issue 11)
            assert len(figures) == len(bundle.program.items), figures
        else:  # the player loads a figure only for the screen it shows: none before the first
            assert figures == [], figures


def test_with_javascript_off_the_player_form_logs_a_session(
    browser, playwright, live_server, make_patient
):
    bundle = make_patient()
    context = browser.new_context(
        **device(playwright, "iPhone 13"), base_url=live_server.url, java_script_enabled=False
    )
    try:
        page = context.new_page()
        log_in(page, bundle.user.email, PASSWORD)
        page.wait_for_url("**/today")
        page.get_by_role("link", name="Start today's session").click()
        page.get_by_role("group", name=re.compile("right now")).get_by_role(
            "radio", name=re.compile("^4 ")
        ).check()
        for status in page.get_by_role("group", name="How did it go?").all():
            status.get_by_role("radio", name="Done").check()
        page.get_by_role("group", name=re.compile("after the session")).get_by_role(
            "radio", name=re.compile("^3 ")
        ).check()
        page.get_by_role("button", name="Finish and save").click()

        expect(page.get_by_role("heading", name="Session saved")).to_be_visible()
        expect(page.get_by_role("heading", name=re.compile("Green: Good response"))).to_be_visible()
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(Session.id))) == 1
    finally:
        context.close()
