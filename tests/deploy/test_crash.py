"""A crash loses nothing that was acknowledged: the server is killed with SIGKILL in the middle
of a stream of session posts; after a restart every session that had been answered 2xx is
stored, and resending everything (as the phone's outbox does) stores none twice."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import sqlalchemy as sa

from tests.deploy.conftest import (
    api,
    enrol_over_http,
    free_port,
    gunicorn,
    kill,
    prepare,
    session_body,
)


def test_sessions_answered_2xx_survive_a_sigkill_and_resending_stores_none_twice(
    server_env, tmp_path
):
    database = tmp_path / "crash.sqlite3"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**server_env, "DATABASE_URL": f"sqlite:///{database}", "PUBLIC_BASE_URL": base}
    prepare(env)
    sent: list[dict] = []
    acknowledged: set[str] = set()

    with gunicorn(env, port, workers=2) as server:
        _, patient, program, csrf = enrol_over_http(base)
        when = datetime.now(UTC).isoformat()

        def stream() -> None:
            while True:
                body = session_body(program, when)
                sent.append(body)
                try:
                    status, _ = api(patient, "/api/v1/sessions", body, csrf)
                except OSError:
                    return  # the server is gone: this one may or may not have been stored
                if 200 <= status < 300:
                    acknowledged.add(body["id"])

        poster = threading.Thread(target=stream)
        poster.start()
        while len(acknowledged) < 15:
            time.sleep(0.01)
        kill(server)
        poster.join(timeout=30)

    with gunicorn(env, port, workers=2):
        # The phone's outbox sends again whatever it holds, acknowledged or not.
        answers = {body["id"]: api(patient, "/api/v1/sessions", body, csrf)[0] for body in sent}

    assert all(answers[key] == 200 for key in acknowledged), answers  # stored before the kill
    assert set(answers.values()) <= {200, 201}
    engine = sa.create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT client_id FROM sessions")).scalars().all()
    engine.dispose()
    assert len(rows) == len(set(rows)) == len(sent)
