"""The patient's pages without JavaScript: today, the plain player, check-in, symptom screen,
progress, and the offline app's manifest, service worker and offline page."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.clinical.red_flags import INSTRUCTIONS, WEEKLY_IDS, RedFlagLevel
from app.enums import ItemStatus, Light, ProgramStatus
from app.extensions import db
from app.patient.check_ins import CheckInReport, record_check_in
from app.patient.models import CheckIn, Session
from app.patient.sessions import ExerciseResult, SessionReport, log_session
from tests.integration.test_security import assert_strict_html


def count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html) or re.search(
        rf'id="{name}" name="{name}" type="hidden" value="([^"]*)"', html
    )
    assert match, f"no hidden {name}"
    return match.group(1)


@pytest.fixture
def patient(make_patient, login):
    bundle = make_patient()
    login(bundle.user)
    return bundle


def player_form(html: str, program, statuses=("done", "partial", "skipped")) -> dict:
    data = {
        "client_id": hidden(html, "client_id"),
        "started_at": hidden(html, "started_at"),
        "pain_before": "4",
        "pain_after": "5",
        "effort": "3",
        "notes": "ok",
    }
    for item, status in zip(program.items, statuses, strict=False):
        data[f"ex{item.id}-item_id"] = str(item.id)
        data[f"ex{item.id}-status"] = status
        data[f"ex{item.id}-pain_during"] = "4"
    for item in program.items[len(statuses) :]:
        data[f"ex{item.id}-status"] = "skipped"
        data[f"ex{item.id}-skip_reason"] = "no time"
    return data


# ---------------------------------------------------------------------------- today


def test_today_offers_a_clear_start_button_to_the_player(client, patient):
    html = client.get("/today").get_data(as_text=True)

    assert f'href="/session/{patient.program.id}"' in html
    assert "Start today&#39;s session" in html or "Start today's session" in html
    assert "about" in html and "min" in html
    assert 'href="/checkin/symptom"' in html  # "I have a new symptom" from every page


def test_today_says_plainly_when_the_program_is_suspended(client, patient):
    record_check_in(
        patient.patient,
        CheckInReport(id=str(uuid.uuid4()), recorded_at=_now(), red_flags={"RF3": True}),
        now=_now(),
    )
    html = client.get("/today").get_data(as_text=True)

    assert "Your exercises are stopped for now" in html
    assert "/session/" not in html


def _now():
    from app.db import utcnow

    return utcnow()


# ---------------------------------------------------------------------------- plain player


def test_the_plain_player_form_logs_one_session_with_per_exercise_results(client, patient):
    page = client.get(f"/session/{patient.program.id}").get_data(as_text=True)
    data = player_form(page, patient.program)

    response = client.post(f"/session/{patient.program.id}", data=data)

    assert response.status_code == 302
    session = db.session.scalar(sa.select(Session))
    assert response.headers["Location"].endswith(f"/done/{session.client_id}")
    assert session.pain_before == 4 and session.pain_after == 5 and session.effort == 3
    assert [e.status for e in session.exercises][:3] == [
        ItemStatus.DONE,
        ItemStatus.PARTIAL,
        ItemStatus.SKIPPED,
    ]
    assert session.exercises[0].pain_during == 4
    assert session.exercises[4].skip_reason == "no time"
    summary = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Amber: Acceptable — repeat this dose" in summary


def test_sending_the_same_player_form_twice_stores_one_session(client, patient):
    page = client.get(f"/session/{patient.program.id}").get_data(as_text=True)
    data = player_form(page, patient.program)

    first = client.post(f"/session/{patient.program.id}", data=data)
    second = client.post(f"/session/{patient.program.id}", data=data)

    assert first.headers["Location"] == second.headers["Location"]
    assert count(Session) == 1


def test_the_player_asks_again_when_pain_before_is_missing_and_stores_nothing(client, patient):
    page = client.get(f"/session/{patient.program.id}").get_data(as_text=True)
    data = player_form(page, patient.program)
    del data["pain_before"]

    response = client.post(f"/session/{patient.program.id}", data=data)

    assert response.status_code == 422
    assert "Choose a number from 0 to 10." in response.get_data(as_text=True)
    assert count(Session) == 0


def test_the_pain_scale_shows_the_anchor_words(client, patient):
    html = client.get(f"/session/{patient.program.id}").get_data(as_text=True)

    for word in ("none", "mild", "moderate", "severe"):
        # One row per anchor word, and the word in each button's name (CLINICAL §1).
        assert f'<div class="scale-row"><span aria-hidden="true">{word}</span>' in html
        assert f"<span> {word}</span></label>" in html
    assert html.count('name="pain_before"') == 11
    assert '<script type="module" src="/static/js/player.js">' in html
    assert_strict_html(client.get(f"/session/{patient.program.id}"))


def test_another_patients_program_is_not_found(client, patient, make_patient):
    other = make_patient()

    assert client.get(f"/session/{other.program.id}").status_code == 404
    assert client.post(f"/session/{other.program.id}", data={}).status_code == 404


def test_a_paused_program_shows_no_session_and_logs_nothing(client, patient):
    data = player_form(
        client.get(f"/session/{patient.program.id}").get_data(as_text=True), patient.program
    )
    record_check_in(
        patient.patient,
        CheckInReport(id=str(uuid.uuid4()), recorded_at=_now(), red_flags={"RF6": True}),
        now=_now(),
    )
    page = client.get(f"/session/{patient.program.id}").get_data(as_text=True)
    assert "Your program is paused" in page

    client.post(f"/session/{patient.program.id}", data=data)
    assert count(Session) == 0


def test_after_a_red_session_the_player_offers_the_eased_session(client, patient):
    program = patient.program
    painful = program.items[1]  # abdominal brace: no easier variant, so less volume
    log_session(
        patient.patient,
        SessionReport(
            id=str(uuid.uuid4()),
            program_id=program.id,
            completed_at=_now() - timedelta(seconds=30),
            pain_before=2,
            exercises=(ExerciseResult(painful.id, "done", pain_during=8),),
        ),
        now=_now(),
    )
    assert db.session.scalar(sa.select(Session.light)) is Light.RED

    html = client.get(f"/session/{program.id}").get_data(as_text=True)
    today = client.get("/today").get_data(as_text=True)

    assert "we&#39;ve eased it off" in html or "we've eased it off" in html
    # One eased dose: the note, the timers and /today all say 6 repetitions (40 % fewer than 10).
    assert "Gentler today: 6 reps" in html
    assert 'data-reps="6"' in html
    assert "eased it off" in today
    assert "6 reps" in today


# ---------------------------------------------------------------------------- check-in


def test_the_morning_check_in_asks_the_red_flags_when_due_and_records_pain(client, patient):
    page = client.get("/checkin").get_data(as_text=True)
    assert all(f'data-question="{q}"' in page for q in WEEKLY_IDS)
    data = {
        "client_id": hidden(page, "client_id"),
        "asked": " ".join(WEEKLY_IDS),
        "morning_pain": "3",
        "self_care": ["heat", "walking"],
        **dict.fromkeys(WEEKLY_IDS, "no"),
    }

    response = client.post("/checkin", data=data)
    result = client.get(response.headers["Location"]).get_data(as_text=True)

    check_in = db.session.scalar(sa.select(CheckIn))
    assert check_in.morning_pain == 3
    assert check_in.self_care == ["heat", "walking"]
    assert check_in.full_screen is True
    # Thanked once: in the title, not again in the text (issue 10).
    assert INSTRUCTIONS[RedFlagLevel.NONE].removeprefix("Thank you. ") in result
    assert result.count("Thank you") == 2  # the page title and the heading
    assert 'data-question="RF1"' not in client.get("/checkin").get_data(as_text=True)


def test_an_unanswered_question_is_asked_again(client, patient):
    page = client.get("/checkin").get_data(as_text=True)
    data = {"client_id": hidden(page, "client_id"), "asked": " ".join(WEEKLY_IDS)}
    data.update(dict.fromkeys(WEEKLY_IDS[1:], "no"), morning_pain="2")

    response = client.post("/checkin", data=data)

    assert response.status_code == 200
    assert "Answer yes or no." in response.get_data(as_text=True)
    assert count(CheckIn) == 0


def test_an_emergency_answer_without_javascript_shows_the_instruction_and_suspends(client, patient):
    page = client.get("/checkin/symptom").get_data(as_text=True)
    # A yes goes through at once even if the other questions are still open (CLINICAL §6).
    data = {"client_id": hidden(page, "client_id"), "asked": " ".join(WEEKLY_IDS), "RF1": "yes"}

    response = client.post("/checkin/symptom", data=data)
    result = client.get(response.headers["Location"]).get_data(as_text=True)

    assert INSTRUCTIONS[RedFlagLevel.EMERGENCY] in result
    assert 'class="emergency"' in result
    db.session.refresh(patient.program)
    assert patient.program.status is ProgramStatus.SUSPENDED


def test_the_symptom_screen_asks_every_weekly_question_and_carries_the_instructions(
    client, patient
):
    response = client.get("/checkin/symptom")
    html = response.get_data(as_text=True)

    assert all(f'data-question="{q}"' in html for q in WEEKLY_IDS)
    assert 'data-question="RF9"' not in html and 'data-question="RF12"' not in html
    for level in RedFlagLevel:
        assert f'data-level="{level.value}"' in html  # the texts JavaScript shows at once
    assert_strict_html(response)


# ---------------------------------------------------------------------------- progress


def test_progress_shows_the_trend_as_an_accessible_svg(client, make_patient, login):
    bundle = make_patient(start_days_ago=21, intake_pain=6)
    login(bundle.user)
    now = _now()
    for days_ago, pain in ((20, 6), (19, 6), (18, 6), (2, 4), (1, 4), (0, 4)):
        record_check_in(
            bundle.patient,
            CheckInReport(
                id=str(uuid.uuid4()),
                recorded_at=now - timedelta(days=days_ago, minutes=5),
                morning_pain=pain,
            ),
            now=now,
        )
    db.session.commit()

    response = client.get("/progress")
    html = response.get_data(as_text=True)

    assert "Pain 6.0 → 4.0 over 3 weeks." in html
    assert re.search(r'<svg class="chart"[^>]*role="img"', html)
    assert "<title" in html and "<polyline" in html
    assert '<table class="visually-hidden">' in html
    assert "Stage 2: Stabilise" in html  # what comes next
    assert_strict_html(response)


def test_progress_with_few_readings_says_so(client, patient):
    html = client.get("/progress").get_data(as_text=True)

    assert "Rate your pain before each session" in html or "Not enough pain ratings" in html


# ---------------------------------------------------------------------------- the offline app


def test_the_service_worker_is_served_from_the_root_for_the_whole_site(client):
    response = client.get("/sw.js")

    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    body = response.get_data(as_text=True)
    assert "/static/js/player.js" in body and '"/offline"' in body
    assert "credentials: 'omit'" in body  # the cached shell never holds anyone's data


def test_the_manifest_makes_the_app_installable(client):
    manifest = client.get("/manifest.webmanifest").get_json()

    assert manifest["start_url"] == "/today"
    assert manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    assert any(icon.get("purpose") == "maskable" for icon in manifest["icons"])
    for icon in manifest["icons"]:
        response = client.get(icon["src"])
        assert response.status_code == 200
        response.close()


def test_the_offline_page_carries_the_red_flag_screen_and_its_instructions(client):
    response = client.get("/offline")
    html = response.get_data(as_text=True)

    assert INSTRUCTIONS[RedFlagLevel.EMERGENCY] in html
    assert all(f'data-question="{q}"' in html for q in WEEKLY_IDS)
    assert_strict_html(response)


# ---------------------------------------------------------------------------- issue 10


@pytest.fixture
def numbers(patient):
    """The clinic's phone and local emergency number, as the demo clinic has them."""
    clinic = patient.patient.clinic
    clinic.phone, clinic.emergency_number = "+44 20 7946 0018", "999"
    db.session.commit()
    return patient


