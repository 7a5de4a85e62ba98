"""Issue 16 on a 320 px phone: a Spanish-speaking patient finishes a guided session and answers an
emergency red-flag question in Spanish — the instruction and its call button too, also with the
server stopped (the service worker keeps the Spanish offline page and the scripts' words)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from app.clinical.red_flags import INSTRUCTIONS, RedFlagLevel
from app.extensions import db
from tests.browser.test_patient_clinic_ready import (
    answer,
    check_ins,
    keep_program_offline,
    logged_in,
    port_of,
)
from tests.browser.test_patient_player import AFTER, BEFORE, EFFORT, sessions, short_program
from tests.conftest import start_live_server
from tests.integration.test_spanish import spanish

EMERGENCY = "911"


def rate(page: Page, legend: str, value: int) -> None:
    page.get_by_role("group", name=spanish(legend)).get_by_role(
        "radio", name=re.compile(f"^{value}( |$)")
    ).check()


def expect_spanish_emergency(page: Page) -> None:
    overlay = page.get_by_role("alertdialog")
    expect(overlay.get_by_role("heading")).to_have_text(
        spanish("Go to an emergency department now")
    )
    expect(overlay).to_contain_text("Vaya ahora a la sala de emergencias")
    call = overlay.get_by_role("link", name=spanish("Call %(number)s", number=EMERGENCY))
    expect(call).to_have_attribute("href", f"tel:{EMERGENCY}")
    expect(call).to_be_in_viewport()
    expect(overlay.get_by_role("link", name=spanish("I understand"))).to_be_visible()
    assert "emergency" not in overlay.inner_text().lower()


def test_a_spanish_patient_finishes_a_session_and_an_emergency_answer_online_and_offline(
    open_page, make_patient, live_server, app
):
    bundle = make_patient(name="Rosa Campos")
    bundle.patient.language = "es"
    bundle.patient.clinic.emergency_number = EMERGENCY
    db.session.commit()
    short_program(bundle, items=2)
    page = logged_in(open_page("iPhone SE"), bundle)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text(spanish("Today"))

    # The guided player, one exercise at a time, with its timers in Spanish.
    page.get_by_role("link", name=spanish("Start today's session")).click()
    page.wait_for_url(re.compile(r"/session/\d+$"))
    rate(page, BEFORE, 3)
    page.get_by_role("button", name=spanish("Start"), exact=True).click()
    for number in (1, 2):
        step = page.locator("section.step.current")
        expect(step.locator("h2")).to_contain_text(spanish("%(index)s of %(n)s", index=number, n=2))
        expect(step.locator("h2")).to_contain_text(
            bundle.program.items[number - 1].exercise.translations["es"]["name"]
        )
        step.get_by_role("button", name=spanish("Start hold")).click()
        if number == 1:  # two sets: the rest runs between them
            expect(step.locator(".timer .phase")).to_have_text(spanish("Rest"), timeout=5000)
            expect(step.get_by_role("button", name=spanish("Start hold"))).to_be_visible(
                timeout=5000
            )
            step.get_by_role("button", name=spanish("Start hold")).click()
        expect(step.locator(".timer .phase")).to_have_text(
            spanish("Exercise done — well done"), timeout=5000
        )
        expect(step.get_by_role("radio", name=spanish("Done"))).to_be_checked()
        step.locator(".timer .button-primary").click()
    rate(page, AFTER, 2)
    rate(page, EFFORT, 4)
    page.get_by_role("button", name=spanish("Finish and save")).click()
    expect(page.get_by_role("heading", name=spanish("Session saved"))).to_be_visible()
    expect(page.locator("section.summary")).to_contain_text(spanish("Good response — keep going"))
    assert len(sessions()) == 1

    # "I have a new symptom": an emergency answer, online.
    keep_program_offline(page)
    page.goto("/checkin/symptom")
    answer(page, "RF1", spanish("Yes"))
    expect_spanish_emergency(page)
    expect(page.get_by_role("alertdialog").locator("[data-rf-status]")).to_contain_text(
        spanish("Your therapist has been told.")
    )
    assert len(check_ins()) == 1

    # With the server stopped: the offline page from the worker's cache, in Spanish.
    port = port_of(live_server)
    live_server.stop()
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text(spanish("You are offline"))
    page.get_by_text(spanish("I have a new symptom")).click()
    answer(page, "RF1", spanish("Yes"))
    expect_spanish_emergency(page)
    assert spanish(INSTRUCTIONS[RedFlagLevel.EMERGENCY]).split(".")[0] in page.inner_text("body")
    expect(page.get_by_role("alertdialog").locator("[data-rf-status]")).to_contain_text(
        "Guardado en este teléfono"
    )

    server = start_live_server(app, port)
    try:
        page.goto("/today")
        expect(page.get_by_role("alert").first).to_contain_text(
            spanish("Go to an emergency department now")
        )
        assert len(check_ins()) == 2  # the offline answer arrived, once
    finally:
        server.stop()
