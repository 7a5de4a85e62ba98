"""The referral letter: what a receiving clinician needs, taken from the record when referring.

The summary is a snapshot (JSON on the referral) of the finding, the course of care, the pain
trend and the red-flag screens on the day of the referral, so the letter says what the
referring therapist saw then. Who refers and the clinic's contact are read when the letter is
shown, so a changed phone number is the current one.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from app.alerts.labels import alert_title
from app.clinical import red_flags
from app.enums import AlertKind
from app.extensions import db
from app.patient.models import CheckIn, Patient, RedFlagAnswer, Session

if TYPE_CHECKING:
    from app.alerts.models import Alert
    from app.charts import PainChart

SUMMARY_VERSION = 2

# CLINICAL §5, "Referral criteria shown with NON_RESPONSE_6W": reference text for clinicians; the
# choice belongs to the clinicians.
CRITERIA: dict[str, str] = {
    "imaging": "No routine imaging; imaging only if the result would change management, e.g. "
    "the patient is a candidate for surgery or injection (ACP/APS 2007; NICE NG59).",
    "radiofrequency": "Radiofrequency denervation only after failed non-surgical care, pain "
    "thought to come from the facet joints, moderate or severe localised pain (≥ 5/10) and a "
    "positive diagnostic medial branch block (NICE NG59).",
    "epidural": "Epidural injection for acute severe sciatica (NG59).",
    "decompression": "Decompression for sciatica when non-surgical care has not helped and "
    "imaging is concordant (NG59).",
    "stimulation": "Spinal cord stimulation for neuropathic pain ≥ 50/100 for ≥ 6 months despite "
    "conventional care, after a successful trial (NICE TA159).",
    "combined": "Combined physical and psychological care when psychosocial obstacles are "
    "present (NG59).",
    "no_injections": "NG59 advises against spinal injections for low back pain without "
    "sciatica, and the UK Evidence-Based Interventions programme against trigger-point "
    "injections; US interventional pain practice still offers them.",
    "path": "The usual interventional pain-medicine path: conservative care → imaging and "
    "pain-specialist referral when pain persists → targeted interventions (trigger point "
    "injections, epidural steroid injections, radiofrequency ablation, spinal cord "
    "stimulation) → surgery when nerves may be permanently damaged.",
}
REFERRAL_CRITERIA = tuple(CRITERIA.values())

# CLINICAL §6: cauda equina syndrome is a surgical emergency (GIRFT 2023; Long et al. 2020).
CAUDA_EQUINA = (
    "Cauda equina syndrome is a surgical emergency: delay risks permanent bladder, bowel and "
    "sexual dysfunction (GIRFT 2023; Long et al., Am J Emerg Med 2020)."
)
RED_FLAG_TARGET = (
    "Red-flag answers call for medical assessment of the possible cause named above before "
    "further exercise (IFOMPT framework, Finucane et al., JOSPT 2020)."
)
# Leg symptoms that suggest nerve-root involvement (sciatica) among the screen's questions.
NERVE_SIGNS = ("RF5", "RF6")
PAIN_KINDS = (AlertKind.PERSISTENT_PAIN, AlertKind.NON_RESPONSE_6W)
SIX_MONTHS = 182


def relevant_criteria(
    kind: AlertKind | None,
    *,
    current: Fraction | None,
    episode_days: int | None,
    nerve_signs: bool,
) -> list[str]:
    """Return the criteria that bear on this finding only (CLINICAL §5), most general first."""
    if kind in (AlertKind.RED_FLAG_EMERGENCY,):
        return [CAUDA_EQUINA, RED_FLAG_TARGET]
    if kind in (AlertKind.RED_FLAG_URGENT, AlertKind.RED_FLAG_PROMPT):
        return [RED_FLAG_TARGET]
    keys = ["imaging"]
    if nerve_signs:
        keys += ["epidural", "decompression"]
    if kind in PAIN_KINDS:
        if current is not None and current >= 5 and not nerve_signs:
            keys.append("radiofrequency")
        if current is not None and current >= 5 and (episode_days or 0) >= SIX_MONTHS:
            keys.append("stimulation")
        keys.append("combined")
        if not nerve_signs:
            keys.append("no_injections")
        keys.append("path")
    return [CRITERIA[key] for key in keys]


def _iso(day: Any) -> str | None:
    return None if day is None else day.isoformat()


def _exact(value: Any) -> str | None:
    """Keep an exact value as text ("21/4"): the letter formats it as every page does."""
    return None if value is None else str(value)


def _trend(rows: list[tuple[date, str, int]]) -> list[list[Any]]:
    """The daily mean of resting pain (pain before a session and morning check-ins)."""
    daily: dict[date, list[int]] = defaultdict(list)
    for day, kind, value in rows:
        if kind in ("session, pain before", "morning check-in"):
            daily[day].append(value)
    return [[day.isoformat(), str(Fraction(sum(v), len(v)))] for day, v in sorted(daily.items())]


def _screens(patient: Patient, since: date | None) -> dict[str, Any]:
    """Red-flag screens of the episode: how many, the last, and every yes in words."""
    query = (
        sa.select(CheckIn.id, CheckIn.local_date, RedFlagAnswer.question, RedFlagAnswer.answer)
        .join(RedFlagAnswer, RedFlagAnswer.check_in_id == CheckIn.id)
        .where(CheckIn.patient_id == patient.id)
        .order_by(CheckIn.recorded_at)
    )
    if since is not None:
        query = query.where(CheckIn.local_date >= since)
    screens: dict[int, date] = {}
    full: set[int] = set()
    asked: dict[int, set[str]] = defaultdict(set)
    yes: list[dict[str, Any]] = []
    for check_in_id, day, question, answer in db.session.execute(query):
        screens[check_in_id] = day
        asked[check_in_id].add(question)
        if answer:
            yes.append({"date": day.isoformat(), "question": question})
    full = {i for i, questions in asked.items() if set(red_flags.WEEKLY_IDS) <= questions}
    return {
        "screens": len(screens),
        "full_screens": len(full),
        "last": _iso(max(screens.values())) if screens else None,
        "yes": yes,
    }


def _measures_summary(patient: Patient, function: Any) -> dict[str, Any]:
    """The episode's function trend (from the assessment) and latest STarT Back band."""
    from app.measures.services import latest_in_episode

    risk = latest_in_episode(patient, "start-back")
    band = risk.score.interpretation if risk is not None else None
    return {
        "function": None
        if function is None
        else {
            "instrument": function.instrument,
            "first": _exact(function.first),
            "latest": _exact(function.latest),
            "change": _exact(function.change),
            "first_on": _iso(function.first_on),
            "latest_on": _iso(function.latest_on),
            "mic": _exact(function.mic_points),
            "mic_met": function.mic_met,
        },
        "start_back": None
        if band is None
        else {"band": band.band, "text": band.text, "date": _iso(risk.response.local_date)},
    }


