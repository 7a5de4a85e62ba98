"""Patient profiles and what patients report: sessions, check-ins, outcome measures."""

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, utcnow
from app.enums import CheckInKind, ItemStatus, Light, RedFlagLevel, enum_type
from app.extensions import db

if TYPE_CHECKING:
    from app.auth.models import Clinic, User
    from app.programs.models import EpisodeOfCare, Program, ProgramItem


def pain_check(column: str) -> sa.CheckConstraint:
    """CLINICAL §1: pain is an integer 0–10; the database refuses anything else."""
    return sa.CheckConstraint(
        f"{column} IS NULL OR ({column} BETWEEN 0 AND 10)", name=f"{column}_range"
    )


class Patient(db.Model):
    __tablename__ = "patients"
    __table_args__ = (
        pain_check("intake_pain"),
        sa.CheckConstraint("language IS NULL OR language IN ('en', 'es')", name="language_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), unique=True)
    clinic_id: Mapped[int] = mapped_column(sa.ForeignKey("clinics.id"), index=True)
    therapist_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    timezone: Mapped[str] = mapped_column(sa.String(64))
    # DESIGN §4 "Language": the patient's choice; None follows the phone's Accept-Language.
    language: Mapped[str | None] = mapped_column(sa.String(8))
    # So the therapist can call back after a red flag (a tel: link on the patient page).
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    # Optional; with the record number it identifies the patient on a referral letter.
    date_of_birth: Mapped[date | None] = mapped_column(sa.Date)
    intake_pain: Mapped[int | None]
    goals: Mapped[str] = mapped_column(sa.Text, default="")
    # RF12 is asked at intake and raises RF9–RF11 from prompt to urgent (CLINICAL §6).
    risk_modifier: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped["User"] = relationship(back_populates="patient", foreign_keys=[user_id])
    clinic: Mapped["Clinic"] = relationship()
    therapist: Mapped["User | None"] = relationship(foreign_keys=[therapist_id])
    episodes: Mapped[list["EpisodeOfCare"]] = relationship(
        back_populates="patient", order_by="EpisodeOfCare.start_date"
    )
    programs: Mapped[list["Program"]] = relationship(
        back_populates="patient", order_by="Program.created_at"
    )

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def record_number(self) -> str:
        """The patient's identifier on letters and exports: "HS-000123"."""
        return f"HS-{self.id:06d}"

    def __repr__(self) -> str:
        return f"<Patient {self.id}>"


class Session(db.Model):
    """One performed exercise session, identified by the phone's UUID (DESIGN §2)."""

    __tablename__ = "sessions"
    __table_args__ = (
        sa.UniqueConstraint("patient_id", "client_id"),
        pain_check("pain_before"),
        pain_check("pain_after"),
        pain_check("peak_pain"),
        sa.CheckConstraint("effort IS NULL OR (effort BETWEEN 0 AND 10)", name="effort_range"),
        sa.CheckConstraint("prescribed_items >= 0", name="prescribed_items_not_negative"),
        sa.CheckConstraint(
            "completed_items BETWEEN 0 AND prescribed_items", name="completed_items_range"
        ),
        sa.Index("ix_sessions_patient_completed", "patient_id", "completed_at"),
        sa.Index("ix_sessions_patient_local_date", "patient_id", "local_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"))
    program_id: Mapped[int] = mapped_column(sa.ForeignKey("programs.id"), index=True)
    client_id: Mapped[str] = mapped_column(sa.String(36))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    local_date: Mapped[date]
    stage: Mapped[int]
    pain_before: Mapped[int]
    pain_after: Mapped[int | None]
    peak_pain: Mapped[int | None]
    effort: Mapped[int | None]
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    prescribed_items: Mapped[int]
    completed_items: Mapped[int]
    completed: Mapped[bool]
    light: Mapped[Light] = mapped_column(enum_type(Light, "light", 8))
    light_provisional: Mapped[bool] = mapped_column(default=True)
    payload_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    patient: Mapped[Patient] = relationship()
    program: Mapped["Program"] = relationship()
    exercises: Mapped[list["SessionExercise"]] = relationship(
        back_populates="session", order_by="SessionExercise.position", cascade="all, delete-orphan"
    )


class SessionExercise(db.Model):
    """The result of one program item in one session."""

    __tablename__ = "session_exercises"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "program_item_id"),
        pain_check("pain_during"),
        sa.CheckConstraint("sets_done IS NULL OR sets_done >= 0", name="sets_done_not_negative"),
        sa.CheckConstraint("reps_done IS NULL OR reps_done >= 0", name="reps_done_not_negative"),
        sa.CheckConstraint(
            "hold_seconds IS NULL OR hold_seconds >= 0", name="hold_seconds_not_negative"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("sessions.id", ondelete="CASCADE"))
    program_item_id: Mapped[int] = mapped_column(sa.ForeignKey("program_items.id"), index=True)
    exercise_id: Mapped[int] = mapped_column(sa.ForeignKey("exercises.id"))
    position: Mapped[int]
    status: Mapped[ItemStatus] = mapped_column(enum_type(ItemStatus, "item_status", 10))
    sets_done: Mapped[int | None]
    reps_done: Mapped[int | None]
    hold_seconds: Mapped[int | None]
    pain_during: Mapped[int | None]
    skip_reason: Mapped[str | None] = mapped_column(sa.String(200))

    session: Mapped[Session] = relationship(back_populates="exercises")
    program_item: Mapped["ProgramItem"] = relationship()


class CheckIn(db.Model):
    """Next-morning pain, red-flag answers and self-care, by the phone's UUID (DESIGN §2)."""

    __tablename__ = "check_ins"
    __table_args__ = (
        sa.UniqueConstraint("patient_id", "client_id"),
        pain_check("morning_pain"),
        sa.Index("ix_check_ins_patient_recorded", "patient_id", "recorded_at"),
        sa.Index("ix_check_ins_patient_local_date", "patient_id", "local_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(sa.String(36))
    kind: Mapped[CheckInKind] = mapped_column(enum_type(CheckInKind, "check_in_kind", 10))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    local_date: Mapped[date]
    morning_pain: Mapped[int | None]
    self_care: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    red_flag_level: Mapped[RedFlagLevel] = mapped_column(
        enum_type(RedFlagLevel, "red_flag_level", 10), default=RedFlagLevel.NONE
    )
    full_screen: Mapped[bool] = mapped_column(default=False)
    payload_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    patient: Mapped[Patient] = relationship()
    red_flags: Mapped[list["RedFlagAnswer"]] = relationship(
        back_populates="check_in", order_by="RedFlagAnswer.id", cascade="all, delete-orphan"
    )

    def red_flag_answers(self) -> dict[str, bool]:
        return {answer.question: answer.answer for answer in self.red_flags}


class RedFlagAnswer(db.Model):
    """One yes/no answer to a red-flag question (CLINICAL §6)."""

    __tablename__ = "red_flag_answers"
    __table_args__ = (
        sa.UniqueConstraint("check_in_id", "question"),
        sa.CheckConstraint(
            "question IN ('RF1', 'RF2', 'RF3', 'RF4', 'RF5', 'RF6', 'RF7', 'RF8', 'RF9', "
            "'RF10', 'RF11', 'RF12')",
            name="question_known",
        ),
        sa.Index("ix_red_flag_answers_patient_question", "patient_id", "question"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    check_in_id: Mapped[int] = mapped_column(sa.ForeignKey("check_ins.id", ondelete="CASCADE"))
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(sa.String(4))
    answer: Mapped[bool]

    check_in: Mapped[CheckIn] = relationship(back_populates="red_flags")


class OutcomeResponse(db.Model):
    """A scored questionnaire response: PSFS, NPRS, STarT Back, ... (CLINICAL §8).

    Identified by the phone's UUID like sessions (DESIGN §4). ``result`` keeps the exact score
    (``app.measures.Score.to_dict``: fractions as text, "17/3"); ``score`` and
    ``subscale_score`` are the same values rounded, for sorting and spreadsheets.
    """

    __tablename__ = "outcome_responses"
    __table_args__ = (
        sa.UniqueConstraint("patient_id", "client_id"),
        sa.Index("ix_outcome_responses_patient_recorded", "patient_id", "recorded_at"),
        sa.Index(
            "ix_outcome_responses_episode_instrument", "episode_id", "instrument", "recorded_at"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"))
    episode_id: Mapped[int | None] = mapped_column(sa.ForeignKey("episodes_of_care.id"))
    client_id: Mapped[str] = mapped_column(sa.String(36))
    instrument: Mapped[str] = mapped_column(sa.String(40))
    # The instrument file's version the answers were given to.
    version: Mapped[str] = mapped_column(sa.String(40))
    answers: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    result: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    score: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))
    subscale_score: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The patient's local date of ``recorded_at``: the schedule counts program days (CLINICAL §8).
    local_date: Mapped[date]
    # Who sent it: the patient on their phone, or a clinician in clinic (``in_clinic``).
    entered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    in_clinic: Mapped[bool] = mapped_column(default=False)
    payload_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    patient: Mapped[Patient] = relationship()


class MeasureRequest(db.Model):
    """A therapist asking for a measure now, outside the schedule (CLINICAL §8).

    Due from ``requested_on`` (the patient's local date) until a response on or after it.
    """

    __tablename__ = "measure_requests"
    __table_args__ = (
        sa.Index("ix_measure_requests_patient_instrument", "patient_id", "instrument"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"))
    episode_id: Mapped[int | None] = mapped_column(sa.ForeignKey("episodes_of_care.id"))
    instrument: Mapped[str] = mapped_column(sa.String(40))
    requested_on: Mapped[date]
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
