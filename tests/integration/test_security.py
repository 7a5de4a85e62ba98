"""Security headers, the strict CSP, and role guards on every route."""

import importlib
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from app import create_app
from app.alerts.models import Alert, Referral
from app.alerts.services import ReferralData, resolve_alert
from app.auth.models import User
from app.auth.services import invite_therapist
from app.enums import Role
from app.extensions import db
from app.patient.check_ins import CheckInReport, record_check_in
from app.patient.sessions import ExerciseResult, SessionReport, log_session
from app.programs.library import ExerciseData, create_exercise
from app.security import CSP

# Every endpoint and the roles allowed on it; a new route must be listed to pass. Each area
# keeps its own map in tests/integration/route_access_<area>.py (a dict named ACCESS).
PUBLIC = "public"
CLINICIANS = {Role.ADMIN.value, Role.THERAPIST.value}
ACCESS: dict[str, set[str]] = {
    "static": {PUBLIC},
    "main.index": {PUBLIC},
    "main.healthz": {PUBLIC},
    "auth.login": {PUBLIC},
    "auth.logout": {PUBLIC},
    "auth.invite": {PUBLIC},
    "api.openapi": {PUBLIC},
    # Figures are library content, never patient data (DESIGN §4 "Figures").
    "figures.figure": {PUBLIC},
    "figures.poses": {PUBLIC},
    "caseload.index": CLINICIANS,
    "patient.today": {Role.PATIENT.value},
    "admin.index": {Role.ADMIN.value},
}
for _path in sorted(Path(__file__).parent.glob("route_access_*.py")):
    _module = importlib.import_module(f"tests.integration.{_path.stem}")
    ACCESS.update(_module.ACCESS)

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ATTR = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)
EVENT_ATTR = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
STYLE_TAG = re.compile(r"<style[\s>]", re.IGNORECASE)


def assert_strict_html(response) -> None:
    assert response.headers["Content-Security-Policy"] == CSP
    html = response.get_data(as_text=True)
    assert not INLINE_SCRIPT.search(html), "inline <script> found"
    assert not STYLE_ATTR.search(html), "style attribute found"
    assert not EVENT_ATTR.search(html), "inline event handler found"
    assert not STYLE_TAG.search(html), "<style> element found"


