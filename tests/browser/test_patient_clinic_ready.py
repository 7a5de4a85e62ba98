"""Issue 10 on a 320 × 568 phone (iPhone SE): someone to call on the red-flag screens, online and
with the server stopped; the player's next step, mm:ss timers, sides and pain scale; a session
started with no signal from the kept program; "none of these"; a one-row header; tap targets."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from playwright.sync_api import Locator, Page, expect

from app.clinical.red_flags import WEEKLY_IDS
from app.db import utcnow
from app.enums import AlertKind, ItemStatus
from app.extensions import db
from app.patient.models import CheckIn
from app.patient.sessions import log_session
from tests.browser.conftest import assert_no_axe_violations, log_in
from tests.browser.test_patient_player import (
    AFTER,
    BEFORE,
    rate,
    sessions,
    short_program,
    stop_server,
)
from tests.conftest import (
    PASSWORD,
    LiveServer,
    PatientBundle,
    session_report,
    start_live_server,
)

SE = "iPhone SE"  # 320 × 568
HEIGHT = 568
CLINIC_PHONE = "+44 20 7946 0018"
TOLD = "Your therapist has been told."


@pytest.fixture
def se(open_page: Callable[[str], Page]) -> Page:
    return open_page(SE)


@pytest.fixture
def patient(make_patient) -> PatientBundle:
    """A patient of a clinic with its numbers set, like the demo clinic."""
    bundle = make_patient(name="Rosa Phone")
    clinic = bundle.patient.clinic
    clinic.phone, clinic.emergency_number = CLINIC_PHONE, "999"
    db.session.commit()
    return bundle


def logged_in(page: Page, bundle: PatientBundle) -> Page:
    log_in(page, bundle.user.email, PASSWORD)
    page.wait_for_url("**/today")
    return page


def keep_program_offline(page: Page) -> None:
    """Wait until the service worker is ready and the program is kept on the phone."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function(
        "() => import('/static/js/outbox.js').then((m) => m.kept())"
        ".then((k) => !!(k && k.body.items.length))"
    )


def above_the_fold(locator: Locator) -> None:
    """On the first screen: visible, inside the viewport, at least a 44 px target."""
    expect(locator).to_be_in_viewport(ratio=1)
    box = locator.evaluate("(el) => el.getBoundingClientRect().toJSON()")  # measured in one go
    assert box["y"] >= 0 and box["y"] + box["height"] <= HEIGHT, box
    assert box["height"] >= 44 and box["width"] >= 44, box


def no_overflow(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def answer(page: Page, question: str, value: str) -> None:
    page.locator(f'[data-question="{question}"]').get_by_role("radio", name=value).check()


def port_of(server: LiveServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


def check_ins() -> list[CheckIn]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(CheckIn)))


# ---------------------------------------------------------------------------- someone to call


def test_the_emergency_screen_calls_the_emergency_number_above_the_fold(se, patient):
    logged_in(se, patient).get_by_role("link", name="New symptom", exact=True).click()

    answer(se, "RF2", "Yes")

    overlay = se.get_by_role("alertdialog")
    expect(overlay.locator("[data-rf-status]")).to_have_text(TOLD)
    call = overlay.get_by_role("link", name="Call 999")
    expect(call).to_have_attribute("href", "tel:999")
    above_the_fold(call)
    above_the_fold(overlay.get_by_role("link", name="I understand"))
    above_the_fold(overlay.locator("#rf-text"))
    assert call.evaluate("(el) => el.offsetHeight") >= 56  # large: the one thing to do
    assert overlay.inner_text().count(TOLD) == 1
    assert_no_axe_violations(se)


def test_the_urgent_screen_names_the_therapist_and_calls_the_clinic(se, patient):
    logged_in(se, patient).goto("/checkin/symptom")

    answer(se, "RF7", "Yes")  # fever with back pain: contact today
    se.get_by_role("button", name="Send").click()

    screen = se.get_by_role("alert").filter(has_text="Contact your therapist or doctor today")
    expect(screen).to_contain_text(patient.therapist.name)
    call = screen.get_by_role("link", name=re.compile("^Call your clinic"))
    expect(call).to_have_attribute("href", "tel:+442079460018")
    expect(call).to_contain_text(CLINIC_PHONE)
    above_the_fold(call)
    expect(screen.get_by_text("Sent to your therapist.")).to_be_visible()
    assert_no_axe_violations(se)
    se.emulate_media(color_scheme="dark")  # the red call button keeps its contrast in dark mode
    assert_no_axe_violations(se)


