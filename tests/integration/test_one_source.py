"""One source for every number: every surface shows the same baseline, current pain and
adherence, also after an admin changes the clinic's windows; the eased session follows the
clinic's FLARE thresholds; the thresholds API keeps every value within finite bounds."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from fractions import Fraction

import pytest
import sqlalchemy as sa

from app.alerts.models import Alert
from app.auth.models import Invitation
from app.clinical import numbers
from app.clinical.policy import Policy
from app.enums import AlertKind, Role
from app.extensions import db
from app.patient.check_ins import CheckInReport, record_check_in
from app.patient.sessions import log_session
from app.timeutil import at_local, local_date
from tests.conftest import PatientBundle, session_report

# Program day 36 today; sessions from day 15 (none in the first two weeks), days 20–24 missed.
DAYS = 36
SESSION_DAYS = [*range(15, 20), *range(25, DAYS + 1)]
EARLY_PAIN = {15: 3, 16: 4, 17: 3}  # the baseline when it may extend to day 21: 10/3
LATE_PAIN = [6, 6, 7, 6, 6, 7, 6]  # the last 7 days: 44/7


def pain_on(day: int) -> int:
    if day in EARLY_PAIN:
        return EARLY_PAIN[day]
    if day > DAYS - 7:
        return LATE_PAIN[day - (DAYS - 6)]
    return 6


@pytest.fixture
def history(make_patient, make_user, now) -> PatientBundle:
    therapist = make_user(Role.THERAPIST)
    bundle = make_patient(
        therapist=therapist, start_days_ago=DAYS - 1, sessions_per_week=7, intake_pain=2
    )
    start = bundle.program.start_date
    tz = bundle.patient.timezone
    for day in SESSION_DAYS:
        on = start + timedelta(days=day - 1)
        at = min(at_local(on, 8, 0, tz), now - timedelta(minutes=1))
        log_session(
            bundle.patient,
            session_report(bundle.program, completed_at=at, pain_before=pain_on(day)),
            now=at + timedelta(minutes=1),
        )
    db.session.commit()
    return bundle


def admin_of(app, login, make_user, bundle: PatientBundle):  # type: ignore[no-untyped-def]
    """A logged-in client of an admin of the patient's clinic."""
    admin = make_user(Role.ADMIN, clinic=bundle.patient.clinic)
    return login(admin, test_client=app.test_client())


def surfaces(app, login, bundle: PatientBundle) -> dict[str, tuple[str, str, str]]:
    """(baseline, current, adherence) as each surface shows or sends them, formatted alike."""
    therapist = login(bundle.therapist, test_client=app.test_client())
    patient = login(bundle.user, test_client=app.test_client())
    seen = {}

    row = next(p for p in therapist.get("/api/v1/caseload").get_json()["patients"])
    seen["caseload API"] = (
        numbers.pain(Fraction(repr(row["baseline"]))),
        numbers.pain(Fraction(repr(row["current"]))),
        numbers.percent(Fraction(repr(row["adherence_14d"]))),
    )
    alerts = therapist.get(f"/api/v1/alerts?patient_id={bundle.patient.id}").get_json()
    evidence = next(a for a in alerts["alerts"] if a["kind"] == "WORSENING")["evidence"]
    seen["alert evidence"] = (
        numbers.pain(Fraction(evidence["baseline"])),
        numbers.pain(Fraction(evidence["current"])),
        numbers.percent(Fraction(evidence["adherence"])),
    )
    page = therapist.get(f"/caseload/patients/{bundle.patient.id}").get_data(as_text=True)
    seen["patient page"] = (
        re.search(r"Baseline <strong>([^<]+)</strong>", page).group(1),
        re.search(r"current \(last \d+ days\) <strong>([^<]+)</strong>", page).group(1),
        re.search(r"Last \d+ days: <strong>([^<]+)</strong>", page).group(1),
    )
    caseload = therapist.get("/caseload/").get_data(as_text=True)
    current, baseline = re.search(
        r'<span class="pain-now">([^<]+)</span> / ([0-9.—]+)', caseload
    ).groups()
    adherence = re.search(r"<td>\s*(\d+ %)", caseload).group(1)
    seen["caseload page"] = (baseline, current, adherence)
    progress = patient.get("/progress").get_data(as_text=True)
    base, now_pain = re.search(r"Pain ([0-9.]+) → ([0-9.]+) over", progress).groups()
    seen["progress"] = (base, now_pain, seen["patient page"][2])
    return seen


