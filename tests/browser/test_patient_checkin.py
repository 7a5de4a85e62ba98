"""The red-flag screen on a phone: an emergency answer shows the instruction at once, online
and offline, and the program is suspended as soon as the answer reaches the server."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.clinical.red_flags import INSTRUCTIONS, RedFlagLevel
from app.enums import ProgramStatus
from app.extensions import db
from app.programs.models import Program
from tests.browser.conftest import log_in
from tests.browser.test_patient_player import stop_server
from tests.conftest import PASSWORD, start_live_server

EMERGENCY = INSTRUCTIONS[RedFlagLevel.EMERGENCY]
TOLD = "Your therapist has been told."
# On screen the status line says TOLD (once the answer is in); the text does not repeat it.
EMERGENCY_TEXT = EMERGENCY.replace(f" {TOLD}", "")


def program_status(program_id: int) -> ProgramStatus:
    db.session.rollback()
    return db.session.scalar(sa.select(Program.status).where(Program.id == program_id))


def answer_yes(page: Page, question: str) -> None:
    page.locator(f'[data-question="{question}"]').get_by_role("radio", name="Yes").check()


def test_an_emergency_answer_shows_the_instruction_at_once_and_suspends(phone, make_patient):
    bundle = make_patient()
    log_in(phone, bundle.user.email, PASSWORD)
    phone.wait_for_url("**/today")
    phone.get_by_role("link", name="New symptom", exact=True).click()

    answer_yes(phone, "RF3")

    overlay = phone.get_by_role("alertdialog")
    expect(overlay).to_be_visible()
    expect(overlay).to_contain_text(EMERGENCY_TEXT)
    expect(overlay.locator("[data-rf-status]")).to_have_text(TOLD)
    assert overlay.inner_text().count(TOLD) == 1  # said once, not twice
    assert program_status(bundle.program.id) is ProgramStatus.SUSPENDED
    phone.get_by_role("link", name="I understand").click()
    expect(phone.get_by_text("Your exercises are stopped for now")).to_be_visible()


def test_an_emergency_yes_tapped_before_the_script_runs_still_shows_the_instruction(
    browser, playwright, live_server, make_patient
):
    # A slow phone: the page is on screen and tapped before its script has arrived.
    bundle = make_patient()
    options = dict(playwright.devices["iPhone 13"])
    options.pop("default_browser_type", None)
    context = browser.new_context(**options, base_url=live_server.url, service_workers="block")
    try:
        page = context.new_page()
        log_in(page, bundle.user.email, PASSWORD)
        page.wait_for_url("**/today")
        held = []
        page.route("**/static/js/checkin.js*", lambda route: held.append(route))
        page.goto("/checkin/symptom", wait_until="commit")
        answer_yes(page, "RF3")
        expect(page.get_by_role("alertdialog")).to_be_hidden()
        assert len(held) == 1
        held[0].continue_()

        overlay = page.get_by_role("alertdialog")
        expect(overlay).to_be_visible()
        expect(overlay.locator("[data-rf-status]")).to_have_text(TOLD)
        assert program_status(bundle.program.id) is ProgramStatus.SUSPENDED
    finally:
        context.close()


def test_offline_the_emergency_instruction_still_shows_and_is_sent_when_back(
    phone, make_patient, live_server, app
):
    bundle = make_patient()
    log_in(phone, bundle.user.email, PASSWORD)
    phone.wait_for_url("**/today")
    phone.evaluate("navigator.serviceWorker.ready.then(() => true)")
    phone.goto("/checkin/symptom")
    port = int(live_server.url.rsplit(":", 1)[1])
    stop_server(live_server)

    answer_yes(phone, "RF1")  # on the page loaded before the connection went

    overlay = phone.get_by_role("alertdialog")
    expect(overlay).to_contain_text(EMERGENCY_TEXT)
    assert TOLD not in overlay.inner_text()  # not yet: it is only saved on the phone
    expect(overlay.locator("[data-rf-status]")).to_contain_text(
        "Saved on this phone — will send when online."
    )

    phone.reload()  # the offline page from the service worker's cache carries the screen too
    expect(phone.get_by_role("heading", name="You are offline")).to_be_visible()
    phone.get_by_text("I have a new symptom").click()
    answer_yes(phone, "RF5")
    expect(phone.get_by_role("alertdialog")).to_contain_text(EMERGENCY_TEXT)
    assert program_status(bundle.program.id) is ProgramStatus.ACTIVE

    server = start_live_server(app, port)
    try:
        phone.goto("/today")  # the page sends what waited on the phone as it loads
        # Both reports are answered "emergency": the instruction shows once, with TOLD.
        answer = phone.get_by_role("alert").filter(has_text="Go to an emergency department now")
        expect(answer).to_have_count(1)
        expect(answer).to_contain_text(TOLD)
        phone.reload()
        expect(phone.get_by_text("Your exercises are stopped for now")).to_be_visible()
        assert program_status(bundle.program.id) is ProgramStatus.SUSPENDED
    finally:
        stop_server(server)


def test_the_morning_check_in_sends_pain_and_shows_the_answer(phone, make_patient):
    bundle = make_patient()
    log_in(phone, bundle.user.email, PASSWORD)
    phone.wait_for_url("**/today")
    phone.get_by_role("link", name="Check in").click()

    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_text("Choose a number from 0 to 10.")).to_be_visible()
    phone.get_by_role("group", name=re.compile("this morning")).get_by_role(
        "radio", name=re.compile("^2 ")
    ).check()
    for question in ("RF1", "RF2", "RF3", "RF4", "RF5", "RF6", "RF7", "RF8", "RF10", "RF11"):
        phone.locator(f'[data-question="{question}"]').get_by_role("radio", name="No").check()
    phone.get_by_role("checkbox", name="Walking").check()
    phone.get_by_role("button", name="Send").click()

    expect(phone.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(phone.get_by_text("Sent to your therapist.")).to_be_visible()
    # Thanked once (issue 10): the heading, not the text, the status or the outbox box.
    expect(phone.locator("main").get_by_text(re.compile("thank you", re.I))).to_have_count(1)