def test_without_javascript_the_result_pages_carry_the_call_buttons(
    browser, playwright, live_server, patient, se
):
    options = dict(playwright.devices[SE])
    options.pop("default_browser_type", None)
    context = browser.new_context(**options, base_url=live_server.url, java_script_enabled=False)
    results = []  # axe needs JavaScript: the result pages are checked again in `se`
    try:
        page = logged_in(context.new_page(), patient)
        page.goto("/checkin/symptom")
        for question in WEEKLY_IDS:
            answer(page, question, "Yes" if question == "RF6" else "No")
        page.get_by_role("button", name="Send").click()
        expect(
            page.get_by_role("heading", name="Contact your therapist or doctor today")
        ).to_be_visible()
        call = page.get_by_role("link", name=re.compile("^Call your clinic"))
        expect(call).to_have_attribute("href", "tel:+442079460018")
        above_the_fold(call)
        results.append(page.url)

        page.goto("/checkin/symptom")
        for question in WEEKLY_IDS:
            answer(page, question, "Yes" if question == "RF5" else "No")
        page.get_by_role("button", name="Send").click()
        call = page.get_by_role("link", name="Call 999")
        expect(call).to_have_attribute("href", "tel:999")
        above_the_fold(call)
        assert page.locator("main").inner_text().count(TOLD) == 1
        results.append(page.url)
    finally:
        context.close()
    logged_in(se, patient)
    for url in results:
        se.goto(url)
        expect(se.get_by_role("link", name=re.compile("^Call "))).to_be_visible()
        assert_no_axe_violations(se)


def test_with_the_server_stopped_both_screens_call_from_the_kept_numbers(
    se, patient, live_server, app
):
    logged_in(se, patient)
    keep_program_offline(se)
    se.goto("/checkin/symptom")
    port = port_of(live_server)
    stop_server(live_server)

    # On the page loaded before the connection went: its own numbers.
    answer(se, "RF4", "Yes")
    overlay = se.get_by_role("alertdialog")
    expect(overlay.locator("[data-rf-status]")).to_contain_text("Saved on this phone")
    assert TOLD not in overlay.inner_text()  # not yet true: nothing has reached the clinic
    expect(overlay.get_by_role("link", name="Call 999")).to_have_attribute("href", "tel:999")
    above_the_fold(overlay.get_by_role("link", name="Call 999"))
    above_the_fold(overlay.get_by_role("link", name="I understand"))

    # The offline page from the service worker's cache holds no personal data: the numbers
    # come from the program kept on the phone.
    se.reload()
    expect(se.get_by_role("heading", name="You are offline")).to_be_visible()
    se.get_by_text("I have a new symptom").click()
    answer(se, "RF8", "Yes")  # a fall followed by worse pain: contact today
    se.get_by_role("button", name="Send").click()
    screen = se.get_by_role("alert").filter(has_text="Contact your therapist or doctor today")
    expect(screen).to_contain_text(patient.therapist.name)
    call = screen.get_by_role("link", name=re.compile("^Call your clinic"))
    expect(call).to_have_attribute("href", "tel:+442079460018")
    above_the_fold(call)
    assert_no_axe_violations(se)

    se.reload()
    se.get_by_text("I have a new symptom").click()
    answer(se, "RF1", "Yes")
    overlay = se.get_by_role("alertdialog")
    expect(overlay.get_by_role("link", name="Call 999")).to_have_attribute("href", "tel:999")
    above_the_fold(overlay.get_by_role("link", name="Call 999"))
    above_the_fold(overlay.get_by_role("link", name="I understand"))
    assert check_ins() == []

    server = start_live_server(app, port)
    try:
        se.goto("/today")
        answer_card = se.get_by_role("alert").filter(has_text="Go to an emergency department now")
        expect(answer_card).to_have_count(1)  # three reports: the highest instruction, once
        expect(answer_card.get_by_role("link", name="Call 999")).to_be_visible()
        assert len(check_ins()) == 3
    finally:
        stop_server(server)


# ---------------------------------------------------------------------------- the player


def player(page: Page, bundle: PatientBundle) -> Locator:
    """Open the player, rate pain before, start; return the current step."""
    page.goto(f"/session/{bundle.program.id}")
    rate(page, BEFORE, 3)
    page.get_by_role("button", name="Start", exact=True).click()
    return page.locator("section.step.current")


