"""Deployment smoke test: gunicorn with 2 workers over a throwaway PostgreSQL database drives
the core flow over HTTP, CSRF on: a therapist invites and assigns, the patient accepts, logs a
session and answers a red-flag question, and the alert is on the therapist's caseload."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime

import pytest

from tests.conftest import POSTGRES_ADMIN_URL, skip_or_fail, throwaway_postgres
from tests.deploy.conftest import api, enrol_over_http, free_port, gunicorn, prepare, session_body


@pytest.fixture
def postgres_url():  # type: ignore[no-untyped-def]
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("runs once, in the PostgreSQL run of the suite (make test-postgres)")
    try:
        with throwaway_postgres(POSTGRES_ADMIN_URL) as url:
            yield url
    except ConnectionError as exc:
        skip_or_fail(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc}")


def test_the_core_flow_works_on_gunicorn_with_two_workers_over_postgresql(server_env, postgres_url):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**server_env, "DATABASE_URL": postgres_url, "PUBLIC_BASE_URL": base}
    prepare(env)

    with gunicorn(env, port, workers=2):
        therapist, patient, program, csrf = enrol_over_http(base)
        now = datetime.now(UTC).isoformat()
        status, session = api(patient, "/api/v1/sessions", session_body(program, now), csrf)
        assert status == 201, session
        status, answer = api(
            patient,
            "/api/v1/checkins",
            {"id": str(uuid.uuid4()), "recorded_at": now, "red_flags": {"RF3": True}},
            csrf,
        )
        assert status == 201, answer
        assert answer["instruction"]["level"] == "emergency"

        status, text = therapist.call("/api/v1/caseload")
        row = json.loads(text)["patients"][0]
        assert status == 200
        assert row["name"] == "Sam Smoke" and row["open_alerts"].get("urgent") == 1
