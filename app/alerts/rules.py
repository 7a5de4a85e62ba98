"""Alert rules (CLINICAL §5–§6): a patient's timeline, a policy and ``now`` in, findings out.

Pure: no database, no Flask, no clock. ``now`` is an aware instant; the patient's "today" is its
local calendar date in the timeline's IANA timezone, and every window is counted in local days.
All arithmetic is exact (``Fraction``); the clinical computations come from ``app.clinical``.
The engine that persists findings owns deduplication, rearm and the red-flag exemption from it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Final

from app.alerts.evidence import (
    Finding,
    common_evidence,
    current_window_ids,
    exact_pair,
    function_evidence,
    function_text,
    in_window,
    make_finding,
)
from app.alerts.wording import adherence_text, trend_text
from app.clinical import numbers
from app.clinical.adherence import missed_last_scheduled
from app.clinical.assessment import Assessment, assess, fact_order
from app.clinical.pain import PainStatus
from app.clinical.policy import Policy
from app.clinical.red_flags import RedFlagLevel, in_words, questions_due
from app.clinical.timeline import CheckInFact, SessionFact, Timeline
from app.clinical.traffic_light import Light
from app.enums import AlertKind, Severity

# Not in Policy (a window, not a clinical threshold): a red-flag check-in raises an alert while it
# lies in the last 31 local days (the loader always reads at least that far back).
RED_FLAG_LOOKBACK_DAYS: Final = 31
# Not in Policy: the built-in template has four stages (CLINICAL §7); from the last one the
# suggestion is discharge to a maintenance routine instead of the next stage.
FINAL_STAGE: Final = 4

# CLINICAL §5 table: red-flag level → alert kind and severity.
_RED_FLAG_ALERTS: Final[dict[RedFlagLevel, tuple[AlertKind, Severity]]] = {
    RedFlagLevel.EMERGENCY: (AlertKind.RED_FLAG_EMERGENCY, Severity.URGENT),
    RedFlagLevel.URGENT: (AlertKind.RED_FLAG_URGENT, Severity.HIGH),
    RedFlagLevel.PROMPT: (AlertKind.RED_FLAG_PROMPT, Severity.MEDIUM),
}
# CLINICAL §5 "therapist sees", in words for the reason.
_RED_FLAG_ACTIONS: Final[dict[RedFlagLevel, str]] = {
    RedFlagLevel.EMERGENCY: "the patient was told to go to an emergency department now",
    RedFlagLevel.URGENT: "contact the patient today",
    RedFlagLevel.PROMPT: "review within 48 h",
}


# --- shared conditions -------------------------------------------------------------------------


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


def partial_adherence_hold(a: Assessment, policy: Policy) -> bool:
    """Return whether known adherence below the cut-off holds back a pain alert (CLINICAL §5).

    The pain conditions of PERSISTENT_PAIN or NON_RESPONSE_6W hold but adherence is below 80 %:
    no alert; the therapist sees "partial adherence" instead. Unknown adherence is not below.
    """
    ratio = a.adherence_ratio
    return (
        ratio is not None
        and ratio < policy.adherent
        and (_persistent_signs(a, policy) or _non_response_signs(a, policy))
    )


def red_flags_due(a: Assessment) -> tuple[str, ...]:
    """Return the red-flag questions to ask next (DESIGN §4 ``red_flags_due``, CLINICAL §6).

    The weekly screen is due when none lies in the loaded days, when ``red_flag_weekly_days``
    have passed since the last one, or after a RED session or a FLARE recorded since it. The
    loaded days always cover the weekly period.
    """
    timeline, policy = a.timeline, a.policy
    screens = [c for c in timeline.check_ins if c.full_screen and c.local_date <= a.today]
    last = max(screens, key=_instant_order, default=None)
    if last is None:
        return questions_due(None, False, a.today, policy.red_flag_weekly_days)
    after = _instant_order(last)
    trigger = any(
        s.light is Light.RED and _instant_order(s) > after for s in timeline.sessions
    ) or (flare(timeline, policy, a.now, assessment=a, since=last.at) is not None)
    return questions_due(last.local_date, trigger, a.today, policy.red_flag_weekly_days)


_DAWN: Final = datetime.min.replace(tzinfo=UTC)


def _instant_order(fact: SessionFact | CheckInFact) -> tuple[date, datetime, int]:
    """Order facts by when they happened: local date, then instant when known."""
    return (fact.local_date, fact.at or _DAWN, fact.id)


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
    first, last = a.last_days(RED_FLAG_LOOKBACK_DAYS)
    # CLINICAL §6: one screen raises one alert at its highest level (classified already); per
    # level the latest screen carries the alert, since re-evaluation refreshes the open one (§5).
    latest: dict[RedFlagLevel, CheckInFact] = {}
    for check_in in sorted(timeline.check_ins, key=fact_order):
        level = RedFlagLevel(check_in.red_flag_level)
        if level in _RED_FLAG_ALERTS and in_window(check_in.local_date, first, last):
            latest[level] = check_in
    findings = []
    for level, (kind, severity) in _RED_FLAG_ALERTS.items():
        check_in = latest.get(level)
        if check_in is None:
            continue
        answers = list(check_in.yes)
        # DESIGN §4: a red-flag reason names the symptoms in plain words, never only "RF2".
        answered = "; ".join(in_words(q) for q in answers) if answers else "no answer recorded"
        reason = (
            f"{level.value.capitalize()} red flag on {check_in.local_date.isoformat()}: "
            f"{answered}; {_RED_FLAG_ACTIONS[level]}."
        )
        evidence = common_evidence(timeline, a) | {
            "level": level.value,
            "answers": answers,
            "answers_in_words": [in_words(q) for q in answers],
            "check_in_id": check_in.id,
            "check_in_date": check_in.local_date.isoformat(),
            "days_ago": (a.today - check_in.local_date).days,
        }
        findings.append(make_finding(kind, severity, policy, reason, evidence, (), (check_in.id,)))
    return findings


def flare(
    timeline: Timeline,
    policy: Policy,
    now: datetime,
    *,
    assessment: Assessment | None = None,
    since: datetime | None = None,
) -> Finding | None:
    """Return FLARE (high) after ≥ 2 RED sessions or a high morning pain in the last 7 days.

    CLINICAL §5: ≥ 2 RED sessions in the last 7 days, or a morning pain in the last 7 days that is
    ≥ 8 and ≥ 2 above the baseline (the latter needs a known baseline). Any adherence. With
    ``since``, only sessions and check-ins after that instant count (the eased session counts
    from the therapist's last stage change, CLINICAL §7).
    """
    a = assessment or assess(timeline, policy, now)
    if not a.in_program:
        return None  # CLINICAL §2: before day 1 no rule fires.
    # CLINICAL §5 FLARE: the last 7 local days, today included.
    first, last = a.last_days(policy.flare_window_days)

    def counts(fact: SessionFact | CheckInFact) -> bool:
        return in_window(fact.local_date, first, last) and (
            since is None or fact.at is None or fact.at > since
        )

    red = [s for s in a.sessions if s.light is Light.RED and counts(s)]
    # (check-in, morning pain, rise above baseline) for each qualifying morning.
    base = a.baseline
    high_mornings = (
        []
        if base is None  # the morning criterion needs a known baseline
        else [
            (c, c.morning_pain, c.morning_pain - base)
            for c in a.check_ins
            if c.morning_pain is not None
            and counts(c)
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
        worst, pain, rise = max(high_mornings, key=lambda m: (m[1], fact_order(m[0])))
        parts.append(
            f"morning pain {pain} on {worst.local_date.isoformat()}, "
            f"{numbers.signed(rise, 1).lstrip('+')} above baseline {numbers.pain(a.baseline)}"
        )
    reason = f"Flare: {' and '.join(parts)}; current pain {numbers.pain(a.current)}."
    evidence = common_evidence(timeline, a) | {
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
                **exact_pair("above_baseline", rise),
            }
            for c, pain, rise in high_mornings
        ],
        "thresholds": {
            "red_sessions": policy.flare_red_sessions,
            "morning_pain": policy.flare_morning_pain,
            "morning_rise": policy.flare_morning_rise,
        },
    }
    return make_finding(
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
    session_ids, check_in_ids = current_window_ids(a)
    reason = f"Pain worsened {trend_text(a)}."
    evidence = common_evidence(timeline, a) | {
        "thresholds": {"worsen_points": str(policy.worsen_points)},
    }
    return make_finding(
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
    session_ids, check_in_ids = current_window_ids(a)
    reason = f"Pain {trend_text(a)}."
    evidence = common_evidence(timeline, a) | {
        "thresholds": {
            "program_day": policy.persistent_day,
            "adherence": str(policy.adherent),
            "current": policy.persistent_min_current,
        },
    }
    return make_finding(
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
    session_ids, check_in_ids = current_window_ids(a)
    # CLINICAL §5: medium instead of high when a function measure improved by its MIC (§8).
    improved = timeline.function_gain
    severity = Severity.MEDIUM if improved else Severity.HIGH
    tail = "; function improved by its minimal important change" if improved else ""
    if timeline.function is not None:
        tail = f"; {function_text(timeline.function)}"
    reason = f"No response at 6 weeks: pain {trend_text(a)}{tail}."
    evidence = common_evidence(timeline, a) | {
        "function_improved": improved,
        "function": function_evidence(timeline.function),
        "supersedes": AlertKind.PERSISTENT_PAIN.value,
        "thresholds": {
            "program_day": policy.non_response_day,
            "adherence": str(policy.adherent),
            "current": policy.non_response_min_current,
        },
    }
    return make_finding(
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
    text = adherence_text(a)
    reason = (
        f"{text[0].upper()}{text[1:]} ({adherence.completed} of {adherence.scheduled} scheduled "
        f"sessions) on program day {a.program_day}"
    )
    if missed:
        reason += f"; the last {policy.low_adherence_missed} scheduled days were missed"
    first, last = adherence.window_start, adherence.window_end
    session_ids = [s.id for s in a.sessions if s.completed and in_window(s.local_date, first, last)]
    evidence = common_evidence(timeline, a) | {
        "below_low_cutoff": low,
        "missed_last_scheduled": missed,
        "thresholds": {
            "adherence": str(policy.low_adherence),
            "missed_scheduled_days": policy.low_adherence_missed,
            "program_day": policy.low_adherence_min_day,
        },
    }
    return make_finding(
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
    red_first, red_last = a.last_days(policy.progress_no_red_days)
    amber_first, amber_last = a.last_days(policy.progress_no_amber_days)
    if any(
        (s.light is Light.RED and in_window(s.local_date, red_first, red_last))
        or (s.light is Light.AMBER and in_window(s.local_date, amber_first, amber_last))
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
        f"{days_in_stage} days in stage {stage} with {adherence_text(a)}, no RED session in "
        f"{policy.progress_no_red_days} days, no AMBER in {policy.progress_no_amber_days} days "
        f"and effort ≤ {policy.progress_max_effort} in {easy} of the last {len(recent)} rated "
        f"sessions: {advice}."
    )
    if timeline.function is not None:
        # Issue 13: the function trend beside the pain, so the step up rests on both.
        reason = f"{reason[:-1]}; {function_text(timeline.function)}."
    evidence = common_evidence(timeline, a) | {
        "function": function_evidence(timeline.function),
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
    return make_finding(
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
