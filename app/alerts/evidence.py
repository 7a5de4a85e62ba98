"""What a finding of the alert rules carries (CLINICAL §5 "evidence shows the numbers"): the
finding itself, its exact evidence and the ids of the data behind it, and the function trend in
words. Pure, like the rules that use it (app/alerts/rules.py keeps the rule table together).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any, Final

from app.clinical import numbers
from app.clinical.assessment import Assessment
from app.clinical.policy import Policy
from app.clinical.timeline import FunctionFact, Timeline
from app.enums import AlertKind, Severity

RULES_VERSION: Final = "2026.1"


@dataclass(frozen=True)
class Finding:
    """One alert the rules raise: what, how serious, why (with the numbers) and from which data.

    ``evidence`` is JSON-ready: exact fractions as strings ("17/3") with a ``*_rounded`` float
    beside each, dates as ISO strings.
    """

    kind: AlertKind
    severity: Severity
    rule_id: str
    rule_version: str
    reason: str
    evidence: Mapping[str, Any]
    session_ids: tuple[int, ...]
    check_in_ids: tuple[int, ...] = ()


def exact_pair(name: str, value: Fraction | int | None) -> dict[str, Any]:
    """Return ``name`` as an exact string ("17/3") and ``name_rounded`` as a float."""
    if value is None:
        return {name: None, f"{name}_rounded": None}
    exact = Fraction(value)
    # + 0.0 turns a rounded -0.0 into 0.0.
    return {name: str(exact), f"{name}_rounded": round(float(exact), 2) + 0.0}


def iso_day(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def common_evidence(timeline: Timeline, a: Assessment) -> dict[str, Any]:
    """Return the numbers every finding carries: baseline, current, adherence and windows."""
    adherence = a.adherence
    return {
        "patient_id": timeline.patient_id,
        "today": a.today.isoformat(),
        "episode_start": iso_day(timeline.episode_start),
        "program_day": a.program_day,
        **exact_pair("baseline", a.baseline),
        **exact_pair("current", a.current),
        **exact_pair("change_points", a.change.points),
        **exact_pair("change_percent", a.change.percent),
        "pain_status": a.status.value,
        "recovered": a.change.recovered,
        "readings_used": a.readings_used,
        "current_window": {
            "start": a.current_window[0].isoformat(),
            "end": a.current_window[1].isoformat(),
        },
        **exact_pair("adherence", None if adherence is None else adherence.ratio),
        "adherence_band": "unknown" if adherence is None else adherence.band.value,
        "adherence_window": None
        if adherence is None
        else {
            "start": adherence.window_start.isoformat(),
            "end": adherence.window_end.isoformat(),
            "completed": adherence.completed,
            "scheduled": adherence.scheduled,
        },
    }


def make_finding(
    kind: AlertKind,
    severity: Severity,
    policy: Policy,
    reason: str,
    evidence: dict[str, Any],
    session_ids: Iterable[int] = (),
    check_in_ids: Iterable[int] = (),
) -> Finding:
    return Finding(
        kind=kind,
        severity=severity,
        rule_id=f"CLINICAL-5/{kind.value}",
        rule_version=f"{RULES_VERSION}/{policy.version}",
        reason=reason,
        evidence=evidence,
        session_ids=tuple(sorted(set(session_ids))),
        check_in_ids=tuple(sorted(set(check_in_ids))),
    )


def in_window(day: date, first: date, last: date) -> bool:
    return first <= day <= last


def current_window_ids(a: Assessment) -> tuple[list[int], list[int]]:
    """Return the ids of the sessions and check-ins whose readings make up ``current``."""
    first, last = a.current_window
    sessions = [s.id for s in a.sessions if in_window(s.local_date, first, last)]
    check_ins = [
        c.id
        for c in a.check_ins
        if c.morning_pain is not None and in_window(c.local_date, first, last)
    ]
    return sessions, check_ins


def function_text(fact: FunctionFact) -> str:
    """Say a function trend in words: "PSFS 3 → 5.3 (+2.3; its minimal important change is 2)"."""
    met = "reaches" if fact.mic_met else "below"
    return (
        f"{fact.instrument.upper()} {numbers.trimmed(fact.first)} → "
        f"{numbers.trimmed(fact.latest)} ({numbers.signed(fact.change)}, {met} its minimal "
        f"important change of {numbers.trimmed(fact.mic_points)})"
    )


def function_evidence(fact: FunctionFact | None) -> dict[str, Any] | None:
    """The PSFS numbers behind the severity, exact (CLINICAL §5: evidence shows the numbers)."""
    if fact is None:
        return None
    return {
        "instrument": fact.instrument,
        **exact_pair("first", fact.first),
        **exact_pair("latest", fact.latest),
        **exact_pair("change", fact.change),
        **exact_pair("mic", fact.mic_points),
        "first_on": fact.first_on.isoformat(),
        "latest_on": fact.latest_on.isoformat(),
        "count": fact.count,
        "mic_met": fact.mic_met,
    }
