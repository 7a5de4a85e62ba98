"""Benchmark: the therapist's patient page after one week and after two years of history.

Budget (DESIGN §5): the same number of queries and the same time whatever the history (the page
shows the recent weeks and pages back through older ones). Run with `make bench`.
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


def measure(database_url: str, runs: int) -> dict:
    app = bench_app(database_url)
    now = utcnow()
    histories = {"1_week": 7, "2_years": 730}
    targets = {}
    with app.app_context():
        with sqlite_immediate():
            for label, days in histories.items():
                clinic = build_clinic(1, days, now, name=f"Page bench {label}")
                db.session.commit()
                targets[label] = (clinic.therapist.email, clinic.patient_ids[0])
            sweep(now)
        rows = db.session.scalar(sa.text("SELECT count(*) FROM sessions"))
        engine = db.engine
        db.session.remove()

    statements: list[str] = []

    def count(*_args) -> None:  # type: ignore[no-untyped-def]
        statements.append("q")

    result: dict = {"database": engine.dialect.name, "sessions_stored": rows, "runs": runs}
    for label, (email, patient_id) in targets.items():
        client = app.test_client()
        response = client.post("/auth/login", data={"email": email, "password": PASSWORD})
        assert response.status_code == 302, response.status_code
        timings, queries, size = [], 0, 0
        for run in range(runs + 2):
            statements.clear()
            sa.event.listen(engine, "before_cursor_execute", count)
            started = time.perf_counter()
            page = client.get(f"/caseload/patients/{patient_id}")
            elapsed = time.perf_counter() - started
            sa.event.remove(engine, "before_cursor_execute", count)
            assert page.status_code == 200
            if run >= 2:  # the first requests warm caches (templates, statements)
                timings.append(elapsed * 1000)
                queries, size = len(statements), len(page.get_data())
        result[f"{label}_queries"] = queries
        result[f"{label}_median_ms"] = round(statistics.median(timings), 1)
        result[f"{label}_kb"] = round(size / 1024, 1)
    result["ratio_2_years_to_1_week"] = round(
        result["2_years_median_ms"] / result["1_week_median_ms"], 2
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
        result = measure(url, args.runs)
    print(result)
    assert result["1_week_queries"] == result["2_years_queries"], result
    from bench.results import record

    record("patient_page", result)


if __name__ == "__main__":
    main()
