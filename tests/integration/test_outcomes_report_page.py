"""The clinic outcomes report, checked against a fixture clinic computed by hand (issue 13)."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta
from fractions import Fraction

import pytest

from app.alerts.services import acknowledge_alert
from app.db import utcnow
from app.enums import AlertKind, Role
from app.extensions import db
from app.measures.report_data import clinic_outcomes
from app.measures.services import MeasureReport, submit_measure
from app.timeutil import at_local
from tests.conftest import insert_history

DAYS = 30  # program days 1–30, today is day 30


def psfs(bundle, day: int, values, labels=("Lifting", "Gardening", "Sitting")) -> None:
    at = at_local(
        bundle.program.start_date + timedelta(days=day - 1), 12, 0, bundle.patient.timezone
    )
    submit_measure(
        bundle.patient,
        MeasureReport(
            id=str(uuid.uuid4()),
            instrument="psfs",
            completed_at=at,
            answers=[
                {"item": str(n), "value": v, "label": label}
                for n, (v, label) in enumerate(zip(values, labels, strict=True), start=1)
            ],
        ),
        by=bundle.user,
        now=at + timedelta(minutes=1),
    )
    db.session.commit()


@pytest.fixture
def clinic(make_user, make_patient, make_alert):
    """Two therapists, three patients; every number below is worked out by hand.

    - P1 (therapist A): PSFS 3 → 16/3 (+7/3, meets the MIC); pain 6 on days 1–7, then 3
      (baseline 6, current 3: −3, improved).
    - P2 (therapist A): PSFS 4 → 5 (+1, does not); pain 5 throughout (0, not improved).
    - P3 (therapist B): one PSFS only (not measured); pain 8, then 7 (−1: below 2 points and
      below 30 % of 8, not improved).
    - Everyone did a session every day: adherence_14d = 1.
    - LOW_ADHERENCE alerts: P1 acknowledged after 2 h, P2 after 6 h, P3 not yet: 3 raised,
      2 acted on, median 4 h.
    """
    a = make_user(Role.THERAPIST, name="Ann Therapist")
    b = make_user(Role.THERAPIST, clinic=a.clinic, name="Bob Therapist")
    admin = make_user(Role.ADMIN, clinic=a.clinic)
    made = {}
    for name, therapist, early, late in (("p1", a, 6, 3), ("p2", a, 5, 5), ("p3", b, 8, 7)):
        bundle = make_patient(
            therapist=therapist, start_days_ago=DAYS - 1, sessions_per_week=7, name=name
        )
        made[name] = (bundle, early, late)
    p1, p2, p3 = (made[n][0] for n in ("p1", "p2", "p3"))
    psfs(p1, 1, [3, 3, 3])
    psfs(p1, 21, [5, 6, 5])
    psfs(p2, 1, [4, 4, 4])
    psfs(p2, 21, [5, 5, 5])
    psfs(p3, 1, [2, 2, 2])
    for bundle, early, late in made.values():
        insert_history(bundle, range(7), pain=early)
        insert_history(bundle, range(7, DAYS), pain=late)
    now = utcnow()
    for bundle, hours_ago, acted_after in ((p1, 10, 2), (p2, 20, 6), (p3, 5, None)):
        alert = make_alert(
            bundle, AlertKind.LOW_ADHERENCE, created_at=now - timedelta(hours=hours_ago)
        )
        if acted_after is not None:
            acknowledge_alert(
                alert, by=bundle.therapist, now=alert.created_at + timedelta(hours=acted_after)
            )
    db.session.commit()
    return {"admin": admin, "a": a, "b": b, **{n: m[0] for n, m in made.items()}}


def test_the_report_matches_the_hand_computed_clinic(clinic):
    today = utcnow().date()
    page = clinic_outcomes(clinic["admin"].clinic, today - timedelta(days=29), today, utcnow())
    report = page.report
    s = report.clinic

    assert s.episodes == 3
    assert (s.function_measured, s.function_mic_met) == (2, 1)
    assert s.function_mic_share == Fraction(1, 2)
    assert s.pain_measured == 3
    assert s.median_pain_change == -1  # of −3, 0, −1
    assert (s.pain_improved, s.pain_improved_share) == (1, Fraction(1, 3))
    assert s.median_adherence == 1
    low = next(k for k in s.alerts if k.kind == "LOW_ADHERENCE")
    assert (low.raised, low.actioned, low.median_hours_to_action) == (3, 2, 4)

    ann = report.by_therapist[clinic["a"].id]
    bob = report.by_therapist[clinic["b"].id]
    assert (ann.episodes, ann.function_measured, ann.function_mic_met) == (2, 2, 1)
    assert ann.median_pain_change == Fraction(-3, 2)  # of −3 and 0
    assert (bob.episodes, bob.function_measured, bob.function_mic_share) == (1, 0, None)
    assert bob.median_pain_change == -1


def test_the_page_shows_the_numbers_and_filters_by_therapist(clinic, login):
    c = login(clinic["admin"])

    whole = c.get("/admin/outcomes").get_data(as_text=True)
    ann = c.get(f"/admin/outcomes?therapist={clinic['a'].id}").get_data(as_text=True)

    assert "50 %" in whole and "1 of 2 with two or more PSFS" in whole
    assert "33 %" in whole  # pain improved 1 of 3
    assert "Ann Therapist" in whole and "Bob Therapist" in whole
    assert "Whole clinic" in whole
    assert "Bob Therapist</h2>" not in ann and "Ann Therapist</h2>" in ann


def test_a_period_before_the_episodes_has_none(clinic, login):
    c = login(clinic["admin"])
    long_ago = (utcnow() - timedelta(days=400)).date()

    page = c.get(f"/admin/outcomes?start={long_ago}&end={long_ago + timedelta(days=30)}")

    assert page.status_code == 200
    assert '<td data-stat="episodes">0</td>' in page.get_data(as_text=True)


def test_the_csv_export_has_the_numbers_and_neutralises_formulas(clinic, login):
    clinic["a"].name = "=HYPERLINK(evil)"
    db.session.commit()
    c = login(clinic["admin"])

    response = c.get("/admin/outcomes.csv")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    clinic_row = next(r for r in rows if r["group"] == "Clinic" and not r["alert_kind"])
    assert clinic_row["psfs_mic_met_percent"] == "50.0"
    assert clinic_row["median_pain_change"] == "-1.00"  # a number, not quoted as text
    assert clinic_row["pain_improved_percent"] == "33.3"
    low = next(r for r in rows if r["group"] == "Clinic" and r["alert_kind"] == "LOW_ADHERENCE")
    assert (low["alerts_raised"], low["median_hours_to_first_action"]) == ("3", "4.0")
    assert any(r["group"] == "'=HYPERLINK(evil)" for r in rows)


def test_only_admins_open_the_report(clinic, login):
    c = login(clinic["a"])

    assert c.get("/admin/outcomes").status_code == 403
    assert c.get("/admin/outcomes.csv").status_code == 403