def test_after_an_exercise_the_big_button_is_the_next_step(se, patient):
    short_program(patient, items=2)
    patient.program.items[0].sets = 1  # one set of 2 s holds
    db.session.commit()
    step = player(logged_in(se, patient), patient)

    step.get_by_role("button", name="Start hold").click()
    stop = step.get_by_role("button", name="Stop")
    above_the_fold(stop)  # the hold timer's Stop on the first screen at 320 px
    expect(step.locator(".timer .phase")).to_have_text("Exercise done — well done", timeout=10_000)

    primary = step.locator(".button-primary:visible")
    expect(primary).to_have_count(1)
    expect(primary).to_have_text("Next exercise")
    above_the_fold(primary)
    expect(step.get_by_role("button", name="Start again")).not_to_have_class(
        re.compile("button-primary")
    )
    assert_no_axe_violations(se)
    primary.click()
    expect(se.locator("section.step.current h2")).to_contain_text("2 of 2")


def test_long_timers_read_in_minutes_and_seconds(se, patient):
    items = list(patient.program.items)
    breathing = next(i for i in items if i.exercise.slug == "diaphragmatic-breathing")
    walking = next(i for i in items if i.exercise.slug == "graded-walking")
    breathing.duration_seconds, walking.duration_seconds = 295, 600
    db.session.commit()
    step = player(logged_in(se, patient), patient)

    step.get_by_role("button", name="Start", exact=True).click()
    count = step.locator(".timer .count")
    expect(count).to_have_text("4:55")
    expect(count).to_have_text(re.compile(r"^4:5[0-4]$"), timeout=10_000)  # it ticks as m:ss

    position = [i.id for i in items].index(walking.id)
    se.goto(f"/session/{patient.program.id}")
    rate(se, BEFORE, 3)
    se.get_by_role("button", name="Start", exact=True).click()
    for _ in range(position):
        current = se.locator("section.step.current")
        current.get_by_role("radio", name="Skipped").check()
        current.locator(".nav-buttons .button-primary").click()
    current = se.locator("section.step.current")
    expect(current.locator("h2")).to_contain_text("Graded walking")
    current.get_by_role("button", name="Start", exact=True).click()
    expect(current.locator(".timer .count")).to_have_text("10:00")
    expect(current.get_by_role("button", name="Stop")).to_be_in_viewport()


def test_each_side_exercises_are_guided_left_then_right(se, patient):
    items = list(patient.program.items)
    sided = next(i for i in items if i.exercise.slug == "heel-slide-with-brace")
    for item in items:
        if item is not sided:
            item.removed_at = utcnow()
    sided.sets, sided.reps, sided.rest_seconds = 2, 8, 1
    db.session.commit()
    step = player(logged_in(se, patient), patient)

    phase = step.locator(".timer .phase")
    progress = step.locator(".timer .progress")
    for number in (1, 2):
        expect(phase).to_have_text("Left side: do the set at your own pace", timeout=5000)
        expect(progress).to_have_text(f"Set {number} of 2")
        step.get_by_role("button", name="Left side done").click()
        expect(phase).to_have_text("Right side: do the set at your own pace")
        expect(progress).to_have_text(f"Set {number} of 2")
        step.get_by_role("button", name="Right side done").click()
    expect(phase).to_have_text("Exercise done — well done")
    step.get_by_role("button", name="Next: finish").click()
    rate(se, AFTER, 2)
    se.get_by_role("button", name="Finish and save").click()
    expect(se.get_by_role("heading", name=re.compile("^Green"))).to_be_visible()

    (session,) = sessions()
    (result,) = session.exercises
    assert result.status is ItemStatus.DONE
    # Sets count when both sides are done; reps in the prescription's units (8 each side).
    assert (result.sets_done, result.reps_done) == (2, 16)


