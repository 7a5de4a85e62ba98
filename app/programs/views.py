"""The program builder: assign, dosage, items, stage, schedule, pause, resume, handout.

The library's pages live in ``library_views`` on the same blueprint."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app import audit
from app.access import clinician_required, get_patient_or_404, get_program_or_404
from app.db import utcnow
from app.extensions import db
from app.forms import choices, save
from app.programs import queries
from app.programs.content import BUILTIN_TEMPLATE
from app.programs.forms import (
    AddItemForm,
    AssignForm,
    ButtonForm,
    ItemDosageForm,
    ReasonForm,
    ScheduleForm,
    StageForm,
)
from app.programs.models import (
    Program,
    ProgramItem,
    RoutineTemplate,
    TemplateStage,
    TemplateStageExercise,
)
from app.programs.services import (
    Assignment,
    add_item,
    assign_program,
    change_schedule,
    change_stage,
    current_program,
    discharge_program,
    find_template,
    move_item,
    pause_program,
    remove_item,
    resume_program,
    stage_plan,
    update_item_dosage,
)
from app.timeutil import local_date

bp = Blueprint("programs", __name__)


# ---------------------------------------------------------------------------- programs


@bp.route("/assign/<int:patient_id>", methods=["GET", "POST"])
@clinician_required
def assign(patient_id: int):
    """Assign the staged routine at a stage; it replaces the program in force."""
    patient = get_patient_or_404(current_user, patient_id)
    in_force = current_program(patient)
    form = AssignForm(stage=in_force.stage if in_force else 1)
    template = find_template(form.template.data or BUILTIN_TEMPLATE, patient.clinic_id)
    if template is None:
        abort(404)
    assigned: list[Program] = []
    if form.validate_on_submit() and save(
        form,
        lambda: assigned.append(
            assign_program(
                patient,
                Assignment(
                    template=template.slug,
                    stage=form.stage.data,
                    sessions_per_week=form.sessions_per_week.data,
                    weekdays=tuple(form.weekdays.data) if form.weekdays.data else None,
                    start_date=form.start_date.data,
                    new_episode=form.new_episode.data,
                ),
                by=current_user,
                now=utcnow(),
            )
        ),
        fallback="stage",
    ):
        program = assigned[0]
        flash(f"Stage {program.stage} assigned to {patient.name}.", "success")
        return redirect(url_for("programs.builder", program_id=program.id))
    page = render_template(
        "programs/assign.html",
        form=form,
        patient=patient,
        template=template,
        today=local_date(utcnow(), patient.timezone),
    )
    return page, 422 if form.errors else 200


def _load_program(program_id: int) -> Program:
    program = get_program_or_404(current_user, program_id)
    return db.session.scalar(
        db.select(Program)
        .where(Program.id == program.id)
        .options(
            selectinload(Program.items).selectinload(ProgramItem.exercise),
            selectinload(Program.template)
            .selectinload(RoutineTemplate.stages)
            .selectinload(TemplateStage.default_exercises)
            .selectinload(TemplateStageExercise.exercise),
            selectinload(Program.stage_changes),
            selectinload(Program.status_changes),
            selectinload(Program.schedule_changes),
        )
    )


def stage_label(exercise) -> str:  # type: ignore[no-untyped-def]
    if exercise.stage_from == exercise.stage_to:
        return f"stage {exercise.stage_from}"
    return f"stages {exercise.stage_from}–{exercise.stage_to}"


def _builder(program: Program, **forms):  # type: ignore[no-untyped-def]
    add_form = forms.pop("add_form", None) or AddItemForm()
    in_program = {item.exercise_id for item in program.items}
    add_form.exercise_id.choices = choices(
        (e.id, f"{e.name} ({stage_label(e)})")
        for e in queries.library(program.patient.clinic_id)
        if e.id not in in_program
    )
    item_forms = {}
    for item in program.items:
        form = forms.pop(f"item_{item.id}", None)
        if form is None:
            form = ItemDosageForm(prefix=f"item{item.id}", formdata=None)
            form.fill_dosage(item)
        item_forms[item.id] = form
    stage_form = forms.pop("stage_form", None)
    if stage_form is None:
        # Suggest the next stage (or the previous one at the last stage).
        stage_form = StageForm(formdata=None, stage=program.stage + 1 if program.stage < 4 else 3)
    schedule_form = forms.pop("schedule_form", None) or ScheduleForm(formdata=None)
    if not schedule_form.weekdays.data:
        schedule_form.weekdays.data = list(program.weekdays)
    return render_template(
        "programs/builder.html",
        program=program,
        patient=program.patient,
        item_forms=item_forms,
        add_form=add_form,
        stage_form=stage_form,
        schedule_form=schedule_form,
        reason_form=ReasonForm(formdata=None),
        button=ButtonForm(formdata=None),
        users={c.changed_by_id: c.changed_by for c in program.stage_changes},
        previews=[
            plan
            for number in range(1, 5)
            if number != program.stage and (plan := stage_plan(program, number)) is not None
        ],
    )


def _audit_read(program: Program, action: str) -> None:
    audit.record(
        action,
        actor=current_user,
        patient=program.patient,
        object_type="program",
        object_id=program.id,
    )


@bp.route("/<int:program_id>")
@clinician_required
def builder(program_id: int):
    """Show a program with its items, dosage forms, stage and schedule controls, history."""
    program = _load_program(program_id)
    _audit_read(program, "program.read")
    return _builder(program)


def _item_or_404(program: Program, item_id: int) -> ProgramItem:
    item = next((i for i in program.items if i.id == item_id), None)
    if item is None:
        abort(404)
    return item


@bp.route("/<int:program_id>/items/<int:item_id>", methods=["POST"])
@clinician_required
def item_dosage(program_id: int, item_id: int):
    program = _load_program(program_id)
    item = _item_or_404(program, item_id)
    form = ItemDosageForm(prefix=f"item{item.id}")
    if form.validate_on_submit() and save(
        form,
        lambda: update_item_dosage(item, form.dosage(), by=current_user, now=utcnow()),
        fallback="sets",
    ):
        flash(f"Dosage of “{item.exercise.name}” saved.", "success")
        return redirect(url_for("programs.builder", program_id=program.id) + f"#item-{item.id}")
    program = _load_program(program_id)
    return _builder(program, **{f"item_{item_id}": form}), 422


@bp.route("/<int:program_id>/items", methods=["POST"])
@clinician_required
def item_add(program_id: int):
    program = _load_program(program_id)
    form = AddItemForm()
    form.exercise_id.choices = choices(
        (e.id, e.name) for e in queries.library(program.patient.clinic_id)
    )
    if form.validate_on_submit():
        exercise = queries.get_exercise(program.patient.clinic_id, form.exercise_id.data)
        if exercise is None:
            form.exercise_id.errors.append("Choose an exercise from the library.")
        elif save(
            form,
            lambda: add_item(program, exercise, by=current_user, now=utcnow()),
            fallback="exercise_id",
        ):
            flash(f"“{exercise.name}” added.", "success")
            return redirect(url_for("programs.builder", program_id=program.id))
    return _builder(_load_program(program_id), add_form=form), 422


@bp.route("/<int:program_id>/items/<int:item_id>/remove", methods=["POST"])
@clinician_required
def item_remove(program_id: int, item_id: int):
    program = _load_program(program_id)
    item = _item_or_404(program, item_id)
    if ButtonForm().validate_on_submit() and save(
        None, lambda: remove_item(item, by=current_user, now=utcnow())
    ):
        flash(f"“{item.exercise.name}” removed.", "info")
    return redirect(url_for("programs.builder", program_id=program.id))


@bp.route("/<int:program_id>/items/<int:item_id>/move/<direction>", methods=["POST"])
@clinician_required
def item_move(program_id: int, item_id: int, direction: str):
    program = _load_program(program_id)
    item = _item_or_404(program, item_id)
    if direction not in ("up", "down"):
        abort(404)
    if ButtonForm().validate_on_submit():
        move_item(item, -1 if direction == "up" else 1, by=current_user, now=utcnow())
    return redirect(url_for("programs.builder", program_id=program.id) + f"#item-{item.id}")


@bp.route("/<int:program_id>/stage", methods=["POST"])
@clinician_required
def stage(program_id: int):
    """Advance or regress the stage with a reason."""
    program = _load_program(program_id)
    form = StageForm()
    if form.validate_on_submit() and save(
        form,
        lambda: change_stage(
            program, form.stage.data, reason=form.reason.data, by=current_user, now=utcnow()
        ),
        fallback="stage",
    ):
        flash(f"Now at stage {program.stage}.", "success")
        return redirect(url_for("programs.builder", program_id=program.id))
    return _builder(_load_program(program_id), stage_form=form), 422


@bp.route("/<int:program_id>/schedule", methods=["POST"])
@clinician_required
def schedule(program_id: int):
    program = _load_program(program_id)
    form = ScheduleForm()
    if form.validate_on_submit() and save(
        form,
        lambda: change_schedule(
            program,
            sessions_per_week=None,
            weekdays=tuple(form.weekdays.data),
            effective=form.effective_date.data,
            by=current_user,
            now=utcnow(),
        ),
        fallback="weekdays",
    ):
        flash("Schedule saved.", "success")
        return redirect(url_for("programs.builder", program_id=program.id))
    return _builder(_load_program(program_id), schedule_form=form), 422


@bp.route("/<int:program_id>/pause", methods=["POST"])
@clinician_required
def pause(program_id: int):
    program = _load_program(program_id)
    form = ReasonForm()
    if form.validate_on_submit():
        pause_program(
            program,
            by=current_user,
            now=utcnow(),
            reason=form.reason.data or "Paused by the therapist",
        )
        flash("Program paused.", "info")
    return redirect(url_for("programs.builder", program_id=program.id))


@bp.route("/<int:program_id>/discharge", methods=["POST"])
@clinician_required
def discharge(program_id: int):
    """Discharge the patient: the program and the episode end; the discharge measures fall due."""
    program = _load_program(program_id)
    form = ReasonForm()
    if form.validate_on_submit() and save(
        None,
        lambda: discharge_program(
            program, by=current_user, now=utcnow(), reason=form.reason.data or ""
        ),
    ):
        flash(
            "Discharged. The program has ended; the patient is asked for their last "
            "questionnaires.",
            "success",
        )
    return redirect(url_for("programs.builder", program_id=program.id))


@bp.route("/<int:program_id>/resume", methods=["POST"])
@clinician_required
def resume(program_id: int):
    program = _load_program(program_id)
    form = ReasonForm()
    if form.validate_on_submit() and save(
        None,
        lambda: resume_program(
            program, by=current_user, now=utcnow(), reason=form.reason.data or ""
        ),
    ):
        flash("Program resumed.", "success")
    return redirect(url_for("programs.builder", program_id=program.id))


@bp.route("/<int:program_id>/handout")
@clinician_required
def handout(program_id: int):
    """One printable page of the program for patients who prefer paper."""
    from app.links import external_url
    from app.qr import qr_svg

    program = _load_program(program_id)
    _audit_read(program, "program.handout")
    return render_template(
        "programs/handout.html",
        program=program,
        patient=program.patient,
        qr=qr_svg(external_url("patient.today"), "QR code: open your exercises in Homestretch"),
    )


from app.programs import library_views  # noqa: E402,F401  (the library's routes on this blueprint)
