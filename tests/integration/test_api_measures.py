"""Outcome measures through the JSON API (DESIGN §4 "Outcome measures", CLINICAL §8)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.db import utcnow
from app.enums import Role
from app.extensions import db
from app.patient.models import MeasureRequest, OutcomeResponse
from app.timeutil import at_local

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # a Monday; London is on UTC in March


def count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def psfs(values, labels=("Lifting my child", "Gardening", "Sitting through a film"), **changes):
    body = {
        "id": str(uuid.uuid4()),
        "instrument": "psfs",
        "completed_at": (utcnow() - timedelta(minutes=1)).isoformat(),
        "answers": [
            {"item": str(number), "value": value, "label": label}
            for number, (value, label) in enumerate(zip(values, labels, strict=True), start=1)
        ],
    }
    body.update(changes)
    return body


def start_back(agree: int, distress: int, bother: str = "slightly") -> dict:
    """STarT Back answers: items 1–4 agree ``agree`` times, items 5–8 ``distress`` times."""
    answers = [
        {"item": str(n), "value": "agree" if n <= agree else "disagree"} for n in range(1, 5)
    ]
    answers += [
        {"item": str(n), "value": "agree" if n - 4 <= distress else "disagree"} for n in range(5, 9)
    ]
    answers.append({"item": "9", "value": bother})
    return {
        "id": str(uuid.uuid4()),
        "instrument": "start-back",
        "completed_at": (utcnow() - timedelta(minutes=1)).isoformat(),
        "answers": answers,
    }


@pytest.fixture
def now(time_machine) -> datetime:  # type: ignore[no-untyped-def]
    """Freeze the clock at START: the factories' patients start their program that day."""
    time_machine.move_to(START, tick=False)
    return utcnow()


@pytest.fixture
def login(app, login):  # type: ignore[no-untyped-def]
    """Log in with a fresh cookie jar each time (one browser per person)."""
    return lambda user: login(user, test_client=app.test_client())


@pytest.fixture
def patient(make_patient):
    return make_patient(start_days_ago=0)


def test_the_instruments_list_nprs_psfs_and_start_back_with_their_licences(login, patient):
    c = login(patient.user)

    found = {i["slug"]: i for i in c.get("/api/v1/instruments").get_json()["instruments"]}

    assert {"nprs", "psfs", "start-back"} <= set(found)
    assert "Keele University" in found["start-back"]["licence"]
    assert [item["id"] for item in found["start-back"]["items"]] == [str(n) for n in range(1, 10)]
    assert found["psfs"]["patient_named"]["min_items"] == 3


def test_intake_measures_are_due_on_program_day_one_and_leave_the_list_once_done(login, patient):
    c = login(patient.user)

    due = c.get("/api/v1/me/measures").get_json()["due"]
    assert {d["instrument"] for d in due} == {"nprs", "psfs", "start-back"}
    assert {d["reason"] for d in due} == {"intake"}

    assert c.post("/api/v1/measures", json=psfs([3, 4, 2])).status_code == 201
    due = c.get("/api/v1/me/measures").get_json()["due"]
    assert {d["instrument"] for d in due} == {"nprs", "start-back"}


def test_a_response_is_stored_once_replayed_as_200_and_a_reused_id_is_409(login, patient):
    c = login(patient.user)
    body = psfs([3, 4, 2])

    created = c.post("/api/v1/measures", json=body)
    replayed = c.post("/api/v1/measures", json=dict(reversed(list(body.items()))))
    conflict = c.post("/api/v1/measures", json={**body, "answers": psfs([9, 9, 9])["answers"]})

    assert created.status_code == 201, created.get_json()
    assert created.get_json()["score"] == 3.0
    assert created.get_json()["score_exact"] == "3"
    assert replayed.status_code == 200
    assert replayed.get_json() == created.get_json()
    assert conflict.status_code == 409
    assert conflict.mimetype == "application/problem+json"
    assert count(OutcomeResponse) == 1


def test_start_back_answers_come_back_scored_with_the_distress_subscale_and_band(login, patient):
    c = login(patient.user)

    answer = c.post("/api/v1/measures", json=start_back(3, 4, "very much")).get_json()

    assert answer["score"] == 8.0  # 3 + 4 + 1
    assert answer["subscores"] == {"distress": 5.0}
    assert answer["interpretation"]["band"] == "high"
    assert "psychological" in answer["interpretation"]["text"]
    assert answer["change"] is None and answer["mic_met"] is None


def test_each_bad_answer_is_named_and_nothing_is_stored(login, patient):
    c = login(patient.user)
    body = psfs([11, 4, 2])
    body["answers"][1]["value"] = "lots"
    body["answers"][2]["label"] = ""

    response = c.post("/api/v1/measures", json=body)

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    fields = {error["field"]: error["message"] for error in response.get_json()["errors"]}
    assert {"answers[0].value", "answers[1].value", "answers[2].label"} <= set(fields)
    assert "0 to 10" in fields["answers[0].value"]
    assert count(OutcomeResponse) == 0


