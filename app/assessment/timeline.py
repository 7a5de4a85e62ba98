"""Load patients' bounded timelines in batches for the pure rules (STACK "Timelines in batches").

The rules need the episode's baseline days and the most recent days; how many of each follows
the clinic's policy (``Policy.baseline_max_days`` and ``Policy.window_days``), never a constant
of its own. Loading exactly those rows for many patients in a fixed number of queries keeps the
cost of a log, a page and a sweep independent of how long a patient's history is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from app.auth.models import User
from app.clinical.adherence import ScheduleFact, StatusFact
from app.clinical.policy import Policy
from app.clinical.timeline import CheckInFact, SessionFact, Timeline
from app.extensions import db
from app.patient.models import CheckIn, Patient, RedFlagAnswer, Session
from app.programs.models import EpisodeOfCare, Program, ProgramStatusChange, ScheduleChange
from app.timeutil import local_date

# Pages read the last 30 days whatever the policy: remote-monitoring data days run in 30-day
# periods (CLINICAL §10), the caseload sparkline spans 28 days and red-flag answers raise alerts
# for 31 days. The policy's own windows extend this, never shorten it.
DISPLAY_DAYS = 31
BATCH = 500


class date_plus_days(FunctionElement):
    """``day + days`` as a date, in SQL, on SQLite and PostgreSQL."""

    type = sa.Date()
    inherit_cache = True
    name = "date_plus_days"


@compiles(date_plus_days, "sqlite")
def _date_plus_days_sqlite(element, compiler, **kw):  # type: ignore[no-untyped-def]
    day, days = list(element.clauses)
    return f"date({compiler.process(day, **kw)}, '+' || {compiler.process(days, **kw)} || ' days')"


@compiles(date_plus_days, "postgresql")
def _date_plus_days_postgresql(element, compiler, **kw):  # type: ignore[no-untyped-def]
    day, days = list(element.clauses)
    return f"({compiler.process(day, **kw)} + {compiler.process(days, **kw)})"


def recent_days(policy: Policy) -> int:
    """Return how many recent local days a timeline holds under ``policy``."""
    return max(DISPLAY_DAYS, policy.window_days)


def load_timelines(
    patient_ids: Iterable[int], now: datetime, policies: Mapping[int, Policy]
) -> dict[int, Timeline]:
    """Return the timeline of each patient, in batches of a few queries each."""
    ids = list(dict.fromkeys(patient_ids))
    timelines: dict[int, Timeline] = {}
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        timelines.update(_load_batch(batch, now, [policies.get(i, Policy()) for i in batch]))
    return timelines


def _windowed(
    model: type[Session] | type[CheckIn],
    ids: Sequence[int],
    recent_from: date,
    baseline_days: int,
    columns: tuple,
) -> list[sa.Row]:
    """Read the patients' rows of the recent days and of the episode's baseline days before.

    Two index-friendly range reads instead of one OR, so the cost stays bounded however long
    the history is.
    """
    recent = sa.select(*columns).where(model.patient_id.in_(ids), model.local_date >= recent_from)
    episode = sa.and_(
        EpisodeOfCare.patient_id == model.patient_id, EpisodeOfCare.ended_on.is_(None)
    )
    baseline = (
        sa.select(*columns)
        .join(EpisodeOfCare, episode)
        .where(
            model.patient_id.in_(ids),
            model.local_date >= EpisodeOfCare.start_date,
            model.local_date
            < date_plus_days(EpisodeOfCare.start_date, sa.literal(baseline_days, sa.Integer)),
            model.local_date < recent_from,
        )
    )
    rows = [*db.session.execute(recent), *db.session.execute(baseline)]
    return sorted(rows, key=lambda row: (row.at, row.id))


def _load_batch(
    ids: Sequence[int], now: datetime, policies: Sequence[Policy]
) -> dict[int, Timeline]:
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(
            Patient.id,
            Patient.timezone,
            Patient.intake_pain,
            Patient.risk_modifier,
            User.last_login_at,
            EpisodeOfCare.id.label("episode_id"),
            EpisodeOfCare.start_date,
            Program.id.label("program_id"),
            Program.stage,
            Program.stage_started_on,
            Program.status,
        )
        .join(User, User.id == Patient.user_id)
        .outerjoin(
            EpisodeOfCare,
            sa.and_(EpisodeOfCare.patient_id == Patient.id, EpisodeOfCare.ended_on.is_(None)),
        )
        .outerjoin(
            Program,
            sa.and_(
                Program.episode_id == EpisodeOfCare.id,
                Program.status != "ended",
            ),
        )
        .where(Patient.id.in_(ids))
    ).all()
    todays = {row.id: local_date(now, row.timezone) for row in rows}
    if not todays:
        return {}
    # One window for the batch: the longest any of its clinics' policies reads.
    recent_from = min(todays.values()) - timedelta(days=max(map(recent_days, policies)) - 1)
    baseline_days = max(policy.baseline_max_days for policy in policies)
    episode_ids = [row.episode_id for row in rows if row.episode_id is not None]

    session_rows = _windowed(
        Session,
        ids,
        recent_from,
        baseline_days,
        (
            Session.id,
            Session.patient_id,
            Session.local_date,
            Session.completed,
            Session.light,
            Session.effort,
            Session.pain_before,
            Session.stage,
            Session.completed_at.label("at"),
        ),
    )
    sessions: dict[int, list[SessionFact]] = defaultdict(list)
    for s in session_rows:
        sessions[s.patient_id].append(
            SessionFact(
                s.id, s.local_date, s.completed, s.light, s.effort, s.pain_before, s.stage, s.at
            )
        )
    check_in_rows = _windowed(
        CheckIn,
        ids,
        recent_from,
        baseline_days,
        (
            CheckIn.id,
            CheckIn.patient_id,
            CheckIn.local_date,
            CheckIn.morning_pain,
            CheckIn.red_flag_level,
            CheckIn.full_screen,
            CheckIn.recorded_at.label("at"),
        ),
    )
    flagged = [row.id for row in check_in_rows if row.red_flag_level != "none"]
    yes: dict[int, list[str]] = defaultdict(list)
    if flagged:
        for answer in db.session.execute(
            sa.select(RedFlagAnswer.check_in_id, RedFlagAnswer.question)
            .where(RedFlagAnswer.check_in_id.in_(flagged), RedFlagAnswer.answer.is_(True))
            .order_by(RedFlagAnswer.id)
        ):
            yes[answer.check_in_id].append(answer.question)
    check_ins: dict[int, list[CheckInFact]] = defaultdict(list)
    for c in check_in_rows:
        check_ins[c.patient_id].append(
            CheckInFact(
                c.id,
                c.local_date,
                c.morning_pain,
                c.red_flag_level,
                tuple(yes[c.id]),
                c.at,
                c.full_screen,
            )
        )

    owner: dict[int, int] = {}
    if episode_ids:
        program_episode = sa.select(Program.id, Program.patient_id).where(
            Program.episode_id.in_(episode_ids)
        )
        owner = {row.id: row.patient_id for row in db.session.execute(program_episode)}
    schedules, statuses = program_calendars(owner)

    # CLINICAL §5: the function trend (PSFS first → latest) of each current episode, one query.
    from app.measures.trends import function_trends

    functions = function_trends(episode_ids)
    return {
        row.id: Timeline(
            patient_id=row.id,
            timezone=row.timezone,
            episode_start=row.start_date,
            intake_pain=row.intake_pain,
            stage=row.stage,
            stage_started_on=row.stage_started_on,
            program_status=row.status.value if row.status is not None else "none",
            schedule=tuple(schedules[row.id]),
            statuses=tuple(statuses[row.id]),
            sessions=tuple(sessions[row.id]),
            check_ins=tuple(check_ins[row.id]),
            has_logged_in=row.last_login_at is not None,
            risk_modifier=row.risk_modifier,
            function=functions.get(row.episode_id),
            function_improved=bool(
                row.episode_id in functions and functions[row.episode_id].mic_met
            ),
        )
        for row in rows
    }


def program_calendars(
    owner: dict[int, int],
) -> tuple[dict[int, list[ScheduleFact]], dict[int, list[StatusFact]]]:
    """Load the schedule and status history of programs, keyed by their owner, in two queries.

    ``owner`` maps a program id to the key the facts are grouped under (its patient's id); the
    facts come oldest first, as ``app.clinical.adherence`` reads the calendar (CLINICAL §3).
    """
    schedules: dict[int, list[ScheduleFact]] = defaultdict(list)
    statuses: dict[int, list[StatusFact]] = defaultdict(list)
    if not owner:
        return schedules, statuses
    for change in db.session.execute(
        sa.select(ScheduleChange.program_id, ScheduleChange.effective_date, ScheduleChange.weekdays)
        .where(ScheduleChange.program_id.in_(owner))
        .order_by(ScheduleChange.effective_date, ScheduleChange.created_at, ScheduleChange.id)
    ):
        schedules[owner[change.program_id]].append(
            ScheduleFact(change.effective_date, tuple(change.weekdays))
        )
    for change in db.session.execute(
        sa.select(
            ProgramStatusChange.program_id,
            ProgramStatusChange.local_date,
            ProgramStatusChange.status,
        )
        .where(ProgramStatusChange.program_id.in_(owner))
        .order_by(
            ProgramStatusChange.local_date,
            ProgramStatusChange.created_at,
            ProgramStatusChange.id,
        )
    ):
        statuses[owner[change.program_id]].append(
            StatusFact(change.local_date, str(change.status.value))
        )
    return schedules, statuses
