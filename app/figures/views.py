"""``/figures/<slug>.svg``: an exercise's figure, moving or still (DESIGN §4 "Figures").

Public and cacheable: a figure is library content, never patient data. Each answer carries its
own Content-Security-Policy (no script, nothing from outside, its own inline style), so an SVG
opened on its own is as inert as one shown in an ``<img>``.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Blueprint, Response, abort, request

from app.extensions import db
from app.figures.service import FRAMES, description_of, figure_svg, figure_url, preview_svg
from app.inputs import query_int
from app.programs.models import Exercise

bp = Blueprint("figures", __name__)
# Templates everywhere draw figures: `figure_url(exercise, "start")`, `figure_alt(exercise)`.
bp.add_app_template_global(figure_url)
bp.add_app_template_global(description_of, "figure_alt")

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
FIGURE_CSP = "default-src 'none'; style-src 'unsafe-inline'"
ONE_YEAR = 365 * 24 * 3600
ONE_DAY = 24 * 3600


def _frame() -> str | None:
    frame = request.args.get("frame")
    if frame is not None and frame not in FRAMES:
        abort(Response("frame is start or end.\n", 400, mimetype="text/plain"))
    return frame


def _svg(svg: str) -> Response:
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = FIGURE_CSP
    # A versioned URL (?v=) never changes; an unversioned one is checked daily.
    lifetime = ONE_YEAR if request.args.get("v") else ONE_DAY
    response.headers["Cache-Control"] = f"public, max-age={lifetime}"
    response.add_etag()
    return response.make_conditional(request)


@bp.route("/figures/<slug>.svg")
def figure(slug: str) -> Response:
    """The figure of a built-in exercise, or with ``?clinic=`` of a clinic's own exercise."""
    if not SLUG.match(slug):
        abort(404)
    frame = _frame()
    clinic = query_int("clinic")
    if "clinic" in request.args and clinic is None:
        abort(404)
    exercise = db.session.scalar(
        sa.select(Exercise).where(
            Exercise.slug == slug,
            Exercise.clinic_id == clinic if clinic is not None else Exercise.clinic_id.is_(None),
        )
    )
    svg = figure_svg(exercise, frame) if exercise is not None else None
    if svg is None:
        abort(404)
    return _svg(svg)


@bp.route("/figures/poses/<start>/<end>.svg")
def poses(start: str, end: str) -> Response:
    """A figure moving between two library poses: the exercise form's live preview."""
    svg = preview_svg(start, end) if SLUG.match(start) and SLUG.match(end) else None
    if svg is None:
        abort(404)
    return _svg(svg)