def test_an_unknown_instrument_and_a_time_before_the_episode_are_422(login, patient):
    c = login(patient.user)
    early = (utcnow() - timedelta(days=3)).isoformat()

    unknown = c.post("/api/v1/measures", json={**psfs([1, 2, 3]), "instrument": "odi"})
    before = c.post("/api/v1/measures", json=psfs([1, 2, 3], completed_at=early))

    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.get_json()["errors"]] == ["instrument"]
    assert before.status_code == 422
    assert "completed_at" in {e["field"] for e in before.get_json()["errors"]}
    assert count(OutcomeResponse) == 0


def test_change_and_mic_met_compare_with_the_first_of_the_episode(
    login, make_patient, time_machine
):
    bundle = make_patient(start_days_ago=0)
    tz = bundle.patient.timezone
    start = bundle.program.start_date

    def send(day: int, values) -> dict:
        at = at_local(start + timedelta(days=day - 1), 18, 0, tz)
        time_machine.move_to(at + timedelta(minutes=5), tick=False)
        c = login(bundle.user)  # a login expires when the clock jumps weeks
        response = c.post("/api/v1/measures", json=psfs(values, completed_at=at.isoformat()))
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    first = send(1, [3, 3, 3])
    week3 = send(21, [4, 4, 4])  # +1 against the first: below the MIC of 2
    week6 = send(42, [5, 6, 5])  # 16/3: +7/3 against the first (not +4/3 against week 3)

    assert (first["change"], first["mic_met"]) == (None, None)
    assert (week3["change_exact"], week3["mic_met"]) == ("1", False)
    assert (week6["change_exact"], week6["mic_met"]) == ("7/3", True)
    assert week6["change"] == 2.33

    therapist = login(bundle.therapist)
    listed = therapist.get(f"/api/v1/patients/{bundle.patient.id}/measures").get_json()
    assert "measures" in listed, listed
    assert [m["change_exact"] for m in listed["measures"]] == [None, "1", "7/3"]
    assert [m["mic_met"] for m in listed["measures"]] == [None, False, True]


def test_psfs_re_rates_the_activities_named_the_first_time(login, patient):
    c = login(patient.user)
    assert c.post("/api/v1/measures", json=psfs([3, 4, 2])).status_code == 201

    due = c.get("/api/v1/me/measures").get_json()["due"]
    other = c.post(
        "/api/v1/measures", json=psfs([5, 5, 5], labels=("Running", "Gardening", "Cycling"))
    )
    same = c.post("/api/v1/measures", json=psfs([5, 5, 5]))

    assert other.status_code == 422
    fields = {e["field"] for e in other.get_json()["errors"]}
    assert {"answers[0].label", "answers[2].label"} <= fields
    assert same.status_code == 201
    assert due == [d for d in due if d["instrument"] != "psfs"]


def test_the_therapist_can_ask_for_a_measure_now_and_enter_one_in_clinic(login, patient):
    c = login(patient.user)
    assert c.post("/api/v1/measures", json=psfs([3, 4, 2])).status_code == 201
    therapist = login(patient.therapist)

    asked = therapist.post(
        f"/api/v1/patients/{patient.patient.id}/measure-requests", json={"instrument": "psfs"}
    )
    assert asked.status_code == 201
    assert asked.get_json()["reason"] == "requested by your therapist"
    assert [a["label"] for a in asked.get_json()["activities"]] == [
        "Lifting my child",
        "Gardening",
        "Sitting through a film",
    ]
    patient_view = login(patient.user)
    due = {d["instrument"]: d for d in patient_view.get("/api/v1/me/measures").get_json()["due"]}
    assert due["psfs"]["reason"] == "requested by your therapist"

    therapist = login(patient.therapist)
    entered = therapist.post(
        f"/api/v1/patients/{patient.patient.id}/measures",
        json=psfs([6, 6, 6], completed_at=utcnow().isoformat()),  # after the request
    )
    assert entered.status_code == 201, entered.get_json()
    assert entered.get_json()["in_clinic"] is True
    assert entered.get_json()["mic_met"] is True
    patient_view = login(patient.user)
    due = {d["instrument"] for d in patient_view.get("/api/v1/me/measures").get_json()["due"]}
    assert "psfs" not in due
    assert count(MeasureRequest) == 1


