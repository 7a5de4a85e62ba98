"""Read the audit log for the clinic admin: filters, paging and the CSV (DESIGN §4).

An admin sees only their own clinic's events. Reading the log is itself audited (one event per
page or export, naming the filters, never their results).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.admin.models import AuditEvent
from app.auth.models import User
from app.export.csv_safe import cell_text
from app.extensions import db

PAGE_SIZE = 50
CSV_LIMIT = 50_000


@dataclass(frozen=True)
class AuditFilters:
    patient_id: int | None = None
    user_id: int | None = None
    action: str | None = None
    since: date | None = None
    until: date | None = None

    def described(self) -> dict[str, Any]:
        """The filters as audit details (ids, an action name and dates: no health values)."""
        return {
            key: value.isoformat() if isinstance(value, date) else value
            for key, value in (
                ("patient_id", self.patient_id),
                ("user_id", self.user_id),
                ("action", self.action),
                ("since", self.since),
                ("until", self.until),
            )
            if value is not None
        }


def parse_filters(args: Any) -> AuditFilters:
    """Read filters from a query string; anything that does not parse is ignored."""

    def number(name: str) -> int | None:
        value = (args.get(name) or "").strip()
        return int(value) if value.isdigit() and len(value) < 10 else None

    def day(name: str) -> date | None:
        try:
            value = date.fromisoformat((args.get(name) or "").strip())
        except ValueError:
            return None
        return value if 2000 <= value.year <= 2100 else None

    action = (args.get("action") or "").strip()[:60]
    return AuditFilters(
        patient_id=number("patient"),
        user_id=number("user"),
        action=action if action and action.isprintable() else None,
        since=day("since"),
        until=day("until"),
    )


def _where(clinic_id: int, filters: AuditFilters) -> list[sa.ColumnElement[bool]]:
    clauses: list[sa.ColumnElement[bool]] = [AuditEvent.clinic_id == clinic_id]
    if filters.patient_id is not None:
        clauses.append(AuditEvent.patient_ids.like(f"%,{filters.patient_id},%"))
    if filters.user_id is not None:
        clauses.append(AuditEvent.actor_id == filters.user_id)
    if filters.action:
        # "2fa" finds every second-factor event, "patient.read" exactly those.
        clauses.append(
            sa.or_(
                AuditEvent.action == filters.action,
                AuditEvent.action.like(f"{_escape(filters.action)}.%", escape="\\"),
            )
        )
    if filters.since is not None:
        clauses.append(AuditEvent.created_at >= datetime.combine(filters.since, time(), UTC))
    if filters.until is not None:
        end = datetime.combine(filters.until + timedelta(days=1), time(), UTC)
        clauses.append(AuditEvent.created_at < end)
    return clauses


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class AuditPage:
    rows: list[Any]
    page: int
    has_next: bool


def audit_page(clinic_id: int, filters: AuditFilters, page: int) -> AuditPage:
    """One page of events, newest first (one query: PAGE_SIZE + 1 rows tell if there is more)."""
    page = max(1, min(page, 100_000))
    actor = aliased(User)
    rows = db.session.execute(
        sa.select(AuditEvent, actor.name.label("actor_name"))
        .outerjoin(actor, actor.id == AuditEvent.actor_id)
        .where(*_where(clinic_id, filters))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    return AuditPage(rows=rows[:PAGE_SIZE], page=page, has_next=len(rows) > PAGE_SIZE)


CSV_COLUMNS = (
    "id",
    "created_at",
    "actor_id",
    "actor",
    "action",
    "outcome",
    "patient_ids",
    "object_type",
    "object_id",
    "ip",
    "user_agent",
    "details",
)


def audit_csv(clinic_id: int, filters: AuditFilters) -> str:
    """The filtered events as CSV, every cell formula-safe (app/export/csv_safe.py)."""
    actor = aliased(User)
    rows = db.session.execute(
        sa.select(AuditEvent, actor.name.label("actor_name"))
        .outerjoin(actor, actor.id == AuditEvent.actor_id)
        .where(*_where(clinic_id, filters))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(CSV_LIMIT)
    ).all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for event, actor_name in rows:
        writer.writerow(
            cell_text(value)
            for value in (
                event.id,
                event.created_at.isoformat(),
                event.actor_id,
                actor_name,
                event.action,
                event.outcome,
                (event.patient_ids or "").strip(",").replace(",", " "),
                event.object_type,
                event.object_id,
                event.ip,
                event.user_agent,
                _details(event.details),
            )
        )
    return out.getvalue()


def _details(details: dict[str, Any] | None) -> str:
    if not details:
        return ""
    return "; ".join(f"{key}={value}" for key, value in sorted(details.items()))
