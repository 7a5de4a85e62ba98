"""Jinja filters and globals that format values; nothing here queries the database."""

from __future__ import annotations

from datetime import date, datetime
from fractions import Fraction
from typing import Any

from babel.dates import format_date, format_datetime, get_day_names
from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from app.admin.settings import tel
from app.alerts.labels import alert_title, status_word
from app.clinical import numbers
from app.clinical.red_flags import in_words
from app.i18n import current_language
from app.mail import mail_configured
from app.measures.schedule import reason_words
from app.timeutil import zone

# The words below are marked for translation; the filters return them as text in the language
# of the current request (English outside one, and on the clinicians' pages).
SIDE_WORDS = {
    "left": _l("left side"),
    "right": _l("right side"),
    "both": _l("each side"),
    "alternating": _l("alternating sides"),
}
PAIN_WORDS = ((0, _l("none")), (3, _l("mild")), (6, _l("moderate")), (10, _l("severe")))


def pain_word(value: int | None) -> str:
    """CLINICAL §1 anchors: 0 none, 1–3 mild, 4–6 moderate, 7–10 severe."""
    if value is None:
        return ""
    for ceiling, word in PAIN_WORDS:
        if value <= ceiling:
            return str(word)
    return _("severe")


def seconds_label(seconds: int | None) -> str:
    if not seconds:
        return ""
    minutes, rest = divmod(seconds, 60)
    if minutes and rest:
        return _("%(minutes)s min %(seconds)s s", minutes=minutes, seconds=rest)
    if minutes:
        return _("%(minutes)s min", minutes=minutes)
    return _("%(seconds)s s", seconds=rest)


def dose_label(item: Any) -> str:
    """Say a dosage in plain words: "3 sets of 5, 3, 1 · 10 s hold · each side"."""
    parts: list[str] = []
    if item.reps_per_set:
        # English says "sets" and "reps" even for one; the plural forms let Spanish say "serie".
        reps = ", ".join(map(str, item.reps_per_set))
        count = len(item.reps_per_set)
        parts.append(
            ngettext("%(num)s sets of %(reps)s", "%(num)s sets of %(reps)s", count, reps=reps)
        )
    elif item.reps:
        if item.sets > 1:
            parts.append(f"{item.sets} × {item.reps}")
        else:
            parts.append(ngettext("%(num)s reps", "%(num)s reps", item.reps))
    elif item.distance_m:
        parts.append(
            f"{item.sets} × {item.distance_m} m" if item.sets > 1 else f"{item.distance_m} m"
        )
    elif item.duration_seconds:
        label = seconds_label(item.duration_seconds)
        parts.append(f"{item.sets} × {label}" if item.sets > 1 else label)
    elif item.hold_seconds:
        parts.append(_("%(sets)s × hold", sets=item.sets) if item.sets > 1 else _("hold"))
    if item.hold_seconds:
        parts.append(_("%(time)s hold", time=seconds_label(item.hold_seconds)))
    side = getattr(item.side, "value", item.side)
    if (side and side != "both") or (side == "both" and _is_sided(item)):
        parts.append(str(SIDE_WORDS.get(side, side)))
    if item.load:
        parts.append(item.load)
    return " · ".join(parts)


def _is_sided(item: Any) -> bool:
    exercise = getattr(item, "exercise", item)
    return "each side" in (getattr(exercise, "dose_text", "") or "")


# Dates on a patient's page in their language (issue 16): Babel's patterns for each strftime
# one used here. English keeps strftime's exact output, which clinicians' pages and tests read.
BABEL_PATTERNS = {
    "%d %b %Y, %H:%M": "d MMM y, HH:mm",
    "%a %d %b, %H:%M": "EEE d MMM, HH:mm",
    "%a %d %b": "EEE d MMM",
}


def _spoken(value: date | datetime, fmt: str) -> str | None:
    """The date in the current language when it is not English, else None."""
    language = current_language()
    if language == "en" or fmt not in BABEL_PATTERNS:
        return None
    if isinstance(value, datetime):
        return format_datetime(value, BABEL_PATTERNS[fmt], locale=language)
    return format_date(value, BABEL_PATTERNS[fmt], locale=language)


def local_datetime(value: datetime | None, timezone: str, fmt: str = "%d %b %Y, %H:%M") -> str:
    if value is None:
        return "—"
    local = value.astimezone(zone(timezone))
    return _spoken(local, fmt) or local.strftime(fmt).lstrip("0")


def day_label(value: date | None) -> str:
    if value is None:
        return "—"
    return _spoken(value, "%a %d %b") or value.strftime("%a %d %b").replace(" 0", " ")


def long_date(value: date | str | None) -> str:
    """A date with its year, as letters write it: "23 April 1961" ("23 de abril de 1961")."""
    if value in (None, ""):
        return "—"
    day = date.fromisoformat(value[:10]) if isinstance(value, str) else value
    if (language := current_language()) != "en":
        return format_date(day, "long", locale=language)
    return f"{day.day} {day:%B %Y}"


def _exact(value: Any) -> Any:
    """Read an exact value stored as text ("21/4", "0.3") back into a Fraction."""
    return Fraction(value) if isinstance(value, str) else value


def number(value: Any, places: int = 1) -> str:
    """Format a value with at most ``places`` decimals, exactly (CLINICAL §2): 21/4 → "5.3".

    Spanish keeps the decimal point, as Spanish in the US (es-US) and Mexico write it."""
    return numbers.trimmed(None if value in (None, "") else _exact(value), places)


def pain_mean(value: Any) -> str:
    """Format a resting-pain mean with one decimal ("5.3", "6.0"), or "—"."""
    return numbers.pain(None if value in (None, "") else _exact(value), "—")


def signed(value: Any, places: int = 1) -> str:
    """Format a change with its sign: "+2", "-1.4", "0"."""
    return "—" if value in (None, "") else numbers.signed(_exact(value), places)


WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def weekday(value: int) -> str:
    if (language := current_language()) != "en":
        return get_day_names("abbreviated", locale=language)[value]
    return WEEKDAY_NAMES[value]


def percent(value: Any) -> str:
    """Format a ratio as a whole percentage, exactly: 1/8 → "13 %"."""
    return numbers.percent(None if value in (None, "") else _exact(value))


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        pain_word=pain_word,
        dose=dose_label,
        seconds=seconds_label,
        local_dt=local_datetime,
        day=day_label,
        long_date=long_date,
        number=number,
        pain_mean=pain_mean,
        signed=signed,
        percent=percent,
        weekday=weekday,
        tel=tel,
        alert_title=alert_title,
        status_word=status_word,
        red_flag_words=in_words,
        due_reason=reason_words,
    )

    def has_endpoint(name: str) -> bool:
        """Let shared templates link to a page only once it exists."""
        return name in app.view_functions

    app.jinja_env.globals.update(has_endpoint=has_endpoint, mail_configured=mail_configured)
