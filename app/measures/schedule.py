"""Which outcome measures are due today (CLINICAL §8; DESIGN §4 "Outcome measures").

Pure: the instruments, dates and completions are arguments; no clock, no database.

Rules [D]:

- A scheduled point is a program day of the instrument's ``schedule.days`` (day 1 = intake; with
  the shipped files PSFS on days 1, 21, 42 and 84, NPRS and STarT Back on day 1). It is due from its
  date on; nothing is due before program day 1 (CLINICAL §2).
- Only the latest point reached matters: a missed week-3 PSFS stays due until it is completed or
  until day 42, when the week-6 point supersedes it. After the last point it stays due until done.
- A point is satisfied by a completion of that instrument on or after the point's date minus
  ``tolerance_days`` (default 3): a PSFS done in clinic on day 19 counts for week 3, the intake PSFS
  of day 1 does not. One completion may satisfy two points that fall within the tolerance of it.
- Discharge (``discharge_on``, the local date the therapist planned or recorded it) makes every
  instrument with ``schedule.discharge`` due with reason "discharge", replacing its scheduled
  point; it is satisfied like a point (a week-12 PSFS two days earlier counts). A date is needed,
  not a flag: with a flag the completion would stop counting once it was older than the tolerance.
- A therapist's request is due from its date until a completion on or after that date (no
  tolerance: the therapist asked after seeing the earlier one); of several requests for one
  instrument the latest counts. Requests and discharge dated after ``today`` are not due yet.
- Each instrument appears at most once, with its oldest pending reason (a tie goes to the
  schedule); disabled instruments (switched off by the clinic) and unknown slugs are never due.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from app.i18n import N_
from app.measures.instruments import Instrument

# [D] A completion up to 3 days before a due date counts for it (a clinic visit on day 19).
TOLERANCE_DAYS: Final = 3

INTAKE: Final = N_("intake")
DISCHARGE: Final = N_("discharge")
REQUESTED: Final = N_("requested by your therapist")


@dataclass(frozen=True)
class Due:
    """An instrument the patient should complete: its slug, the date it fell due, and why."""

    instrument: str
    due_date: date
    reason: str


def point_reason(day: int) -> str:
    """Name a scheduled program day: 1 "intake", 21 "week 3", else "day 10"."""
    if day == 1:
        return INTAKE
    if day % 7 == 0:
        return f"week {day // 7}"
    return f"day {day}"


def reason_words(reason: str) -> str:
    """A due reason in the patient's language (issue 16); the stored reason stays English."""
    from flask_babel import gettext as _

    if reason.startswith("week "):
        return _("week %(number)s", number=reason.removeprefix("week "))
    if reason.startswith("day "):
        return _("day %(number)s", number=reason.removeprefix("day "))
    return _(reason) if reason in (INTAKE, DISCHARGE, REQUESTED) else reason


def due_measures(
    instruments: Iterable[Instrument],
    episode_start: date,
    today: date,
    completed: Iterable[tuple[str, date]],
    requested: Iterable[tuple[str, date]] = (),
    *,
    discharge_on: date | None = None,
    disabled: Collection[str] = frozenset(),
    tolerance_days: int = TOLERANCE_DAYS,
) -> list[Due]:
    """Return the measures due today, oldest first, by the rules of the module docstring.

    ``completed`` holds (instrument slug, local date) of the episode's responses and
    ``requested`` (instrument slug, local date) of the therapist's requests.
    """
    if (
        isinstance(tolerance_days, bool)
        or not isinstance(tolerance_days, int)
        or tolerance_days < 0
    ):
        raise ValueError(f"tolerance_days must be a whole number ≥ 0, got {tolerance_days!r}")
    day = (today - episode_start).days + 1
    if day < 1:
        # CLINICAL §2: before program day 1 nothing is due.
        return []
    enabled = [instrument for instrument in instruments if instrument.slug not in disabled]
    done = _dates_by_slug(completed)
    asked = _dates_by_slug(requested)
    tolerance = timedelta(days=tolerance_days)

    found: list[tuple[date, int, Due]] = []
    for position, instrument in enumerate(enabled):
        dates = done.get(instrument.slug, [])
        candidates: list[tuple[int, Due]] = []
        if discharge_on is not None and discharge_on <= today and instrument.schedule.discharge:
            # [D] Discharge replaces the scheduled points of a measure due at discharge.
            if _pending(dates, discharge_on - tolerance, today):
                candidates.append((0, Due(instrument.slug, discharge_on, DISCHARGE)))
        else:
            reached = [point for point in instrument.schedule.days if point <= day]
            if reached:
                # [D] The latest point reached supersedes the earlier ones.
                point = reached[-1]
                due_date = episode_start + timedelta(days=point - 1)
                if _pending(dates, due_date - tolerance, today):
                    candidates.append((0, Due(instrument.slug, due_date, point_reason(point))))
        requests = [when for when in asked.get(instrument.slug, []) if when <= today]
        if requests and _pending(dates, max(requests), today):
            candidates.append((1, Due(instrument.slug, max(requests), REQUESTED)))
        if candidates:
            _, due = min(candidates, key=lambda pair: (pair[1].due_date, pair[0]))
            found.append((due.due_date, position, due))
    return [due for *_, due in sorted(found, key=lambda entry: entry[:2])]


def validate_disabled(
    instruments: Mapping[str, Instrument], disabled: Iterable[str]
) -> dict[str, str]:
    """Return why each slug a clinic asks to switch off cannot be (empty when all can)."""
    errors: dict[str, str] = {}
    for slug in disabled:
        instrument = instruments.get(slug)
        if instrument is None:
            errors[slug] = "there is no such instrument"
        elif not instrument.can_disable:
            # CLINICAL §8: only optional instruments (STarT Back) may be switched off.
            errors[slug] = f"{instrument.name} cannot be switched off"
    return errors


def _pending(completions: Sequence[date], since: date, today: date) -> bool:
    """Return whether no completion falls between ``since`` and ``today``, both included."""
    return not any(since <= when <= today for when in completions)


def _dates_by_slug(pairs: Iterable[tuple[str, date]]) -> dict[str, list[date]]:
    """Group (slug, date) pairs by slug."""
    grouped: dict[str, list[date]] = {}
    for slug, when in pairs:
        grouped.setdefault(slug, []).append(when)
    return grouped
