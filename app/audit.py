"""Write audit events: who read or changed which patient's data, when, from where."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import Response, g, has_request_context, request

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
    patients: Iterable[int] | None = None,
    outcome: str = "ok",
    side: bool = False,
    actor_id: int | None = None,
) -> None:
    """Record an audit event: who, when, from where, what, which patients, with what outcome.

    A change joins the caller's transaction, so it is kept exactly when the change is. A read
    (any event of a GET request) is queued for the commit path, which writes it in a short write
    transaction of its own, so the page it audits is never expired or failed by it. So is any
    event with ``side=True`` — a failed login, a refused code, a denial — which must be kept
    although the request's own work is rolled back.

    ``patients`` names every patient a list read showed: one event (one INSERT), not one per
    patient. ``details`` holds kinds of action and ids only, never health values, free text,
    passwords or tokens (DESIGN §6).
    """
    ip = user_agent = None
    if has_request_context():
        ip = request.remote_addr
        user_agent = (request.user_agent.string or "")[:255] or None
    if clinic_id is None:
        clinic_id = patient.clinic_id if patient is not None else getattr(actor, "clinic_id", None)
    named = sorted({*(patients or ()), *([patient.id] if patient is not None else [])})
    values = {
        "clinic_id": clinic_id,
        "actor_id": actor.id if actor is not None else actor_id,
        "patient_id": patient.id if patient is not None else None,
        "patient_ids": f",{','.join(map(str, named))}," if named else None,
        "action": action,
        "outcome": outcome,
        "object_type": object_type,
        "object_id": object_id,
        "ip": ip,
        "user_agent": user_agent,
        "details": details or {},
        "created_at": now or utcnow(),
    }
    if has_request_context():
        g.audit_recorded = True
    if side or (has_request_context() and request.method in SAFE_METHODS):
        defer_write(lambda: db.session.add(AuditEvent(**values)))
    else:
        db.session.add(AuditEvent(**values))


def record_list_read(action: str, actor: User, patient_ids: Iterable[int]) -> None:
    """One event for a list read, naming every patient it showed (one INSERT, not one each)."""
    ids = sorted(set(patient_ids))
    record(action, actor=actor, patients=ids, details={"patients_shown": len(ids)})


# Pages and calls that carry no patient data (or audit themselves in a way of their own).
NO_PATIENT_DATA = frozenset(
    {
        "static",
        "api.csrf_token",
        "api.openapi",
        "api.push_key",
        "patient.manifest",
        "patient.offline",
        "patient.offline_session",  # a static shell: the data comes from /api/v1/me/today
        "patient.service_worker",
    }
)
NO_PATIENT_DATA_PREFIXES = ("auth.", "main.", "figures.", "admin.")


def audit_request(response: Response) -> Response:
    """Audit what a view did not audit itself: a refusal, or a read of a patient's data.

    Runs before the commit path (registered after it), so the events it queues are written
    with the request's other side writes. A refusal (403, or 404 for an object id) names no
    patient: existence must not leak, not even into another clinic's log.
    """
    from flask_login import current_user

    if not current_user.is_authenticated or g.get("audit_recorded"):
        return response
    endpoint = request.endpoint or ""
    status = response.status_code
    if status == 403 or (status == 404 and request.view_args):
        record(
            "access.denied",
            actor=current_user,
            outcome="denied",
            side=True,
            details={"endpoint": endpoint[:80], "status": status},
        )
        return response
    if (
        request.method != "GET"
        or status != 200
        or endpoint in NO_PATIENT_DATA
        or endpoint.startswith(NO_PATIENT_DATA_PREFIXES)
    ):
        return response
    if current_user.role.value == "patient":
        patient = current_user.patient
        if patient is not None:
            record(
                "patient.self_read",
                actor=current_user,
                patient=patient,
                details={"endpoint": endpoint},
            )
        return response
    patient_id = _patient_of(request.view_args or {})
    if patient_id is not None:
        record(
            "patient.read",
            actor=current_user,
            patients=[patient_id],
            details={"endpoint": endpoint},
        )
    return response


def _patient_of(view_args: dict[str, Any]) -> int | None:
    """The patient a clinician's URL names (directly or through a program)."""
    import sqlalchemy as sa

    from app.programs.models import Program

    if isinstance(view_args.get("patient_id"), int):
        return view_args["patient_id"]
    if isinstance(view_args.get("program_id"), int):
        return db.session.scalar(
            sa.select(Program.patient_id).where(Program.id == view_args["program_id"])
        )
    return None