def test_the_patients_header_has_no_log_out_and_the_footer_has_it(client, patient):
    html = client.get("/today").get_data(as_text=True)

    header = html[html.index("<header") : html.index("</header>")]
    footer = html[html.index("<footer") : html.index("</footer>")]
    assert "Log out" not in header and "New symptom" in header
    assert "Log out" in footer
    assert 'class="tap" href="/checkin/symptom"' in html  # a full tap target


def test_the_red_flag_pages_carry_the_clinics_numbers_for_tap_to_call(client, numbers):
    html = client.get("/checkin/symptom").get_data(as_text=True)

    assert 'data-level="emergency" data-number="999"' in html
    assert 'data-number="+44 20 7946 0018"' in html and numbers.therapist.name in html

    data = {"client_id": str(uuid.uuid4()), "asked": " ".join(WEEKLY_IDS)}
    data.update({q: "yes" if q == "RF7" else "no" for q in WEEKLY_IDS})
    result = client.get(client.post("/checkin/symptom", data=data).headers["Location"])
    page = result.get_data(as_text=True)
    assert 'href="tel:+442079460018"' in page and "Call your clinic" in page
    assert numbers.therapist.name in page
    assert_strict_html(result)


def test_a_paused_or_suspended_today_offers_whom_to_call(client, numbers):
    now = _now()
    report = CheckInReport(id=str(uuid.uuid4()), recorded_at=now, red_flags={"RF6": True})
    record_check_in(numbers.patient, report, now=now)
    db.session.commit()
    html = client.get("/today").get_data(as_text=True)
    assert "Your program is paused" in html
    assert 'href="tel:+442079460018"' in html and numbers.therapist.name in html
    assert "What happens next" in html and "will contact you today" in html

    report = CheckInReport(id=str(uuid.uuid4()), recorded_at=now, red_flags={"RF2": True})
    record_check_in(numbers.patient, report, now=now)
    db.session.commit()
    html = client.get("/today").get_data(as_text=True)
    assert "Your exercises are stopped for now" in html and 'href="tel:999"' in html


