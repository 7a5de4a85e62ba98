"""A FLARE or a RED session makes the red-flag screen due again, and the eased session's timer.

CLINICAL §6: the red-flag screen is asked weekly *and at every FLARE or RED session*, so a
screen answered yesterday does not excuse the questions after either. CLINICAL §5 FLARE: ≥ 2 RED
sessions in the last 7 days, or a morning pain in the last 7 days that is ≥ 8 and ≥ 2 above the
baseline. CLINICAL §7: after a RED session the painful item is eased, and the player's timer
(``data-hold`` etc., read by static/js/player.js) and ``/today`` show that one eased dose.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from app.alerts.models import Alert
from app.clinical.red_flags import WEEKLY_IDS
from app.db import utcnow
from app.enums import AlertKind, Light
from app.extensions import db
from app.patient.check_ins import CheckInReport, record_check_in
from app.patient.models import Session
from app.patient.sessions import ExerciseResult, log_session
from app.programs.services import update_item_dosage
from tests.conftest import PatientBundle, session_report

BASELINE = 3  # the intake pain: with no early readings it is the baseline (CLINICAL §2)


@pytest.fixture
def patient(make_patient, login) -> PatientBundle:
    bundle = make_patient(start_days_ago=10, sessions_per_week=7, intake_pain=BASELINE)
    login(bundle.user)
    return bundle


def screen(bundle: PatientBundle, at: datetime) -> None:
    """The weekly red-flag screen, every question answered "no", with a morning pain of 3."""
    record_check_in(
        bundle.patient,
        CheckInReport(
            id=str(uuid.uuid4()),
            recorded_at=at,
            morning_pain=BASELINE,
            red_flags=dict.fromkeys(WEEKLY_IDS, False),
        ),
        now=utcnow(),
    )
    db.session.commit()


def morning(bundle: PatientBundle, pain: int, at: datetime) -> None:
    """A morning check-in with only a pain score (no red-flag answers)."""
    record_check_in(
        bundle.patient,
        CheckInReport(id=str(uuid.uuid4()), recorded_at=at, morning_pain=pain),
        now=utcnow(),
    )
    db.session.commit()


def red_session(bundle: PatientBundle, at: datetime, item_index: int = 1) -> None:
    """A RED session (CLINICAL §4): resting pain 2, one item at 8 > max(5, 2 + 1)."""
    program = bundle.program
    painful = program.items[item_index]
    log_session(
        bundle.patient,
        session_report(
            program,
            completed_at=at,
            pain_before=2,
            pain_after=None,
            started_at=None,
            exercises=(ExerciseResult(painful.id, "done", pain_during=8),),
        ),
        now=utcnow(),
    )
    db.session.commit()
    light = db.session.scalar(sa.select(Session.light).where(Session.completed_at == at))
    assert light is Light.RED


def due_on_api(client) -> list[str]:
    response = client.get("/api/v1/me/today")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_json()["red_flags_due"]


def asked_on_checkin(client) -> set[str]:
    page = client.get("/checkin")
    assert page.status_code == 200
    return set(re.findall(r'data-question="(RF\d+)"', page.get_data(as_text=True)))


def flare_alerts() -> int:
    return len(db.session.scalars(sa.select(Alert).where(Alert.kind == AlertKind.FLARE)).all())


def red_sessions() -> int:
    return len(db.session.scalars(sa.select(Session).where(Session.light == Light.RED)).all())


# ---------------------------------------------------------------------------- red flags due


def test_a_recent_screen_and_no_flare_leaves_nothing_due(client, patient):
    screen(patient, utcnow() - timedelta(days=1))

    assert due_on_api(client) == []
    assert asked_on_checkin(client) == set()


def test_a_morning_below_the_flare_threshold_leaves_nothing_due(client, patient):
    screen(patient, utcnow() - timedelta(days=1))
    # 7 is 4 above the baseline but below 8: no FLARE (CLINICAL §5), no RED session.
    morning(patient, 7, utcnow() - timedelta(minutes=30))

    assert flare_alerts() == 0 and red_sessions() == 0
    assert due_on_api(client) == []
    assert asked_on_checkin(client) == set()


def test_a_red_session_before_the_screen_does_not_make_it_due_again(client, patient):
    red_session(patient, utcnow() - timedelta(days=2))
    screen(patient, utcnow() - timedelta(days=1))  # answered after that session

    assert red_sessions() == 1
    assert due_on_api(client) == []
    assert asked_on_checkin(client) == set()


def test_a_flare_by_morning_pain_makes_the_screen_due_despite_a_recent_one(client, patient):
    screen(patient, utcnow() - timedelta(days=1))
    assert due_on_api(client) == []  # the weekly screen is not due by the calendar

    # CLINICAL §5 FLARE: morning pain 8, which is ≥ 8 and 5 (≥ 2) above the baseline of 3.
    morning(patient, 8, utcnow() - timedelta(minutes=30))

    assert flare_alerts() == 1
    assert red_sessions() == 0  # the FLARE alone is the trigger here
    assert due_on_api(client) == list(WEEKLY_IDS)
    assert asked_on_checkin(client) == set(WEEKLY_IDS)


def test_a_flare_by_two_red_sessions_makes_the_screen_due_despite_a_recent_one(client, patient):
    screen(patient, utcnow() - timedelta(days=2))
    assert due_on_api(client) == []

    red_session(patient, utcnow() - timedelta(days=1))
    red_session(patient, utcnow() - timedelta(minutes=30))

    assert flare_alerts() == 1
    assert due_on_api(client) == list(WEEKLY_IDS)
    assert asked_on_checkin(client) == set(WEEKLY_IDS)


def test_a_red_session_makes_the_screen_due_despite_a_recent_one(client, patient):
    screen(patient, utcnow() - timedelta(days=1))
    assert due_on_api(client) == []

    red_session(patient, utcnow() - timedelta(minutes=30))

    assert flare_alerts() == 0  # one RED session is not a FLARE: the RED session is the trigger
    assert due_on_api(client) == list(WEEKLY_IDS)
    assert asked_on_checkin(client) == set(WEEKLY_IDS)


def test_answering_the_screen_after_the_flare_clears_it_until_the_next_trigger(client, patient):
    screen(patient, utcnow() - timedelta(days=1))
    morning(patient, 8, utcnow() - timedelta(hours=2))
    assert due_on_api(client) == list(WEEKLY_IDS)

    screen(patient, utcnow() - timedelta(minutes=5))  # the patient answers the questions

    assert due_on_api(client) == []
    assert asked_on_checkin(client) == set()


# ---------------------------------------------------------------------------- eased hold timer

STEP = re.compile(r'<section class="step exercise" data-step data-item="(\d+)"([^>]*)>')
DATA = re.compile(r'data-([a-z]+)="([^"]*)"')


def player_steps(client, program_id: int) -> tuple[dict[int, dict[str, str]], list[str]]:
    """Return each exercise screen's timer data (data-* the player reads) and the doses shown."""
    html = client.get(f"/session/{program_id}").get_data(as_text=True)
    steps = {int(item): dict(DATA.findall(attrs)) for item, attrs in STEP.findall(html)}
    doses = re.findall(r'<p class="dose">(.*?)</p>', html)
    assert steps and len(doses) == len(steps)
    return steps, doses


