"""schemathesis against /api/v1/openapi.json, as a therapist and as a patient (DESIGN §6).

Every operation of the document gets generated requests — valid (positive) and invalid
(negative) bodies, queries and path parameters — with a fixed example budget so CI time stays
predictable. Zero 5xx, and every answer conforms to the document (status codes, content types,
response bodies). The strategies come from schemathesis; hypothesis runs them.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode, checks

from app.enums import AlertKind, Role
from app.extensions import db

EXAMPLES = 15  # per operation, mode and role
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def session_cookie(app, login, make_patient, make_alert):  # type: ignore[no-untyped-def]
    """Log a therapist or a patient of a small clinic with real data in; return their cookie."""
    bundle = make_patient(start_days_ago=10)
    make_alert(bundle, AlertKind.PERSISTENT_PAIN)
    name = app.config["SESSION_COOKIE_NAME"]

    def cookie_of(role: Role) -> dict[str, str]:
        user = bundle.therapist if role is Role.THERAPIST else bundle.user
        client = login(user, test_client=app.test_client())
        return {name: client.get_cookie(name).value}

    return cookie_of


def isolated(app):  # type: ignore[no-untyped-def]
    """Serve each request in an app context of its own, as in production (not the test's)."""

    def wsgi(environ, start_response):  # type: ignore[no-untyped-def]
        db.session.commit()  # let the request see what the test stored
        with app.app_context():
            return list(app(environ, start_response))

    return wsgi


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
@pytest.mark.parametrize("role", [Role.THERAPIST, Role.PATIENT], ids=lambda r: r.value)
def test_no_generated_api_request_answers_5xx_or_breaks_the_document(
    app, session_cookie, role, mode
):
    cookies = session_cookie(role)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", isolated(app))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:

        @FUZZ
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case):  # type: ignore[no-untyped-def]
            # The document's cookie security scheme makes schemathesis invent a session cookie;
            # the real one of the logged-in user replaces it.
            case.cookies = {**(case.cookies or {}), **cookies}
            response = case.call(headers={"X-CSRFToken": "tests-need-none"})
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except Exception as error:
            raise AssertionError(f"{operation.method.upper()} {operation.path}: {error}") from error
