"""Issue 11 on a phone: the player's moving figure beside its timer (still for reduced motion),
spoken cues through the browser's speech synthesis (muted: silent; absent: the player still
works), still frames on /today, and the figures of the kept program with the server stopped."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from app.extensions import db
from app.figures.service import description_of
from tests.browser.conftest import assert_no_axe_violations, log_in
from tests.browser.test_patient_clinic_ready import keep_program_offline
from tests.browser.test_patient_player import BEFORE, rate, short_program, stop_server
from tests.conftest import PASSWORD, PatientBundle

# The page's speech synthesis, replaced before any script runs: it records what would be said.
SPEECH_STUB = """
window.__spoken = [];
const synth = {
  speak: (u) => window.__spoken.push({ text: u.text, lang: u.lang }),
  cancel: () => {}, pause: () => {}, resume: () => {}, getVoices: () => [],
  speaking: false, pending: false, paused: false,
  addEventListener: () => {}, removeEventListener: () => {},
};
Object.defineProperty(window, 'speechSynthesis', { value: synth, configurable: true });
"""
NO_SPEECH = """
delete window.SpeechSynthesisUtterance;
delete Window.prototype.speechSynthesis;
delete window.speechSynthesis;
"""
LOADED = "(img) => img.complete && img.naturalWidth > 0"


def open_player(page: Page, bundle: PatientBundle) -> Locator:
    """Log in, open the player, rate the pain before and start: the first exercise screen."""
    log_in(page, bundle.user.email, PASSWORD)
    page.wait_for_url("**/today")
    page.goto(f"/session/{bundle.program.id}")
    rate(page, BEFORE, 3)
    page.get_by_role("button", name="Start", exact=True).click()
    return page.locator("section.step.current")


def figure_of(step: Locator) -> Locator:
    img = step.locator(".play .figure img")
    expect(img).to_be_visible()
    img.element_handle().wait_for_element_state("stable")
    step.page.wait_for_function(LOADED, arg=img.element_handle())
    return img


def animations_in(page: Page, url: str) -> list[dict]:
    """The animations of the SVG at `url` opened as its own document."""
    other = page.context.new_page()
    try:
        other.goto(url)
        return other.evaluate(
            "document.getAnimations().map((a) => ({name: a.animationName, state: a.playState}))"
        )
    finally:
        other.close()


def changes_on_screen(img: Locator, timeout: float = 15.0) -> bool:
    """Wait until the figure drawn on screen differs from its first picture (it moves)."""
    first = img.screenshot(animations="allow")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if img.screenshot(animations="allow") != first:
            return True
    return False


@pytest.fixture
def se(open_page: Callable[[str], Page]) -> Page:
    return open_page("iPhone SE")  # 320 × 568


def test_each_exercise_screen_shows_its_figure_moving_beside_the_timer(phone, make_patient):
    bundle = make_patient()
    short_program(bundle, items=2)
    step = open_player(phone, bundle)

    img = figure_of(step)
    exercise = bundle.program.items[0].exercise
    expect(img).to_have_attribute("alt", description_of(exercise))
    src = img.evaluate("(img) => img.currentSrc")
    assert f"/figures/{exercise.slug}.svg?v=" in src and "frame=" not in src
    assert {a["state"] for a in animations_in(phone, src)} == {"running"}
    assert changes_on_screen(img)

    # At 390 px the timer sits beside the figure, both on the first screen.
    figure_box, timer_box = (
        step.locator(selector).bounding_box() for selector in (".play .figure", ".play .timer")
    )
    assert figure_box["x"] + figure_box["width"] <= timer_box["x"] + 0.5
    assert abs(figure_box["y"] - timer_box["y"]) < timer_box["height"]
    expect(step.get_by_role("button", name="Start hold")).to_be_in_viewport(ratio=1)
    assert_no_axe_violations(phone)

    # Only the screen shown has loaded its figure; the next one loads when it is shown.
    loaded = phone.evaluate(
        "performance.getEntriesByType('resource').map((e) => e.name)"
        ".filter((n) => n.includes('/figures/'))"
    )
    assert len(loaded) == 1, loaded
    step.get_by_role("radio", name="Skipped").check()
    step.locator(".nav-buttons .button-primary").click()
    figure_of(phone.locator("section.step.current"))


def test_on_a_320_px_phone_the_figure_stands_above_the_timer_and_both_fit(se, make_patient):
    bundle = make_patient()
    short_program(bundle, items=1)
    step = open_player(se, bundle)

    figure_of(step)
    figure_box = step.locator(".play .figure").bounding_box()
    timer_box = step.locator(".play .timer").bounding_box()
    assert figure_box["y"] + figure_box["height"] <= timer_box["y"] + 0.5
    assert figure_box["height"] >= 120  # large: most of the screen's width
    assert se.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    start = step.get_by_role("button", name="Start hold")
    expect(start).to_be_in_viewport(ratio=1)
    box = start.bounding_box()
    assert box["y"] + box["height"] <= 568, box  # reached with the thumb, no scrolling


def test_with_reduced_motion_the_player_shows_the_still_start_frame(phone, make_patient):
    phone.emulate_media(reduced_motion="reduce")
    bundle = make_patient()
    short_program(bundle, items=1)
    step = open_player(phone, bundle)

    img = figure_of(step)
    src = img.evaluate("(img) => img.currentSrc")
    assert src.endswith("&frame=start"), src
    assert animations_in(phone, src) == []  # nothing in the picture can move
    expect(img).to_have_attribute("alt", description_of(bundle.program.items[0].exercise))


def test_today_shows_a_small_still_frame_beside_each_exercise(phone, make_patient):
    bundle = make_patient()
    log_in(phone, bundle.user.email, PASSWORD)
    phone.wait_for_url("**/today")
    stills = phone.locator(".exercise-list img.still")
    expect(stills).to_have_count(len(bundle.program.items))
    for still in stills.all():
        assert "frame=start" in (still.get_attribute("src") or "")
        phone.wait_for_function(LOADED, arg=still.element_handle())
        beside = still.evaluate(
            """(img) => {
              const range = document.createRange();
              range.selectNodeContents(img.nextElementSibling);  // the exercise's name
              const name = range.getClientRects()[0], box = img.getBoundingClientRect();
              return box.width <= 80 && box.right <= name.left && name.top < box.bottom;
            }"""
        )
        assert beside


def spoken(page: Page) -> list[str]:
    return [u["text"] for u in page.evaluate("window.__spoken")]


def hold_once(page: Page, step: Locator) -> None:
    """One 2 s hold of the short program's first exercise, on the page's controlled clock."""
    step.get_by_role("button", name="Start hold").click()
    page.clock.run_for(2200)


def test_with_the_voice_on_the_hold_is_counted_aloud_in_the_pages_language(phone, make_patient):
    phone.add_init_script(SPEECH_STUB)
    phone.clock.install()  # the timers run only as the test moves the clock: no race
    bundle = make_patient()
    short_program(bundle, items=2)
    first, second = (item.exercise.name for item in bundle.program.items[:2])
    log_in(phone, bundle.user.email, PASSWORD)
    phone.wait_for_url("**/today")
    phone.goto(f"/session/{bundle.program.id}")
    voice = phone.get_by_label("Say the steps aloud")
    expect(voice).not_to_be_checked()  # off until the patient turns it on
    voice.check()
    phone.reload()  # remembered on this phone
    expect(voice).to_be_checked()
    rate(phone, BEFORE, 3)
    phone.get_by_role("button", name="Start", exact=True).click()
    step = phone.locator("section.step.current")

    hold_once(phone, step)  # two sets: the rest runs between them
    expect(step.locator(".timer .phase")).to_have_text("Rest")
    phone.clock.run_for(1200)
    hold_once(phone, step)
    expect(step.locator(".timer .phase")).to_have_text("Exercise done — well done")
    phone.wait_for_function("window.__spoken.length >= 7")
    assert spoken(phone) == [
        first,
        "Hold, 2 seconds",
        "1",
        "Rest, 1 second",
        "Hold, 2 seconds",
        "1",
        "Exercise done",
    ]
    step.locator(".timer .button-primary").click()  # "Next exercise"
    phone.wait_for_function("window.__spoken.length === 8")
    assert spoken(phone)[-1] == f"Next exercise: {second}"

    # A Spanish patient's player speaks Spanish: the page brings the scripts' Spanish words.
    db.session.rollback()  # a fresh snapshot: the server has written since this one began
    bundle.patient.language = "es"
    db.session.commit()
    phone.reload()
    expect(phone.locator("html")).to_have_attribute("lang", "es")
    phone.evaluate("import('/static/js/voice.js').then((voice) => voice.say('hold', 2))")
    phone.wait_for_function("window.__spoken.length >= 1")
    assert phone.evaluate("window.__spoken")[-1] == {"text": "Mantenga, 2 segundos", "lang": "es"}


def test_muted_the_player_says_nothing_and_never_loads_the_voice(phone, make_patient):
    phone.add_init_script(SPEECH_STUB)
    phone.clock.install()
    voice_requests: list[str] = []
    phone.on("request", lambda r: voice_requests.append(r.url) if "/js/voice.js" in r.url else None)
    bundle = make_patient()
    short_program(bundle, items=1)
    log_in(phone, bundle.user.email, PASSWORD)
    phone.wait_for_url("**/today")
    phone.goto(f"/session/{bundle.program.id}")
    voice = phone.get_by_label("Say the steps aloud")
    voice.check()
    voice.uncheck()  # muted, and remembered so
    phone.reload()
    expect(voice).not_to_be_checked()
    rate(phone, BEFORE, 3)
    phone.get_by_role("button", name="Start", exact=True).click()
    step = phone.locator("section.step.current")

    hold_once(phone, step)
    phone.clock.run_for(1200)
    hold_once(phone, step)
    expect(step.locator(".timer .phase")).to_have_text("Exercise done — well done")
    assert spoken(phone) == []
    assert voice_requests == []


def test_the_voice_is_muted_from_the_exercise_screen_mid_set(phone, make_patient):
    phone.add_init_script(SPEECH_STUB)
    phone.add_init_script("localStorage.setItem('hs-voice', '1')")
    phone.clock.install()
    bundle = make_patient()
    short_program(bundle, items=1)
    step = open_player(phone, bundle)
    phone.wait_for_function("window.__spoken.length === 1")  # the exercise's name

    mute = step.get_by_role("button", name="Mute voice")
    expect(mute).to_have_attribute("aria-pressed", "false")
    assert_no_axe_violations(phone)
    mute.click()
    expect(mute).to_have_attribute("aria-pressed", "true")
    hold_once(phone, step)
    phone.clock.run_for(1200)
    hold_once(phone, step)
    expect(step.locator(".timer .phase")).to_have_text("Exercise done — well done")
    assert len(spoken(phone)) == 1
    assert phone.evaluate("localStorage.getItem('hs-voice')") == "0"  # remembered
    phone.get_by_role("button", name="Back").click()
    expect(phone.get_by_label("Say the steps aloud")).not_to_be_checked()


def test_without_speech_synthesis_the_player_works_and_offers_no_voice(phone, make_patient):
    phone.add_init_script(NO_SPEECH)
    phone.add_init_script("localStorage.setItem('hs-voice', '1')")  # on from an older phone
    phone.clock.install()
    bundle = make_patient()
    short_program(bundle, items=1)
    step = open_player(phone, bundle)
    expect(phone.get_by_label("Say the steps aloud")).to_have_count(0)

    hold_once(phone, step)
    phone.clock.run_for(1200)
    hold_once(phone, step)
    expect(step.locator(".timer .phase")).to_have_text("Exercise done — well done")
    expect(step.get_by_role("radio", name="Done")).to_be_checked()


def test_with_the_server_stopped_a_session_started_offline_shows_its_figures(
    phone, make_patient, live_server
):
    bundle = make_patient()
    short_program(bundle, items=2)
    log_in(phone, bundle.user.email, PASSWORD)
    phone.wait_for_url("**/today")
    keep_program_offline(phone)
    # The service worker keeps each figure with the program: moving, and still.
    phone.wait_for_function(
        "(n) => caches.open('hs-figures').then((c) => c.keys()).then((k) => k.length === n)",
        arg=4,
    )
    stop_server(live_server)

    phone.goto("/today")  # no signal: the offline page offers the kept session
    expect(phone.get_by_role("heading", name="You are offline")).to_be_visible()
    phone.get_by_role("link", name="Start today's session").click()
    expect(phone.get_by_role("heading", name="Today's session")).to_be_visible()
    rate(phone, BEFORE, 3)
    phone.get_by_role("button", name="Start", exact=True).click()
    for number, item in enumerate(bundle.program.items[:2], start=1):
        step = phone.locator("section.step.current")
        expect(step.locator("h2")).to_contain_text(f"{number} of 2")
        img = figure_of(step)  # loaded from the service worker's cache
        assert f"/figures/{item.exercise.slug}.svg" in img.evaluate("(i) => i.currentSrc")
        expect(img).to_have_attribute("alt", description_of(item.exercise))
        if number == 1:
            step.get_by_role("radio", name="Skipped").check()
            step.locator(".nav-buttons .button-primary").click()
    phone.emulate_media(reduced_motion="reduce")  # the still frame is kept too
    img = phone.locator("section.step.current .figure img")
    phone.wait_for_function(
        "(img) => img.currentSrc.endsWith('&frame=start') && img.complete && img.naturalWidth > 0",
        arg=img.element_handle(),
    )
    assert re.search(r"frame=start$", img.evaluate("(i) => i.currentSrc"))


def test_logging_out_forgets_the_kept_figures_with_the_program(phone, make_patient):
    bundle = make_patient()
    log_in(phone, bundle.user.email, PASSWORD)
    phone.wait_for_url("**/today")
    keep_program_offline(phone)
    phone.wait_for_function(
        "() => caches.open('hs-figures').then((c) => c.keys()).then((k) => k.length > 0)"
    )
    phone.get_by_role("button", name="Log out").click()
    phone.wait_for_url("**/auth/login**")
    assert phone.evaluate("caches.has('hs-figures')") is False
