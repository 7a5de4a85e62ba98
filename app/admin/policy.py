"""The clinic's alert thresholds: CLINICAL defaults with the clinic's own changes (audited).

Every threshold lives in one Policy object; a change bumps the policy version, which the
engine records on every alert it raises or refreshes afterwards.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from fractions import Fraction
from typing import Any

from app import audit
from app.assessment import policy_for
from app.auth.models import Clinic, User
from app.clinical import numbers
from app.clinical.policy import Policy
from app.errors import ValidationFailed

# Plain labels for the admin page, grouped as in CLINICAL.md.
LABELS: dict[str, tuple[str, str]] = {
    "improve_points": ("Pain change", "Improved when pain falls by at least (points)"),
    "improve_fraction": ("Pain change", "…or by at least this share of the baseline (e.g. 30 %)"),
    "improve_floor_points": ("Pain change", "…and by at least (points)"),
    "worsen_points": ("Pain change", "Worse when pain rises by at least (points)"),
    "baseline_days": ("Pain change", "Baseline from program days 1 to"),
    "baseline_max_days": ("Pain change", "Baseline may extend to program day"),
    "min_readings": ("Pain change", "Readings needed for a baseline or current value"),
    "current_days": ("Pain change", "Current pain over the last (days)"),
    "completed_fraction": ("Adherence", "A session counts when this share of items is done"),
    "adherence_window_days": ("Adherence", "Adherence window (days)"),
    "adherent": ("Adherence", "Adherent from (e.g. 80 %)"),
    "low_adherence": ("Adherence", "Low adherence below (e.g. 50 %)"),
    "green_ceiling": ("Traffic light", "Green while the peak is at most max(this, pain before)"),
    "amber_ceiling": ("Traffic light", "Amber while the peak is at most max(this, …)"),
    "amber_margin": ("Traffic light", "…or pain before plus (points)"),
    "red_morning_rise": ("Traffic light", "Red when next-morning pain rises by (points)"),
    "persistent_day": ("Persistent pain", "From program day"),
    "persistent_min_current": ("Persistent pain", "When current pain is at least"),
    "non_response_day": ("No response at 6 weeks", "From program day"),
    "non_response_min_current": ("No response at 6 weeks", "When current pain is at least"),
    "flare_red_sessions": ("Flare", "RED sessions needed"),
    "flare_window_days": ("Flare", "…within (days)"),
    "flare_morning_pain": ("Flare", "Or a morning pain of at least"),
    "flare_morning_rise": ("Flare", "…that is this many points above baseline"),
    "low_adherence_min_day": ("Low adherence", "From program day"),
    "low_adherence_missed": ("Low adherence", "Or this many planned days missed in a row"),
    "progress_days_in_stage": ("Ready to progress", "Days in the stage"),
    "progress_no_red_days": ("Ready to progress", "No RED session in (days)"),
    "progress_no_amber_days": ("Ready to progress", "No AMBER session in (days)"),
    "progress_max_effort": ("Ready to progress", "Effort at most"),
    "progress_effort_sessions": ("Ready to progress", "…in this many sessions"),
    "progress_effort_window": ("Ready to progress", "…of the last (sessions)"),
    "rearm_days": ("Alerts", "A resolved alert may fire again after (days)"),
    "red_flag_weekly_days": ("Alerts", "Red-flag screen every (days)"),
}
FRACTION_FIELDS = frozenset(
    f.name for f in dataclasses.fields(Policy) if isinstance(getattr(Policy(), f.name), Fraction)
)
SETTINGS = tuple(name for name in Policy.field_names() if name != "version")


def show(value: Fraction | int) -> str:
    """Show a threshold the way a clinician types it: 80 %, 2, 1.5 (exact where it ends)."""
    if isinstance(value, Fraction):
        if value <= 1 and value.denominator != 1:
            return f"{numbers.trimmed(value * 100, 4)} %"
        return numbers.trimmed(value, 4)
    return str(value)


def parse(name: str, value: Any) -> Fraction | int | str:
    """Read one setting as the admin page (text, "80 %") or the API (a number) gives it."""
    if not isinstance(value, str):
        return value
    text = value.strip().replace(",", ".")
    if name in FRACTION_FIELDS and text.endswith("%"):
        return Fraction(text[:-1].strip()) / 100
    return text


def update_policy(clinic: Clinic, changes: Mapping[str, Any], *, by: User, now: datetime) -> Policy:
    """Change some of the clinic's thresholds; refuse anything unknown or out of bounds.

    Each refusal names its setting and nothing changes (DESIGN §4). A value the page showed
    rounded and sent back unchanged keeps its exact stored value. The change is audited and
    versioned, and every patient of the clinic is re-evaluated at once, so the caseload, the
    patient pages and open alerts follow the new windows and thresholds together.
    """
    current = policy_for(clinic)
    errors: dict[str, str] = {}
    parsed: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in SETTINGS:
            errors[name] = f"There is no setting called {name!r}."
            continue
        if isinstance(value, str) and value.strip() == show(getattr(current, name)):
            continue  # shown rounded, sent back unchanged
        try:
            parsed[name] = Policy.check_value(name, parse(name, value))
        except (ValueError, ArithmeticError) as exc:
            low, high = Policy.bounds()[name]
            errors[name] = _message(exc, low, high)
    if errors:
        raise ValidationFailed(errors)
    try:
        candidate = Policy.from_overrides(parsed, base=current)
    except ValueError as exc:
        # Settings that contradict each other (the baseline may only be extended, …).
        message = str(exc)
        field = next((n for n in parsed if repr(n) in message), next(iter(parsed), "policy"))
        raise ValidationFailed({field: _pair_message(message)}) from None
    defaults = Policy()
    overrides: dict[str, Any] = {
        name: (str(value) if isinstance(value, Fraction) else value)
        for name, value in candidate.to_dict().items()
        if name != "version" and getattr(candidate, name) != getattr(defaults, name)
    }
    before = dict(clinic.policy_overrides or {})
    if overrides == {k: v for k, v in before.items() if k != "version"}:
        return current
    count = int(str(before.get("version", "")).rpartition("+c")[2] or 0) + 1
    overrides["version"] = f"{defaults.version}+c{count}"
    clinic.policy_overrides = overrides
    audit.record(
        "policy.update",
        actor=by,
        clinic_id=clinic.id,
        object_type="clinic",
        object_id=clinic.id,
        details={"before": before, "after": overrides},
        now=now,
    )
    from app.alerts.engine import evaluate_clinic

    evaluate_clinic(clinic.id, now)
    return policy_for(clinic)


def _pair_message(message: str) -> str:
    """Turn the policy's own wording ("policy 'a' (3) must not exceed 'b' (2)") into labels."""
    for name in SETTINGS:
        message = message.replace(f"'{name}'", f"“{LABELS.get(name, ('', name))[1]}”")
    return message.removeprefix("policy ").capitalize() + "."


def _message(exc: Exception, low: Fraction | int, high: Fraction | int) -> str:
    """Say what a setting accepts, with its bounds in the page's own format."""
    if "out of range" in str(exc):
        return f"Use a value from {show(low)} to {show(high)}."
    return f"Use a number from {show(low)} to {show(high)}, such as 2, 1.5 or 80 %."
