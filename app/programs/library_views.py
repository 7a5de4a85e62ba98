"""The exercise library: browse, and a clinic's own exercises (built-in ones are read-only)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.access import clinician_required
from app.db import utcnow
from app.figures.service import pose_choices
from app.forms import save
from app.inputs import query_int, search_text
from app.programs import library as library_services
from app.programs import queries
from app.programs.forms import ArchiveForm, ExerciseForm
from app.programs.models import Exercise
from app.programs.views import bp

# ---------------------------------------------------------------------------- library


@bp.route("/")
@clinician_required
def library():
    """Browse the library: search by name or target, filter by stage and target."""
    search = search_text(request.args.get("q"))
    stage = query_int("stage")
    stage = stage if stage in (1, 2, 3, 4) else None
    target = search_text(request.args.get("target"))
    # Text with control characters can match nothing (DESIGN §6): no query for it.
    exercises = (
        queries.library(current_user.clinic_id, search=search, stage=stage, target=target)
        if search is not None and target is not None
        else []
    )
    return render_template(
        "programs/library.html",
        exercises=exercises,
        targets=queries.targets(current_user.clinic_id),
        search=search or "",
        stage=stage,
        target=target or "",
    )


def _exercise_or_404(exercise_id: int):  # type: ignore[no-untyped-def]
    exercise = queries.get_exercise(current_user.clinic_id, exercise_id)
    if exercise is None:
        abort(404)
    return exercise


@bp.route("/exercises/<int:exercise_id>")
@clinician_required
def exercise(exercise_id: int):
    return render_template(
        "programs/exercise.html", exercise=_exercise_or_404(exercise_id), form=ArchiveForm()
    )


def _exercise_data(form: ExerciseForm) -> library_services.ExerciseData:
    return library_services.ExerciseData(
        name=form.name.data or "",
        target=form.target.data or "",
        steps=library_services.lines(form.steps.data),
        cues=library_services.lines(form.cues.data),
        dosage=form.dosage(),
        stage_from=form.stage_from.data,
        stage_to=form.stage_to.data,
        summary=form.summary.data or "",
        position=form.position.data or "",
        safety=form.safety.data or "",
        easier_note=form.easier_note.data,
        harder_note=form.harder_note.data,
        figure=form.figure_choice(),
    )


def _fill_exercise_form(form: ExerciseForm, source: Exercise) -> None:
    for field in (
        "name",
        "target",
        "summary",
        "position",
        "safety",
        "easier_note",
        "harder_note",
        "stage_from",
        "stage_to",
    ):
        getattr(form, field).data = getattr(source, field)
    form.fill_dosage(source)
    form.steps.data = "\n".join(source.steps)
    form.cues.data = "\n".join(source.cues)
    # A copy of a built-in exercise keeps its figure.
    form.fill_figure({"slug": source.slug} if source.built_in else source.figure)


def _form_page(form: ExerciseForm, exercise: Exercise | None) -> tuple[str, int]:
    """The exercise form with its figure choices and a preview of the chosen figure."""
    builtins = [e for e in queries.library(current_user.clinic_id) if e.built_in]
    form.figure.choices = [
        ("", "No figure"),
        ("poses", "Two poses from the pose library"),
        *((f"builtin:{e.slug}", f"Like: {e.name}") for e in builtins),
    ]
    form.figure_start.choices = form.figure_end.choices = pose_choices()
    choice = form.figure_choice()
    preview = None
    if choice and "slug" in choice:
        preview = url_for("figures.figure", slug=choice["slug"])
    elif choice:
        preview = url_for("figures.poses", start=choice["start"], end=choice["end"])
    page = render_template(
        "programs/exercise_form.html", form=form, exercise=exercise, preview=preview
    )
    return page, 422 if form.errors else 200


@bp.route("/exercises/new", methods=["GET", "POST"])
@clinician_required
def new_exercise():
    """Create a clinic exercise, optionally starting from a copy of another."""
    form = ExerciseForm()
    if request.method == "GET" and (copy := query_int("copy")):
        source = _exercise_or_404(copy)
        _fill_exercise_form(form, source)
        form.name.data = f"{source.name} (clinic copy)"
    created: list[Exercise] = []
    if form.validate_on_submit() and save(
        form,
        lambda: created.append(
            library_services.create_exercise(
                current_user.clinic_id, _exercise_data(form), by=current_user, now=utcnow()
            )
        ),
        fallback="name",
    ):
        flash(f"“{created[0].name}” is in the library.", "success")
        return redirect(url_for("programs.exercise", exercise_id=created[0].id))
    return _form_page(form, None)


@bp.route("/exercises/<int:exercise_id>/edit", methods=["GET", "POST"])
@clinician_required
def edit_exercise(exercise_id: int):
    exercise = _exercise_or_404(exercise_id)
    if exercise.built_in:
        abort(403)
    form = ExerciseForm()
    if request.method == "GET":
        _fill_exercise_form(form, exercise)
    if form.validate_on_submit() and save(
        form,
        lambda: library_services.update_exercise(
            exercise, _exercise_data(form), by=current_user, now=utcnow()
        ),
        fallback="name",
    ):
        flash("Saved.", "success")
        return redirect(url_for("programs.exercise", exercise_id=exercise.id))
    return _form_page(form, exercise)


@bp.route("/exercises/<int:exercise_id>/archive", methods=["POST"])
@clinician_required
def archive_exercise(exercise_id: int):
    exercise = _exercise_or_404(exercise_id)
    if exercise.built_in:
        abort(403)
    form = ArchiveForm()
    if form.validate_on_submit():
        archive = exercise.archived_at is None
        library_services.set_archived(exercise, archive, by=current_user, now=utcnow())
        flash("Archived: it no longer appears in the library." if archive else "Restored.", "info")
    return redirect(url_for("programs.exercise", exercise_id=exercise.id))
