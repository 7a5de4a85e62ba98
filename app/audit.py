"""Write audit events: who read or changed which patient's data, when, from where."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import has_request_context, request

from app.admin.models import AuditEvent
from app.db import utcnow
from app.extensions import db
from app.transactions import SAFE_METHODS, defer_write

if TYPE_CHECKING:
    from app.auth.models import User
    from app.patient.models import Patient


def record(
    action: str,
    *,
    actor: User | None = None,
    patient: Patient | None = None,
    clinic_id: int | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    details: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> None:
    """Record an audit event.

    A change joins the caller's transaction, so it is kept exactly when the change is. A read
    (any event of a GET request) is queued for the commit path, which writes it in a short write
    transaction of its own, so the page it audits is never expired or failed by it.
    """
    ip = user_agent = None
    if has_request_context():
        ip = request.remote_addr
        user_agent = (request.user_agent.string or "")[:255] or None
    if clinic_id is None:
        clinic_id = patient.clinic_id if patient is not None else getattr(actor, "clinic_id", None)
    values = {
        "clinic_id": clinic_id,
        "actor_id": actor.id if actor is not None else None,
        "patient_id": patient.id if patient is not None else None,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "ip": ip,
        "user_agent": user_agent,
        "details": details or {},
        "created_at": now or utcnow(),
    }
    if has_request_context() and request.method in SAFE_METHODS:
        defer_write(lambda: db.session.add(AuditEvent(**values)))
    else:
        db.session.add(AuditEvent(**values))
