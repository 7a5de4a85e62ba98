"""Idempotent reports: client UUIDs, payload hashes, insert once, replay or conflict.

Sessions, check-ins, measures and messages are identified by the phone's UUID (DESIGN §4): the
same id with the same content returns the stored row, the same id with other content is a
conflict, and two concurrent inserts of one id store one row (a unique constraint decides).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.i18n import N_


@dataclass(frozen=True)
class Logged:
    """A service answer: the stored object and whether this call created it."""

    obj: Any
    created: bool


def client_id(value: Any) -> str:
    """Return the phone's UUID in canonical form, or refuse it."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ValidationFailed({"id": _("The id must be a UUID made by the app.")}) from None


def payload_hash(payload: Mapping[str, Any]) -> str:
    """Hash a canonical report, so a replay compares as parsed JSON, whatever its key order."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def iso(instant: datetime | None) -> str | None:
    return None if instant is None else instant.astimezone(UTC).isoformat()


def find_reported(model: Any, patient_id: int, key: str) -> Any:
    """Return the patient's row of ``model`` with this client id, if stored."""
    return db.session.scalar(
        sa.select(model).where(model.patient_id == patient_id, model.client_id == key)
    )


# The phone shows these under "Needs your attention", in the patient's language.
REUSED_ID = {
    "session": N_(
        "A session with this id was already saved with different content. "
        "Use a new id for a new report."
    ),
    "check-in": N_(
        "A check-in with this id was already saved with different content. "
        "Use a new id for a new report."
    ),
    "questionnaire": N_(
        "A questionnaire with this id was already saved with different content. "
        "Use a new id for a new report."
    ),
    "message": N_(
        "A message with this id was already saved with different content. "
        "Use a new id for a new report."
    ),
}


def replay(existing: Any, report_hash: str, what: str) -> Logged:
    """Answer a repeated id: the stored row when the content matches, else a conflict."""
    if existing.payload_hash != report_hash:
        raise Conflict(_(REUSED_ID[what]))
    return Logged(existing, False)


def insert_once(obj: Any) -> Any:
    """Insert; if a concurrent request stored the same client id first, return that row."""
    try:
        with db.session.begin_nested():
            db.session.add(obj)
            db.session.flush()
    except IntegrityError:
        stored = find_reported(type(obj), obj.patient_id, obj.client_id)
        if stored is None:
            raise
        return stored
    return obj
