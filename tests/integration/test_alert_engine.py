"""The alert engine against the database: histories replayed through the services.

CLINICAL §5 (one open alert per patient and kind, rearm, supersede, red flags exempt from rearm,
"condition cleared since", snooze), §6 (a red-flag yes acts at once) and issue 5 "Acceptance"
(integration). Every history is replayed through `log_session` and `record_check_in` with an
explicit `now` per event, exactly as the demo seed and offline phones do, so the alerts come from
the same path as in production (the services call `evaluate_patients` after storing).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.alerts.engine import evaluate_patients, sweep
from app.alerts.models import Alert
from app.alerts.services import resolve_alert
from app.assessment import assess_patient
from app.db import sqlite_immediate
from app.enums import (
    AlertKind,
    AlertStatus,
    CheckInKind,
    ProgramStatus,
    RedFlagLevel,
    Severity,
)
from app.extensions import db
from app.patient.check_ins import CheckInReport, record_check_in
from app.patient.models import CheckIn, RedFlagAnswer
from app.patient.sessions import SessionReport, log_session
from app.programs.models import Program
from app.timeutil import at_local, local_date
from tests.conftest import PatientBundle, insert_history
from tests.conftest import session_report as make_session_report

# Friday 20 February 2026, 19:00 in London (UTC in winter): after the day's 18:00 session.
NOW = datetime(2026, 2, 20, 19, 0, tzinfo=UTC)
IDS = uuid.UUID("6f1c8d0e-2a9b-4c1e-9d3f-5b7a1e0c4d21")
OPEN = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.SNOOZED)


@pytest.fixture
def now() -> datetime:
    """Every factory in this module works on the fixed clock above."""
    return NOW


# ---------------------------------------------------------------------------- history helpers


def session_report(bundle: PatientBundle, day: date, pain: int) -> SessionReport:
    """A full-adherence session (every item done) with resting pain `pain`, at 18:00 local."""
    return make_session_report(
        bundle.program,
        completed_at=at_local(day, 18, 0, bundle.patient.timezone),
        pain_before=pain,
        pain_after=pain,
        client_id=str(uuid.uuid5(IDS, f"{bundle.patient.id}:{day}:session")),
    )


def check_in_report(
    bundle: PatientBundle,
    day: date,
    pain: int | None,
    *,
    hour: int = 8,
    red_flags: dict[str, bool] | None = None,
    tag: str = "morning",
) -> CheckInReport:
    return CheckInReport(
        id=str(uuid.uuid5(IDS, f"{bundle.patient.id}:{day}:{tag}")),
        recorded_at=at_local(day, hour, 0, bundle.patient.timezone),
        morning_pain=pain,
        red_flags=red_flags or {},
    )


def replay(bundle: PatientBundle, days: Iterable[int], pain: int | Callable[[int], int]) -> None:
    """For each day offset k of the program: a morning check-in at 08:00 and a session at 18:00.

    Day offset 0 is program day 1. Each report is stored with `now` one minute after it was
    made, so the engine evaluates the history as it happened.
    """
    start = bundle.program.start_date
    for k in days:
        day = start + timedelta(days=k)
        value = pain(k) if callable(pain) else pain
        check_in = check_in_report(bundle, day, value)
        record_check_in(bundle.patient, check_in, now=check_in.recorded_at + timedelta(minutes=1))
        report = session_report(bundle, day, value)
        log_session(bundle.patient, report, now=report.completed_at + timedelta(minutes=1))
        db.session.commit()


def replay_again(bundle: PatientBundle, days: Iterable[int], pain: int, now: datetime) -> None:
    """Send the same reports again (same client UUIDs), as an offline phone retrying does."""
    start = bundle.program.start_date
    for k in days:
        day = start + timedelta(days=k)
        assert (
            record_check_in(bundle.patient, check_in_report(bundle, day, pain), now=now).created
            is False
        )
        assert (
            log_session(bundle.patient, session_report(bundle, day, pain), now=now).created is False
        )
    db.session.commit()


def alerts(patient_id: int, kind: AlertKind | None = None) -> list[Alert]:
    query = sa.select(Alert).where(Alert.patient_id == patient_id).order_by(Alert.id)
    if kind is not None:
        query = query.where(Alert.kind == kind)
    return list(db.session.scalars(query.execution_options(populate_existing=True)))


def open_alerts(patient_id: int, kind: AlertKind) -> list[Alert]:
    return [a for a in alerts(patient_id, kind) if a.status in OPEN]


def at_day(bundle: PatientBundle, k: int, hour: int, minute: int = 0) -> datetime:
    return at_local(
        bundle.program.start_date + timedelta(days=k), hour, minute, bundle.patient.timezone
    )


@pytest.fixture
def patient_for(make_patient) -> Callable[..., PatientBundle]:
    """A patient on the built-in routine every day, started `days` before NOW (offset 0)."""

    def make(days: int, *, intake_pain: int = 6, **kwargs) -> PatientBundle:
        return make_patient(
            start_days_ago=days, sessions_per_week=7, intake_pain=intake_pain, **kwargs
        )

    return make


# ---------------------------------------------------------------------------- persistent pain


def test_three_weeks_of_full_adherence_with_flat_pain_give_exactly_one_persistent_pain_alert(
    patient_for,
):
    bundle = patient_for(24)
    assert bundle.program.start_date == NOW.date() - timedelta(days=24)

    replay(bundle, range(25), 6)

    [alert] = alerts(bundle.patient.id, AlertKind.PERSISTENT_PAIN)
    assert alert.status is AlertStatus.OPEN
    assert alert.severity is Severity.MEDIUM
    e = alert.evidence
    assert e["baseline"] == "6"
    assert e["current"] == "6"
    assert str(e["adherence"]) == "1"
    assert e["program_day"] == 25
    assert e["readings_used"] == 14  # 7 days × (morning check-in + session)
    assert e["pain_status"] == "no_change"
    assert "6.0 → 6.0" in alert.reason
    assert "100 %" in alert.reason
    assert "25 days" in alert.reason
    assert alert.session_ids  # the sessions of the last 7 days, for the links
    # It fired on program day 21 (offset 20), the first day the rule allows; refreshed since.
    assert local_date(alert.created_at, "Europe/London") == bundle.program.start_date + timedelta(
        days=20
    )
    assert alert.updated_at > alert.created_at
    # Nothing else fires for a flat, fully adherent history.
    assert {a.kind for a in alerts(bundle.patient.id)} == {AlertKind.PERSISTENT_PAIN}


def test_more_sweeps_and_replayed_reports_keep_a_single_persistent_pain_alert(patient_for):
    bundle = patient_for(24)
    replay(bundle, range(25), 6)
    [first] = alerts(bundle.patient.id, AlertKind.PERSISTENT_PAIN)

    for minutes in (1, 2, 3):
        evaluate_patients([bundle.patient.id], NOW + timedelta(minutes=minutes))
        db.session.commit()
    for minutes in (4, 5):
        sweep(NOW + timedelta(minutes=minutes))
    replay_again(bundle, range(18, 25), 6, NOW + timedelta(minutes=10))
    sweep(NOW + timedelta(minutes=11))

    rows = alerts(bundle.patient.id, AlertKind.PERSISTENT_PAIN)
    assert [(a.id, a.status) for a in rows] == [(first.id, AlertStatus.OPEN)]
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Alert)
            .where(Alert.patient_id == bundle.patient.id)
        )
        == 1
    )


# ---------------------------------------------------------------------------- non-response


def test_at_six_weeks_non_response_supersedes_the_open_persistent_pain_alert(patient_for):
    bundle = patient_for(42)

    replay(bundle, range(43), 6)

    [persistent] = alerts(bundle.patient.id, AlertKind.PERSISTENT_PAIN)
    [non_response] = alerts(bundle.patient.id, AlertKind.NON_RESPONSE_6W)
    assert non_response.status is AlertStatus.OPEN
    assert non_response.severity is Severity.HIGH
    assert non_response.evidence["program_day"] == 43
    assert non_response.evidence["current"] == "6"
    assert non_response.evidence["supersedes"] == "PERSISTENT_PAIN"
    # Program day 42 (offset 41) is the first day the rule allows.
    start = bundle.program.start_date
    assert local_date(non_response.created_at, "Europe/London") == start + timedelta(days=41)
    assert persistent.status is AlertStatus.SUPERSEDED
    assert persistent.superseded_by_id == non_response.id
    assert persistent.resolved_at == non_response.created_at
    # The superseded one is not raised again by the evaluations after it.
    assert [a.kind for a in alerts(bundle.patient.id) if a.status in OPEN] == [
        AlertKind.NON_RESPONSE_6W
    ]


# ---------------------------------------------------------------------------- red flags


def test_a_red_flag_yes_raises_an_emergency_alert_at_once_and_suspends_the_program(patient_for):
    bundle = patient_for(3)
    replay(bundle, range(3), 4)
    answers = {f"RF{n}": n == 2 for n in range(1, 9)}
    report = check_in_report(
        bundle, NOW.date(), 4, hour=9, red_flags={**answers, "RF10": False, "RF11": False}
    )

    result = record_check_in(bundle.patient, report, now=report.recorded_at)
    db.session.commit()  # no sweep, no explicit evaluation

    assert result.instruction.level.value == "emergency"
    [alert] = alerts(bundle.patient.id, AlertKind.RED_FLAG_EMERGENCY)
    assert alert.status is AlertStatus.OPEN
    assert alert.severity is Severity.URGENT
    assert alert.check_in_ids == [result.check_in.id]
    assert alert.evidence["answers"] == ["RF2"]
    assert "RF2" in alert.reason
    assert alert.created_at == report.recorded_at
    program = db.session.get(Program, bundle.program.id, populate_existing=True)
    assert program.status is ProgramStatus.SUSPENDED


def test_red_flags_are_exempt_from_rearm_but_one_answer_is_alerted_on_only_once(
    patient_for, make_user
):
    bundle = patient_for(3)
    today = NOW.date()
    first = check_in_report(bundle, today, None, hour=9, red_flags={"RF1": True}, tag="rf-1")
    record_check_in(bundle.patient, first, now=first.recorded_at)
    db.session.commit()
    [raised] = alerts(bundle.patient.id, AlertKind.RED_FLAG_EMERGENCY)
    resolve_alert(
        raised,
        "contacted",
        "Sent to A&E",
        by=bundle.therapist,
        now=at_local(today, 10, 0, "Europe/London"),
    )
    db.session.commit()

    # The same answer never raises again: neither evaluations nor a replayed report.
    evaluate_patients([bundle.patient.id], at_local(today, 11, 0, "Europe/London"))
    db.session.commit()
    sweep(at_local(today, 12, 0, "Europe/London"))
    record_check_in(bundle.patient, first, now=at_local(today, 13, 0, "Europe/London"))
    db.session.commit()
    assert [a.id for a in alerts(bundle.patient.id, AlertKind.RED_FLAG_EMERGENCY)] == [raised.id]
    assert alerts(bundle.patient.id, AlertKind.RED_FLAG_EMERGENCY)[0].status is AlertStatus.RESOLVED

    # A new yes the next day raises a new alert at once, well within rearm_days (7).
    tomorrow = today + timedelta(days=1)
    second = check_in_report(bundle, tomorrow, None, hour=9, red_flags={"RF1": True}, tag="rf-2")
    stored = record_check_in(bundle.patient, second, now=second.recorded_at)
    db.session.commit()

    old, new = alerts(bundle.patient.id, AlertKind.RED_FLAG_EMERGENCY)
    assert old.id == raised.id and old.status is AlertStatus.RESOLVED
    assert new.status is AlertStatus.OPEN
    assert new.severity is Severity.URGENT
    assert new.check_in_ids == [stored.check_in.id]
    assert new.created_at == second.recorded_at


# ---------------------------------------------------------------------------- rearm


def test_a_resolved_alert_fires_again_only_after_rearm_days_if_the_condition_still_holds(
    patient_for,
):
    bundle = patient_for(24)
    replay(bundle, range(25), 6)
    [alert] = open_alerts(bundle.patient.id, AlertKind.PERSISTENT_PAIN)
    resolve_alert(alert, "re_evaluated", "Plan kept", by=bundle.therapist, now=NOW)
    db.session.commit()

    replay(bundle, range(25, 28), 6)  # 3 more days: the condition holds, but not rearmed yet
    evaluate_patients([bundle.patient.id], at_day(bundle, 27, 21))
    db.session.commit()
    assert open_alerts(bundle.patient.id, AlertKind.PERSISTENT_PAIN) == []
    assert len(alerts(bundle.patient.id, AlertKind.PERSISTENT_PAIN)) == 1

    replay(bundle, range(28, 33), 6)  # 8 days after the resolution

    old, new = alerts(bundle.patient.id, AlertKind.PERSISTENT_PAIN)
    assert old.id == alert.id and old.status is AlertStatus.RESOLVED
    assert new.status is AlertStatus.OPEN
    assert new.created_at - NOW >= timedelta(days=7)
    # The first evaluation 7 days after the resolution: day 32's morning check-in (day 31's
    # 18:00 session came a minute short of 7 days).
    assert new.created_at == at_day(bundle, 32, 8, 1)


# ---------------------------------------------------------------------------- cleared


def _up_then_down(k: int) -> int:
    if k < 7:
        return 4  # baseline week
    if k < 14:
        return 7  # worse by 3 points
    if k < 21:
        return 4  # back down
    return 7  # and worse again


def test_an_alert_whose_condition_no_longer_holds_stays_open_with_condition_cleared_since(
    patient_for,
):
    bundle = patient_for(20, intake_pain=4)
    replay(bundle, range(14), _up_then_down)
    [worsening] = alerts(bundle.patient.id, AlertKind.WORSENING)
    assert worsening.status is AlertStatus.OPEN
    assert worsening.condition_cleared_at is None
    assert worsening.evidence["baseline"] == "4"

    replay(bundle, range(14, 21), _up_then_down)

    [worsening] = alerts(bundle.patient.id, AlertKind.WORSENING)
    assert worsening.status is AlertStatus.OPEN
    assert worsening.resolved_at is None
    cleared = worsening.condition_cleared_at
    assert cleared is not None
    assert at_day(bundle, 14, 0) < cleared <= at_day(bundle, 20, 18, 1)

    # It never closes itself, and "cleared since" keeps its first date.
    for days in (1, 3, 10):
        sweep(NOW + timedelta(days=days))
    [worsening] = alerts(bundle.patient.id, AlertKind.WORSENING)
    assert worsening.status is AlertStatus.OPEN
    assert worsening.condition_cleared_at == cleared


def test_a_cleared_alert_is_refreshed_when_its_condition_comes_back(patient_for):
    bundle = patient_for(20, intake_pain=4)
    replay(bundle, range(21), _up_then_down)
    [worsening] = alerts(bundle.patient.id, AlertKind.WORSENING)
    assert worsening.condition_cleared_at is not None

    replay(bundle, range(21, 28), _up_then_down)

    [again] = alerts(bundle.patient.id, AlertKind.WORSENING)
    assert again.id == worsening.id
    assert again.status is AlertStatus.OPEN
    assert again.condition_cleared_at is None
    assert again.evidence["current"] == "7"


# ---------------------------------------------------------------------------- snooze


def test_a_snoozed_alert_is_open_again_on_evaluation_once_its_date_has_come(
    make_patient,
    make_alert,
):
    # In Auckland it is already Saturday morning when it is Friday 19:00 in UTC.
    bundle = make_patient(timezone="Pacific/Auckland", start_days_ago=3, sessions_per_week=7)
    today = local_date(NOW, "Pacific/Auckland")
    assert today == NOW.date() + timedelta(days=1)
    until = {
        AlertKind.FLARE: today,
        AlertKind.WORSENING: today - timedelta(days=2),
        AlertKind.LOW_ADHERENCE: today + timedelta(days=1),
    }
    for kind, day in until.items():
        make_alert(
            bundle,
            kind,
            Severity.HIGH,
            status=AlertStatus.SNOOZED,
            snoozed_until=day,
            created_at=NOW - timedelta(days=5),
        )
    db.session.commit()

    evaluate_patients([bundle.patient.id], NOW)
    db.session.commit()

    state = {a.kind: (a.status, a.snoozed_until) for a in alerts(bundle.patient.id)}
    assert state == {
        AlertKind.FLARE: (AlertStatus.OPEN, None),
        AlertKind.WORSENING: (AlertStatus.OPEN, None),
        AlertKind.LOW_ADHERENCE: (AlertStatus.SNOOZED, today + timedelta(days=1)),
    }


# ---------------------------------------------------------------------------- concurrency


def insert_red_flag(bundle: PatientBundle, when: datetime, question: str, level) -> None:
    """Store a red-flag yes directly, so that only the sweeps evaluate it."""
    check_in = CheckIn(
        patient_id=bundle.patient.id,
        client_id=str(uuid.uuid4()),
        kind=CheckInKind.SYMPTOM,
        recorded_at=when,
        local_date=local_date(when, bundle.patient.timezone),
        red_flag_level=level,
        payload_hash="0" * 64,
        created_at=when,
    )
    check_in.red_flags.append(
        RedFlagAnswer(patient_id=bundle.patient.id, question=question, answer=True)
    )
    db.session.add(check_in)
    db.session.commit()


def _sweep_in_thread(app, now: datetime, barrier: threading.Barrier, errors: list) -> None:
    try:
        with app.app_context():
            barrier.wait(timeout=10)
            try:
                with sqlite_immediate():
                    sweep(now, batch=1)
            finally:
                db.session.remove()
    except BaseException as exc:  # reported by the test's own thread
        errors.append(exc)


def test_concurrent_sweeps_never_duplicate_an_alert(app, patient_for):
    bundles = [patient_for(24) for _ in range(4)]
    for bundle in bundles:
        insert_history(bundle, range(25), 6)
    flagged = bundles[0]
    insert_red_flag(flagged, NOW - timedelta(days=1), "RF7", RedFlagLevel.URGENT)
    assert all(alerts(b.patient.id) == [] for b in bundles)
    db.session.commit()  # end the read transaction: the sweeps run in their own sessions

    for round_ in range(2):
        barrier = threading.Barrier(2)
        errors: list = []
        threads = [
            threading.Thread(
                target=_sweep_in_thread,
                args=(app, NOW + timedelta(minutes=round_), barrier, errors),
            )
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []

    db.session.commit()
    rows = db.session.execute(
        sa.select(Alert.patient_id, Alert.kind, sa.func.count())
        .where(Alert.status.in_(OPEN))
        .group_by(Alert.patient_id, Alert.kind)
    ).all()
    assert rows and all(count == 1 for _, _, count in rows)
    for bundle in bundles:
        assert len(alerts(bundle.patient.id, AlertKind.PERSISTENT_PAIN)) == 1
    assert len(alerts(flagged.patient.id, AlertKind.RED_FLAG_URGENT)) == 1


# ---------------------------------------------------------------------------- bounded cost


def test_logging_a_session_costs_the_same_queries_with_one_week_and_two_years_of_history(
    patient_for, count_queries
):
    week = patient_for(7, intake_pain=2)
    years = patient_for(730, intake_pain=2)
    insert_history(week, range(7), 2)
    insert_history(years, range(730), 2)
    evaluate_patients([week.patient.id, years.patient.id], NOW - timedelta(hours=2))
    db.session.commit()

    counts = []
    for bundle in (week, years):
        report = session_report(bundle, NOW.date(), 2)
        db.session.commit()  # start from a cold session, as a request does
        with count_queries() as queries:
            log_session(bundle.patient, report, now=NOW)
            db.session.commit()
        counts.append(len(queries))

    assert counts[0] == counts[1], counts
    assert alerts(week.patient.id) == alerts(years.patient.id) == []


@pytest.mark.parametrize(
    ("overrides", "baseline_days", "recent_days"),
    [
        pytest.param({}, 14, 31, id="defaults"),
        pytest.param(
            {"baseline_max_days": 21, "adherence_window_days": 42}, 21, 42, id="clinic-windows"
        ),
    ],
)
def test_the_timeline_holds_the_baseline_days_and_the_recent_days_the_policy_reads(
    patient_for, overrides, baseline_days, recent_days
):
    bundle = patient_for(730, intake_pain=2)
    bundle.patient.clinic.policy_overrides = overrides
    insert_history(bundle, range(731), 2)
    start = bundle.program.start_date
    today = NOW.date()

    timeline = assess_patient(bundle.patient, NOW).timeline

    for facts in (timeline.sessions, timeline.check_ins):
        days = sorted(f.local_date for f in facts)
        early = [d for d in days if d < start + timedelta(days=baseline_days)]
        recent = [d for d in days if d >= start + timedelta(days=baseline_days)]
        assert early == [start + timedelta(days=k) for k in range(baseline_days)]
        assert recent[-1] == today
        assert recent[0] == today - timedelta(days=recent_days - 1)
        assert len(days) == baseline_days + recent_days
