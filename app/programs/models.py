"""Exercise library, routine templates, episodes of care, programs and their history."""

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, utcnow
from app.enums import ProgramStatus, Side, StageDirection, enum_type
from app.extensions import db

if TYPE_CHECKING:
    from app.auth.models import User
    from app.patient.models import Patient

# Dosage limits shared by the database checks and the forms (DESIGN §2).
MAX_SETS = 10
MAX_REPS = 100
MAX_HOLD_SECONDS = 300
MAX_DURATION_SECONDS = 3600
MAX_DISTANCE_M = 2000
MAX_REST_SECONDS = 600

DOSAGE_CHECKS = (
    (f"sets BETWEEN 1 AND {MAX_SETS}", "sets_range"),
    (f"reps IS NULL OR reps BETWEEN 1 AND {MAX_REPS}", "reps_range"),
    (f"hold_seconds IS NULL OR hold_seconds BETWEEN 1 AND {MAX_HOLD_SECONDS}", "hold_range"),
    (
        f"duration_seconds IS NULL OR duration_seconds BETWEEN 1 AND {MAX_DURATION_SECONDS}",
        "duration_range",
    ),
    (f"distance_m IS NULL OR distance_m BETWEEN 1 AND {MAX_DISTANCE_M}", "distance_range"),
    (f"rest_seconds BETWEEN 0 AND {MAX_REST_SECONDS}", "rest_range"),
)


DOSAGE_FIELDS = (
    "sets",
    "reps",
    "reps_per_set",
    "hold_seconds",
    "duration_seconds",
    "distance_m",
    "rest_seconds",
    "side",
    "load",
)


class DosageMixin:
    """The dosage fields of DESIGN §2, shared by library defaults and program items."""

    sets: Mapped[int] = mapped_column(default=1)
    reps: Mapped[int | None]
    reps_per_set: Mapped[list[int] | None] = mapped_column(sa.JSON)
    hold_seconds: Mapped[int | None]
    duration_seconds: Mapped[int | None]
    distance_m: Mapped[int | None]
    rest_seconds: Mapped[int] = mapped_column(default=30)
    side: Mapped[Side] = mapped_column(enum_type(Side, "side", 12), default=Side.BOTH)
    load: Mapped[str | None] = mapped_column(sa.String(80))

    def copy_dosage(self) -> dict:
        """Return the dosage as column values, to start another item with the same dose."""
        return {field: getattr(self, field) for field in DOSAGE_FIELDS}

    def dosage(self) -> dict:
        return {
            "sets": self.sets,
            "reps": self.reps,
            "reps_per_set": list(self.reps_per_set) if self.reps_per_set else None,
            "hold_seconds": self.hold_seconds,
            "duration_seconds": self.duration_seconds,
            "distance_m": self.distance_m,
            "rest_seconds": self.rest_seconds,
            "side": self.side.value,
            "load": self.load,
        }


def _dosage_constraints() -> tuple[sa.CheckConstraint, ...]:
    return tuple(sa.CheckConstraint(sql, name=name) for sql, name in DOSAGE_CHECKS)


