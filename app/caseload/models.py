"""The caseload read model: one summary row per patient, refreshed with each change."""

from datetime import date, datetime
from fractions import Fraction

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
    # adherence_14d = min(1, completed / scheduled) when known (CLINICAL §3), kept exact.
    adherence_known: Mapped[bool] = mapped_column(default=False)
    adherence_completed: Mapped[int] = mapped_column(default=0)
    adherence_scheduled: Mapped[int] = mapped_column(default=0)
    # Exact resting-pain means as fractions ("21/4"): every screen rounds them the same way.
    baseline: Mapped[str | None] = mapped_column(sa.String(24))
    current: Mapped[str | None] = mapped_column(sa.String(24))
    pain_status: Mapped[str] = mapped_column(sa.String(10), default="UNKNOWN")
    partial_adherence: Mapped[bool] = mapped_column(default=False)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    data_days: Mapped[int] = mapped_column(default=0)
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]
    # Polyline points of the last 28 days' daily resting pain, drawn as the caseload sparkline.
    spark: Mapped[str] = mapped_column(sa.String(1000), default="")

    @property
    def adherence(self) -> Fraction | None:
        """Return adherence_14d exactly, or None when unknown (CLINICAL §3)."""
        return stored_adherence(
            self.adherence_known, self.adherence_completed, self.adherence_scheduled
        )


def stored_adherence(known: bool, completed: int, scheduled: int) -> Fraction | None:
    """Return min(1, completed ÷ scheduled) from the stored counts, None when unknown."""
    if not known or not scheduled:
        return None
    return min(Fraction(1), Fraction(completed, scheduled))