def test_every_surface_gives_the_same_numbers_also_after_the_windows_change(
    app, login, make_user, history
):
    # Defaults: no reading in days 1–14, so the baseline is the intake pain (2); adherence over
    # 14 days is 12 of 14 planned days.
    before = surfaces(app, login, history)
    assert set(before.values()) == {("2.0", "6.3", "86 %")}, before

    windows = {"baseline_max_days": 21, "adherence_window_days": 42}
    therapist = login(history.therapist, test_client=app.test_client())
    # A therapist reads the thresholds but does not change them.
    assert therapist.patch("/api/v1/clinic/policy", json=windows).status_code == 403
    admin = login(
        make_user(Role.ADMIN, clinic=history.patient.clinic), test_client=app.test_client()
    )
    changed = admin.patch("/api/v1/clinic/policy", json=windows)
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["values"]["adherence_window_days"] == 42

    # Now the baseline extends to days 15–17 (10/3) and adherence counts 17 of 36 days.
    after = surfaces(app, login, history)
    assert set(after.values()) == {("3.3", "6.3", "47 %")}, after


# ---------------------------------------------------------------------------- FLARE and easing


def test_the_eased_session_follows_the_clinics_flare_thresholds(
    app, login, make_patient, make_user, now
):
    bundle = make_patient(start_days_ago=20, sessions_per_week=7, intake_pain=3)
    patient = login(bundle.user, test_client=app.test_client())
    morning = now - timedelta(hours=1)
    record_check_in(
        bundle.patient,
        CheckInReport(id=str(uuid.uuid4()), recorded_at=morning, morning_pain=6),
        now=now,
    )
    db.session.commit()

    # CLINICAL §5 default: a morning pain of 6 is not a flare (it needs ≥ 8).
    assert "rough week" not in patient.get("/today").get_data(as_text=True)
    assert not db.session.scalar(sa.select(Alert).where(Alert.kind == AlertKind.FLARE))

    admin = login(
        make_user(Role.ADMIN, clinic=bundle.patient.clinic), test_client=app.test_client()
    )
    assert admin.patch("/api/v1/clinic/policy", json={"flare_morning_pain": 6}).status_code == 200

    # The engine raises FLARE with the clinic's threshold, and the player eases with the same.
    assert db.session.scalar(sa.select(Alert).where(Alert.kind == AlertKind.FLARE))
    today = patient.get("/today").get_data(as_text=True)
    player = patient.get(f"/session/{bundle.program.id}").get_data(as_text=True)
    assert "rough week" in today and "rough week" in player
    assert "Gentler today" in player or "Easier today" in player


# ---------------------------------------------------------------------------- thresholds API


def test_the_policy_lists_every_value_with_finite_bounds(app, login, make_user):
    therapist = login(make_user(Role.THERAPIST), test_client=app.test_client())

    body = therapist.get("/api/v1/clinic/policy").get_json()

    assert set(body) == {"version", "values", "bounds"}
    assert set(body["values"]) == set(body["bounds"])
    assert body["values"]["improve_fraction"] == "0.3"
    for name, (low, high) in body["bounds"].items():
        assert Fraction(low) <= Fraction(body["values"][name]) <= Fraction(high), name


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        pytest.param({"current_days": 1000000}, {"current_days"}, id="far-above-the-bound"),
        pytest.param({"adherent": "1.5"}, {"adherent"}, id="fraction-above-one"),
        pytest.param({"shoe_size": 44}, {"shoe_size"}, id="unknown-name"),
        pytest.param({"rearm_days": "soon"}, {"rearm_days"}, id="not-a-number"),
        pytest.param({"rearm_days": True}, {"rearm_days"}, id="a-boolean"),
        pytest.param(
            {"shoe_size": 1, "current_days": 0, "adherent": "0.8"},
            {"shoe_size", "current_days"},
            id="each-bad-one-named",
        ),
        pytest.param(
            {"baseline_days": 20, "baseline_max_days": 10}, {"baseline_days"}, id="contradicting"
        ),
    ],
)
def test_a_bad_threshold_is_422_naming_each_one_and_nothing_changes(
    app, login, make_user, changes, fields
):
    admin_user = make_user(Role.ADMIN)
    admin = login(admin_user, test_client=app.test_client())

    response = admin.patch("/api/v1/clinic/policy", json=changes)

    assert response.status_code == 422
    assert {e["field"] for e in response.get_json()["errors"]} == fields
    db.session.expire_all()
    assert not admin_user.clinic.policy_overrides


