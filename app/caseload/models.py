"""The caseload read model: one summary row per patient, refreshed with each change."""

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UTCDateTime, utcnow
from app.extensions import db


class PatientSummary(db.Model):
    """What the caseload shows for a patient, computed from the bounded timeline.

    Refreshed in the same transaction as every session, check-in and program change, and by
    `flask alerts sweep` for days without any (DESIGN §5: a read model keeps the caseload to a
    fixed number of queries).
    """

    __tablename__ = "patient_summaries"

    patient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True
    )
    as_of: Mapped[date]
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    episode_start: Mapped[date | None]
    stage: Mapped[int | None]
    program_status: Mapped[str] = mapped_column(sa.String(12), default="none")
    adherence: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 4))
    adherence_completed: Mapped[int] = mapped_column(default=0)
    adherence_scheduled: Mapped[int] = mapped_column(default=0)
    baseline: Mapped[Decimal | None] = mapped_column(sa.Numeric(4, 2))
    current: Mapped[Decimal | None] = mapped_column(sa.Numeric(4, 2))
    pain_status: Mapped[str] = mapped_column(sa.String(10), default="UNKNOWN")
    partial_adherence: Mapped[bool] = mapped_column(default=False)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    data_days: Mapped[int] = mapped_column(default=0)
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]
    # Polyline points of the last 28 days' daily resting pain, drawn as the caseload sparkline.
    spark: Mapped[str] = mapped_column(sa.String(1000), default="")
