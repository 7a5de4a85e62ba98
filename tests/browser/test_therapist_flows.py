"""The therapist's side in a real browser: the invite-to-first-session flow, and axe-core on
every therapist page, at desktop width and (the caseload) on a 768 px tablet."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from app.alerts.models import Alert
from app.enums import OPEN_ALERT_STATUSES, AlertKind, Role, Severity
from app.extensions import db
from app.patient.check_ins import CheckInReport, record_check_in
from app.patient.sessions import ExerciseResult, SessionReport, log_session
from app.programs.models import Exercise
from app.timeutil import at_local, local_date
from tests.browser.conftest import assert_no_axe_violations, log_in
from tests.conftest import PASSWORD, LiveServer, PatientBundle, store_alert

TABLET = {"width": 768, "height": 1024}


# ---------------------------------------------------------------------------- helpers


@pytest.fixture
def tablet(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A 768 × 1024 tablet page; fails the test on CSP reports or page errors, like open_page."""
    problems: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(message.text)

    context = browser.new_context(viewport=TABLET, base_url=live_server.url)
    page = context.new_page()
    page.on("console", watch)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.set_default_timeout(10_000)
    yield page
    context.close()
    assert not problems, "the browser reported problems:\n" + "\n".join(problems)


def give_history(
    bundle: PatientBundle,
    now: datetime,
    *,
    days: int,
    pain: Callable[[int], float],
    adherence: float = 0.9,
    seed: int = 0,
) -> None:
    """Replay `days` days of sessions and morning check-ins through the services."""
    patient, program = bundle.patient, bundle.program
    assert program is not None
    tz = patient.timezone
    today = local_date(now, tz)
    rng = random.Random(seed)
    for day in range(days + 1):
        on = today - timedelta(days=days - day)
        level = max(0, min(10, round(pain(day) + rng.choice((-1, 0, 0, 1)))))
        morning = at_local(on, 7, 30, tz)
        if day > 0 and morning < now and rng.random() < 0.8:
            record_check_in(
                patient,
                CheckInReport(
                    id=str(uuid.uuid4()),
                    recorded_at=morning,
                    morning_pain=level,
                    red_flags={"RF1": False, "RF2": False} if day % 7 == 1 else {},
                ),
                now=morning + timedelta(minutes=1),
            )
        evening = at_local(on, 18, 0, tz)
        if on.weekday() not in program.weekdays or evening > now or rng.random() > adherence:
            continue
        log_session(
            patient,
            SessionReport(
                id=str(uuid.uuid4()),
                program_id=program.id,
                started_at=evening - timedelta(minutes=15),
                completed_at=evening,
                pain_before=level,
                pain_after=min(10, level + rng.choice((0, 0, 1))),
                effort=4,
                notes="Felt looser afterwards." if day % 5 == 0 else "",
                exercises=tuple(
                    ExerciseResult(
                        program_item_id=item.id,
                        status="done" if index or day % 6 else "skipped",
                        pain_during=min(10, level + 1),
                        skip_reason=None if index or day % 6 else "Too sore today",
                    )
                    for index, item in enumerate(program.items)
                ),
            ),
            now=evening + timedelta(minutes=1),
        )
    db.session.commit()


def ensure_open_alert(bundle: PatientBundle, kind: AlertKind, severity: Severity) -> None:
    """Make sure the patient has an open alert of this kind (the rules usually raise it)."""
    exists = db.session.scalar(
        sa.select(Alert.id).where(
            Alert.patient_id == bundle.patient.id,
            Alert.kind == kind,
            Alert.status.in_(OPEN_ALERT_STATUSES),
        )
    )
    if exists is None:
        store_alert(
            bundle,
            kind,
            severity,
            reason="Resting pain up 2 points despite good adherence.",
            evidence={"current": 5.9, "baseline": 3.9},
        )


@pytest.fixture
def caseload(make_user, make_patient, now) -> dict:
    """A therapist with a small caseload: worsening (with a high alert), improving, steady,
    and a newly invited patient; plus another clinic's patient who must not show."""
    therapist = make_user(name="Theo Rapist")
    worse = make_patient(therapist=therapist, name="Tom Worse", start_days_ago=34)
    give_history(worse, now, days=34, pain=lambda d: 4 if d < 14 else 4 + (d - 14) * 0.15)
    ensure_open_alert(worse, AlertKind.WORSENING, Severity.HIGH)
    better = make_patient(therapist=therapist, name="Maria Better", start_days_ago=40)
    give_history(better, now, days=40, pain=lambda d: max(2, 6 - d * 0.1), seed=1)
    steady = make_patient(therapist=therapist, name="Sam Steady", start_days_ago=20)
    give_history(steady, now, days=20, pain=lambda _d: 5, adherence=0.5, seed=2)
    make_patient(therapist=therapist, name="Nina New", password=None)
    make_patient(name="Someone Else")
    return {"therapist": therapist, "worse": worse, "better": better}


