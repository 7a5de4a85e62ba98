"""Sentences the alert reasons share: adherence and the pain trend, in one number format.

Pure; every number goes through ``app.clinical.numbers`` (exact, halves away from zero), the same
functions the pages' filters use, so a reason and the page beside it never disagree.
"""

from __future__ import annotations

from app.clinical import numbers
from app.clinical.assessment import Assessment


def adherence_text(a: Assessment) -> str:
    """Describe adherence and its window: "93 % adherence over 14 days"."""
    adherence = a.adherence
    if adherence is None:
        return "unknown adherence"
    days = (adherence.window_end - adherence.window_start).days + 1
    if adherence.ratio is None:
        return f"unknown adherence (no scheduled day in the last {days} days)"
    return f"{numbers.percent(adherence.ratio)} adherence over {days} days"


def trend_text(a: Assessment) -> str:
    """Describe the pain trend: "6.0 → 6.0 (0 points, 0 %) after 24 days with 93 % …"."""
    change = a.change
    if change.points is None:
        points = "change unknown"
    else:
        unit = "point" if abs(change.points) == 1 else "points"
        percent = "n/a" if change.percent is None else f"{numbers.signed(change.percent, 0)} %"
        points = f"{numbers.signed(change.points, 1)} {unit}, {percent}"
    return (
        f"{numbers.pain(change.baseline)} → {numbers.pain(change.current)} ({points}) "
        f"after {a.program_day} days with {adherence_text(a)}"
    )