def test_every_route_is_listed_with_its_allowed_roles(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == set(ACCESS), "add new endpoints to ACCESS with their roles"


@dataclass
class World:
    """One clinic with one of everything a route can name, and who may see it."""

    users: dict[str, User]
    values: dict[str, object]

    def path(self, rule) -> str:  # type: ignore[no-untyped-def]
        return rule.build(
            {name: self.values[name] for name in rule.arguments}, append_unknown=False
        )[1]


@pytest.fixture
def world(make_user, make_patient, now) -> World:
    """Objects for every URL argument: the patient's program, session, check-in, alert…"""
    therapist = make_user(Role.THERAPIST)
    admin = make_user(Role.ADMIN, clinic=therapist.clinic)
    bundle = make_patient(therapist=therapist)
    program = bundle.program
    item = program.items[0]
    session = log_session(
        bundle.patient,
        SessionReport(
            id=str(uuid.uuid4()),
            program_id=program.id,
            completed_at=now,
            pain_before=3,
            exercises=(ExerciseResult(item.id, "done", pain_during=3),),
        ),
        now=now,
    ).obj
    check_in = record_check_in(
        bundle.patient,
        CheckInReport(id=str(uuid.uuid4()), recorded_at=now, red_flags={"RF10": True}),
        now=now,
    ).check_in
    alert = db.session.scalar(sa.select(Alert).where(Alert.patient_id == bundle.patient.id))
    resolve_alert(
        alert,
        "referred",
        "",
        by=therapist,
        now=now,
        referral=ReferralData("Pain clinic", "Night pain"),
    )
    referral = db.session.scalar(sa.select(Referral))
    exercise = create_exercise(
        therapist.clinic_id,
        ExerciseData(
            name="Clinic stretch",
            target="hips",
            steps=("Stretch",),
            dosage={"sets": 1, "reps": 5, "rest_seconds": 30},
        ),
        by=therapist,
        now=now,
    )
    invited = invite_therapist(
        therapist.clinic, name="New Colleague", email="new@example.org", by=admin, now=now
    )
    db.session.commit()
    return World(
        users={"admin": admin, "therapist": therapist, "patient": bundle.user},
        values={
            "patient_id": bundle.patient.id,
            "program_id": program.id,
            "item_id": item.id,
            "alert_id": alert.id,
            "referral_id": referral.id,
            "exercise_id": exercise.id,
            "user_id": invited.user.id,
            "client_id": check_in.client_id,
            "summary_client_id": session.client_id,
            "direction": "up",
            "token": bundle.invitation_token,
            "filename": "css/app.css",
            "slug": "bird-dog",
            "start": "standing",
            "end": "hip-hinge",
        },
    )


def _rules(app, *, methods=frozenset({"GET"})):  # type: ignore[no-untyped-def]
    for rule in app.url_map.iter_rules():
        if rule.endpoint != "static" and rule.methods & methods:
            yield rule


def _path(world: World, rule) -> str:  # type: ignore[no-untyped-def]
    # The session summary names a session; the check-in result (client_id) names the check-in.
    if rule.endpoint == "patient.summary":
        values = dict(world.values, client_id=world.values["summary_client_id"])
        return rule.build({n: values[n] for n in rule.arguments}, append_unknown=False)[1]
    return world.path(rule)


def _send(client, rule, path):  # type: ignore[no-untyped-def]
    method = sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
    return client.open(path, method=method, json={} if path.startswith("/api/") else None)


@pytest.mark.parametrize("role", ["admin", "therapist", "patient"])
def test_every_route_answers_the_wrong_role_403_and_the_right_role_200(
    app, client, login, world, role
):
    login(world.users[role])
    checked = {"allowed": 0, "refused": 0}
    for rule in _rules(app, methods=frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"})):
        allowed = ACCESS[rule.endpoint]
        if PUBLIC in allowed:
            continue
        path = _path(world, rule)
        if role in allowed:
            if "GET" in rule.methods:
                response = client.get(path)
                assert response.status_code == 200, (rule.rule, response.status_code)
                checked["allowed"] += 1
            continue
        response = _send(client, rule, path)
        assert response.status_code == 403, (rule.rule, response.status_code)
        if path.startswith("/api/"):
            assert response.mimetype == "application/problem+json"
        checked["refused"] += 1
    # Every endpoint with arguments is reached too (DESIGN §4 routes, not only the bare ones).
    assert checked["allowed"] >= 5 and checked["refused"] >= 10, checked


def test_logged_out_visitors_are_sent_to_login_or_get_401_from_the_api(app, client, world):
    for rule in _rules(app, methods=frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"})):
        if PUBLIC in ACCESS[rule.endpoint]:
            continue
        path = _path(world, rule)
        response = _send(client, rule, path)
        if path.startswith("/api/"):
            assert response.status_code == 401, rule.rule
            assert response.mimetype == "application/problem+json"
        else:
            assert response.status_code == 302, rule.rule
            assert response.headers["Location"].startswith("/auth/login?next=")


def test_every_html_page_carries_the_csp_and_no_inline_script_or_style(app, client, login, world):
    assert_strict_html(client.get("/auth/login"))
    assert_strict_html(client.get("/does-not-exist"))
    assert_strict_html(client.get(f"/auth/invite/{world.values['token']}"))
    assert_strict_html(client.get("/offline"))
    pages = 0
    for role, user in world.users.items():
        login(user)
        for rule in _rules(app):
            path = _path(world, rule)
            if role in ACCESS[rule.endpoint] and not path.startswith("/api/"):
                response = client.get(path)
                if response.mimetype == "text/html":
                    assert_strict_html(response)
                    pages += 1
        client.post("/auth/logout")
    assert pages >= 25, pages


def test_security_headers_are_set_and_authenticated_pages_are_not_cached(client, login, make_user):
    anonymous = client.get("/auth/login")
    assert anonymous.headers["X-Content-Type-Options"] == "nosniff"
    assert anonymous.headers["Referrer-Policy"] == "no-referrer"
    assert anonymous.headers["X-Frame-Options"] == "DENY"
    login(make_user())
    page = client.get("/caseload/")
    assert page.headers["Cache-Control"] == "no-store"
    assert "Cookie" in page.headers["Vary"]


def test_documents_carry_the_csp_and_stylesheets_and_scripts_only_what_applies_to_them(client):
    for path in ("/static/css/app.css", "/static/js/player.js"):
        with client.get(path) as sub:
            assert sub.headers["X-Content-Type-Options"] == "nosniff", path
            assert "Content-Security-Policy" not in sub.headers, path
            assert "X-Frame-Options" not in sub.headers, path
    # An SVG opened on its own is a document, and the service worker's CSP governs the worker.
    for path in ("/static/img/icon.svg", "/sw.js", "/offline"):
        with client.get(path) as document:
            assert document.headers["Content-Security-Policy"] == CSP, path


def test_session_cookie_is_http_only_and_same_site(client, make_user):
    user = make_user()
    response = client.post(
        "/auth/login", data={"email": user.email, "password": "correct horse battery"}
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_health_check_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_unknown_page_gets_a_helpful_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)
    assert "Go to your home page" in response.get_data(as_text=True)


def test_server_error_gets_a_calm_500_page():
    other = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})

    @other.route("/_boom")
    def _boom():
        raise RuntimeError("boom")

    response = other.test_client().get("/_boom")
    assert response.status_code == 500
    assert "Your data is safe" in response.get_data(as_text=True)
    assert response.headers["Content-Security-Policy"] == CSP
