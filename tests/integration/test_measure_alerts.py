"""A function gain on the PSFS turns NON_RESPONSE_6W from high to medium (CLINICAL §5, §8)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.alerts.engine import evaluate_patients
from app.alerts.models import Alert
from app.db import utcnow
from app.enums import AlertKind, Severity
from app.extensions import db
from app.measures.services import MeasureReport, submit_measure
from app.timeutil import at_local
from tests.conftest import insert_history

DAYS = 45  # program days 1–45: past the six-week point, flat resting pain of 6


def psfs(bundle, day: int, values) -> None:
    """Store a PSFS the patient completed at noon on program ``day``."""
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
                for n, (v, label) in enumerate(
                    zip(values, ("Lifting", "Gardening", "Sitting"), strict=True), start=1
                )
            ],
        ),
        by=bundle.user,
        now=at + timedelta(minutes=1),
    )
    db.session.commit()


def non_response(bundle) -> Alert | None:
    evaluate_patients([bundle.patient.id], utcnow())
    db.session.commit()
    return db.session.scalar(
        sa.select(Alert).where(
            Alert.patient_id == bundle.patient.id, Alert.kind == AlertKind.NON_RESPONSE_6W
        )
    )


@pytest.fixture
def flat(make_patient):
    """A fully adherent patient, resting pain 6 every day for 45 days."""

    def make():
        bundle = make_patient(start_days_ago=DAYS - 1, sessions_per_week=7, intake_pain=6)
        insert_history(bundle, range(DAYS), pain=6)
        return bundle

    return make


def test_the_flat_trajectory_without_a_function_gain_raises_non_response_high(flat):
    bundle = flat()
    psfs(bundle, 1, [3, 3, 3])
    psfs(bundle, 42, [4, 3, 3])  # +1/3: below the PSFS minimal important change of 2

    alert = non_response(bundle)

    assert alert is not None
    assert alert.severity is Severity.HIGH
    assert alert.evidence["function_improved"] is False
    assert alert.evidence["function"]["change"] == "1/3"
    assert "PSFS 3 → 3.3" in alert.reason


def test_the_same_trajectory_with_a_psfs_gain_of_two_raises_it_medium_with_the_numbers(flat):
    bundle = flat()
    psfs(bundle, 1, [3, 3, 3])
    psfs(bundle, 42, [5, 5, 5])  # +2: the minimal important change exactly

    alert = non_response(bundle)

    assert alert is not None
    assert alert.severity is Severity.MEDIUM
    function = alert.evidence["function"]
    assert alert.evidence["function_improved"] is True
    assert (function["instrument"], function["first"], function["latest"]) == ("psfs", "3", "5")
    assert (function["change"], function["mic"], function["mic_met"]) == ("2", "2", True)
    assert function["count"] == 2
    assert "PSFS 3 → 5 (+2, reaches its minimal important change of 2)" in alert.reason


def test_a_psfs_gain_recorded_later_lowers_the_open_alert_at_once(flat):
    bundle = flat()
    psfs(bundle, 1, [3, 3, 3])
    assert non_response(bundle).severity is Severity.HIGH

    psfs(bundle, 44, [6, 5, 5])  # +7/3

    alert = db.session.scalar(sa.select(Alert).where(Alert.kind == AlertKind.NON_RESPONSE_6W))
    assert alert.evidence["function"]["change"] == "7/3"
    assert alert.evidence["function_improved"] is True


def test_the_referral_summary_carries_the_function_trend_and_the_start_back_band(flat, login):
    from app.alerts.models import Referral
    from app.alerts.services import ReferralData, resolve_alert

    bundle = flat()
    psfs(bundle, 1, [3, 3, 3])
    psfs(bundle, 42, [5, 5, 5])
    at = utcnow() - timedelta(hours=1)
    submit_measure(
        bundle.patient,
        MeasureReport(
            id=str(uuid.uuid4()),
            instrument="start-back",
            completed_at=at,
            answers=[{"item": str(n), "value": "agree"} for n in range(1, 9)]
            + [{"item": "9", "value": "extremely"}],
        ),
        by=bundle.user,
        now=at,
    )
    alert = non_response(bundle)
    resolve_alert(
        alert,
        "referred",
        "",
        by=bundle.therapist,
        now=utcnow(),
        referral=ReferralData("Pain clinic", "No response at six weeks"),
    )
    db.session.commit()
    referral = db.session.scalar(sa.select(Referral))

    measures = referral.summary["measures"]
    assert measures["function"]["change"] == "2" and measures["function"]["mic_met"] is True
    assert measures["start_back"]["band"] == "high"
    page = login(bundle.therapist).get(f"/alerts/referrals/{referral.id}")
    html = page.get_data(as_text=True)
    assert "consider combined physical and psychological care" in html
    assert "Function (PSFS, 0–10, higher is better): 3 on" in html
