"""Figures of library exercises: which figure an exercise has, its URL and its SVG.

A built-in exercise draws the figure of its slug (``app.figures.data``); a clinic exercise draws
the choice stored on it (a built-in figure to reuse, or two library poses). The URL carries a
short hash of what is drawn, so a browser or the service worker may keep it for a year and a
changed figure gets a new URL.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from flask import url_for

from app.figures import POSES, builtin_figure, builtin_slugs, figure_for_choice, to_dict
from app.figures.render import FigureSpec, render_figure
from app.i18n import localized

if TYPE_CHECKING:
    from app.programs.models import Exercise

FRAMES = ("start", "end")


def figure_error(choice: Mapping[str, str] | None) -> str | None:
    """Say what is wrong with a clinic exercise's figure choice, or None when it draws."""
    if not choice:
        return None
    if "slug" in choice:
        if choice["slug"] not in builtin_slugs():
            return "Choose a figure from the list."
        return None
    start, end = choice.get("start"), choice.get("end")
    if start not in POSES or end not in POSES:
        return "Choose a start and an end pose from the list."
    if figure_for_choice(choice, description="check") is None:
        return "These two poses are seen from different sides: choose two of the same view."
    return None


def description_of(exercise: Exercise) -> str:
    """The sentence a screen reader hears, in the patient's language where the content gives it:
    the built-in one, or the exercise's own words."""
    if translated := localized(exercise, "figure_description"):
        return translated
    if exercise.built_in and (spec := builtin_figure(exercise.slug)) is not None:
        return spec.description
    text = exercise.summary or " ".join(exercise.steps[:2]) or exercise.name
    return text.strip()


def exercise_figure(exercise: Exercise) -> FigureSpec | None:
    """Return the figure an exercise shows, or None when it has none."""
    if exercise.built_in:
        return builtin_figure(exercise.slug)
    return figure_for_choice(exercise.figure, description=description_of(exercise))


def _hold(exercise: Exercise, spec: FigureSpec) -> float:
    return float(exercise.hold_seconds) if exercise.hold_seconds else spec.hold_seconds


def figure_version(exercise: Exercise, spec: FigureSpec) -> str:
    drawn = {"spec": to_dict(spec), "hold": _hold(exercise, spec)}
    return hashlib.sha256(json.dumps(drawn, sort_keys=True).encode()).hexdigest()[:10]


def figure_url(exercise: Exercise, frame: str | None = None) -> str | None:
    """The figure's path (moving, or a still ``frame``), or None for an exercise without one."""
    spec = exercise_figure(exercise)
    if spec is None:
        return None
    values: dict[str, object] = {"slug": exercise.slug, "v": figure_version(exercise, spec)}
    if not exercise.built_in:
        values["clinic"] = exercise.clinic_id
    if frame is not None:
        values["frame"] = frame
    return url_for("figures.figure", **values)


def figure_svg(exercise: Exercise, frame: str | None = None) -> str | None:
    spec = exercise_figure(exercise)
    if spec is None:
        return None
    return render_figure(spec, frame=frame, hold_seconds=_hold(exercise, spec))  # type: ignore[arg-type]


def preview_svg(start: str, end: str) -> str | None:
    """A figure moving between two library poses, for the exercise form's preview."""
    spec = figure_for_choice(
        {"start": start, "end": end}, description=f"From “{start}” to “{end}”."
    )
    return None if spec is None else render_figure(spec)


def pose_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("-", " ").capitalize()) for name in POSES]