def assert_no_axe_violations_light_and_dark(page: Page) -> None:
    """Contrast must hold in both colour schemes (prefers-color-scheme)."""
    assert_no_axe_violations(page)
    page.emulate_media(color_scheme="dark")
    try:
        assert_no_axe_violations(page)
    finally:
        page.emulate_media(color_scheme="light")


def no_page_overflow(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


# ---------------------------------------------------------------------------- the flow


def test_therapist_invites_and_assigns_then_patient_accepts_on_a_phone(
    open_page: Callable[[str], Page], make_user, builtin_content
):
    therapist = make_user(name="Theo Flow")
    desktop = open_page("desktop")
    log_in(desktop, therapist.email, PASSWORD)
    desktop.wait_for_url("**/caseload/")

    desktop.get_by_role("link", name="Invite a patient").click()
    expect(desktop.get_by_role("heading", name="Invite a patient")).to_be_visible()
    assert_no_axe_violations_light_and_dark(desktop)
    desktop.get_by_label("Name").fill("Paula Phone")
    desktop.get_by_label("Timezone").fill("Europe/Berlin")
    desktop.get_by_label("Pain today (0–10)").fill("6")
    desktop.get_by_label("Goals").fill("Garden for an hour without pain.")
    desktop.get_by_role("group", name="RF9").get_by_label("No", exact=True).check()
    desktop.get_by_role("group", name="RF12").get_by_label("No", exact=True).check()
    desktop.get_by_label("Program").select_option("1")
    desktop.get_by_role("button", name="Create patient and invitation").click()

    desktop.wait_for_url("**/invitation")
    expect(desktop.get_by_role("heading", name="Invitation for Paula Phone")).to_be_visible()
    qr = desktop.locator("svg[role='img']")
    expect(qr).to_be_visible()
    expect(qr).to_have_accessible_name("QR code of the invitation link for Paula Phone")
    link = desktop.locator("input#invite-link").input_value()
    assert "/auth/invite/" in link
    assert_no_axe_violations_light_and_dark(desktop)

    expect(desktop.get_by_text("Assigned: ")).to_contain_text("stage 1")
    desktop.get_by_role("link", name="Open the program").click()

    expect(desktop.get_by_role("heading", name="Program: stage 1")).to_be_visible()
    item = desktop.locator("li.card", has_text="Abdominal brace")
    item.get_by_text("Change the dosage").click()
    assert_no_axe_violations_light_and_dark(desktop)
    item.get_by_label("Sets", exact=True).fill("3")
    item.get_by_label("Hold (seconds)").fill("15")
    item.get_by_role("button", name="Save dosage of Abdominal brace").click()
    expect(
        desktop.get_by_text("Dosage of “Abdominal brace (lying, knees bent)” saved.")
    ).to_be_visible()
    expect(desktop.locator("li.card", has_text="Abdominal brace")).to_contain_text("15 s hold")
    expect(desktop.locator("li.card", has_text="Abdominal brace")).to_contain_text("3 × 10")
    assert_no_axe_violations_light_and_dark(desktop)

    phone = open_page("iPhone 13")
    phone.goto(link)
    expect(phone.get_by_role("heading", name="Welcome, Paula Phone")).to_be_visible()
    assert_no_axe_violations(phone)
    phone.get_by_label("Email").fill("paula@example.org")
    phone.get_by_label("Password").fill("a long enough sentence")
    phone.get_by_role("button", name="Set password and start").click()

    phone.wait_for_url("**/today")
    expect(phone.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    brace = phone.locator("li", has_text="Abdominal brace")
    expect(brace).to_contain_text("15 s hold")
    expect(brace).to_contain_text("3 × 10")
    # The link works once.
    phone.goto(link)
    expect(phone.get_by_role("heading", name="Welcome, Paula Phone")).to_have_count(0)


# ---------------------------------------------------------------------------- axe-core


def test_library_and_exercise_pages_have_no_axe_violations(desktop, make_user, builtin_content):
    therapist = make_user()
    log_in(desktop, therapist.email, PASSWORD)
    desktop.wait_for_url("**/caseload/")

    desktop.goto("/programs/")
    expect(desktop.get_by_role("heading", name="Exercise library")).to_be_visible()
    assert_no_axe_violations_light_and_dark(desktop)

    exercise_id = db.session.scalar(
        db.select(Exercise.id).where(Exercise.slug == "abdominal-brace")
    )
    desktop.goto(f"/programs/exercises/{exercise_id}")
    expect(desktop.get_by_role("heading", name="Abdominal brace")).to_be_visible()
    assert_no_axe_violations_light_and_dark(desktop)

    desktop.get_by_role("link", name="Copy into the clinic library").click()
    expect(desktop.get_by_role("heading", name="New clinic exercise")).to_be_visible()
    assert_no_axe_violations_light_and_dark(desktop)


def test_caseload_detail_and_handout_have_no_axe_violations(desktop, caseload):
    log_in(desktop, caseload["therapist"].email, PASSWORD)
    desktop.wait_for_url("**/caseload/")

    table = desktop.get_by_role("table")
    expect(table.locator("tbody tr")).to_have_count(4)
    first = table.locator("tbody tr").first
    expect(first).to_contain_text("Tom Worse")
    expect(first.locator(".badge-high")).to_contain_text("high")
    expect(table.locator("svg.sparkline").first).to_be_visible()
    expect(table.get_by_text("Someone Else")).to_have_count(0)
    assert_no_axe_violations_light_and_dark(desktop)

    desktop.get_by_role("link", name="Tom Worse").click()
    expect(desktop.get_by_role("heading", name="Tom Worse")).to_be_visible()
    expect(desktop.locator("figure.chart svg[role='img']")).to_be_visible()
    expect(desktop.locator("table.calendar")).to_be_visible()
    expect(desktop.locator("tr[id^='session-']").first).to_be_visible()
    expect(desktop.locator("tr[id^='check-in-']").first).to_be_visible()
    desktop.locator("tr[id^='session-'] summary").first.click()
    assert_no_axe_violations_light_and_dark(desktop)

    desktop.get_by_role("link", name="Handout").click()
    expect(desktop.get_by_role("heading", name="Your exercises")).to_be_visible()
    assert_no_axe_violations_light_and_dark(desktop)


def test_admin_clinic_page_has_no_axe_violations(desktop, make_user, make_patient):
    admin = make_user(Role.ADMIN, name="Dana Admin")
    therapist = make_user(clinic=admin.clinic, name="Theo Therapist")
    make_patient(therapist=therapist)
    log_in(desktop, admin.email, PASSWORD)
    desktop.wait_for_url("**/admin/")
    expect(desktop.get_by_role("heading", name="Clinicians")).to_be_visible()
    assert_no_axe_violations_light_and_dark(desktop)

    desktop.get_by_role("link", name="Patients").click()
    expect(desktop.get_by_role("heading", name="All patients of the clinic")).to_be_visible()
    assert_no_axe_violations_light_and_dark(desktop)

    desktop.goto("/admin/")
    desktop.get_by_role("link", name="Invite a therapist").click()
    assert_no_axe_violations_light_and_dark(desktop)
    desktop.get_by_label("Name").fill("Tara New")
    desktop.get_by_label("Email").fill("tara@example.org")
    desktop.get_by_role("button", name="Create the account and invitation").click()
    expect(desktop.get_by_role("heading", name="Invitation for Tara New")).to_be_visible()
    expect(desktop.get_by_role("button", name="Copy the link")).to_be_visible()
    assert_no_axe_violations_light_and_dark(desktop)


def test_caseload_is_usable_on_a_768_px_tablet(tablet, caseload):
    log_in(tablet, caseload["therapist"].email, PASSWORD)
    tablet.wait_for_url("**/caseload/")
    expect(tablet.get_by_role("link", name="Tom Worse")).to_be_visible()
    # Wide tables scroll inside their own region; the page itself never scrolls sideways.
    assert no_page_overflow(tablet)
    expect(tablet.get_by_role("button", name="Apply")).to_be_in_viewport()
    expect(tablet.get_by_role("link", name="Invite a patient")).to_be_in_viewport()
    # The columns that decide who needs attention are on screen without scrolling sideways.
    for column in ("Alerts", "Pain: now / baseline", "Last activity"):
        expect(tablet.get_by_role("columnheader", name=column)).to_be_in_viewport()
    expect(tablet.locator("tbody tr").first.locator(".badge-high")).to_be_in_viewport()
    assert_no_axe_violations(tablet)
    # Keyboard focus is visible: the first Tab shows the skip link with its focus ring.
    tablet.keyboard.press("Tab")
    skip = tablet.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    assert skip.evaluate("e => getComputedStyle(e).outlineStyle") == "solid"

    # Narrower than the table: it scrolls inside its own region, and the page still does not.
    tablet.set_viewport_size({"width": 600, "height": 1024})
    region = tablet.get_by_role("region", name="patients")
    assert region.evaluate("e => e.scrollWidth > e.clientWidth")
    assert no_page_overflow(tablet)
    tablet.set_viewport_size(TABLET)

    tablet.get_by_role("link", name="Tom Worse").click()
    expect(tablet.get_by_role("heading", name="Tom Worse")).to_be_visible()
    assert no_page_overflow(tablet)
    assert_no_axe_violations(tablet)