class Exercise(DosageMixin, db.Model):
    """A library entry; built-in entries have no clinic and are read-only."""

    __tablename__ = "exercises"
    __table_args__ = (
        *_dosage_constraints(),
        sa.CheckConstraint("stage_from BETWEEN 1 AND 4", name="stage_from_range"),
        sa.CheckConstraint("stage_to BETWEEN stage_from AND 4", name="stage_to_range"),
        sa.UniqueConstraint("clinic_id", "slug"),
        sa.Index(
            "uq_exercises_builtin_slug",
            "slug",
            unique=True,
            sqlite_where=sa.text("clinic_id IS NULL"),
            postgresql_where=sa.text("clinic_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clinics.id"), index=True)
    slug: Mapped[str] = mapped_column(sa.String(80))
    name: Mapped[str] = mapped_column(sa.String(120))
    target: Mapped[str] = mapped_column(sa.String(120))
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    position: Mapped[str] = mapped_column(sa.Text, default="")
    steps: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    cues: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    safety: Mapped[str] = mapped_column(sa.Text, default="")
    dose_text: Mapped[str] = mapped_column(sa.String(80), default="")
    stage_from: Mapped[int] = mapped_column(default=1)
    stage_to: Mapped[int] = mapped_column(default=1)
    easier_id: Mapped[int | None] = mapped_column(sa.ForeignKey("exercises.id"))
    harder_id: Mapped[int | None] = mapped_column(sa.ForeignKey("exercises.id"))
    easier_note: Mapped[str | None] = mapped_column(sa.Text)
    harder_note: Mapped[str | None] = mapped_column(sa.Text)
    # A clinic exercise's figure (DESIGN §4 "Figures"): {"slug": <built-in>} reuses a built-in
    # figure, {"start": <pose>, "end": <pose>} moves between two library poses. Built-in
    # exercises draw their own figure (app.figures.data) and keep None here.
    figure: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    # The patient-facing texts in other languages, {"es": {"name": …, "steps": […]}} (issue 16).
    translations: Mapped[dict[str, dict[str, Any]] | None] = mapped_column(sa.JSON)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set by the services with their `now` (no onupdate: replays must keep their own times).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Variants link both ways (A easier → B, B harder → A); the content loader sets the ids
    # after the rows exist, so one flush never holds a cycle.
    easier: Mapped["Exercise | None"] = relationship(remote_side=[id], foreign_keys=[easier_id])
    harder: Mapped["Exercise | None"] = relationship(remote_side=[id], foreign_keys=[harder_id])

    @property
    def built_in(self) -> bool:
        return self.clinic_id is None

    def __repr__(self) -> str:
        return f"<Exercise {self.slug}>"


class RoutineTemplate(db.Model):
    __tablename__ = "routine_templates"
    __table_args__ = (sa.UniqueConstraint("clinic_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clinics.id"), index=True)
    slug: Mapped[str] = mapped_column(sa.String(80))
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    content_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    stages: Mapped[list["TemplateStage"]] = relationship(
        back_populates="template", order_by="TemplateStage.number", cascade="all, delete-orphan"
    )

    def stage(self, number: int) -> "TemplateStage | None":
        return next((s for s in self.stages if s.number == number), None)


class TemplateStage(db.Model):
    __tablename__ = "template_stages"
    __table_args__ = (
        sa.UniqueConstraint("template_id", "number"),
        sa.CheckConstraint("number BETWEEN 1 AND 4", name="number_range"),
        sa.CheckConstraint("sessions_per_week BETWEEN 1 AND 7", name="sessions_per_week_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(
        sa.ForeignKey("routine_templates.id", ondelete="CASCADE")
    )
    number: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(60))
    aim: Mapped[str] = mapped_column(sa.Text, default="")
    frequency: Mapped[str] = mapped_column(sa.String(60), default="")
    sessions_per_week: Mapped[int] = mapped_column(default=5)
    progression_criteria: Mapped[str] = mapped_column(sa.Text, default="")
    # The stage's name and aim in other languages, {"es": {"name": …}} (issue 16).
    translations: Mapped[dict[str, dict[str, Any]] | None] = mapped_column(sa.JSON)

    template: Mapped[RoutineTemplate] = relationship(back_populates="stages")
    default_exercises: Mapped[list["TemplateStageExercise"]] = relationship(
        order_by="TemplateStageExercise.position", cascade="all, delete-orphan"
    )


class TemplateStageExercise(db.Model):
    """One exercise of a stage's default session, in session order."""

    __tablename__ = "template_stage_exercises"
    __table_args__ = (sa.UniqueConstraint("stage_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(sa.ForeignKey("template_stages.id", ondelete="CASCADE"))
    exercise_id: Mapped[int] = mapped_column(sa.ForeignKey("exercises.id"))
    position: Mapped[int]

    exercise: Mapped[Exercise] = relationship()


class EpisodeOfCare(db.Model):
    """Starts with a patient's first program; its start date is program day 1 (CLINICAL §2)."""

    __tablename__ = "episodes_of_care"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    start_date: Mapped[date]
    ended_on: Mapped[date | None]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    patient: Mapped["Patient"] = relationship(back_populates="episodes")


class Program(db.Model):
    __tablename__ = "programs"
    __table_args__ = (
        sa.CheckConstraint("stage BETWEEN 1 AND 4", name="stage_range"),
        sa.CheckConstraint("sessions_per_week BETWEEN 1 AND 7", name="sessions_per_week_range"),
        # One program in force per patient; ended ones stay as history (DESIGN §2).
        sa.Index(
            "uq_programs_one_current_per_patient",
            "patient_id",
            unique=True,
            sqlite_where=sa.text("status != 'ended'"),
            postgresql_where=sa.text("status != 'ended'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    episode_id: Mapped[int] = mapped_column(sa.ForeignKey("episodes_of_care.id"), index=True)
    template_id: Mapped[int | None] = mapped_column(sa.ForeignKey("routine_templates.id"))
    stage: Mapped[int]
    sessions_per_week: Mapped[int]
    weekdays: Mapped[list[int]] = mapped_column(sa.JSON)
    start_date: Mapped[date]
    status: Mapped[ProgramStatus] = mapped_column(
        enum_type(ProgramStatus, "program_status", 12), default=ProgramStatus.ACTIVE
    )
    stage_started_on: Mapped[date]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    patient: Mapped["Patient"] = relationship(back_populates="programs")
    episode: Mapped[EpisodeOfCare] = relationship()
    template: Mapped[RoutineTemplate | None] = relationship()
    items: Mapped[list["ProgramItem"]] = relationship(
        back_populates="program",
        order_by="ProgramItem.position",
        primaryjoin="and_(ProgramItem.program_id == Program.id, ProgramItem.removed_at.is_(None))",
        viewonly=True,
    )
    all_items: Mapped[list["ProgramItem"]] = relationship(
        order_by="ProgramItem.position", cascade="all, delete-orphan", overlaps="items,program"
    )
    stage_changes: Mapped[list["StageChange"]] = relationship(
        order_by="StageChange.created_at", cascade="all, delete-orphan"
    )
    status_changes: Mapped[list["ProgramStatusChange"]] = relationship(
        order_by="ProgramStatusChange.created_at", cascade="all, delete-orphan"
    )
    schedule_changes: Mapped[list["ScheduleChange"]] = relationship(
        order_by="ScheduleChange.effective_date", cascade="all, delete-orphan"
    )


class ProgramItem(DosageMixin, db.Model):
    """One exercise of a program with its dosage; removed items stay for past sessions."""

    __tablename__ = "program_items"
    __table_args__ = _dosage_constraints()

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(
        sa.ForeignKey("programs.id", ondelete="CASCADE"), index=True
    )
    exercise_id: Mapped[int] = mapped_column(sa.ForeignKey("exercises.id"))
    position: Mapped[int]
    # When the item joined and left the program: a session counts the items in force then.
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    program: Mapped[Program] = relationship(overlaps="all_items,items")

    def in_force_at(self, instant: datetime) -> bool:
        return self.added_at <= instant and (self.removed_at is None or self.removed_at > instant)

    exercise: Mapped[Exercise] = relationship()


class StageChange(db.Model):
    __tablename__ = "stage_changes"
    __table_args__ = (
        sa.CheckConstraint("to_stage BETWEEN 1 AND 4", name="to_stage_range"),
        sa.CheckConstraint(
            "from_stage IS NULL OR from_stage BETWEEN 1 AND 4", name="from_stage_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(
        sa.ForeignKey("programs.id", ondelete="CASCADE"), index=True
    )
    from_stage: Mapped[int | None]
    to_stage: Mapped[int]
    direction: Mapped[StageDirection] = mapped_column(
        enum_type(StageDirection, "stage_direction", 10)
    )
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    effective_date: Mapped[date]
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    changed_by: Mapped["User | None"] = relationship()


class ProgramStatusChange(db.Model):
    """Status history; a pause counts from the end of the local day it happened (STACK)."""

    __tablename__ = "program_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(
        sa.ForeignKey("programs.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[ProgramStatus] = mapped_column(enum_type(ProgramStatus, "program_status", 12))
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    local_date: Mapped[date]
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    changed_by: Mapped["User | None"] = relationship()


class ScheduleChange(db.Model):
    """Sessions per week and weekdays, kept with the date they took effect (CLINICAL §3)."""

    __tablename__ = "schedule_changes"
    __table_args__ = (
        sa.CheckConstraint("sessions_per_week BETWEEN 1 AND 7", name="sessions_per_week_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(
        sa.ForeignKey("programs.id", ondelete="CASCADE"), index=True
    )
    sessions_per_week: Mapped[int]
    weekdays: Mapped[list[int]] = mapped_column(sa.JSON)
    effective_date: Mapped[date]
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