def today_doses(client) -> list[str]:
    html = client.get("/today").get_data(as_text=True)
    return re.findall(r'<span class="exercise-dose">(.*?)</span>', html)


def api_items(client) -> dict[int, dict]:
    return {item["id"]: item for item in client.get("/api/v1/me/today").get_json()["items"]}


def test_after_a_red_session_the_less_volume_hold_keeps_its_seconds_in_the_timer(client, patient):
    program = patient.program
    brace = program.items[1]  # abdominal brace 10 × 10 s, no easier variant in the library
    assert (brace.reps, brace.hold_seconds) == (10, 10)

    red_session(patient, utcnow() - timedelta(minutes=1), item_index=1)

    steps, doses = player_steps(client, program.id)
    # CLINICAL §7 less volume: 10 × 0.6 = 6 holds, each still 10 s (repetitions, not hold time).
    assert steps[brace.id]["reps"] == "6"
    assert steps[brace.id]["hold"] == "10"
    assert api_items(client)[brace.id]["reps"] == 6
    assert api_items(client)[brace.id]["hold_seconds"] == 10
    assert doses[program.items.index(brace)] == "6 reps · 10 s hold"
    # One dose: /today lists exactly what the player shows and times.
    assert today_doses(client) == doses


def test_after_a_red_session_the_easier_variants_hold_seconds_drive_the_timer(
    client, make_patient, login
):
    # Stage 3: the side plank from the feet, whose easier variant is the side bridge from the
    # knees (5-3-1 × 10 s); the therapist has prescribed 20 s holds on the side plank.
    bundle = make_patient(stage=3, start_days_ago=10, sessions_per_week=7, intake_pain=BASELINE)
    login(bundle.user)
    program = bundle.program
    plank = next(i for i in program.items if i.exercise.slug == "side-plank-from-feet")
    easier = plank.exercise.easier
    assert easier is not None and easier.slug == "side-bridge-from-knees"
    assert (easier.reps_per_set, easier.hold_seconds) == ([5, 3, 1], 10)
    update_item_dosage(plank, {"hold_seconds": 20}, by=bundle.therapist, now=utcnow())
    db.session.commit()

    before, usual_doses = player_steps(client, program.id)
    assert before[plank.id]["hold"] == "20"  # as prescribed, before any RED session
    assert today_doses(client) == usual_doses

    red_session(bundle, utcnow() - timedelta(minutes=1), item_index=program.items.index(plank))

    steps, doses = player_steps(client, program.id)
    # CLINICAL §7: the painful item is swapped for its easier variant, at the variant's own dose;
    # the timer counts the variant's 10 s holds, not the prescription's 20 s.
    assert steps[plank.id]["hold"] == "10"
    assert steps[plank.id]["rps"] == "5,3,1"
    item = api_items(client)[plank.id]
    assert item["hold_seconds"] == 10
    assert item["exercise"]["slug"] == "side-bridge-from-knees"
    # The items that did not hurt keep their prescription (CLINICAL §7).
    assert {k: v for k, v in steps.items() if k != plank.id} == {
        k: v for k, v in before.items() if k != plank.id
    }
    assert doses[program.items.index(plank)] == "3 sets of 5, 3, 1 · 10 s hold · each side"
    assert doses != usual_doses
    # One dose: /today lists exactly what the player shows and times.
    assert today_doses(client) == doses
