"""Run the app the way it is deployed: gunicorn worker processes over a real database."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flask(env: dict[str, str], *args: str) -> str:
    """Run a `flask` command of the app with `env`; return what it printed."""
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@contextmanager
def gunicorn(env: dict[str, str], port: int, workers: int = 2) -> Iterator[subprocess.Popen]:
    """Serve the app with gunicorn until the block ends (or the test kills it)."""
    log = open(Path(env.get("TMPDIR", "/tmp")) / f"gunicorn-{port}.log", "w+b")  # noqa: SIM115
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--graceful-timeout",
            "2",
            "app:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
        start_new_session=True,  # its own process group, so a kill reaches every worker
    )
    try:
        wait_until_up(port, process, log)
        yield process
    finally:
        log.close()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def wait_until_up(port: int, process: subprocess.Popen, log) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise AssertionError(log.read().decode()[-2000:])
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not come up in 30 s")


def kill(process: subprocess.Popen) -> None:
    """SIGKILL the server and its workers at once: no cleanup, like a power cut of the process."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


@pytest.fixture
def server_env(tmp_path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The environment of a deployed app (development settings: plain HTTP on loopback)."""
    return {
        **os.environ,
        "HOMESTRETCH_ENV": "development",
        "SECRET_KEY": "deploy-test-secret-key-0123456789",
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_KIB": "1024",
        "RATELIMIT_LOGIN": "1000 per minute",
        "CI": "",
    }


THERAPIST = "deploy.therapist@example.org"
PASSWORD = "deploy test password"


def api(browser, path: str, body: object, csrf: str) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    """POST JSON with the CSRF header; return the status and the parsed answer."""
    status, text = browser.call(path, json_body=body, headers={"X-CSRFToken": csrf})
    return status, json.loads(text)


def prepare(env: dict[str, str]) -> None:
    """Build the schema, load the content and create the therapist, as an operator would."""
    flask(env, "db", "upgrade")
    flask(env, "content", "load")
    flask(
        env, "users", "create", "--role", "therapist", "--email", THERAPIST, "--password", PASSWORD
    )


def enrol_over_http(base: str, email: str = "sam@example.org"):  # type: ignore[no-untyped-def]
    """A therapist invites a patient and assigns stage 1; the patient accepts the invitation.

    Returns (therapist browser, patient browser, the patient's program, the patient's CSRF token).
    """
    from tests.conftest import Browser

    therapist = Browser(base)
    assert therapist.log_in(THERAPIST, PASSWORD) == 200
    csrf = therapist.csrf_token("/caseload/")
    status, created = api(
        therapist,
        "/api/v1/patients",
        {"name": "Sam Smoke", "timezone": "Europe/London", "email": email},
        csrf,
    )
    assert status == 201, created
    assert created["invitation_url"].startswith(base + "/auth/invite/")
    status, program = api(
        therapist,
        f"/api/v1/patients/{created['id']}/program",
        {"template": "low-back-core-stability", "stage": 1},
        csrf,
    )
    assert status == 201, program
    patient = Browser(base)
    status, _ = patient.form_post(
        created["invitation_url"][len(base) :], {"email": email, "password": PASSWORD}
    )
    assert status == 200  # accepted, and taken to /today
    return therapist, patient, program, patient.csrf_token("/today")


def session_body(program: dict, when: str, client_id: str | None = None) -> dict:
    return {
        "id": client_id or str(uuid.uuid4()),
        "program_id": program["id"],
        "completed_at": when,
        "pain_before": 4,
        "exercises": [{"program_item_id": program["items"][0]["id"], "status": "done"}],
    }
