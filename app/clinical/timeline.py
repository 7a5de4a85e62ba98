"""A patient's bounded history as the pure rules read it: facts, not database rows.

The loader (``app.assessment.timeline``) fills these from the database for many patients at once;
the rules, the caseload, the patient pages and the player all read the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction

from app.clinical.adherence import ScheduleFact, StatusFact
from app.clinical.red_flags import RedFlagLevel
from app.clinical.traffic_light import Light


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
    at: datetime | None = None  # when it was completed (an aware instant)


@dataclass(frozen=True)
class CheckInFact:
    """One check-in, reduced to what the rules read."""

    id: int
    local_date: date
    morning_pain: int | None  # CLINICAL §1: a resting-pain reading when present
    red_flag_level: RedFlagLevel  # CLINICAL §6, already classified
    yes: tuple[str, ...]  # question ids answered yes, e.g. ("RF2",)
    at: datetime | None = None  # when it was recorded (an aware instant)
    full_screen: bool = False  # CLINICAL §6: the weekly questions were all answered


@dataclass(frozen=True)
class FunctionFact:
    """A function measure's change over the episode: first and latest score (CLINICAL §5, §8).

    Filled from the stored outcome responses (PSFS, or a disability measure the clinic added);
    ``mic_met`` is whether the latest beat the first by the instrument's minimal important change.
    """

    instrument: str
    first: Fraction
    latest: Fraction
    first_on: date
    latest_on: date
    count: int
    mic_points: Fraction
    mic_met: bool

    @property
    def change(self) -> Fraction:
        return self.latest - self.first


@dataclass(frozen=True)
class Timeline:
    """A patient's bounded history: the episode's baseline days and the most recent days.

    How many recent days are loaded follows the clinic's policy (``Policy.window_days``). With
    no ``episode_start`` (no program yet) only red flags can fire (CLINICAL §2).
    ``program_status`` is "active", "paused", "suspended", "ended" or "none".
    """

    patient_id: int
    timezone: str
    episode_start: date | None
    intake_pain: int | None
    stage: int | None
    stage_started_on: date | None
    program_status: str
    schedule: tuple[ScheduleFact, ...]
    statuses: tuple[StatusFact, ...]
    sessions: tuple[SessionFact, ...]
    check_ins: tuple[CheckInFact, ...]
    has_logged_in: bool
    # CLINICAL §5: a function measure improved by its minimal important change.
    function_improved: bool = False
    risk_modifier: bool = False  # CLINICAL §6: RF12 yes at intake
    # CLINICAL §5, §8: the episode's function trend (PSFS first → latest), when measured twice.
    function: FunctionFact | None = None

    @property
    def function_gain(self) -> bool:
        """Return whether a function measure improved by its MIC (the trend decides if known)."""
        return self.function.mic_met if self.function is not None else self.function_improved
