"""Patient-local calendar days from UTC instants (DESIGN §3: days are local days)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


@cache
def known_timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_timezone(name: str | None) -> bool:
    return bool(name) and name in known_timezones()


@cache
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"Unknown timezone {name!r}") from exc


def local_date(instant: datetime, timezone: str) -> date:
    """Return the patient's calendar date at a UTC instant."""
    return instant.astimezone(zone(timezone)).date()


def local_midnight(day: date, timezone: str) -> datetime:
    """Return the UTC instant at which `day` starts in the patient's timezone."""
    return datetime.combine(day, time.min, tzinfo=zone(timezone)).astimezone(UTC)


def at_local(day: date, hour: int, minute: int, timezone: str) -> datetime:
    """Return the UTC instant of a wall-clock time on a patient's local day."""
    return datetime.combine(day, time(hour, minute), tzinfo=zone(timezone)).astimezone(UTC)
