"""Alert rules (CLINICAL §5–§6): a patient's timeline, a policy and ``now`` in, findings out.

Pure: no database, no Flask, no clock. ``now`` is an aware instant; the patient's "today" is its
local calendar date in the timeline's IANA timezone, and every window is counted in local days.
All arithmetic is exact (``Fraction``); the clinical computations come from ``app.clinical``.
The engine that persists findings owns deduplication, rearm and the red-flag exemption from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from fractions import Fraction
from math import floor
from typing import Any, Final

from app.clinical.adherence import (
    Adherence,
    ScheduleChange,
    StatusChange,
    adherence_14d,
    missed_last_scheduled,
)
from app.clinical.pain import (
    PainChange,
    PainStatus,
    Reading,
    baseline,
    current,
    pain_change,
    program_day,
)
from app.clinical.policy import Policy
from app.clinical.red_flags import Level
from app.clinical.traffic_light import Light
from app.enums import AlertKind, Severity
from app.timeutil import local_date

RULES_VERSION: Final = "2026.1"

# Not in Policy (a window, not a clinical threshold): a red-flag check-in raises an alert while it
# lies in the timeline's window of the last 31 local days (STACK "Timelines in batches").
RED_FLAG_LOOKBACK_DAYS: Final = 31
# Not in Policy: the built-in template has four stages (CLINICAL §7); from the last one the
# suggestion is discharge to a maintenance routine instead of the next stage.
FINAL_STAGE: Final = 4

# CLINICAL §5 table: red-flag level → alert kind and severity.
_RED_FLAG_ALERTS: Final[dict[Level, tuple[AlertKind, Severity]]] = {
    Level.EMERGENCY: (AlertKind.RED_FLAG_EMERGENCY, Severity.URGENT),
    Level.URGENT: (AlertKind.RED_FLAG_URGENT, Severity.HIGH),
    Level.PROMPT: (AlertKind.RED_FLAG_PROMPT, Severity.MEDIUM),
}
# CLINICAL §5 "therapist sees", in words for the reason.
_RED_FLAG_ACTIONS: Final[dict[Level, str]] = {
    Level.EMERGENCY: "the patient was told to go to an emergency department now",
    Level.URGENT: "contact the patient today",
    Level.PROMPT: "review within 48 h",
}


# --- facts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionFact:
    """One logged session, reduced to what the rules read."""

    id: int
    local_date: date
    completed: bool  # CLINICAL §3: ≥ 75 % of its items done or partly done
    light: Light  # CLINICAL §4
    effort: int | None  # CLINICAL §1: RPE 0–10, optional
    pain_before: int  # CLINICAL §1: a resting-pain reading
    stage: int


@dataclass(frozen=True)
class CheckInFact:
    """One check-in, reduced to what the rules read."""

    id: int
    local_date: date
    morning_pain: int | None  # CLINICAL §1: a resting-pain reading when present
    red_flag_level: Level  # CLINICAL §6, already classified
    yes: tuple[str, ...]  # question ids answered yes, e.g. ("RF2",)


@dataclass(frozen=True)
class Timeline:
    """A patient's bounded history: episode days 1–14 and the last 31 local days.

    With no ``episode_start`` (no program yet) only red flags can fire (CLINICAL §2).
    ``program_status`` is "active", "paused", "suspended", "ended" or "none".
    """

    patient_id: int
    timezone: str
    episode_start: date | None
    intake_pain: int | None
    stage: int | None
    stage_started_on: date | None
    program_status: str
    schedule: tuple[ScheduleChange, ...]
    statuses: tuple[StatusChange, ...]
    sessions: tuple[SessionFact, ...]
    check_ins: tuple[CheckInFact, ...]
    has_logged_in: bool
    # CLINICAL §5: a function measure improved by its minimal important change.
    function_improved: bool = False


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


@dataclass(frozen=True)
class Assessment:
    """The numbers every rule shares, computed once per evaluation.

    ``sessions``, ``check_ins`` and ``readings`` are those of the episode up to today (none before
    day 1). ``adherence`` is None outside the program. ``partial_adherence_hold`` is True when the
    pain conditions of PERSISTENT_PAIN or NON_RESPONSE_6W hold but known adherence is below the
    adherent cut-off: no alert, the therapist sees "partial adherence" (CLINICAL §5).
    """

    today: date
    program_day: int | None
    in_program: bool
    sessions: tuple[SessionFact, ...]
    check_ins: tuple[CheckInFact, ...]
    readings: tuple[Reading, ...]
    current_window: tuple[date, date]
    readings_used: int
    change: PainChange
    adherence: Adherence | None
    completed_dates: tuple[date, ...] = ()
    partial_adherence_hold: bool = False

    @property
    def baseline(self) -> Fraction | None:
        return self.change.baseline

    @property
    def current(self) -> Fraction | None:
        return self.change.current

    @property
    def status(self) -> PainStatus:
        return self.change.status


# --- assessment --------------------------------------------------------------------------------


def _order(fact: SessionFact | CheckInFact) -> tuple[date, int]:
    """Sort facts by local date, then by id (the order they were recorded in)."""
    return (fact.local_date, fact.id)


def patient_today(timeline: Timeline, now: datetime) -> date:
    """Return the patient's local calendar date at ``now`` (an aware instant)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be an aware datetime, got {now!r}")
    # DESIGN §3: days are the patient's local calendar days.
    return local_date(now, timeline.timezone)


