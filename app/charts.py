"""Inline SVG charts as data: the templates draw them, with a text summary and a data table.

Pure functions of values; no database. Charts work without JavaScript, in print and offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Series:
    name: str
    css: str
    points: tuple[Point, ...]

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass(frozen=True)
class PainChart:
    width: int
    height: int
    series: tuple[Series, ...]
    baseline_y: float | None
    y_ticks: tuple[tuple[float, int], ...]
    x_ticks: tuple[tuple[float, str], ...]


def pain_chart(
    start: date,
    end: date,
    series: Sequence[tuple[str, str, Sequence[tuple[date, float]]]],
    baseline: float | None,
    width: int = 640,
    height: int = 220,
) -> PainChart:
    """Place pain values 0–10 over the days from `start` to `end`."""
    left, right, top, bottom = 28, 8, 8, 24
    span = max(1, (end - start).days)

    def x(day: date) -> float:
        return left + (width - left - right) * (day - start).days / span

    def y(value: float) -> float:
        return top + (height - top - bottom) * (10 - value) / 10

    built = tuple(
        Series(
            name,
            css,
            tuple(Point(x(day), y(value), f"{day:%d %b}: {value:g}") for day, value in values),
        )
        for name, css, values in series
    )
    weeks = tuple(
        (x(start + timedelta(days=d)), f"{start + timedelta(days=d):%d %b}")
        for d in range(0, span + 1, 7 if span <= 70 else 14)
    )
    return PainChart(
        width,
        height,
        built,
        y(baseline) if baseline is not None else None,
        tuple((y(v), v) for v in (0, 2, 4, 6, 8, 10)),
        weeks,
    )


def sparkline(values: Sequence[float | None], width: int = 96, height: int = 24) -> str:
    """Return polyline points for a small pain trend (0–10); gaps are skipped."""
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(known) < 2:
        return ""
    last = max(1, len(values) - 1)
    return " ".join(
        f"{2 + (width - 4) * i / last:.1f},{2 + (height - 4) * (10 - v) / 10:.1f}" for i, v in known
    )
