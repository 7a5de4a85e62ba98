"""The clinic's settings: the numbers patients call after a red-flag answer (DESIGN §4)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app import audit
from app.auth.models import Clinic, User
from app.errors import ValidationFailed

# A phone number as people write it: digits with spaces, dots, dashes, brackets, a leading +.
PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{3,30}$")
# An emergency number is a short run of digits (999, 911, 112, 000, 1122).
EMERGENCY = re.compile(r"^[0-9]{2,6}$")
SETTINGS = ("phone", "emergency_number", "require_2fa", "questionnaires_off")


def check_phone(value: Any, field: str = "phone") -> str | None:
    """Return a phone number tidied up, None for an empty one, or refuse it."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or not PHONE.match(value.strip()):
        raise ValidationFailed({field: "Give a phone number, such as +44 20 7946 0000."})
    return " ".join(value.split())


def tel(number: str | None) -> str | None:
    """Return the number as a tel: link target (digits and a leading +)."""
    if not number:
        return None
    digits = re.sub(r"[^0-9+]", "", number)
    return f"tel:{digits}" if digits else None


def clinic_settings(clinic: Clinic) -> dict[str, Any]:
    from app.auth.two_factor import clinic_requires_2fa

    return {
        "phone": clinic.phone,
        "emergency_number": clinic.emergency_number,
        "require_2fa": clinic_requires_2fa(clinic),
        "questionnaires_off": sorted(clinic.questionnaires_off or ()),
    }


def switchable_questionnaires() -> dict[str, str]:
    """The questionnaires a clinic may switch off (their file allows it), by slug: name."""
    from app.measures.catalog import available_instruments

    return {
        slug: instrument.name
        for slug, instrument in available_instruments().items()
        if instrument.can_disable
    }


def update_clinic_settings(
    clinic: Clinic, changes: Mapping[str, Any], *, by: User, now: datetime
) -> dict[str, Any]:
    """Change the clinic's phone, emergency number and second-factor rule; refuse anything else
    (nothing changes)."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in SETTINGS:
            errors[name] = f"There is no setting called {name!r}."
            continue
        try:
            if name == "phone":
                clean[name] = check_phone(value)
            elif name == "questionnaires_off":
                allowed = switchable_questionnaires()
                if not isinstance(value, list) or not all(v in allowed for v in value):
                    names = ", ".join(f'"{slug}"' for slug in sorted(allowed)) or "none"
                    raise ValidationFailed(
                        {name: f"Give a list of questionnaires that may be switched off: {names}."}
                    )
                clean[name] = sorted(set(value))
            elif name == "require_2fa":
                if not isinstance(value, bool):
                    raise ValidationFailed({name: "Give true or false."})
                clean[name] = value
            elif value is None or (isinstance(value, str) and not value.strip()):
                clean[name] = None
            elif isinstance(value, str) and EMERGENCY.match(value.strip()):
                clean[name] = value.strip()
            else:
                raise ValidationFailed({name: "Give the local emergency number, such as 999."})
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    changed = [name for name, value in clean.items() if getattr(clinic, name) != value]
    for name in changed:
        setattr(clinic, name, clean[name])
    if changed:
        audit.record(
            "clinic.settings",
            actor=by,
            clinic_id=clinic.id,
            object_type="clinic",
            object_id=clinic.id,
            details={"changed": sorted(changed)},
            now=now,
        )
    return clinic_settings(clinic)
