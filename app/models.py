"""Import every model so the metadata (and Alembic) sees the whole schema."""

from app.admin.models import AuditEvent
from app.alerts.models import Alert, Referral
from app.auth.models import (
    Clinic,
    Invitation,
    LoginFailure,
    PasswordReset,
    RecoveryCode,
    User,
    UserSession,
)
from app.caseload.models import PatientSummary
from app.messages.models import Message
from app.patient.models import (
    CheckIn,
    MeasureRequest,
    OutcomeResponse,
    Patient,
    RedFlagAnswer,
    Session,
    SessionExercise,
)
from app.programs.models import (
    EpisodeOfCare,
    Exercise,
    Program,
    ProgramItem,
    ProgramStatusChange,
    RoutineTemplate,
    ScheduleChange,
    StageChange,
    TemplateStage,
    TemplateStageExercise,
)
from app.reminders.models import PushSubscription, ReminderSettings, SentReminder

__all__ = [
    "Alert",
    "AuditEvent",
    "CheckIn",
    "Clinic",
    "EpisodeOfCare",
    "Exercise",
    "Invitation",
    "LoginFailure",
    "MeasureRequest",
    "Message",
    "OutcomeResponse",
    "PasswordReset",
    "Patient",
    "PatientSummary",
    "Program",
    "ProgramItem",
    "ProgramStatusChange",
    "PushSubscription",
    "RecoveryCode",
    "RedFlagAnswer",
    "Referral",
    "ReminderSettings",
    "RoutineTemplate",
    "ScheduleChange",
    "SentReminder",
    "Session",
    "SessionExercise",
    "StageChange",
    "TemplateStage",
    "TemplateStageExercise",
    "User",
    "UserSession",
]
