"""Lighthouse (mobile) on the patient pages, against the demo clinic in the system Chromium.

DESIGN §5 budget: performance ≥ 95 and accessibility 100 on the patient pages. Scores are noisy
on 2 cores, so this is a benchmark report, not a CI gate (STACK). Needs Node.js and npm: the
script installs lighthouse@12.2.3 into a temporary folder. Run with `make lighthouse`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.db import sqlite_immediate, utcnow  # noqa: E402
from app.demo import DEMO_PASSWORD, seed_demo  # noqa: E402
from app.extensions import db  # noqa: E402
from tests.conftest import CHROMIUM_ARGS, start_live_server, system_chromium  # noqa: E402

PAGES = ("/today", "/progress", "/checkin")


def main() -> None:
    chromium = system_chromium()
    if chromium is None:
        sys.exit("No system Chromium (apt-get install -y chromium).")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                "npm",
                "install",
                "--silent",
                "--no-audit",
                "--no-fund",
                "--prefix",
                tmp,
                "lighthouse@12.2.3",
            ],
            check=True,
        )
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/demo.sqlite3", "WTF_CSRF_ENABLED": False}
        )
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            with sqlite_immediate():
                seed_demo(utcnow())
                db.session.commit()
        server = start_live_server(app)
        try:
            client = app.test_client()
            client.post(
                "/auth/login", data={"email": "maria@example.com", "password": DEMO_PASSWORD}
            )
            cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
            headers = json.dumps({"Cookie": f"{cookie.key}={cookie.value}"})
            scores = {}
            for path in (*PAGES, f"/session/{_program_id(app)}"):
                out = Path(tmp) / "report.json"
                subprocess.run(
                    [
                        f"{tmp}/node_modules/.bin/lighthouse",
                        server.url + path,
                        "--output=json",
                        f"--output-path={out}",
                        "--quiet",
                        "--only-categories=performance,accessibility",
                        f"--extra-headers={headers}",
                        "--chrome-flags=--headless " + " ".join(CHROMIUM_ARGS),
                    ],
                    check=True,
                    env={
                        "CHROME_PATH": chromium,
                        "PATH": "/usr/bin:/bin:/usr/local/bin",
                        "HOME": tmp,
                    },
                )
                report = json.loads(out.read_text())
                scores[path.split("/")[1] or path] = {
                    name: round(category["score"] * 100)
                    for name, category in report["categories"].items()
                }
                print(path, scores[path.split("/")[1] or path])
        finally:
            server.stop()
    from bench.results import record

    record("lighthouse_mobile", scores)


def _program_id(app) -> int:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    from app.auth.models import User
    from app.patient.models import Patient
    from app.programs.models import Program

    with app.app_context():
        return db.session.scalar(
            sa.select(Program.id)
            .join(Patient, Patient.id == Program.patient_id)
            .join(User, User.id == Patient.user_id)
            .where(User.email == "maria@example.com", Program.status != "ended")
        )


if __name__ == "__main__":
    main()
