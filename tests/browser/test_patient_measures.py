"""Questionnaires on a phone: PSFS and STarT Back one question per screen, left halfway and
resumed where the patient stopped, then sent through the outbox (CLINICAL §8)."""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.extensions import db
from app.measures.instruments import Score
from app.patient.models import OutcomeResponse
from tests.browser.conftest import assert_no_axe_violations, log_in
from tests.browser.test_patient_pages_budget import BUDGET, check_page, first_load
from tests.conftest import PASSWORD


def stored(instrument: str) -> list[OutcomeResponse]:
    db.session.rollback()
    return list(
        db.session.scalars(
            sa.select(OutcomeResponse).where(OutcomeResponse.instrument == instrument)
        )
    )


def step(page: Page):  # type: ignore[no-untyped-def]
    """The one question on screen."""
    return page.locator("[data-step]:visible")


def rate(page: Page, value: int) -> None:
    step(page).get_by_role("radio", name=str(value), exact=True).check()


def open_measure(page: Page, path: str) -> None:
    """Go to a questionnaire and wait until its script shows one screen (not all of them)."""
    page.goto(path)
    expect(step(page)).to_have_count(1)


def answer_and_move_on(page: Page, answer: str, question: int, of: int) -> None:
    """Tap an answer on question `question`; the next screen follows by itself."""
    expect(step(page)).to_contain_text(f"Question {question} of {of}")
    step(page).get_by_role("radio", name=answer, exact=True).check()
    expect(step(page)).not_to_contain_text(f"Question {question} of {of}")


def next_screen(page: Page) -> None:
    step(page).locator("[data-next]").click()


def test_psfs_names_activities_then_resumes_halfway_and_sends(phone: Page, make_patient):
    bundle = make_patient()
    log_in(phone, bundle.user.email, PASSWORD)
    phone.wait_for_url("**/today")
    phone.goto("/measures")
    phone.get_by_role("link", name="Patient-Specific Functional Scale").click()

    expect(step(phone)).to_have_count(1)
    expect(step(phone)).to_contain_text("Think of 3 to 5 everyday activities")
    assert_no_axe_violations(phone)
    next_screen(phone)  # Start
    # The first activity: a name and a rating; a rating alone is not enough.
    rate(phone, 3)
    next_screen(phone)
    expect(step(phone).locator(".error")).to_contain_text("Name the activity")
    step(phone).get_by_label("Name an activity").fill("Lifting my child")
    next_screen(phone)
    step(phone).get_by_label("Name an activity").fill("Gardening")
    rate(phone, 4)
    next_screen(phone)
    expect(step(phone)).to_contain_text("Activity 3")

    # Leave halfway, come back: the answers and the place are kept.
    phone.goto("/today")
    open_measure(phone, "/measures?instrument=psfs")
    expect(step(phone)).to_contain_text("Activity 3")
    step(phone).locator("[data-back]").click()
    expect(step(phone).get_by_label("Name an activity")).to_have_value("Gardening")
    expect(step(phone).get_by_role("radio", name="4", exact=True)).to_be_checked()
    next_screen(phone)
    step(phone).get_by_label("Name an activity").fill("Sitting through a film")
    rate(phone, 2)
    next_screen(phone)
    expect(step(phone)).to_contain_text("Activity 4")
    next_screen(phone)  # skip the optional fourth and fifth
    next_screen(phone)
    step(phone).get_by_role("button", name="Send").click()

    expect(phone.get_by_role("status").filter(has_text="Thank you")).to_be_visible()
    (response,) = stored("psfs")
    result = Score.from_dict(response.result)
    assert result.score == 3  # (3 + 4 + 2) / 3
    assert list(result.labels.values()) == [
        "Lifting my child",
        "Gardening",
        "Sitting through a film",
    ]

    # Next time the same activities come back to be re-rated.
    open_measure(phone, "/measures?instrument=psfs")
    next_screen(phone)
    expect(step(phone)).to_contain_text("Lifting my child")


def test_start_back_taps_move_on_and_a_reload_halfway_resumes(phone: Page, make_patient):
    bundle = make_patient()
    log_in(phone, bundle.user.email, PASSWORD)
    phone.wait_for_url("**/today")
    open_measure(phone, "/measures?instrument=start-back")

    expect(step(phone)).to_contain_text("Keele University")
    next_screen(phone)
    for question in range(1, 5):  # items 1–4: agree
        answer_and_move_on(phone, "Agree", question, 9)
    expect(step(phone)).to_contain_text("Question 5 of 9")

    phone.reload()
    expect(step(phone)).to_have_count(1)
    expect(step(phone)).to_contain_text("Question 5 of 9")
    for question in range(5, 9):  # items 5–8: disagree
        answer_and_move_on(phone, "Disagree", question, 9)
    expect(step(phone)).to_contain_text("Question 9 of 9")
    assert_no_axe_violations(phone)
    step(phone).get_by_role("radio", name="Very much").check()
    step(phone).get_by_role("button", name="Send").click()

    expect(phone.get_by_role("status").filter(has_text="Thank you")).to_be_visible()
    (response,) = stored("start-back")
    result = Score.from_dict(response.result)
    assert (result.score, result.subscores["distress"]) == (5, 1)
    assert result.interpretation.band == "medium"
    phone.goto("/measures")
    expect(phone.get_by_role("link", name="Keele STarT Back Screening Tool")).to_have_count(0)


MEASURE_PAGES = ("/measures", "/measures?instrument=psfs", "/measures?instrument=start-back")


def test_questionnaire_pages_fit_a_320_px_phone_with_44_px_targets(open_page, make_patient):
    bundle = make_patient()
    page = open_page("iPhone SE")
    log_in(page, bundle.user.email, PASSWORD)
    page.wait_for_url("**/today")
    for path in MEASURE_PAGES:
        check_page(page, path)


def test_questionnaire_pages_load_in_under_60_kb_from_this_origin_only(
    browser, playwright, live_server, make_patient
):
    bundle = make_patient()
    for path in MEASURE_PAGES:
        loaded = first_load(browser, playwright, live_server.url, bundle.user.email, path)
        total = sum(size for _, size in loaded)
        print(f"\n{path}: {total / 1024:.1f} KB in {len(loaded)} responses")
        assert all(url.startswith(live_server.url) for url, _ in loaded), loaded
        assert total <= BUDGET, f"{path} loads {total} bytes"