def assess(timeline: Timeline, policy: Policy, now: datetime) -> Assessment:
    """Compute today, program day, baseline, current, pain change and adherence once."""
    today = patient_today(timeline, now)
    start = timeline.episode_start
    window = (today - timedelta(days=policy.current_days - 1), today)
    if start is None or today < start:
        # CLINICAL §2: before program day 1 (or with no episode) no trend or adherence rule fires.
        return Assessment(
            today=today,
            program_day=None if start is None else program_day(start, today),
            in_program=False,
            sessions=(),
            check_ins=(),
            readings=(),
            current_window=window,
            readings_used=0,
            change=pain_change(None, None, policy),
            adherence=None,
        )

    # A fact belongs to the episode from its local date on; facts after today are not yet known
    # at ``now`` (a replayed history must give the same answer as the live one).
    sessions = tuple(
        sorted((s for s in timeline.sessions if start <= s.local_date <= today), key=_order)
    )
    check_ins = tuple(
        sorted((c for c in timeline.check_ins if start <= c.local_date <= today), key=_order)
    )
    # CLINICAL §1: resting-pain readings = session pain before + check-in morning pain.
    readings = tuple(
        sorted(
            [Reading(s.local_date, s.pain_before) for s in sessions]
            + [
                Reading(c.local_date, c.morning_pain)
                for c in check_ins
                if c.morning_pain is not None
            ],
            key=lambda reading: reading.local_date,
        )
    )
    # CLINICAL §2: baseline (intake fallback) and current, compared exactly.
    change = pain_change(
        baseline(readings, start, timeline.intake_pain, policy),
        current(readings, today, policy),
        policy,
    )
    readings_used = sum(1 for r in readings if window[0] <= r.local_date <= window[1])
    # CLINICAL §3: adherence over max(day 1, today − 13) … today.
    completed_dates = tuple(s.local_date for s in sessions if s.completed)
    adherence = adherence_14d(
        completed_dates, timeline.schedule, timeline.statuses, start, today, policy
    )
    assessment = Assessment(
        today=today,
        program_day=program_day(start, today),
        in_program=True,
        sessions=sessions,
        check_ins=check_ins,
        readings=readings,
        current_window=window,
        readings_used=readings_used,
        change=change,
        adherence=adherence,
        completed_dates=completed_dates,
    )
    # CLINICAL §5: adherence below 80 % holds back PERSISTENT_PAIN and NON_RESPONSE_6W; the
    # therapist sees "partial adherence" instead. Unknown adherence is not "below 80 %".
    hold = (
        adherence.ratio is not None
        and adherence.ratio < policy.adherent
        and (_persistent_signs(assessment, policy) or _non_response_signs(assessment, policy))
    )
    return replace(assessment, partial_adherence_hold=True) if hold else assessment


def _not_improved(a: Assessment) -> bool:
    """Return whether pain is known and not IMPROVED (NO_CHANGE or WORSENED)."""
    # CLINICAL §2: with current unknown no trend rule fires, so UNKNOWN is not "not improved".
    return a.status in (PainStatus.NO_CHANGE, PainStatus.WORSENED)


