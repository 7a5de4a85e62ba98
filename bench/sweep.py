"""Benchmark: `alerts sweep` over 10,000 synthetic patients, and the cost of one log with a
week against two years of history.

Budgets (DESIGN §5): the sweep in well under a minute, linear in patients (timelines load in
batches); logging costs the same (within 1.5×) with 1 week or 2 years of history, because the
rules read a bounded window. Run with `make bench`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.alerts.engine import sweep  # noqa: E402
from app.db import sqlite_immediate, utcnow  # noqa: E402
from app.extensions import db  # noqa: E402
from app.patient.models import Patient  # noqa: E402
from app.patient.sessions import ExerciseResult, SessionReport, log_session  # noqa: E402
from app.programs.models import Program  # noqa: E402
from bench.synth import bench_app, build_clinic  # noqa: E402


def sweep_benchmark(url: str, patients: int, days: int) -> dict:
    app = bench_app(url)
    now = utcnow()
    with app.app_context(), sqlite_immediate():
        started = time.perf_counter()
        for batch in range(0, patients, 1000):
            build_clinic(
                min(1000, patients - batch),
                days,
                now,
                seed=batch,
                with_exercise_rows=False,
                name=f"Sweep clinic {batch}",
            )
            db.session.commit()
        build = time.perf_counter() - started
        started = time.perf_counter()
        first = sweep(now)
        first_seconds = time.perf_counter() - started
        started = time.perf_counter()
        second = sweep(now)
        second_seconds = time.perf_counter() - started
        return {
            "database": db.engine.dialect.name,
            "patients": first.patients,
            "days_of_history": days,
            "build_seconds": round(build, 1),
            "first_sweep_seconds": round(first_seconds, 1),
            "first_sweep_alerts_created": len(first.created),
            "repeat_sweep_seconds": round(second_seconds, 1),
            "repeat_sweep_alerts_created": len(second.created),
            "patients_per_second": round(first.patients / first_seconds),
        }


def log_cost_benchmark(url: str, runs: int) -> dict:
    app = bench_app(url)
    now = utcnow()
    result: dict = {}
    with app.app_context(), sqlite_immediate():
        for label, days in (("1_week", 7), ("2_years", 730)):
            clinic = build_clinic(
                1, days, now - timedelta(hours=1), seed=days, name=f"Log cost {label}"
            )
            db.session.commit()
            patient = db.session.get(Patient, clinic.patient_ids[0])
            program = db.session.scalar(db.select(Program).where(Program.patient_id == patient.id))
            items = list(program.items)
            timings = []
            for run in range(runs + 3):
                at = now - timedelta(minutes=50 - run * 0.5)
                report = SessionReport(
                    id=str(uuid.uuid4()),
                    program_id=program.id,
                    completed_at=at,
                    pain_before=5,
                    pain_after=5,
                    effort=4,
                    exercises=tuple(ExerciseResult(i.id, "done", pain_during=5) for i in items),
                )
                started = time.perf_counter()
                log_session(patient, report, now=at)
                db.session.commit()
                if run >= 3:
                    timings.append((time.perf_counter() - started) * 1000)
            result[f"log_{label}_median_ms"] = round(statistics.median(timings), 2)
    result["ratio_2_years_to_1_week"] = round(
        result["log_2_years_median_ms"] / result["log_1_week_median_ms"], 2
    )
    result["runs"] = runs
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=45)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args()
    from bench.results import record

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/sweep.sqlite3"
        result = sweep_benchmark(url, args.patients, args.days)
        print(result)
        record("alerts_sweep", result)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/log.sqlite3"
        result = log_cost_benchmark(url, args.runs)
        print(result)
        record("log_session_cost", result)


if __name__ == "__main__":
    main()