def test_while_pain_worsens_the_pages_hold_back_praise_and_the_next_stage(
    client, make_patient, login, make_alert
):
    from app.enums import AlertKind
    from tests.conftest import insert_history

    bundle = make_patient(start_days_ago=4, sessions_per_week=7)
    insert_history(bundle, range(0, 4), pain=4)
    login(bundle.user)
    assert "in a row" in client.get("/today").get_data(as_text=True)
    assert "What comes next" in client.get("/progress").get_data(as_text=True)

    make_alert(bundle, AlertKind.WORSENING)
    today = client.get("/today").get_data(as_text=True)
    progress = client.get("/progress").get_data(as_text=True)

    assert "in a row" not in today
    assert "What comes next" not in progress
    for html in (today, progress):
        assert "What happens next" in html
        assert "will review your plan with you within 2 days" in html


def test_the_offline_player_shell_holds_no_personal_data(client, make_patient):
    bundle = make_patient(name="Zelda Private")
    response = client.get("/offline/session")  # as the service worker fetches it: no cookies
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "Zelda Private" not in html and bundle.therapist.name not in html
    assert '<template id="step-template">' in html and 'name="ex0-status"' in html
    assert "heel-slide-with-brace" in html  # built-in each-side exercises, for left then right
    assert '<script type="module" src="/static/js/offline-session.js">' in html
    assert_strict_html(response)
    sw = client.get("/sw.js").get_data(as_text=True)
    assert '"/offline/session"' in sw and "/static/js/offline-session.js" in sw


def test_the_result_card_says_plainly_what_tomorrow_does(client, patient):
    page = client.get(f"/session/{patient.program.id}").get_data(as_text=True)
    location = client.post(
        f"/session/{patient.program.id}", data=player_form(page, patient.program)
    )
    html = client.get(location.headers["Location"]).get_data(as_text=True)

    assert "Tomorrow morning’s check-in will confirm this." in html
    assert "settled by" not in html
