"""The eased session for one patient: the assessment and the program into the pure easing.

``/today``, the player (its steps and timers) and the session summary all take the dose they
show from ``eased_session``; FLARE comes from the same rule, with the clinic's thresholds, that
raises the FLARE alert (CLINICAL §5, §7).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.alerts.rules import flare
from app.clinical.assessment import Assessment
from app.clinical.easing import Change, EasedPlan, EaseReason, ItemToEase, RedSession, ease
from app.clinical.traffic_light import Light
from app.extensions import db
from app.patient.models import SessionExercise
from app.programs.models import Exercise, Program, ProgramItem
from app.timeutil import local_midnight

# What the patient is told about an eased session; `TodaysSession.message` says it as text.
MESSAGES = {
    EaseReason.FLARE: _l(
        "Your back has had a rough week, so today's session is gentler. "
        "Your therapist has been told and will decide what comes next."
    ),
    EaseReason.RED: _l(
        "Your last session was too much, so we've eased it off. Your therapist has been told."
    ),
}


@dataclass(frozen=True)
class Step:
    """One program item as the patient is shown it today: exercise, dose, and what changed."""

    item: ProgramItem
    exercise: Exercise
    dosage: dict[str, Any]
    usual: dict[str, Any]
    change: Change

    @property
    def eased(self) -> bool:
        return self.change is not Change.NONE


@dataclass(frozen=True)
class TodaysSession:
    """The session to offer: each step's dose, and the easing message when there is one."""

    steps: tuple[Step, ...]
    plan: EasedPlan | None

    @property
    def message(self) -> str | None:
        return str(MESSAGES[self.plan.reason]) if self.plan else None


def _stage_began(program: Program, timezone: str) -> datetime:
    """Return when the current stage began: a therapist's stage change is their decision."""
    return max(
        (change.created_at for change in program.stage_changes),
        default=local_midnight(program.start_date, timezone),
    )


def todays_session(a: Assessment, program: Program) -> TodaysSession:
    """Return the program's items as the patient does them today, eased when CLINICAL §7 says.

    ``program`` must have its items (with exercises and their easier variants) and stage changes
    loaded. Easing counts RED sessions and FLARE triggers after the last stage change, in the
    FLARE window, by the clinic's thresholds.
    """
    plan = None
    if program.status.value == "active" and a.in_program:
        plan = _plan(a, program)
    steps = []
    for item in program.items:
        usual = item.dosage()
        eased = plan.item(item.id) if plan else None
        if eased is None or eased.change is Change.NONE:
            steps.append(Step(item, item.exercise, usual, usual, Change.NONE))
        elif eased.change is Change.EASIER and item.exercise.easier is not None:
            steps.append(Step(item, item.exercise.easier, eased.dosage, usual, Change.EASIER))
        else:
            steps.append(Step(item, item.exercise, eased.dosage, usual, Change.LESS))
    return TodaysSession(tuple(steps), plan)


def _plan(a: Assessment, program: Program) -> EasedPlan | None:
    policy = a.policy
    since = _stage_began(program, a.timeline.timezone)
    first, last = a.last_days(policy.flare_window_days)
    red = [
        s
        for s in a.sessions
        if s.light is Light.RED and first <= s.local_date <= last and (s.at is None or s.at > since)
    ]
    is_flare = flare(a.timeline, policy, a.now, assessment=a, since=since) is not None
    if not red and not is_flare:
        return None
    last_red = None
    if red:
        latest = max(red, key=lambda s: (s.at or since, s.id))
        pains = dict(
            db.session.execute(
                sa.select(SessionExercise.program_item_id, SessionExercise.pain_during).where(
                    SessionExercise.session_id == latest.id
                )
            ).all()
        )
        last_red = RedSession(latest.pain_before, pains)
    items = [
        ItemToEase(
            item.id,
            item.dosage(),
            item.exercise.easier.dosage() if item.exercise.easier is not None else None,
        )
        for item in program.items
    ]
    return ease(
        items,
        last_red=last_red,
        flare=is_flare,
        red_sessions=len(red),
        stage=program.stage,
        policy=policy,
    )
