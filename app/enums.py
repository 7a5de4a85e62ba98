"""Closed sets of words used in models, services and rules (DESIGN §2)."""

from enum import StrEnum

import sqlalchemy as sa

# The pure clinical package owns these words; models and views share them.
from app.clinical.adherence import ProgramStatus
from app.clinical.red_flags import RedFlagLevel
from app.clinical.traffic_light import Light

__all__ = [
    "OPEN_ALERT_STATUSES",
    "RED_FLAG_KINDS",
    "AlertAction",
    "AlertKind",
    "AlertStatus",
    "CheckInKind",
    "ItemStatus",
    "Light",
    "ProgramStatus",
    "RedFlagLevel",
    "Role",
    "Severity",
    "Side",
    "StageDirection",
    "enum_type",
]


class Role(StrEnum):
    ADMIN = "admin"
    THERAPIST = "therapist"
    PATIENT = "patient"


class Side(StrEnum):
    LEFT = "left"
    RIGHT = "right"
    BOTH = "both"
    ALTERNATING = "alternating"


class ItemStatus(StrEnum):
    DONE = "done"
    PARTIAL = "partial"
    SKIPPED = "skipped"
    NOT_DONE = "not_done"  # listed in the program but not in the logged session (DESIGN §4)


class CheckInKind(StrEnum):
    MORNING = "morning"
    SYMPTOM = "symptom"
    INTAKE = "intake"


class StageDirection(StrEnum):
    ASSIGN = "assign"
    ADVANCE = "advance"
    REGRESS = "regress"


class AlertKind(StrEnum):
    RED_FLAG_EMERGENCY = "RED_FLAG_EMERGENCY"
    RED_FLAG_URGENT = "RED_FLAG_URGENT"
    RED_FLAG_PROMPT = "RED_FLAG_PROMPT"
    FLARE = "FLARE"
    WORSENING = "WORSENING"
    PERSISTENT_PAIN = "PERSISTENT_PAIN"
    NON_RESPONSE_6W = "NON_RESPONSE_6W"
    LOW_ADHERENCE = "LOW_ADHERENCE"
    READY_TO_PROGRESS = "READY_TO_PROGRESS"


class Severity(StrEnum):
    """Alert severity, most serious first (CLINICAL §5)."""

    URGENT = "urgent"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Return how serious this is: info 0 … urgent 4 (the one severity order)."""
        return len(_SEVERITIES) - 1 - _SEVERITIES.index(self)


_SEVERITIES = tuple(Severity)


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"
    SUPERSEDED = "superseded"


OPEN_ALERT_STATUSES = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.SNOOZED)
RED_FLAG_KINDS = (
    AlertKind.RED_FLAG_EMERGENCY,
    AlertKind.RED_FLAG_URGENT,
    AlertKind.RED_FLAG_PROMPT,
)


class AlertAction(StrEnum):
    CONTACTED = "contacted"
    RE_EVALUATED = "re_evaluated"
    REGRESSED = "regressed"
    PROGRESSED = "progressed"
    REFERRED = "referred"
    NO_ACTION = "no_action"


def enum_type(enum: type[StrEnum], name: str, length: int = 20) -> sa.Enum:
    """Store an enum as its value in a VARCHAR guarded by a CHECK constraint."""
    return sa.Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )
