"""What a therapist prints and the builder's feedback, in a real browser: the handout's QR code
scans from a print-emulated screenshot, the referral letter prints on one page, the stage change
is previewed before it applies, and messages land where the eye is."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from app.alerts.models import Alert
from app.alerts.services import ReferralData, resolve_alert
from app.db import utcnow
from app.enums import AlertKind, Severity
from app.extensions import db
from tests.browser.conftest import assert_no_axe_violations, log_in
from tests.browser.test_therapist_flows import ensure_open_alert, give_history
from tests.conftest import PASSWORD, LiveServer

PDF_PAGE = re.compile(rb"/Type\s*/Page[^s]")


@pytest.fixture
def print_page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A desktop page at printer-like resolution (3 device pixels per CSS pixel)."""
    problems: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(message.text)

    context = browser.new_context(
        viewport={"width": 1000, "height": 1200},
        device_scale_factor=3,
        base_url=live_server.url,
    )
    page = context.new_page()
    page.on("console", watch)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.set_default_timeout(10_000)
    yield page
    context.close()
    assert not problems, "the browser reported problems:\n" + "\n".join(problems)


def test_the_printed_handout_qr_code_is_whole_and_scans_to_the_apps_link(
    print_page: Page, make_patient, app
):
    bundle = make_patient(start_days_ago=3)
    log_in(print_page, bundle.therapist.email, PASSWORD)
    print_page.wait_for_url("**/caseload/")

    print_page.goto(f"/programs/{bundle.program.id}/handout")
    expect(print_page.get_by_role("button", name="Print the handout")).to_be_visible()
    assert_no_axe_violations(print_page)
    print_page.emulate_media(media="print")
    qr = print_page.locator(".handout-qr svg")
    box = qr.bounding_box()
    assert box is not None
    # 32 mm at 96 CSS px per inch, square, and the drawing fills it (nothing cut off).
    assert abs(box["width"] - 32 / 25.4 * 96) < 2 and abs(box["height"] - box["width"]) < 1
    drawn = qr.evaluate("e => { const b = e.getBBox(); return [b.width, b.height]; }")
    view = qr.evaluate("e => [e.viewBox.baseVal.width, e.viewBox.baseVal.height]")
    assert drawn[0] <= view[0] and drawn[1] <= view[1]

    shot = Image.open(io.BytesIO(print_page.locator(".handout-qr").screenshot()))
    decoded = zxingcpp.read_barcodes(shot)

    assert [code.text for code in decoded] == [app.config["PUBLIC_BASE_URL"] + "/today"]


def test_the_referral_letter_prints_on_one_page_with_a_print_button(
    open_page: Callable[[str], Page], make_patient, now
):
    bundle = make_patient(start_days_ago=50, name="Rita Referral")
    give_history(bundle, now, days=49, pain=lambda _d: 6, adherence=0.95, seed=3)
    ensure_open_alert(bundle, AlertKind.NON_RESPONSE_6W, Severity.HIGH)
    alert = db.session.scalar(
        sa.select(Alert).where(
            Alert.patient_id == bundle.patient.id, Alert.kind == AlertKind.NON_RESPONSE_6W
        )
    )
    resolve_alert(
        alert,
        "referred",
        "Discussed the options with the patient",
        by=bundle.therapist,
        now=utcnow(),
        referral=ReferralData("Dr Lee, interventional pain clinic", "Pain persists at 6/10"),
    )
    db.session.commit()
    desktop = open_page("desktop")
    log_in(desktop, bundle.therapist.email, PASSWORD)
    desktop.wait_for_url("**/caseload/")

    desktop.goto(f"/caseload/patients/{bundle.patient.id}")
    desktop.get_by_role("link", name="Referral letter").click()

    expect(desktop.get_by_role("heading", name="Referral: Rita Referral")).to_be_visible()
    expect(desktop.get_by_role("button", name="Print the letter")).to_be_visible()
    expect(desktop.get_by_text("resolved as referred", exact=False)).to_be_visible()
    expect(desktop.locator("figure.chart svg")).to_be_visible()
    assert_no_axe_violations(desktop)
    pdf = desktop.pdf(format="A4", print_background=False)
    assert len(PDF_PAGE.findall(pdf)) == 1, "the letter runs past one A4 page"


def test_the_builder_previews_the_stage_change_and_puts_feedback_where_the_eye_is(
    open_page: Callable[[str], Page], make_patient
):
    bundle = make_patient(start_days_ago=20)
    desktop = open_page("desktop")
    log_in(desktop, bundle.therapist.email, PASSWORD)
    desktop.wait_for_url("**/caseload/")
    desktop.goto(f"/programs/{bundle.program.id}")

    stage = desktop.get_by_label("New stage")
    stage.select_option("2")
    expect(desktop.locator('[data-stage-preview="2"]')).to_be_visible()
    expect(desktop.locator('[data-stage-preview="3"]')).to_be_hidden()
    stage.select_option("3")
    expect(desktop.locator('[data-stage-preview="3"]')).to_be_visible()
    expect(desktop.locator('[data-stage-preview="2"]')).to_be_hidden()
    assert_no_axe_violations(desktop)

    # A refused stage change (no reason): focus goes to the field with the error, on screen.
    desktop.get_by_role("button", name="Change stage").click()
    reason = desktop.get_by_label("Reason", exact=True)
    expect(reason).to_be_focused()
    expect(reason).to_be_in_viewport()

    # A saved dosage: the message appears beside the exercise, in view, with focus.
    desktop.goto(f"/programs/{bundle.program.id}")
    item = desktop.locator("li.builder-item").last
    item.get_by_text("Change the dosage").click()
    item.get_by_label("Sets", exact=True).fill("2")
    item.get_by_role("button", name=re.compile("^Save dosage of")).click()
    message = desktop.locator(".builder-item .flashes")
    expect(message).to_contain_text("saved")
    expect(message).to_be_in_viewport()
    expect(message).to_be_focused()
