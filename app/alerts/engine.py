"""What happens after a patient's data changes: refresh the caseload summary from the bounded
timeline (and, with the alert rules, evaluate alerts) in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from app.alerts.timeline import load_timelines
from app.caseload.summary import refresh_summaries


def patient_changed(patient_ids: Iterable[int], now: datetime) -> None:
    """Bring the read model up to date for these patients (the caller commits)."""
    ids = list(dict.fromkeys(patient_ids))
    timelines = load_timelines(ids, now)
    refresh_summaries(ids, now, timelines)