def referral_summary(patient: Patient, now: datetime, alert: Alert | None = None) -> dict[str, Any]:
    """The finding, course of care, pain trend and red-flag screens as plain data."""
    from app.caseload.record import patient_record

    d = patient_record(patient, now)
    a = d.assessment
    adherence = a.adherence
    start = a.timeline.episode_start
    screens = _screens(patient, start)
    nerve_signs = any(answer["question"] in NERVE_SIGNS for answer in screens["yes"])
    episode_days = (a.today - start).days if start is not None else None
    sessions = db.session.scalar(
        sa.select(sa.func.count(Session.id)).where(
            Session.patient_id == patient.id,
            *([Session.local_date >= start] if start is not None else []),
        )
    )
    program = d.program
    stage_names = (
        {s.number: s.name for s in program.template.stages}
        if program is not None and program.template is not None
        else {}
    )
    return {
        "version": SUMMARY_VERSION,
        "generated_at": now.isoformat(),
        "patient": {
            "name": patient.name,
            "record_number": patient.record_number,
            "date_of_birth": _iso(patient.date_of_birth),
            "timezone": patient.timezone,
            "goals": patient.goals,
        },
        "finding": {
            "kind": alert.kind.value,
            "title": alert_title(alert.kind),
            "severity": alert.severity.value,
            "raised_on": _iso(alert.created_at.date()),
            "reason": alert.reason,
            "action": alert.action.value if alert.action else None,
        }
        if alert is not None
        else None,
        "episode_start": _iso(start),
        "episode_days": episode_days,
        "sessions_logged": sessions or 0,
        "program": {
            "template": program.template.name if program.template else "Custom program",
            "start_date": _iso(program.start_date),
            "stage": program.stage,
            "stage_name": stage_names.get(program.stage, ""),
            "status": program.status.value,
            "sessions_per_week": program.sessions_per_week,
            "weekdays": list(program.weekdays),
            "items": [
                {"exercise": item.exercise.name, "dosage": item.dosage()} for item in program.items
            ],
        }
        if program
        else None,
        "stage_history": [
            {
                "date": c.created_at.isoformat(),
                "from": c.from_stage,
                "to": c.to_stage,
                "to_name": stage_names.get(c.to_stage, ""),
                "direction": c.direction.value,
                "reason": c.reason,
            }
            for c in reversed(d.stage_changes)
        ],
        "pain": {
            "intake": patient.intake_pain,
            "baseline": _exact(a.baseline),
            "current": _exact(a.current),
            "change_points": _exact(a.change.points),
            "status": a.status.value,
            "summary": d.summary,
            "window": [d.window.first.isoformat(), d.window.last.isoformat()],
            "trend": _trend(d.chart_rows),
            "readings": [
                {"date": day.isoformat(), "kind": kind, "value": value}
                for day, kind, value in d.chart_rows
            ],
        },
        # Issue 13: function beside pain, and the STarT Back risk band (NICE NG59).
        "measures": _measures_summary(patient, a.timeline.function),
        "adherence_14d": {
            "ratio": _exact(adherence.ratio) if adherence else None,
            "completed": adherence.completed if adherence else 0,
            "scheduled": adherence.scheduled if adherence else 0,
        },
        "alerts": [
            {
                "kind": other.kind.value,
                "title": alert_title(other.kind),
                "severity": other.severity.value,
                "status": other.status.value,
                "created_at": other.created_at.isoformat(),
                "reason": other.reason,
            }
            for other in d.alerts
            if alert is None or other.id != alert.id
        ],
        "red_flags": [
            {
                "date": c.recorded_at.isoformat(),
                "level": c.red_flag_level.value,
                "yes": [r.question for r in c.red_flags if r.answer],
                "asked": [r.question for r in c.red_flags],
            }
            for c in d.check_ins
            if c.red_flags
        ],
        "screens": {
            **screens,
            "yes": [
                {**answer, "words": red_flags.in_words(answer["question"])}
                for answer in screens["yes"]
            ],
        },
        "criteria": relevant_criteria(
            alert.kind if alert is not None else None,
            current=a.current,
            episode_days=episode_days,
            nerve_signs=nerve_signs,
        ),
    }


def letter_chart(
    summary: dict[str, Any],
) -> tuple[PainChart, list[tuple[date, str, str]]] | None:
    """A small chart of the daily resting pain the snapshot holds, with its data rows (None
    without two days of ratings)."""
    from app.charts import pain_chart
    from app.formatting import number

    pain = summary.get("pain") or {}
    trend = pain.get("trend") or []
    window = pain.get("window")
    if len(trend) < 2 or not window:
        return None
    values = [(date.fromisoformat(day), float(Fraction(value))) for day, value in trend]
    start = max(date.fromisoformat(window[0]), values[0][0])
    chart = pain_chart(
        start,
        date.fromisoformat(window[1]),
        [("Resting pain (daily mean)", "series-rest", values)],
        float(Fraction(pain["baseline"])) if pain.get("baseline") else None,
        width=560,
        height=150,
    )
    rows = [(date.fromisoformat(day), "resting pain, daily mean", number(v)) for day, v in trend]
    return chart, rows