def test_the_pain_scale_fits_at_320_px_and_its_error_goes_once_answered(se, patient):
    logged_in(se, patient).goto(f"/session/{patient.program.id}")
    se.get_by_role("button", name="Start", exact=True).click()
    error = se.get_by_text("Choose a number from 0 to 10 first.")
    expect(error).to_be_visible()
    rate(se, BEFORE, 5)
    expect(error).to_have_count(0)

    for page_path in (f"/session/{patient.program.id}", "/checkin"):
        se.goto(page_path)
        group = se.get_by_role("group", name=re.compile("back pain (right now|this morning)"))
        assert no_overflow(se), page_path
        layout = group.evaluate(
            """(set) => {
              const right = set.getBoundingClientRect().right;
              const labels = [...set.querySelectorAll('label')];
              const words = [...set.querySelectorAll('.scale-row > span')];
              return {
                inside: labels.every((l) => l.getBoundingClientRect().right <= right + 0.5),
                fit: [...labels, ...words].every((e) => e.scrollWidth <= e.clientWidth + 0.5),
                small: labels.filter((l) => l.offsetWidth < 44 || l.offsetHeight < 44).length,
                rows: labels.map((l) => Math.round(l.getBoundingClientRect().top)),
                words: words.map((w) => w.textContent),
              };
            }"""
        )
        assert layout["inside"] and layout["fit"] and layout["small"] == 0, layout
        assert layout["words"] == ["none", "mild", "moderate", "severe"]
        rows = layout["rows"]
        # 0 | 1 2 3 | 4 5 6 | 7 8 9 10: one scale in order, 10 beside 7–9, not alone.
        assert rows[0] < rows[1] == rows[3] < rows[4] == rows[6] < rows[7] == rows[10], rows
        expect(group.get_by_role("radio", name="4 moderate")).to_have_count(1)


# ---------------------------------------------------------------------------- offline start


def test_a_session_started_with_the_server_stopped_arrives_exactly_once(
    se, patient, live_server, app
):
    item_ids = short_program(patient, items=2)
    logged_in(se, patient)
    keep_program_offline(se)  # one online visit keeps the program
    port = port_of(live_server)
    stop_server(live_server)

    se.goto("/today")  # no signal: the offline page offers the kept session
    expect(se.get_by_role("heading", name="You are offline")).to_be_visible()
    se.get_by_role("link", name="Start today's session").click()
    expect(se.get_by_role("heading", name="Today's session")).to_be_visible()
    rate(se, BEFORE, 3)
    se.get_by_role("button", name="Start", exact=True).click()
    for number in (1, 2):
        step = se.locator("section.step.current")
        expect(step.locator("h2")).to_contain_text(f"{number} of 2")
        step.get_by_role("button", name="Start hold").click()
        if number == 1:  # two sets with a rest between them
            expect(step.locator(".timer .phase")).to_have_text("Ready when you are", timeout=10_000)
            step.get_by_role("button", name="Start hold").click()
        expect(step.locator(".timer .phase")).to_have_text(
            "Exercise done — well done", timeout=10_000
        )
        step.get_by_label(re.compile("^Worst pain during it")).select_option("8")  # too much
        step.locator(".timer .button-primary").click()
    rate(se, AFTER, 4)
    se.get_by_role("button", name="Finish and save").click()

    expect(se.get_by_text("Saved on this phone — will send when online.")).to_be_visible()
    expect(se.get_by_text(re.compile("saved on this phone", re.I))).to_have_count(1)  # once
    assert sessions() == []

    server = start_live_server(app, port)
    try:
        se.evaluate("dispatchEvent(new Event('online'))")  # the phone has signal again
        # The answer shows the traffic light, and RED asks for the safety questions.
        expect(se.get_by_role("heading", name=re.compile("^Red: Too much"))).to_be_visible()
        expect(se.get_by_role("link", name="Open the check-in")).to_be_visible()
        se.goto("/today")
        expect(se.get_by_role("heading", name="Today", exact=True)).to_be_visible()
        expect(se.get_by_text(re.compile("saved on this phone", re.I))).to_have_count(0)
        stored = sessions()
        assert len(stored) == 1
        assert stored[0].program_id == patient.program.id
        assert {e.program_item_id for e in stored[0].exercises} == set(item_ids)
        assert stored[0].pain_before == 3 and stored[0].pain_after == 4
    finally:
        stop_server(server)


def test_the_offline_player_shell_is_accessible_and_fits(se, patient):
    logged_in(se, patient)
    keep_program_offline(se)
    se.goto("/offline/session")
    rate(se, BEFORE, 2)
    se.get_by_role("button", name="Start", exact=True).click()
    step = se.locator("section.step.current")
    expect(step.locator("h2")).to_contain_text("1 of 5")
    expect(step.locator(".dose")).to_have_text("5 min")
    assert no_overflow(se)
    assert_no_axe_violations(se)


# ---------------------------------------------------------------------------- check-in, header


