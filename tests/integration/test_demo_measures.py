"""The demo clinic has outcome measures in its histories (issue 13)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.auth.models import Clinic
from app.db import utcnow
from app.demo import DEMO_CLINIC, seed_demo
from app.extensions import db
from app.measures.report_data import clinic_outcomes
from app.patient.models import OutcomeResponse


def test_the_demo_histories_hold_intake_and_follow_up_measures():
    now = utcnow()
    result = seed_demo(now)
    db.session.commit()

    by_instrument = dict(
        db.session.execute(
            sa.select(OutcomeResponse.instrument, sa.func.count()).group_by(
                OutcomeResponse.instrument
            )
        ).all()
    )
    assert result.measures == sum(by_instrument.values())
    assert {"nprs", "psfs", "start-back"} <= set(by_instrument)
    assert by_instrument["psfs"] > by_instrument["nprs"]  # followed up at weeks 3, 6, 12
    clinic = db.session.scalar(sa.select(Clinic).where(Clinic.name == DEMO_CLINIC))
    report = clinic_outcomes(clinic, (now - timedelta(days=29)).date(), now.date(), now).report
    assert report.clinic.function_measured >= 8
    assert 0 < report.clinic.function_mic_met < report.clinic.function_measured
