"""The alert inbox: see why an alert fired, acknowledge, snooze, resolve, refer."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from app import audit
from app.access import clinician_required
from app.alerts.forms import ACTION_LABELS, AcknowledgeForm, ResolveForm, SnoozeForm
from app.alerts.models import Alert, Referral
from app.alerts.queries import (
    AlertFilter,
    alerts_for,
    get_alert_or_none,
    get_referral_or_none,
    is_snoozed,
    linked_data,
)
from app.alerts.referrals import REFERRAL_CRITERIA, letter_chart
from app.alerts.services import (
    ReferralData,
    acknowledge_alert,
    resolve_alert,
    snooze_alert,
)
from app.db import utcnow
from app.enums import RED_FLAG_KINDS, AlertKind, Severity
from app.extensions import db
from app.forms import save

bp = Blueprint("alerts", __name__)


def _alert_or_404(alert_id: int) -> Alert:
    alert = get_alert_or_none(current_user, alert_id)
    if alert is None:
        abort(404)
    return alert


@bp.route("/")
@clinician_required
def inbox():
    """Open alerts of the caller's patients, the most serious first; snoozed ones apart."""
    status = request.args.get("status", "open")
    status = status if status in ("open", "resolved", "all") else "open"
    kind = request.args.get("kind", "")
    severity = request.args.get("severity", "")
    filters = AlertFilter(
        status=status,
        kind=AlertKind(kind) if kind in AlertKind.__members__ else None,
        severity=Severity(severity) if severity in {s.value for s in Severity} else None,
    )
    now = utcnow()
    alerts = alerts_for(current_user, filters)
    audit.record_list_read("alerts.read", current_user, (alert.patient_id for alert in alerts))
    return render_template(
        "alerts/inbox.html",
        active=[a for a in alerts if not is_snoozed(a, now)],
        snoozed=[a for a in alerts if is_snoozed(a, now)],
        filters=filters,
        kinds=list(AlertKind),
        severities=list(Severity),
    )


def _detail(alert: Alert, **forms: FlaskForm) -> str:
    return render_template(
        "alerts/detail.html",
        alert=alert,
        patient=alert.patient,
        acknowledge_form=forms.get("acknowledge_form") or AcknowledgeForm(formdata=None),
        snooze_form=forms.get("snooze_form") or SnoozeForm(formdata=None),
        resolve_form=forms.get("resolve_form") or ResolveForm(formdata=None),
        action_labels=ACTION_LABELS,
        criteria=REFERRAL_CRITERIA,
        referrals=alert_referrals(alert),
        linked=linked_data(alert),
        red_flag=alert.kind in RED_FLAG_KINDS,
    )


def alert_referrals(alert: Alert) -> list[Referral]:
    return list(db.session.scalars(sa.select(Referral).where(Referral.alert_id == alert.id)))


@bp.route("/<int:alert_id>")
@clinician_required
def detail(alert_id: int):
    """One alert with its reason, the numbers behind it and links to its sessions."""
    alert = _alert_or_404(alert_id)
    audit.record(
        "alert.read",
        actor=current_user,
        patient=alert.patient,
        object_type="alert",
        object_id=alert.id,
    )
    return _detail(alert)


@bp.route("/<int:alert_id>/acknowledge", methods=["POST"])
@clinician_required
def acknowledge(alert_id: int):
    alert = _alert_or_404(alert_id)
    if AcknowledgeForm().validate_on_submit() and save(
        None, lambda: acknowledge_alert(alert, by=current_user, now=utcnow())
    ):
        flash("Acknowledged.", "success")
    return redirect(url_for("alerts.detail", alert_id=alert.id))


@bp.route("/<int:alert_id>/snooze", methods=["POST"])
@clinician_required
def snooze(alert_id: int):
    alert = _alert_or_404(alert_id)
    form = SnoozeForm()
    if form.validate_on_submit() and save(
        form,
        lambda: snooze_alert(alert, form.days.data, by=current_user, now=utcnow()),
        fallback="days",
    ):
        flash(f"Snoozed until {alert.snoozed_until:%d %b}.", "success")
        return redirect(url_for("alerts.detail", alert_id=alert.id))
    if form.errors:
        return _detail(alert, snooze_form=form), 422
    return redirect(url_for("alerts.detail", alert_id=alert.id))


@bp.route("/<int:alert_id>/resolve", methods=["POST"])
@clinician_required
def resolve(alert_id: int):
    alert = _alert_or_404(alert_id)
    form = ResolveForm()
    if form.validate_on_submit():
        referral = None
        if form.action.data == "referred":
            referral = ReferralData(form.referral_to.data or "", form.referral_reason.data or "")
        if save(
            form,
            lambda: resolve_alert(
                alert,
                form.action.data,
                form.note.data or "",
                by=current_user,
                now=utcnow(),
                referral=referral,
            ),
            fallback="action",
        ):
            flash(f"Resolved: {ACTION_LABELS[alert.action].lower()}.", "success")
        elif form.errors:
            return _detail(_alert_or_404(alert_id), resolve_form=form), 422
    elif form.errors:
        return _detail(alert, resolve_form=form), 422
    return redirect(url_for("alerts.detail", alert_id=alert.id))


@bp.route("/referrals/<int:referral_id>")
@clinician_required
def referral(referral_id: int):
    """The printable referral summary."""
    item = get_referral_or_none(current_user, referral_id)
    if item is None:
        abort(404)
    audit.record(
        "referral.read",
        actor=current_user,
        patient=item.patient,
        object_type="referral",
        object_id=item.id,
    )
    return render_template(
        "alerts/referral.html",
        referral=item,
        s=item.summary,
        patient=item.patient,
        clinic=item.patient.clinic,
        referrer=item.created_by,
        chart=letter_chart(item.summary),
    )
