"""Pages that stay bounded: the same few queries after a week or after two years of history.

DESIGN §5: every page costs a fixed number of queries whatever the history; nothing a page
renders is loaded lazily, one row at a time. Each page is measured for a patient with one week
and one with two years of daily sessions and check-ins (same shape, same alerts).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from app.alerts.engine import evaluate_patients
from app.enums import AlertKind, Role
from app.extensions import db
from tests.conftest import PatientBundle, insert_history

# The most queries any of these pages may run (audit and login side writes included). The
# patient page is the largest: the record, its messages panel and its outcome measures.
MAX_QUERIES = 36


@pytest.fixture
def world_of(make_user, make_patient, make_alert, now) -> Callable[[int], dict]:
    """A clinic whose one patient has `days` of daily history, an open alert and an admin."""

    def make(days: int) -> dict:
        therapist = make_user(Role.THERAPIST)
        admin = make_user(Role.ADMIN, clinic=therapist.clinic)
        bundle: PatientBundle = make_patient(
            therapist=therapist, start_days_ago=days, sessions_per_week=7
        )
        insert_history(bundle, range(days + 1), 4)
        evaluate_patients([bundle.patient.id], now)
        db.session.commit()
        alert = make_alert(bundle, AlertKind.RED_FLAG_PROMPT)
        return {"bundle": bundle, "therapist": therapist, "admin": admin, "alert": alert}

    return make


def pages(world: dict) -> dict[str, list[tuple[str, str]]]:
    """The pages to measure, by the role that opens them."""
    bundle, alert = world["bundle"], world["alert"]
    program, patient = bundle.program.id, bundle.patient.id
    earlier = (bundle.program.start_date + timedelta(days=3)).isoformat()
    return {
        "therapist": [
            ("caseload", "/caseload/"),
            ("caseload API", "/api/v1/caseload"),
            ("patient page", f"/caseload/patients/{patient}"),
            ("patient page, earlier weeks", f"/caseload/patients/{patient}?until={earlier}"),
            ("program builder", f"/programs/{program}"),
            ("alert inbox", "/alerts/"),
            ("alert detail", f"/alerts/{alert.id}"),
            ("alerts API", f"/api/v1/alerts?patient_id={patient}"),
            ("library", "/programs/"),
        ],
        "admin": [("admin page", "/admin/")],
        "patient": [
            ("today", "/today"),
            ("player", f"/session/{program}"),
            ("progress", "/progress"),
            ("today API", "/api/v1/me/today"),
            ("check-in", "/checkin"),
        ],
    }


def measure(app, login, count_queries, world: dict) -> dict[str, int]:
    counts = {}
    for role, paths in pages(world).items():
        user = world["bundle"].user if role == "patient" else world[role]
        client = login(user, test_client=app.test_client())
        for name, path in paths:
            client.get(path)  # warm-up: caches, the first login-session touch
            with count_queries() as queries:
                response = client.get(path)
            assert response.status_code == 200, (name, response.status_code)
            counts[name] = len(queries)
    return counts


def test_every_page_costs_the_same_few_queries_after_a_week_or_two_years(
    app, login, count_queries, world_of
):
    week = measure(app, login, count_queries, world_of(7))
    years = measure(app, login, count_queries, world_of(730))

    assert week == years
    assert max(years.values()) <= MAX_QUERIES, years


def test_the_patient_page_shows_recent_weeks_and_pages_back(app, login, world_of):
    world = world_of(120)
    bundle = world["bundle"]
    client = login(world["therapist"], test_client=app.test_client())

    latest = client.get(f"/caseload/patients/{bundle.patient.id}").get_data(as_text=True)
    rows = latest.count('<tr id="session-')
    older_link = latest.split("← Earlier weeks")[0].rsplit('href="', 1)[1].split('"')[0]
    older = client.get(older_link.replace("&amp;", "&")).get_data(as_text=True)

    assert 36 <= rows <= 42  # six weeks of daily sessions, not all 121
    assert older.count('<tr id="session-') >= 35
    assert "Later weeks" in older
    assert set(latest.split('<tr id="session-')[1:2]) != set(older.split('<tr id="session-')[1:2])