def _persistent_signs(a: Assessment, policy: Policy) -> bool:
    """Return whether the pain conditions of PERSISTENT_PAIN hold (CLINICAL §5)."""
    return (
        a.in_program
        and a.program_day is not None
        and a.program_day >= policy.persistent_day
        and _not_improved(a)
        and a.current is not None
        and a.current >= policy.persistent_min_current
    )


def _non_response_signs(a: Assessment, policy: Policy) -> bool:
    """Return whether the pain conditions of NON_RESPONSE_6W hold (CLINICAL §5)."""
    return (
        a.in_program
        and a.program_day is not None
        and a.program_day >= policy.non_response_day
        and _not_improved(a)
        and a.current is not None
        and a.current >= policy.non_response_min_current
    )


def _adherent(a: Assessment, policy: Policy) -> bool:
    """Return whether adherence is known and at least the adherent cut-off (CLINICAL §3)."""
    return (
        a.adherence is not None
        and a.adherence.ratio is not None
        and a.adherence.ratio >= policy.adherent
    )


# --- evidence and reasons ----------------------------------------------------------------------


def _exact(name: str, value: Fraction | int | None) -> dict[str, Any]:
    """Return ``name`` as an exact string ("17/3") and ``name_rounded`` as a float."""
    if value is None:
        return {name: None, f"{name}_rounded": None}
    exact = Fraction(value)
    # + 0.0 turns a rounded -0.0 into 0.0.
    return {name: str(exact), f"{name}_rounded": round(float(exact), 2) + 0.0}


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _common_evidence(timeline: Timeline, a: Assessment) -> dict[str, Any]:
    """Return the numbers every finding carries: baseline, current, adherence and windows."""
    adherence = a.adherence
    return {
        "patient_id": timeline.patient_id,
        "today": a.today.isoformat(),
        "episode_start": _iso(timeline.episode_start),
        "program_day": a.program_day,
        **_exact("baseline", a.baseline),
        **_exact("current", a.current),
        **_exact("change_points", a.change.points),
        **_exact("change_percent", a.change.percent),
        "pain_status": a.status.value,
        "recovered": a.change.recovered,
        "readings_used": a.readings_used,
        "current_window": {
            "start": a.current_window[0].isoformat(),
            "end": a.current_window[1].isoformat(),
        },
        **_exact("adherence", None if adherence is None else adherence.ratio),
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


def _fixed(value: Fraction | int, places: int) -> str:
    """Format ``value`` with ``places`` decimals, rounding halves away from zero, exactly."""
    # CLINICAL §2: no binary floating point, so 1.25 shows as 1.3 and 12.5 % as 13 %.
    scaled = floor(abs(Fraction(value)) * 10**places + Fraction(1, 2))
    whole, decimals = divmod(scaled, 10**places)
    sign = "-" if value < 0 and scaled else ""
    return f"{sign}{whole}.{decimals:0{places}d}" if places else f"{sign}{whole}"


def _pain(value: Fraction | None) -> str:
    """Format a resting-pain mean with one decimal ("5.7"), or "unknown"."""
    return "unknown" if value is None else _fixed(value, 1)


def _signed(value: Fraction | int, places: int) -> str:
    """Format a change with its sign and at most ``places`` decimals: "+2", "-1.4", "0"."""
    text = _fixed(value, places)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("0", "-0"):
        return "0"
    return text if text.startswith("-") else f"+{text}"


def _percent(ratio: Fraction) -> str:
    """Format a ratio as a whole percentage ("93 %")."""
    return f"{_fixed(ratio * 100, 0)} %"


def _adherence_text(a: Assessment) -> str:
    """Describe adherence and its window: "93 % adherence over 14 days"."""
    adherence = a.adherence
    if adherence is None:
        return "unknown adherence"
    days = (adherence.window_end - adherence.window_start).days + 1
    if adherence.ratio is None:
        return f"unknown adherence (no scheduled day in the last {days} days)"
    return f"{_percent(adherence.ratio)} adherence over {days} days"


def _trend_text(a: Assessment) -> str:
    """Describe the pain trend: "6.0 → 6.0 (0 points, 0 %) after 24 days with 93 % …"."""
    change = a.change
    if change.points is None:
        points = "change unknown"
    else:
        unit = "point" if abs(change.points) == 1 else "points"
        percent = "n/a" if change.percent is None else f"{_signed(change.percent, 0)} %"
        points = f"{_signed(change.points, 1)} {unit}, {percent}"
    return (
        f"{_pain(change.baseline)} → {_pain(change.current)} ({points}) "
        f"after {a.program_day} days with {_adherence_text(a)}"
    )


def _finding(
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


def _in_window(day: date, first: date, last: date) -> bool:
    return first <= day <= last


def _current_window_ids(a: Assessment) -> tuple[list[int], list[int]]:
    """Return the ids of the sessions and check-ins whose readings make up ``current``."""
    first, last = a.current_window
    sessions = [s.id for s in a.sessions if _in_window(s.local_date, first, last)]
    check_ins = [
        c.id
        for c in a.check_ins
        if c.morning_pain is not None and _in_window(c.local_date, first, last)
    ]
    return sessions, check_ins


def _last_days(a: Assessment, days: int) -> tuple[date, date]:
    """Return the window of the last ``days`` local days, today included."""
    return (a.today - timedelta(days=days - 1), a.today)


# --- rules -------------------------------------------------------------------------------------


def red_flag_findings(
    timeline: Timeline, policy: Policy, now: datetime, *, assessment: Assessment | None = None
) -> list[Finding]:
    """Return one finding per red-flag level, from the latest check-in at that level.

    CLINICAL §5–§6: emergency → RED_FLAG_EMERGENCY (urgent), urgent → RED_FLAG_URGENT (high),
    prompt → RED_FLAG_PROMPT (medium). Red flags fire with or without a program, whatever the
    adherence; the engine exempts them from rearm.
    """
    a = assessment or assess(timeline, policy, now)
    first, last = _last_days(a, RED_FLAG_LOOKBACK_DAYS)
    # CLINICAL §6: one screen raises one alert at its highest level (classified already); per
    # level the latest screen carries the alert, since re-evaluation refreshes the open one (§5).
    latest: dict[Level, CheckInFact] = {}
    for check_in in sorted(timeline.check_ins, key=_order):
        level = Level(check_in.red_flag_level)
        if level in _RED_FLAG_ALERTS and _in_window(check_in.local_date, first, last):
            latest[level] = check_in
    findings = []
    for level, (kind, severity) in _RED_FLAG_ALERTS.items():
        check_in = latest.get(level)
        if check_in is None:
            continue
        answers = list(check_in.yes)
        answered = ", ".join(answers) if answers else "no question recorded"
        verb = "was" if len(answers) == 1 else "were"
        reason = (
            f"{level.value.capitalize()} red flag on {check_in.local_date.isoformat()}: "
            f"{answered} {verb} answered yes; {_RED_FLAG_ACTIONS[level]}."
        )
        evidence = _common_evidence(timeline, a) | {
            "level": level.value,
            "answers": answers,
            "check_in_id": check_in.id,
            "check_in_date": check_in.local_date.isoformat(),
            "days_ago": (a.today - check_in.local_date).days,
        }
        findings.append(_finding(kind, severity, policy, reason, evidence, (), (check_in.id,)))
    return findings


def flare(
    timeline: Timeline, policy: Policy, now: datetime, *, assessment: Assessment | None = None
) -> Finding | None:
    """Return FLARE (high) after ≥ 2 RED sessions or a high morning pain in the last 7 days.

    CLINICAL §5: ≥ 2 RED sessions in the last 7 days, or a morning pain in the last 7 days that is
    ≥ 8 and ≥ 2 above the baseline (the latter needs a known baseline). Any adherence.
    """
    a = assessment or assess(timeline, policy, now)
    if not a.in_program:
        return None  # CLINICAL §2: before day 1 no rule fires.
    # CLINICAL §5 FLARE: the last 7 local days, today included.
    first, last = _last_days(a, policy.flare_window_days)
    red = [s for s in a.sessions if s.light is Light.RED and _in_window(s.local_date, first, last)]
    # (check-in, morning pain, rise above baseline) for each qualifying morning.
    base = a.baseline
    high_mornings = (
        []
        if base is None  # the morning criterion needs a known baseline
        else [
            (c, c.morning_pain, c.morning_pain - base)
            for c in a.check_ins
            if c.morning_pain is not None
            and _in_window(c.local_date, first, last)
            and c.morning_pain >= policy.flare_morning_pain
            and c.morning_pain - base >= policy.flare_morning_rise
        ]
    )
    # CLINICAL §5 FLARE: ≥ 2 RED sessions, or a qualifying morning pain.
    by_red = len(red) >= policy.flare_red_sessions
    if not by_red and not high_mornings:
        return None

    parts = []
    if by_red:
        dates = ", ".join(s.local_date.isoformat() for s in red)
        parts.append(
            f"{len(red)} RED sessions in the last {policy.flare_window_days} days ({dates})"
        )
    if high_mornings:
        worst, pain, rise = max(high_mornings, key=lambda m: (m[1], _order(m[0])))
        parts.append(
            f"morning pain {pain} on {worst.local_date.isoformat()}, "
            f"{_signed(rise, 1).lstrip('+')} above baseline {_pain(a.baseline)}"
        )
    reason = f"Flare: {' and '.join(parts)}; current pain {_pain(a.current)}."
    evidence = _common_evidence(timeline, a) | {
        "triggers": (["red_sessions"] if by_red else [])
        + (["morning_pain"] if high_mornings else []),
        "flare_window": {"start": first.isoformat(), "end": last.isoformat()},
        "red_session_count": len(red),
        "red_sessions": [{"id": s.id, "date": s.local_date.isoformat()} for s in red],
        "morning_pains": [
            {
                "check_in_id": c.id,
                "date": c.local_date.isoformat(),
                "value": pain,
                **_exact("above_baseline", rise),
            }
            for c, pain, rise in high_mornings
        ],
        "thresholds": {
            "red_sessions": policy.flare_red_sessions,
            "morning_pain": policy.flare_morning_pain,
            "morning_rise": policy.flare_morning_rise,
        },
    }
    return _finding(
        AlertKind.FLARE,
        Severity.HIGH,
        policy,
        reason,
        evidence,
        (s.id for s in red),
        (c.id for c, _, _ in high_mornings),
    )


def worsening(
    timeline: Timeline, policy: Policy, now: datetime, *, assessment: Assessment | None = None
) -> Finding | None:
    """Return WORSENING (high) when resting pain is WORSENED, whatever the adherence.

    CLINICAL §5 (status from §2: current − baseline ≥ 2).
    """
    a = assessment or assess(timeline, policy, now)
    # CLINICAL §5 WORSENING: status WORSENED (§2), any adherence; UNKNOWN never fires.
    if not a.in_program or a.status is not PainStatus.WORSENED:
        return None
    session_ids, check_in_ids = _current_window_ids(a)
    reason = f"Pain worsened {_trend_text(a)}."
    evidence = _common_evidence(timeline, a) | {
        "thresholds": {"worsen_points": str(policy.worsen_points)},
    }
    return _finding(
        AlertKind.WORSENING, Severity.HIGH, policy, reason, evidence, session_ids, check_in_ids
    )


def persistent_pain(
    timeline: Timeline, policy: Policy, now: datetime, *, assessment: Assessment | None = None
) -> Finding | None:
    """Return PERSISTENT_PAIN (medium): pain persists despite adherence.

    CLINICAL §5: program day ≥ 21, adherence_14d ≥ 80 %, status not IMPROVED (and known),
    current ≥ 3. ``evaluate`` drops it when NON_RESPONSE_6W fires (which supersedes it).
    """
    a = assessment or assess(timeline, policy, now)
    # CLINICAL §5 PERSISTENT_PAIN: the pain conditions, and adherence ≥ 80 % (§3) — below it the
    # alert is held back (``Assessment.partial_adherence_hold``).
    if not (_persistent_signs(a, policy) and _adherent(a, policy)):
        return None
    session_ids, check_in_ids = _current_window_ids(a)
    reason = f"Pain {_trend_text(a)}."
    evidence = _common_evidence(timeline, a) | {
        "thresholds": {
            "program_day": policy.persistent_day,
            "adherence": str(policy.adherent),
            "current": policy.persistent_min_current,
        },
    }
    return _finding(
        AlertKind.PERSISTENT_PAIN,
        Severity.MEDIUM,
        policy,
        reason,
        evidence,
        session_ids,
        check_in_ids,
    )


def non_response_6w(
    timeline: Timeline, policy: Policy, now: datetime, *, assessment: Assessment | None = None
) -> Finding | None:
    """Return NON_RESPONSE_6W: high, or medium when a function measure improved by its MIC.

    CLINICAL §5: program day ≥ 42, adherence_14d ≥ 80 %, not IMPROVED (and known), current ≥ 5.
    It supersedes PERSISTENT_PAIN.
    """
    a = assessment or assess(timeline, policy, now)
    # CLINICAL §5 NON_RESPONSE_6W: the pain conditions, and adherence ≥ 80 % (§3).
    if not (_non_response_signs(a, policy) and _adherent(a, policy)):
        return None
    session_ids, check_in_ids = _current_window_ids(a)
    # CLINICAL §5: medium instead of high when a function measure improved by its MIC (§8).
    severity = Severity.MEDIUM if timeline.function_improved else Severity.HIGH
    tail = (
        "; function improved by its minimal important change" if timeline.function_improved else ""
    )
    reason = f"No response at 6 weeks: pain {_trend_text(a)}{tail}."
    evidence = _common_evidence(timeline, a) | {
        "function_improved": timeline.function_improved,
        "supersedes": AlertKind.PERSISTENT_PAIN.value,
        "thresholds": {
            "program_day": policy.non_response_day,
            "adherence": str(policy.adherent),
            "current": policy.non_response_min_current,
        },
    }
    return _finding(
        AlertKind.NON_RESPONSE_6W, severity, policy, reason, evidence, session_ids, check_in_ids
    )


def low_adherence(
    timeline: Timeline, policy: Policy, now: datetime, *, assessment: Assessment | None = None
) -> Finding | None:
    """Return LOW_ADHERENCE (low) for a patient who logged in but is not doing the sessions.

    CLINICAL §5: logged in at least once, program day ≥ 7, and adherence_14d < 50 % or the last 3
    scheduled days missed (today counts only once it has a session). Active programs only.
    """
    a = assessment or assess(timeline, policy, now)
    # CLINICAL §5 LOW_ADHERENCE: an active program, a patient who logged in, program day ≥ 7.
    if (
        not a.in_program
        or timeline.program_status != "active"
        or not timeline.has_logged_in
        or a.program_day is None
        or a.program_day < policy.low_adherence_min_day
        or timeline.episode_start is None
        or a.adherence is None
    ):
        return None
    # CLINICAL §5 LOW_ADHERENCE: adherence_14d < 50 % (§3) or the last 3 scheduled days missed.
    ratio = a.adherence.ratio
    low = ratio is not None and ratio < policy.low_adherence
    missed = missed_last_scheduled(
        a.completed_dates,
        timeline.schedule,
        timeline.statuses,
        timeline.episode_start,
        a.today,
        n=policy.low_adherence_missed,
    )
    if not (low or missed):
        return None
    adherence = a.adherence
    text = _adherence_text(a)
    reason = (
        f"{text[0].upper()}{text[1:]} ({adherence.completed} of {adherence.scheduled} scheduled "
        f"sessions) on program day {a.program_day}"
    )
    if missed:
        reason += f"; the last {policy.low_adherence_missed} scheduled days were missed"
    first, last = adherence.window_start, adherence.window_end
    session_ids = [
        s.id for s in a.sessions if s.completed and _in_window(s.local_date, first, last)
    ]
    evidence = _common_evidence(timeline, a) | {
        "below_low_cutoff": low,
        "missed_last_scheduled": missed,
        "thresholds": {
            "adherence": str(policy.low_adherence),
            "missed_scheduled_days": policy.low_adherence_missed,
            "program_day": policy.low_adherence_min_day,
        },
    }
    return _finding(
        AlertKind.LOW_ADHERENCE, Severity.LOW, policy, reason + ".", evidence, session_ids
    )


def ready_to_progress(
    timeline: Timeline, policy: Policy, now: datetime, *, assessment: Assessment | None = None
) -> Finding | None:
    """Return READY_TO_PROGRESS (info): suggest the next stage, or discharge from the last one.

    CLINICAL §5 and §7: ≥ 14 days in stage, adherence_14d ≥ 80 %, no RED session in 14 days, no
    AMBER in 7 days, effort ≤ 5 in ≥ 3 of the last 4 sessions of this stage where effort was
    recorded. Active programs only; the therapist confirms.
    """
    a = assessment or assess(timeline, policy, now)
    stage, since = timeline.stage, timeline.stage_started_on
    # CLINICAL §5 READY_TO_PROGRESS: an active program at a known stage, adherence ≥ 80 % (§3).
    if (
        not a.in_program
        or timeline.program_status != "active"
        or stage is None
        or since is None
        or not _adherent(a, policy)
    ):
        return None
    # CLINICAL §7: ≥ 2 weeks in stage, counted as today − stage start ≥ 14 local days.
    days_in_stage = (a.today - since).days
    if days_in_stage < policy.progress_days_in_stage:
        return None
    # CLINICAL §7: no RED session in 14 days, no AMBER in 7 (today included in both).
    red_first, red_last = _last_days(a, policy.progress_no_red_days)
    amber_first, amber_last = _last_days(a, policy.progress_no_amber_days)
    if any(
        (s.light is Light.RED and _in_window(s.local_date, red_first, red_last))
        or (s.light is Light.AMBER and _in_window(s.local_date, amber_first, amber_last))
        for s in a.sessions
    ):
        return None
    # CLINICAL §7: effort ≤ 5 in ≥ 3 of the last 4 sessions where effort was recorded. Only this
    # stage's sessions count: effort at an earlier stage says nothing about leaving this one.
    rated = [s for s in a.sessions if s.effort is not None and s.stage == stage]
    recent = rated[-policy.progress_effort_window :]
    easy = sum(1 for s in recent if s.effort is not None and s.effort <= policy.progress_max_effort)
    if easy < policy.progress_effort_sessions:
        return None

    # CLINICAL §5: at the last stage the suggestion is discharge to a maintenance routine.
    if stage >= FINAL_STAGE:
        suggestion = "discharge to maintenance"
        advice = "plan discharge to a maintenance routine"
    else:
        suggestion = f"advance to stage {stage + 1}"
        advice = f"suggest advancing to stage {stage + 1}"
        if stage == 1:
            # CLINICAL §7: stage 1 → 2 also needs the therapist to see the braced holds.
            advice += " once you have seen 10 × 10 s braced holds with normal breathing"
    reason = (
        f"{days_in_stage} days in stage {stage} with {_adherence_text(a)}, no RED session in "
        f"{policy.progress_no_red_days} days, no AMBER in {policy.progress_no_amber_days} days "
        f"and effort ≤ {policy.progress_max_effort} in {easy} of the last {len(recent)} rated "
        f"sessions: {advice}."
    )
    evidence = _common_evidence(timeline, a) | {
        "stage": stage,
        "stage_started_on": since.isoformat(),
        "days_in_stage": days_in_stage,
        "suggestion": suggestion,
        "efforts": [
            {"id": s.id, "date": s.local_date.isoformat(), "effort": s.effort} for s in recent
        ],
        "easy_sessions": easy,
        "thresholds": {
            "days_in_stage": policy.progress_days_in_stage,
            "adherence": str(policy.adherent),
            "no_red_days": policy.progress_no_red_days,
            "no_amber_days": policy.progress_no_amber_days,
            "max_effort": policy.progress_max_effort,
            "effort_sessions": policy.progress_effort_sessions,
            "effort_window": policy.progress_effort_window,
        },
    }
    if stage == 1:
        evidence["therapist_check"] = "10 × 10 s braced holds with normal breathing"
    return _finding(
        AlertKind.READY_TO_PROGRESS,
        Severity.INFO,
        policy,
        reason,
        evidence,
        (s.id for s in recent),
    )


def evaluate(
    timeline: Timeline, policy: Policy, now: datetime, *, assessment: Assessment | None = None
) -> list[Finding]:
    """Return every finding for the timeline at ``now``, in the order of the CLINICAL §5 table.

    NON_RESPONSE_6W supersedes PERSISTENT_PAIN: when it fires, PERSISTENT_PAIN is not returned.
    A caller that already assessed the timeline passes it, so it is computed once.
    """
    a = assessment or assess(timeline, policy, now)
    findings = red_flag_findings(timeline, policy, now, assessment=a)
    non_response = non_response_6w(timeline, policy, now, assessment=a)
    candidates = [
        flare(timeline, policy, now, assessment=a),
        worsening(timeline, policy, now, assessment=a),
        None if non_response else persistent_pain(timeline, policy, now, assessment=a),
        non_response,
        low_adherence(timeline, policy, now, assessment=a),
        ready_to_progress(timeline, policy, now, assessment=a),
    ]
    findings.extend(finding for finding in candidates if finding is not None)
    return findings