def test_another_clinic_gets_404_and_stores_nothing(login, patient, make_user):
    c = login(patient.user)
    assert c.post("/api/v1/measures", json=psfs([3, 4, 2])).status_code == 201
    outsider = login(make_user(Role.THERAPIST))
    path = f"/api/v1/patients/{patient.patient.id}/measures"

    read = outsider.get(path)
    entered = outsider.post(path, json=psfs([6, 6, 6]))
    asked = outsider.post(
        f"/api/v1/patients/{patient.patient.id}/measure-requests", json={"instrument": "psfs"}
    )
    huge = outsider.get("/api/v1/patients/99999999999/measures")

    for response in (read, entered, asked, huge):
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
        assert "Lifting" not in response.get_data(as_text=True)
    assert count(OutcomeResponse) == 1
    assert count(MeasureRequest) == 0


def test_a_patient_cannot_use_the_clinicians_measure_routes(login, patient):
    c = login(patient.user)

    response = c.get(f"/api/v1/patients/{patient.patient.id}/measures")

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("day", "before", "expected"),
    [
        (1, None, {"nprs": "intake", "psfs": "intake", "start-back": "intake"}),
        (21, {}, {"psfs": "week 3"}),
        # A missed week-3 PSFS stays due until the week-6 point supersedes it.
        (42, {"psfs": "week 3"}, {"psfs": "week 6"}),
    ],
)
def test_due_measures_follow_the_program_days_on_a_moved_clock(
    login, make_patient, time_machine, day, before, expected
):
    bundle = make_patient(start_days_ago=0)
    start = bundle.program.start_date
    tz = bundle.patient.timezone
    if day > 1:
        # The intake questionnaires were done on day 1.
        time_machine.move_to(at_local(start, 12, 0, tz), tick=False)
        c = login(bundle.user)
        c.post("/api/v1/measures", json=psfs([3, 3, 3]))
        c.post("/api/v1/measures", json=start_back(1, 1))
        c.post(
            "/api/v1/measures",
            json={
                "id": str(uuid.uuid4()),
                "instrument": "nprs",
                "completed_at": at_local(start, 11, 0, tz).isoformat(),
                "answers": [{"item": "1", "value": 6}],
            },
        )
        assert count(OutcomeResponse) == 3
    # The day before the point it is not due yet; on the day it is.
    if before is not None:
        time_machine.move_to(at_local(start + timedelta(days=day - 2), 12, 0, tz), tick=False)
        c = login(bundle.user)
        due = c.get("/api/v1/me/measures").get_json()["due"]
        assert {d["instrument"]: d["reason"] for d in due} == before
    time_machine.move_to(at_local(start + timedelta(days=day - 1), 12, 0, tz), tick=False)
    c = login(bundle.user)

    due = c.get("/api/v1/me/measures").get_json()["due"]

    assert {d["instrument"]: d["reason"] for d in due} == expected


def test_a_licensed_instrument_added_as_a_file_is_offered_and_scored(app, login, patient):
    from pathlib import Path

    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "instruments"
    app.config["INSTRUMENTS_DIR"] = str(fixtures)
    try:
        c = login(patient.user)
        slugs = {i["slug"] for i in c.get("/api/v1/instruments").get_json()["instruments"]}
        body = {
            "id": str(uuid.uuid4()),
            "instrument": "odi",
            "completed_at": (utcnow() - timedelta(minutes=1)).isoformat(),
            # Sections 1–9 answered 2 of 5, section 10 skipped: 18 / 45 × 100 = 40.
            "answers": [{"item": str(n), "value": "2"} for n in range(1, 10)],
        }
        answer = c.post("/api/v1/measures", json=body)
        page = c.get("/measures?instrument=odi")
        # The plain form sends the option keys "0"–"5" as they are (not as numbers).
        form = {"id": str(uuid.uuid4()), "instrument": "odi"}
        form |= {f"a-{n}": "1" for n in range(1, 11)}
        sent = c.post("/measures", data=form)
    finally:
        app.config.pop("INSTRUMENTS_DIR")

    assert "odi" in slugs
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["score_exact"] == "40"
    assert page.status_code == 200
    assert sent.status_code == 200, sent.get_data(as_text=True)[-800:]
    assert "Thank you" in sent.get_data(as_text=True)


def test_a_clinic_that_switches_start_back_off_is_never_asked_for_it(app, login, patient):
    app.config["DISABLED_INSTRUMENTS"] = ("start-back", "psfs")  # PSFS cannot be switched off
    try:
        c = login(patient.user)
        slugs = {i["slug"] for i in c.get("/api/v1/instruments").get_json()["instruments"]}
        due = {d["instrument"] for d in c.get("/api/v1/me/measures").get_json()["due"]}
        refused = c.post("/api/v1/measures", json=start_back(1, 1))
    finally:
        app.config.pop("DISABLED_INSTRUMENTS")

    assert slugs == {"nprs", "psfs"}
    assert due == {"nprs", "psfs"}
    assert refused.status_code == 422
