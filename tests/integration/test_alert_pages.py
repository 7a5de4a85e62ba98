"""The alert inbox and alert pages (issue 5 "Acting on alerts", CLINICAL §5).

Inbox order and the snoozed section, the detail page with its reason, numbers and session links,
acknowledge / snooze / resolve (regress, progress, refer) through the HTML forms, the referral
summary, and who may see and act on an alert: the patient's therapist and the clinic's admins,
nobody else (404, so existence does not leak). Alerts are made directly where a test is about
acting on them, not about the rules.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from app.alerts.models import Alert, Referral
from app.alerts.referrals import CRITERIA, REFERRAL_CRITERIA
from app.alerts.services import ReferralData, resolve_alert
from app.db import utcnow
from app.enums import AlertAction, AlertKind, AlertStatus, Role, Severity, StageDirection
from app.extensions import db
from app.patient.check_ins import CheckInReport, record_check_in
from app.patient.sessions import log_session
from app.programs.models import Program, StageChange
from app.timeutil import local_date
from tests.conftest import PatientBundle, session_report

# Far from UTC, so "today" for the patient is another date than in UTC most of the day.
KIRITIMATI = "Pacific/Kiritimati"  # UTC+14


def reload(alert: Alert) -> Alert:
    db.session.expire_all()
    return db.session.get(Alert, alert.id)


def count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def log_day(bundle: PatientBundle, when: datetime, pain: int) -> int:
    """Log a full session at `when` and return its id."""
    report = session_report(
        bundle.program,
        completed_at=when,
        started_at=when - timedelta(minutes=20),
        pain_before=pain,
        pain_after=pain,
    )
    session = log_session(bundle.patient, report, now=utcnow()).obj
    db.session.commit()
    return session.id


@pytest.fixture
def therapist(make_user):
    return make_user(Role.THERAPIST)


@pytest.fixture
def bundle(make_patient, therapist) -> PatientBundle:
    return make_patient(
        therapist=therapist, stage=2, start_days_ago=10, timezone=KIRITIMATI, intake_pain=6
    )


@pytest.fixture
def alert(bundle, make_alert) -> Alert:
    return make_alert(bundle, AlertKind.PERSISTENT_PAIN, Severity.MEDIUM)


@pytest.fixture
def as_therapist(client, login, therapist):
    login(therapist)
    return client


def flashes(html: str) -> list[str]:
    return re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', html)


# ---------------------------------------------------------------------------- inbox


def test_the_inbox_lists_open_alerts_most_serious_first_and_snoozed_ones_apart(
    as_therapist, make_patient, therapist, bundle, make_alert
):
    other = make_patient(therapist=therapist)
    low = make_alert(bundle, AlertKind.LOW_ADHERENCE, Severity.LOW, age=timedelta(minutes=1))
    medium = make_alert(other, AlertKind.PERSISTENT_PAIN, Severity.MEDIUM)
    urgent = make_alert(
        bundle, AlertKind.RED_FLAG_EMERGENCY, Severity.URGENT, age=timedelta(days=2)
    )
    high = make_alert(other, AlertKind.FLARE, Severity.HIGH, status=AlertStatus.ACKNOWLEDGED)
    snoozed = make_alert(
        bundle,
        AlertKind.WORSENING,
        Severity.HIGH,
        status=AlertStatus.SNOOZED,
        snoozed_until=local_date(utcnow(), KIRITIMATI) + timedelta(days=3),
    )
    resolved = make_alert(other, AlertKind.WORSENING, Severity.HIGH, status=AlertStatus.RESOLVED)

    response = as_therapist.get("/alerts/")

    assert response.status_code == 200
    html = response.get_data(as_text=True)

    def position(a: Alert) -> int:
        return html.index(f'href="/alerts/{a.id}"')

    assert position(urgent) < position(high) < position(medium) < position(low)
    heading = html.index("<h2>Snoozed</h2>")
    assert position(low) < heading < position(snoozed)
    assert f'href="/alerts/{resolved.id}"' not in html
    assert low.reason in html


def test_the_inbox_can_show_resolved_alerts(as_therapist, bundle, make_alert):
    resolved = make_alert(bundle, AlertKind.FLARE, Severity.HIGH, status=AlertStatus.RESOLVED)
    open_one = make_alert(bundle, AlertKind.WORSENING, Severity.HIGH)

    html = as_therapist.get("/alerts/?status=resolved").get_data(as_text=True)

    assert f'href="/alerts/{resolved.id}"' in html
    assert f'href="/alerts/{open_one.id}"' not in html


def timezone_on_another_date(now: datetime) -> str:
    """A timezone whose calendar date differs from the UTC date right now."""
    for name in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):  # UTC+14, UTC−11
        if local_date(now, name) != now.date():
            return name
    raise AssertionError("one of them always differs")


def test_the_inbox_splits_snoozed_alerts_by_the_patients_calendar(
    as_therapist, make_patient, therapist, make_alert
):
    now = utcnow()
    timezone = timezone_on_another_date(now)
    bundle = make_patient(therapist=therapist, timezone=timezone)
    today = local_date(now, timezone)
    due = make_alert(
        bundle, AlertKind.FLARE, Severity.HIGH, status=AlertStatus.SNOOZED, snoozed_until=today
    )
    later = make_alert(
        bundle,
        AlertKind.WORSENING,
        Severity.HIGH,
        status=AlertStatus.SNOOZED,
        snoozed_until=today + timedelta(days=1),
    )

    html = as_therapist.get("/alerts/").get_data(as_text=True)

    # CLINICAL §5: a snoozed alert leaves "needs attention" until its date (the patient's day).
    active, _, snoozed = html.partition("<h2>Snoozed</h2>")
    assert f'href="/alerts/{due.id}"' in active
    assert f'href="/alerts/{later.id}"' in snoozed


# ---------------------------------------------------------------------------- detail


def test_the_detail_page_shows_the_reason_the_numbers_and_links_to_the_sessions(
    as_therapist, bundle, make_alert
):
    now = utcnow()
    first = log_day(bundle, now - timedelta(days=1), 6)
    second = log_day(bundle, now - timedelta(minutes=5), 6)
    alert = make_alert(
        bundle,
        AlertKind.PERSISTENT_PAIN,
        Severity.MEDIUM,
        reason="Pain 6.0 → 6.0 (0 points, 0 %) after 25 days with 100 % adherence over 14 days.",
        evidence={
            "baseline": "6",
            "baseline_rounded": 6.0,
            "current": "6",
            "current_rounded": 6.0,
            "change_points": "0",
            "change_points_rounded": 0.0,
            "change_percent": "0",
            "change_percent_rounded": 0.0,
            "pain_status": "no_change",
            "adherence": "1",
            "adherence_rounded": 1.0,
            "adherence_window": {
                "start": "2026-01-01",
                "end": "2026-01-14",
                "completed": 14,
                "scheduled": 14,
            },
            "program_day": 25,
            "readings_used": 14,
        },
        session_ids=[first, second],
    )

    response = as_therapist.get(f"/alerts/{alert.id}")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Pain 6.0 → 6.0 (0 points, 0 %) after 25 days with 100 % adherence" in html
    evidence = html[html.index("<h2>Evidence</h2>") :]
    for label, value in [
        ("Baseline pain", "6.0"),
        ("Current pain", "6.0"),
        ("Adherence", "100 %"),
        ("Program day", "25"),
        ("Pain ratings in the last days", "14"),
    ]:
        assert re.search(rf"<dt>{re.escape(label)}</dt>\s*<dd>{re.escape(value)}", evidence), label
    assert "14 of 14 planned sessions" in evidence
    patient_page = f"/caseload/patients/{bundle.patient.id}"
    # Links by date, to the weeks of the patient page that hold them (no "#110").
    for session_id in (first, second):
        assert re.search(rf'href="{patient_page}\?until=[0-9-]+#session-{session_id}"', html)
    assert f">#{first}<" not in html
    # The anchors exist on the patient page.
    page = as_therapist.get(patient_page).get_data(as_text=True)
    for session_id in (first, second):
        assert f'id="session-{session_id}"' in page


# ---------------------------------------------------------------------------- acknowledge


def test_acknowledging_an_alert_marks_it_acknowledged(as_therapist, alert):
    response = as_therapist.post(f"/alerts/{alert.id}/acknowledge")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/alerts/{alert.id}")
    assert reload(alert).status is AlertStatus.ACKNOWLEDGED


def test_acknowledging_twice_says_so_and_changes_nothing(as_therapist, alert):
    as_therapist.post(f"/alerts/{alert.id}/acknowledge")
    before = reload(alert).updated_at

    response = as_therapist.post(f"/alerts/{alert.id}/acknowledge", follow_redirects=True)

    assert response.status_code == 200
    assert any("already acknowledged" in m for m in flashes(response.get_data(as_text=True)))
    after = reload(alert)
    assert after.status is AlertStatus.ACKNOWLEDGED
    assert after.updated_at == before


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("acknowledge", {}),
        ("snooze", {"days": "3"}),
        ("resolve", {"action": "regressed"}),
    ],
)
def test_an_action_on_a_resolved_alert_is_refused_with_a_message(
    as_therapist, bundle, path, data, make_alert
):
    closed = make_alert(bundle, AlertKind.FLARE, Severity.HIGH, status=AlertStatus.RESOLVED)

    response = as_therapist.post(f"/alerts/{closed.id}/{path}", data=data, follow_redirects=True)

    assert response.status_code == 200
    assert any("resolved" in m for m in flashes(response.get_data(as_text=True)))
    after = reload(closed)
    assert (after.status, after.snoozed_until, after.action) == (AlertStatus.RESOLVED, None, None)
    assert stage_of(bundle) == 2


# ---------------------------------------------------------------------------- snooze


@pytest.mark.parametrize("days", ["0", "15", "-1", "three", ""])
def test_snoozing_outside_1_to_14_days_shows_a_field_message_and_saves_nothing(
    as_therapist, alert, days
):
    response = as_therapist.post(f"/alerts/{alert.id}/snooze", data={"days": days})

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'<p class="error" id="days-error">[^<]+</p>', html)
    after = reload(alert)
    assert after.status is AlertStatus.OPEN
    assert after.snoozed_until is None


def test_snoozing_for_3_days_sets_the_date_in_the_patients_calendar(as_therapist, alert):
    today = local_date(utcnow(), KIRITIMATI)

    response = as_therapist.post(f"/alerts/{alert.id}/snooze", data={"days": "3"})

    assert response.status_code == 302
    after = reload(alert)
    assert after.status is AlertStatus.SNOOZED
    assert after.snoozed_until == today + timedelta(days=3)


# ---------------------------------------------------------------------------- resolve


def stage_of(bundle: PatientBundle) -> int:
    db.session.expire_all()
    return db.session.get(Program, bundle.program.id).stage


def test_resolving_as_regressed_lowers_the_stage_by_one(as_therapist, bundle, alert, therapist):
    assert stage_of(bundle) == 2

    response = as_therapist.post(
        f"/alerts/{alert.id}/resolve", data={"action": "regressed", "note": "Too much for now"}
    )

    assert response.status_code == 302
    assert stage_of(bundle) == 1
    after = reload(alert)
    assert after.status is AlertStatus.RESOLVED
    assert after.action is AlertAction.REGRESSED
    assert after.note == "Too much for now"
    assert after.resolved_by_id == therapist.id
    change = db.session.scalars(
        sa.select(StageChange)
        .where(StageChange.program_id == bundle.program.id)
        .order_by(StageChange.id.desc())
    ).first()
    assert (change.from_stage, change.to_stage) == (2, 1)
    assert change.direction is StageDirection.REGRESS
    assert change.changed_by_id == therapist.id


def test_resolving_as_progressed_raises_the_stage_by_one(as_therapist, bundle, alert):
    response = as_therapist.post(f"/alerts/{alert.id}/resolve", data={"action": "progressed"})

    assert response.status_code == 302
    assert stage_of(bundle) == 3
    assert reload(alert).action is AlertAction.PROGRESSED
    change = db.session.scalars(
        sa.select(StageChange)
        .where(StageChange.program_id == bundle.program.id)
        .order_by(StageChange.id.desc())
    ).first()
    assert change.direction is StageDirection.ADVANCE


def test_referring_without_a_recipient_shows_a_field_message_and_saves_nothing(
    as_therapist, bundle, alert
):
    response = as_therapist.post(
        f"/alerts/{alert.id}/resolve",
        data={"action": "referred", "referral_to": "  ", "referral_reason": "Persistent pain"},
    )

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="referral_to-error">[^<]*to whom', html)
    assert reload(alert).status is AlertStatus.OPEN
    assert count(Referral) == 0
    assert stage_of(bundle) == 2


def test_referring_creates_a_referral_with_a_full_summary_and_a_printable_page(
    as_therapist, bundle, alert
):
    now = utcnow()
    log_day(bundle, now - timedelta(days=2), 6)
    record_check_in(
        bundle.patient,
        CheckInReport(
            id=str(uuid.uuid4()),
            recorded_at=now - timedelta(days=1),
            morning_pain=6,
            red_flags={f"RF{n}": False for n in (1, 2, 3, 4, 5, 6, 7, 8, 10, 11)},
        ),
        now=now,
    )
    log_day(bundle, now - timedelta(hours=1), 6)

    response = as_therapist.post(
        f"/alerts/{alert.id}/resolve",
        data={
            "action": "referred",
            "note": "Discussed with the patient",
            "referral_to": "Dr Lee, interventional pain clinic",
            "referral_reason": "Pain persists despite full adherence",
        },
    )

    assert response.status_code == 302
    [referral] = db.session.scalars(sa.select(Referral)).all()
    assert referral.alert_id == alert.id
    assert referral.patient_id == bundle.patient.id
    assert referral.to_whom == "Dr Lee, interventional pain clinic"
    assert referral.reason == "Pain persists despite full adherence"
    s = referral.summary
    assert s["program"]["stage"] == 2
    assert s["program"]["items"]
    assert [c["direction"] for c in s["stage_history"]] == ["assign"]
    assert s["adherence_14d"]["completed"] >= 2
    assert s["adherence_14d"]["ratio"] is not None
    assert [r["value"] for r in s["pain"]["readings"]].count(6) >= 3
    assert s["pain"]["intake"] == 6
    # The alert being referred is the letter's finding, with its status as referred.
    assert s["finding"]["kind"] == "PERSISTENT_PAIN" and s["finding"]["action"] == "referred"
    assert s["alerts"] == []
    [screen] = s["red_flags"]
    assert screen["yes"] == [] and "RF2" in screen["asked"]
    assert (s["screens"]["full_screens"], s["screens"]["yes"]) == (1, [])
    # Only the criteria that bear on persistent pain of 6/10 without leg signs.
    assert CRITERIA["radiofrequency"] in s["criteria"]
    assert CRITERIA["epidural"] not in s["criteria"]
    assert set(s["criteria"]) < set(REFERRAL_CRITERIA)
    after = reload(alert)
    assert after.status is AlertStatus.RESOLVED
    assert after.action is AlertAction.REFERRED

    detail = as_therapist.get(f"/alerts/{alert.id}").get_data(as_text=True)
    assert f'href="/alerts/referrals/{referral.id}"' in detail
    page = as_therapist.get(f"/alerts/referrals/{referral.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Dr Lee, interventional pain clinic" in html
    assert "Pain persists despite full adherence" in html
    assert "Radiofrequency denervation only after failed non-surgical care" in html
    assert "Epidural injection" not in html
    assert "Pain persisting despite exercise" in html and "resolved as referred" in html
    assert bundle.patient.record_number in html
    assert bundle.therapist.name in html and bundle.patient.clinic.name in html
    assert "data-print" in html
    assert "non response" not in html.lower() and "rule " not in html.lower()
    patient_page = as_therapist.get(f"/caseload/patients/{bundle.patient.id}")
    assert f'href="/alerts/referrals/{referral.id}"' in patient_page.get_data(as_text=True)


# ---------------------------------------------------------------------------- access


@pytest.fixture
def referred(bundle, make_alert) -> tuple[Alert, Referral]:
    """A resolved alert with its referral, made through the service."""
    resolved = make_alert(bundle, AlertKind.NON_RESPONSE_6W, Severity.HIGH)
    resolve_alert(
        resolved,
        "referred",
        by=bundle.therapist,
        now=utcnow(),
        referral=ReferralData("Spinal surgeon", "No response at 6 weeks"),
    )
    db.session.commit()
    referral = db.session.scalars(sa.select(Referral)).one()
    return resolved, referral


def _every_alert_request(client, alert: Alert, referral: Referral) -> dict[str, int]:
    return {
        "detail": client.get(f"/alerts/{alert.id}").status_code,
        "acknowledge": client.post(f"/alerts/{alert.id}/acknowledge").status_code,
        "snooze": client.post(f"/alerts/{alert.id}/snooze", data={"days": "3"}).status_code,
        "resolve": client.post(
            f"/alerts/{alert.id}/resolve", data={"action": "regressed"}
        ).status_code,
        "referral": client.get(f"/alerts/referrals/{referral.id}").status_code,
    }


@pytest.mark.parametrize("who", ["other-clinic", "same-clinic-unassigned"])
def test_other_therapists_get_404_on_every_alert_page_and_action_and_nothing_changes(
    client, login, make_user, therapist, bundle, alert, referred, who
):
    if who == "other-clinic":
        outsider = make_user(Role.THERAPIST)
    else:
        outsider = make_user(Role.THERAPIST, clinic=therapist.clinic)
    login(outsider)

    answers = _every_alert_request(client, alert, referred[1])

    assert answers == dict.fromkeys(answers, 404)
    inbox = client.get("/alerts/?status=all").get_data(as_text=True)
    assert f'href="/alerts/{alert.id}"' not in inbox
    assert f'href="/alerts/{referred[0].id}"' not in inbox
    after = reload(alert)
    assert (after.status, after.snoozed_until, after.action) == (AlertStatus.OPEN, None, None)
    assert stage_of(bundle) == 2


def test_an_admin_of_another_clinic_gets_404_too(client, login, make_user, alert, referred):
    login(make_user(Role.ADMIN))

    answers = _every_alert_request(client, alert, referred[1])

    assert answers == dict.fromkeys(answers, 404)
    assert reload(alert).status is AlertStatus.OPEN


def test_admins_of_the_clinic_see_and_act_on_its_alerts(
    client, login, make_user, therapist, alert, referred
):
    login(make_user(Role.ADMIN, clinic=therapist.clinic))

    inbox = client.get("/alerts/").get_data(as_text=True)
    assert f'href="/alerts/{alert.id}"' in inbox
    assert client.get(f"/alerts/{alert.id}").status_code == 200
    assert client.get(f"/alerts/referrals/{referred[1].id}").status_code == 200
    assert client.post(f"/alerts/{alert.id}/acknowledge").status_code == 302
    assert reload(alert).status is AlertStatus.ACKNOWLEDGED


def test_patients_cannot_open_the_alert_pages(client, login, bundle, alert):
    login(bundle.user)

    assert client.get("/alerts/").status_code == 403
    assert client.get(f"/alerts/{alert.id}").status_code == 403
    assert client.post(f"/alerts/{alert.id}/acknowledge").status_code == 403
    assert reload(alert).status is AlertStatus.OPEN
