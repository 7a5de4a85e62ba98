"""Benchmark: the caseload page for one therapist with 300 patients and a year of history each.

Budget (DESIGN §5): a fixed number of SQL queries whatever the caseload size, and a median
server time of at most 50 ms on a 2-core machine. Run with `make bench`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.alerts.engine import sweep  # noqa: E402
from app.db import sqlite_immediate, utcnow  # noqa: E402
from app.extensions import db  # noqa: E402
from bench.synth import PASSWORD, bench_app, build_clinic  # noqa: E402


def measure(database_url: str, patients: int, days: int, runs: int) -> dict:
    app = bench_app(database_url)
    now = utcnow()
    with app.app_context():
        started = time.perf_counter()
        with sqlite_immediate():
            clinic = build_clinic(patients, days, now)
            db.session.commit()
            build_seconds = time.perf_counter() - started
            started = time.perf_counter()
            sweep(now)
            sweep_seconds = time.perf_counter() - started
        rows = {
            table: db.session.scalar(sa.text(f"SELECT count(*) FROM {table}"))
            for table in ("sessions", "session_exercises", "check_ins", "alerts")
        }
        email = clinic.therapist.email
        db.session.remove()

    client = app.test_client()
    response = client.post("/auth/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def count(*_args) -> None:  # type: ignore[no-untyped-def]
        statements.append("q")

    timings = []
    for run in range(runs + 2):
        statements.clear()
        sa.event.listen(engine, "before_cursor_execute", count)
        started = time.perf_counter()
        page = client.get("/caseload/")
        elapsed = time.perf_counter() - started
        sa.event.remove(engine, "before_cursor_execute", count)
        assert page.status_code == 200
        assert page.get_data(as_text=True).count('scope="row"') == patients
        if run >= 2:  # the first requests warm caches (templates, statements)
            timings.append(elapsed * 1000)
    return {
        "database": engine.dialect.name,
        "patients": patients,
        "days": days,
        "rows": rows,
        "build_seconds": round(build_seconds, 1),
        "sweep_seconds": round(sweep_seconds, 2),
        "queries": len(statements),
        "median_ms": round(statistics.median(timings), 1),
        "p90_ms": round(sorted(timings)[int(len(timings) * 0.9) - 1], 1),
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
        result = measure(url, args.patients, args.days, args.runs)
    print(result)
    from bench.results import record

    record("caseload", result)


if __name__ == "__main__":
    main()
