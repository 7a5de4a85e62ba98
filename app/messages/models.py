"""Messages between a patient and their therapist, one thread per patient."""

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, utcnow
from app.enums import enum_type
from app.extensions import db

if TYPE_CHECKING:
    from app.auth.models import User

MAX_BODY = 2000  # DESIGN §4: 1–2,000 characters


class Side(StrEnum):
    """Who wrote a message: the patient, or the clinic (their therapist or an admin)."""

    PATIENT = "patient"
    THERAPIST = "therapist"

    @property
    def other(self) -> "Side":
        return Side.THERAPIST if self is Side.PATIENT else Side.PATIENT


class Message(db.Model):
    """One message, identified by its writer's client UUID (idempotent like sessions)."""

    __tablename__ = "messages"
    __table_args__ = (
        sa.UniqueConstraint("patient_id", "author_id", "client_id"),
        sa.CheckConstraint(f"length(body) BETWEEN 1 AND {MAX_BODY}", name="body_length"),
        # The thread in order, and the unread count of the caseload (no query per patient).
        sa.Index("ix_messages_patient_sent", "patient_id", "sent_at"),
        sa.Index("ix_messages_patient_unread", "patient_id", "sender", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"))
    sender: Mapped[Side] = mapped_column(enum_type(Side, "message_sender", 10))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    client_id: Mapped[str] = mapped_column(sa.String(36))
    body: Mapped[str] = mapped_column(sa.Text)
    payload_hash: Mapped[str] = mapped_column(sa.String(64))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the other side first read it (for a patient's message: their therapist).
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    author: Mapped["User"] = relationship()
