"""The guided player on a phone: timers, pain ratings, one stored session; offline; no JS."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.db import utcnow
from app.enums import ItemStatus
from app.extensions import db
from app.patient.models import Session
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD, PatientBundle, start_live_server


def short_program(bundle: PatientBundle, items: int = 3) -> list[int]:
    """Keep `items` exercises with 2 s holds and 1 s rests; the first has two sets (a rest)."""
    program = bundle.program
    kept = program.items[:items]
    for item in program.items[items:]:
        item.removed_at = utcnow()
    for index, item in enumerate(kept):
        item.sets, item.reps, item.reps_per_set = (2 if index == 0 else 1), 1, None
        item.hold_seconds, item.rest_seconds = 2, 1
        item.duration_seconds = item.distance_m = None
    db.session.commit()
    return [item.id for item in kept]


def sessions() -> list[Session]:
    db.session.rollback()
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Session)))


def scale(page: Page, legend: str, value: int):
    return page.get_by_role("group", name=legend).get_by_role(
        "radio", name=re.compile(f"^{value}( |$)")
    )


def rate(page: Page, legend: str, value: int) -> None:
    scale(page, legend, value).check()


BEFORE = "How bad is your back pain right now?"
AFTER = "How bad is your back pain now, after the session?"
EFFORT = "How hard was that? (0 very easy – 10 hardest)"


def do_exercises(page: Page, count: int) -> None:
    for number in range(1, count + 1):
        step = page.locator("section.step.current")
        expect(step.locator("h2")).to_contain_text(f"{number} of {count}")
        step.get_by_role("button", name="Start hold").click()
        if number == 1:  # two sets: the rest timer runs between them
            expect(step.locator(".timer .phase")).to_have_text("Rest", timeout=5000)
            expect(step.locator(".timer .phase")).to_have_text("Ready when you are", timeout=5000)
            step.get_by_role("button", name="Start hold").click()
        expect(step.locator(".timer .phase")).to_have_text(
            "Exercise done — well done", timeout=5000
        )
        expect(step.get_by_role("radio", name="Done")).to_be_checked()
        step.get_by_label(re.compile("^Worst pain during it")).select_option("3")
        step.get_by_role("button", name=re.compile("^Next")).click()


def start_session(page: Page, bundle: PatientBundle) -> None:
    log_in(page, bundle.user.email, PASSWORD)
    page.wait_for_url("**/today")
    # The service worker is ready before the session starts (it keeps the offline page).
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.get_by_role("link", name="Start today's session").click()
    page.wait_for_url(re.compile(r"/session/\d+$"))
    rate(page, BEFORE, 3)
    page.get_by_role("button", name="Start", exact=True).click()


def test_a_guided_session_with_timers_stores_exactly_one_session(phone, make_patient):
    bundle = make_patient()
    item_ids = short_program(bundle)

    start_session(phone, bundle)
    do_exercises(phone, 3)
    rate(phone, AFTER, 2)
    rate(phone, EFFORT, 4)
    phone.get_by_role("button", name="Finish and save").click()

    expect(phone.get_by_role("heading", name=re.compile("Green: Good response"))).to_be_visible()
    stored = sessions()
    assert len(stored) == 1
    session = stored[0]
    assert (session.pain_before, session.pain_after, session.effort) == (3, 2, 4)
    results = {e.program_item_id: e for e in session.exercises}
    assert set(results) == set(item_ids)
    for result in results.values():
        assert result.status is ItemStatus.DONE
        assert result.hold_seconds == 2
        assert result.pain_during == 3
    assert (results[item_ids[0]].sets_done, results[item_ids[0]].reps_done) == (2, 2)
    assert (results[item_ids[1]].sets_done, results[item_ids[1]].reps_done) == (1, 1)


def stop_server(server) -> None:
    """Stop the live server; its socket closes, so connections are refused, not queued."""
    server.stop()


def test_offline_mid_session_the_session_arrives_exactly_once_when_the_server_is_back(
    phone, make_patient, live_server, app
):
    bundle = make_patient()
    short_program(bundle, items=1)
    start_session(phone, bundle)
    port = int(live_server.url.rsplit(":", 1)[1])

    stop_server(live_server)  # the connection is gone mid-session
    do_exercises(phone, 1)
    rate(phone, AFTER, 2)
    phone.get_by_role("button", name="Finish and save").click()
    expect(
        phone.get_by_text("Saved on this phone — will send when online.", exact=True)
    ).to_be_visible()

    phone.reload()  # the service worker answers with the offline player shell from its cache
    expect(phone.get_by_role("heading", name="Today's session")).to_be_visible()
    expect(
        phone.get_by_text("1 session saved on this phone — will send when online.")
    ).to_be_visible()
    assert sessions() == []

    server = start_live_server(app, port)  # back, on the same origin (IndexedDB is per origin)
    try:
        phone.reload()
        # The answer shows the session's traffic light, once (issue 10).
        light = phone.get_by_role("heading", name=re.compile("^Green: Good response"))
        expect(light).to_have_count(1)
        phone.goto("/today")
        expect(phone.get_by_role("heading", name="Today", exact=True)).to_be_visible()
        expect(phone.get_by_text("saved on this phone")).to_have_count(0)
        stored = sessions()
        assert len(stored) == 1
        assert stored[0].pain_after == 2
    finally:
        stop_server(server)
