"""Exercise figures: small standalone SVGs of a moving body (DESIGN §4 "Figures", issue 11).

    from app.figures import builtin_figure, figure_for_choice, render_figure

    spec = builtin_figure("bird-dog")  # or figure_for_choice(exercise.figure, description=...)
    moving = render_figure(spec, hold_seconds=10)  # the exercise's dosage hold
    still = render_figure(spec, frame="start")  # or "end"

Pure standard library: nothing here touches Flask, the database or the clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from app.figures.poses import POSES
from app.figures.render import (
    OVERHEAD,
    Cue,
    FigureSpec,
    Pose,
    Prop,
    _norm,
    from_dict,
    lowest_point,
    render_figure,
    to_dict,
)

__all__ = [
    "POSES",
    "Cue",
    "FigureSpec",
    "Pose",
    "Prop",
    "builtin_figure",
    "builtin_slugs",
    "figure_for_choice",
    "figure_for_pose_names",
    "from_dict",
    "render_figure",
    "to_dict",
]


def builtin_figure(slug: str) -> FigureSpec | None:
    """Return the figure of a built-in exercise, or None for a slug without one."""
    from app.figures.data import BUILTIN

    return BUILTIN.get(slug)


def builtin_slugs() -> tuple[str, ...]:
    """Return the slugs of the built-in exercises that have a figure."""
    from app.figures.data import BUILTIN

    return tuple(BUILTIN)


def _on_the_floor(pose: Pose) -> bool:
    """Tell whether a pose lies, kneels or props itself on the floor (and wants a mat)."""
    if pose.view in OVERHEAD:
        return pose.view == "above"
    flat = abs(abs(_norm(pose.angles["lumbar"])) - 90) <= 30
    low = lowest_point(pose)  # the pelvis's height above the floor
    return low < 12 or (flat and low < 20)


def figure_for_pose_names(
    start: str,
    end: str,
    *,
    description: str,
    props: tuple[Prop, ...] = (),
    cues: tuple[Cue, ...] = (),
    tempo_seconds: float = 2.0,
    hold_seconds: float = 0.5,
) -> FigureSpec:
    """Build a figure moving between two poses of the library (for a clinic's own exercise).

    Raises KeyError for an unknown pose name and ValueError for two poses seen from different
    sides, which cannot be blended. A figure lying on the floor gets a mat."""
    first, second = POSES[start], POSES[end]
    if first.view != second.view:
        raise ValueError(f"{start!r} is seen from the {first.view}, {end!r} from the {second.view}")
    if _on_the_floor(first) and not any(p.kind == "mat" for p in props):
        props = (Prop("mat"), *props)
    return FigureSpec(
        description,
        first,
        second,
        props=props,
        cues=cues,
        tempo_seconds=tempo_seconds,
        hold_seconds=hold_seconds,
    )


def figure_for_choice(choice: Mapping[str, Any] | None, *, description: str) -> FigureSpec | None:
    """Resolve what an exercise stores as its figure, titled with its own `description`.

    {"slug": "<built-in exercise>"} reuses a built-in figure; {"start": "<pose>", "end":
    "<pose>"} blends two library poses; a whole spec written by `to_dict` is drawn as it is.
    Returns None when nothing usable is stored (the exercise then shows no figure)."""
    if not choice:
        return None
    try:
        if "slug" in choice:
            spec = builtin_figure(str(choice["slug"]))
            return None if spec is None else replace(spec, description=description)
        if isinstance(choice.get("start"), Mapping):
            return from_dict({**choice, "description": description})
        return figure_for_pose_names(
            str(choice["start"]), str(choice["end"]), description=description
        )
    except (KeyError, TypeError, ValueError):
        return None