def test_none_of_these_answers_every_open_question_no_and_thanks_once(se, patient):
    logged_in(se, patient).get_by_role("link", name="Check in").click()
    rate(se, "How bad is your back pain this morning?", 2)
    answer(se, "RF3", "No")

    se.get_by_role("button", name="None of these").click()
    for question in WEEKLY_IDS:
        fieldset = se.locator(f'[data-question="{question}"]')
        expect(fieldset).to_be_visible()  # each question stays on screen
        expect(fieldset.get_by_role("radio", name="No")).to_be_checked()
    expect(se.get_by_text("Answered “No” to 9 questions.", exact=False)).to_be_visible()
    assert_no_axe_violations(se)
    se.get_by_role("button", name="Send").click()

    expect(se.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(se.get_by_text("Sent to your therapist.")).to_be_visible()
    expect(se.locator("main").get_by_text(re.compile("thank you", re.I))).to_have_count(1)
    (stored,) = check_ins()
    assert {a.question: a.answer for a in stored.red_flags} == dict.fromkeys(WEEKLY_IDS, False)


# Every target that stands alone (not a link inside a sentence): buttons, links alone in their
# block, summaries, selects, text fields and the labels that carry a hidden radio or a checkbox.
STANDALONE_TARGETS = """() => {
  const shown = (el) => el.getClientRects().length && !el.closest('[hidden], .visually-hidden');
  const alone = (el) => el.parentElement.textContent.trim() === el.textContent.trim();
  const target = (el) =>
    (el.tagName === 'A' && (alone(el) || el.classList.contains('button')))
    || (el.tagName === 'LABEL' && (el.querySelector('input') || el.classList.contains('check')))
    || (el.tagName === 'INPUT' && !el.closest('label') && getComputedStyle(el).opacity !== '0')
    || ['BUTTON', 'SUMMARY', 'SELECT', 'TEXTAREA'].includes(el.tagName);
  return [...document.querySelectorAll('a, button, summary, label, select, input, textarea')]
    .filter((el) => shown(el) && target(el))
    .map((el) => [el, el.getBoundingClientRect()])
    .filter(([, r]) => r.height < 44 || r.width < 44)
    .map(([el, r]) => `${el.tagName} "${el.textContent.trim().slice(0, 30)}" ${r.height}`)
}"""


def test_the_header_is_one_row_and_every_standalone_target_is_44_px(se, patient, make_alert):
    make_alert(patient, AlertKind.FLARE)
    logged_in(se, patient)
    keep_program_offline(se)
    header = se.locator(".site-header")
    assert header.bounding_box()["height"] <= 50  # one row, not 140 of 568 px
    expect(header.get_by_role("link", name="New symptom", exact=True)).to_be_in_viewport()
    expect(header.get_by_role("button", name="Log out")).to_have_count(0)
    expect(se.locator("footer").get_by_role("button", name="Log out")).to_have_count(1)
    symptom = se.get_by_role("link", name="I have a new symptom")
    assert symptom.bounding_box()["height"] >= 44

    for path in (
        "/today",
        "/progress",
        "/checkin",
        "/checkin/symptom",
        f"/session/{patient.program.id}",
        "/offline",
        "/offline/session",
    ):
        se.goto(path)
        expect(se.locator("h1")).to_be_visible()
        assert no_overflow(se), path
        assert se.evaluate(STANDALONE_TARGETS) == [], path
        if path != "/offline":
            assert header.bounding_box()["height"] <= 50, path


def test_the_session_result_card_is_in_plain_case_and_plain_words(se, patient, now):
    logged = log_session(
        patient.patient, session_report(patient.program, completed_at=now), now=now
    )
    db.session.commit()
    logged_in(se, patient).goto(f"/session/{patient.program.id}/done/{logged.obj.client_id}")

    heading = se.get_by_role("heading", name=re.compile("^Green: Good response"))
    expect(heading).to_be_visible()
    card = se.locator(".card.light")
    assert card.evaluate("(el) => getComputedStyle(el).textTransform") == "none"
    assert heading.evaluate("(el) => getComputedStyle(el).textTransform") == "none"
    expect(card).to_contain_text("Tomorrow morning’s check-in will confirm this.")
    expect(se.get_by_text(re.compile("settled by"))).to_have_count(0)
    assert_no_axe_violations(se)


def test_while_a_flare_is_open_the_pages_say_what_happens_next_without_praise(
    se, patient, make_alert
):
    make_alert(patient, AlertKind.FLARE)
    logged_in(se, patient)
    for path in ("/today", "/progress"):
        se.goto(path)
        card = se.get_by_role("region", name="What happens next")
        expect(card).to_contain_text("within 2 days")
        expect(se.get_by_text("What comes next")).to_have_count(0)
        expect(se.get_by_text(re.compile("in a row"))).to_have_count(0)
        for scheme in ("light", "dark"):
            se.emulate_media(color_scheme=scheme)
            assert_no_axe_violations(se)