def test_a_fraction_shown_rounded_on_the_admin_page_is_kept_exactly(app, login, make_user):
    admin_user = make_user(Role.ADMIN)
    admin = login(admin_user, test_client=app.test_client())
    assert admin.patch("/api/v1/clinic/policy", json={"adherent": "2/3"}).status_code == 200
    page = admin.get("/admin/policy").get_data(as_text=True)
    form = dict(re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', page))

    saved = admin.post("/admin/policy", data={**form, "rearm_days": "8"})

    assert saved.status_code == 302
    db.session.expire_all()
    values = admin_user.clinic.policy_overrides
    assert Fraction(values["adherent"]) == Fraction(2, 3)
    assert values["rearm_days"] == 8


def _at_bound(name: str, which: int) -> dict[str, object]:
    """The change that puts `name` at its low (0) or high (1) bound, with partners that fit."""
    value = Policy.bounds()[name][which]
    partners = {
        "baseline_days": ("baseline_max_days", 1),
        "baseline_max_days": ("baseline_days", 0),
        "low_adherence": ("adherent", 1),
        "adherent": ("low_adherence", 0),
        "green_ceiling": ("amber_ceiling", 1),
        "amber_ceiling": ("green_ceiling", 0),
        "progress_effort_sessions": ("progress_effort_window", 1),
        "progress_effort_window": ("progress_effort_sessions", 0),
    }
    change: dict[str, object] = {name: str(value)}
    if name in partners:
        partner, end = partners[name]
        change[partner] = str(Policy.bounds()[partner][end])
    return change


BOUND_CASES = [
    pytest.param(name, which, id=f"{name}-{'low' if which == 0 else 'high'}")
    for name in Policy.bounds()
    for which in (0, 1)
]


@pytest.mark.parametrize(("name", "which"), BOUND_CASES)
def test_no_allowed_threshold_breaks_a_page_a_log_or_a_red_flag_answer(
    app, login, make_patient, make_user, now, name, which
):
    change = _at_bound(name, which)
    bundle = make_patient(start_days_ago=30, sessions_per_week=7)
    admin = login(
        make_user(Role.ADMIN, clinic=bundle.patient.clinic), test_client=app.test_client()
    )
    saved = admin.patch("/api/v1/clinic/policy", json=change) if change else None
    assert saved is None or saved.status_code == 200, saved.get_json()

    patient = login(bundle.user, test_client=app.test_client())
    logged = patient.post(
        "/api/v1/sessions",
        json={
            "id": str(uuid.uuid4()),
            "program_id": bundle.program.id,
            "completed_at": now.isoformat(),
            "pain_before": 5,
            "exercises": [{"program_item_id": bundle.program.items[0].id, "status": "done"}],
        },
    )
    answered = patient.post(
        "/api/v1/checkins",
        json={"id": str(uuid.uuid4()), "recorded_at": now.isoformat(), "red_flags": {"RF7": True}},
    )
    assert logged.status_code == 201, logged.get_json()
    assert answered.status_code == 201, answered.get_json()
    assert answered.get_json()["instruction"]["level"] == "urgent"
    # DESIGN §6: the red-flag answer raised its alert at once, whatever the policy.
    assert db.session.scalar(sa.select(Alert).where(Alert.kind == AlertKind.RED_FLAG_URGENT))
    therapist = login(bundle.therapist, test_client=app.test_client())
    for client, path in (
        (patient, "/today"),
        (patient, "/progress"),
        (patient, f"/session/{bundle.program.id}"),
        (therapist, "/caseload/"),
        (therapist, f"/caseload/patients/{bundle.patient.id}"),
        (therapist, "/api/v1/caseload"),
    ):
        assert client.get(path).status_code == 200, path


# ---------------------------------------------------------------------------- one invitation


def test_a_patient_invited_through_the_api_with_an_email_receives_the_link(
    app, login, make_user, builtin_content, smtp
):
    therapist = login(make_user(Role.THERAPIST), test_client=app.test_client())

    response = therapist.post(
        "/api/v1/patients",
        json={"name": "Grace Hopper", "timezone": "Europe/London", "email": "grace@example.org"},
    )

    assert response.status_code == 201
    link = response.get_json()["invitation_url"]
    mails = smtp.to("grace@example.org")
    assert len(mails) == 1
    assert link in mails[0].replace("=\r\n", "")
    assert db.session.scalar(sa.select(Invitation.email)) == "grace@example.org"


def test_the_caseload_as_of_date_is_the_patients_today(history, now):
    from app.caseload.models import PatientSummary

    summary = db.session.get(PatientSummary, history.patient.id)
    assert summary.as_of == local_date(now, history.patient.timezone)
