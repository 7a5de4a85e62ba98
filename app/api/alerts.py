"""Alerts in the JSON API (DESIGN §4): list with filters, acknowledge, snooze, resolve.

An action on an alert in the wrong state is 409; another clinic's alert is 404."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from flask import Response
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from app import audit
from app.alerts.models import Alert
from app.alerts.queries import AlertFilter, alerts_for, get_alert_or_none
from app.alerts.services import ReferralData, acknowledge_alert, resolve_alert, snooze_alert
from app.api.core import ApiError, api_route, json_response, parse_body, parse_query
from app.db import utcnow
from app.enums import AlertAction, AlertKind, Role, Severity
from app.inputs import QueryId, Text

CLINICIANS = (Role.ADMIN, Role.THERAPIST)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AlertQuery(Strict):
    status: Literal["open", "resolved", "all"] = Field(
        "open", description="open = open, acknowledged or snoozed"
    )
    patient_id: QueryId | None = None
    kind: AlertKind | None = None
    severity: Severity | None = None


class AlertOut(BaseModel):
    id: int
    patient_id: int
    kind: AlertKind
    severity: Severity
    status: str
    reason: str
    evidence: dict[str, Any]
    session_ids: list[int]
    check_in_ids: list[int]
    rule_id: str
    rule_version: str
    snoozed_until: date | None
    condition_cleared_at: datetime | None
    action: str | None
    note: str | None
    created_at: datetime
    updated_at: datetime


class AlertsOut(BaseModel):
    alerts: list[AlertOut]


class SnoozeIn(Strict):
    days: Annotated[StrictInt, Field(ge=1, le=14)]


class ReferralIn(Strict):
    to: Annotated[Text, Field(min_length=1, max_length=200)]
    reason: Annotated[Text, Field(min_length=1, max_length=2000)]


class ResolveIn(Strict):
    action: AlertAction
    note: Annotated[Text, Field(max_length=2000)] = ""
    referral: ReferralIn | None = None


class Empty(Strict):
    pass


def alert_out(alert: Alert) -> AlertOut:
    return AlertOut(
        id=alert.id,
        patient_id=alert.patient_id,
        kind=alert.kind,
        severity=alert.severity,
        status=alert.status.value,
        reason=alert.reason,
        evidence=dict(alert.evidence or {}),
        session_ids=list(alert.session_ids or []),
        check_in_ids=list(alert.check_in_ids or []),
        rule_id=alert.rule_id,
        rule_version=alert.rule_version,
        snoozed_until=alert.snoozed_until,
        condition_cleared_at=alert.condition_cleared_at,
        action=alert.action.value if alert.action else None,
        note=alert.note,
        created_at=alert.created_at,
        updated_at=alert.updated_at,
    )


def _alert(alert_id: int) -> Alert:
    alert = get_alert_or_none(current_user, alert_id)
    if alert is None:
        raise ApiError(404, "Not found", "No such alert.")
    return alert


@api_route(
    "/alerts",
    "get",
    "Alerts of the caller's patients",
    query=AlertQuery,
    responses={200: ("Alerts, most serious first", AlertsOut)},
    tags=("alerts",),
    roles=CLINICIANS,
)
def api_alerts() -> Response:
    query = parse_query(AlertQuery)
    alerts = alerts_for(
        current_user,
        AlertFilter(query.status, query.patient_id, query.kind, query.severity),
    )
    audit.record_list_read("alerts.read", current_user, (alert.patient_id for alert in alerts))
    return json_response(AlertsOut(alerts=[alert_out(a) for a in alerts]))


@api_route(
    "/alerts/<int:alert_id>/acknowledge",
    "post",
    "Acknowledge an open alert",
    request=Empty,
    responses={200: ("The alert", AlertOut)},
    tags=("alerts",),
    roles=CLINICIANS,
)
def api_acknowledge(alert_id: int) -> Response:
    alert = _alert(alert_id)
    parse_body(Empty)
    acknowledge_alert(alert, by=current_user, now=utcnow())
    return json_response(alert_out(alert))


@api_route(
    "/alerts/<int:alert_id>/snooze",
    "post",
    "Snooze an open alert for 1–14 days",
    request=SnoozeIn,
    responses={200: ("The alert", AlertOut)},
    tags=("alerts",),
    roles=CLINICIANS,
)
def api_snooze(alert_id: int) -> Response:
    alert = _alert(alert_id)
    body, _ = parse_body(SnoozeIn)
    snooze_alert(alert, body.days, by=current_user, now=utcnow())
    return json_response(alert_out(alert))


@api_route(
    "/alerts/<int:alert_id>/resolve",
    "post",
    "Resolve an alert with an action (regress/progress change the stage; referred refers)",
    request=ResolveIn,
    responses={200: ("The alert", AlertOut)},
    tags=("alerts",),
    roles=CLINICIANS,
)
def api_resolve(alert_id: int) -> Response:
    alert = _alert(alert_id)
    body, _ = parse_body(ResolveIn)
    referral = ReferralData(body.referral.to, body.referral.reason) if body.referral else None
    resolve_alert(
        alert, body.action.value, body.note, by=current_user, now=utcnow(), referral=referral
    )
    return json_response(alert_out(alert))
