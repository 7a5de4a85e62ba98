"""Pure clinical computations: values and a policy in, findings out (CLINICAL §1–§5).

No Flask, no database, no clock: ``today`` and the policy are always arguments.
"""

from app.clinical.adherence import (
    DEFAULT_WEEKDAYS,
    Adherence,
    AdherenceBand,
    ProgramStatus,
    ScheduleFact,
    StatusFact,
    adherence_14d,
    default_weekdays,
    is_completed,
    missed_last_scheduled,
    scheduled_days,
)
from app.clinical.pain import (
    PAIN_MAX,
    PAIN_MIN,
    PainChange,
    PainStatus,
    Reading,
    baseline,
    check_pain,
    current,
    pain_change,
    program_day,
)
from app.clinical.policy import Policy
from app.clinical.traffic_light import MESSAGES, Light, LightResult, session_light

__all__ = [
    "DEFAULT_WEEKDAYS",
    "MESSAGES",
    "PAIN_MAX",
    "PAIN_MIN",
    "Adherence",
    "AdherenceBand",
    "Light",
    "LightResult",
    "PainChange",
    "PainStatus",
    "Policy",
    "ProgramStatus",
    "Reading",
    "ScheduleFact",
    "StatusFact",
    "adherence_14d",
    "baseline",
    "check_pain",
    "current",
    "default_weekdays",
    "is_completed",
    "missed_last_scheduled",
    "pain_change",
    "program_day",
    "scheduled_days",
    "session_light",
]
