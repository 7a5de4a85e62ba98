"""Security headers, the strict CSP, and role guards on every route."""

import importlib
import re
from pathlib import Path

import pytest

from app import create_app
from app.enums import Role
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


def _get_rules(app):
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and PUBLIC not in ACCESS[rule.endpoint] and not rule.arguments:
            yield rule


@pytest.mark.parametrize("role", [Role.ADMIN, Role.THERAPIST, Role.PATIENT])
def test_every_page_rejects_the_wrong_role(app, client, login, make_user, make_patient, role):
    user = make_patient().user if role is Role.PATIENT else make_user(role)
    login(user)
    checked = 0
    for rule in _get_rules(app):
        response = client.get(rule.rule)
        if role.value in ACCESS[rule.endpoint]:
            assert response.status_code == 200, rule.rule
        else:
            assert response.status_code == 403, rule.rule
            if rule.rule.startswith("/api/"):
                assert response.mimetype == "application/problem+json"
        checked += 1
    assert checked >= 3


def test_logged_out_visitors_are_sent_to_login_or_get_401_from_the_api(app, client):
    for rule in _get_rules(app):
        response = client.get(rule.rule)
        if rule.rule.startswith("/api/"):
            assert response.status_code == 401, rule.rule
            assert response.mimetype == "application/problem+json"
        else:
            assert response.status_code == 302, rule.rule
            assert response.headers["Location"].startswith("/auth/login?next=")


def test_every_html_page_carries_the_csp_and_no_inline_script_or_style(
    app, client, login, make_user, make_patient
):
    assert_strict_html(client.get("/auth/login"))
    assert_strict_html(client.get("/does-not-exist"))
    bundle = make_patient()
    assert_strict_html(client.get(f"/auth/invite/{bundle.invitation_token}"))
    for user in (make_user(Role.ADMIN), make_user(Role.THERAPIST), bundle.user):
        login(user)
        for rule in _get_rules(app):
            if user.role.value in ACCESS[rule.endpoint] and not rule.rule.startswith("/api/"):
                assert_strict_html(client.get(rule.rule))
        client.post("/auth/logout")


def test_security_headers_are_set_and_authenticated_pages_are_not_cached(client, login, make_user):
    anonymous = client.get("/auth/login")
    assert anonymous.headers["X-Content-Type-Options"] == "nosniff"
    assert anonymous.headers["Referrer-Policy"] == "no-referrer"
    assert anonymous.headers["X-Frame-Options"] == "DENY"
    login(make_user())
    page = client.get("/caseload/")
    assert page.headers["Cache-Control"] == "no-store"
    assert "Cookie" in page.headers["Vary"]


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
