"""The plain data a FHIR export is built from: frozen records the app fills from its queries.

Each record checks what FHIR and CLINICAL §1 require of it on creation (pain is an integer 0–10,
times are timezone-aware, required text is not empty), so the builder never meets a value it has
to guess about. Optional text given as "" counts as absent: FHIR forbids empty strings.
Sequences may be passed as lists; they are kept as tuples.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from app.clinical.red_flags import QUESTION_IDS
from app.enums import Severity

PAIN_MIN, PAIN_MAX = 0, 10


class PainKind(StrEnum):
    """Which pain reading (CLINICAL §1): session before / during / after, check-in morning."""

    BEFORE = "before"
    DURING = "during"
    AFTER = "after"
    MORNING = "morning"


class Source(StrEnum):
    SESSION = "session"
    CHECK_IN = "check_in"


SESSION_KINDS = frozenset({PainKind.BEFORE, PainKind.DURING, PainKind.AFTER})
PROGRAM_STATUSES = frozenset({"active", "paused", "suspended", "ended"})
STAGE_DIRECTIONS = frozenset({"assign", "advance", "regress"})
ALERT_STATUSES = frozenset({"open", "acknowledged", "snoozed", "resolved", "superseded"})
SEVERITIES = frozenset(Severity)
ANSWER_TYPES = frozenset({"boolean", "integer", "decimal", "string", "choice"})


# ---------------------------------------------------------------------------- checks


def _text(value: str, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be non-empty text, got {value!r}")
    return value.strip()


def _optional_text(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text or None, got {value!r}")
    return value.strip() or None


def _ref(value: object, name: str) -> str:
    """Return a local id as text: database ids and client UUIDs both work."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"{name} must be an id (int or str), got {value!r}")
    return _text(str(value), name)


def _aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
    return value


def _date(value: date, name: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValueError(f"{name} must be a date, got {value!r}")
    return value


def _choice(value: str, allowed: frozenset[str], name: str) -> str:
    value = str(value)  # StrEnum members pass as their value
    if value not in allowed:
        raise ValueError(f"{name} must be one of {sorted(allowed)}, got {value!r}")
    return value


def _integer(value: int, low: int, high: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, got {value!r}")
    return value


def _freeze(record: object, name: str, value: Iterable[Any]) -> None:
    object.__setattr__(record, name, tuple(value))


# ---------------------------------------------------------------------------- patient


@dataclass(frozen=True)
class ClinicRecord:
    """The clinic that keeps the record; becomes the Patient's managing Organization."""

    id: int | str
    name: str
    phone: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", _ref(self.id, "clinic id"))
        object.__setattr__(self, "name", _text(self.name, "clinic name"))
        object.__setattr__(self, "phone", _optional_text(self.phone, "clinic phone"))


@dataclass(frozen=True)
class PatientRecord:
    id: int | str
    name: str
    email: str | None = None
    phone: str | None = None
    active: bool = True  # False once the patient is archived

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", _ref(self.id, "patient id"))
        object.__setattr__(self, "name", _text(self.name, "patient name"))
        object.__setattr__(self, "email", _optional_text(self.email, "email"))
        object.__setattr__(self, "phone", _optional_text(self.phone, "phone"))


# ---------------------------------------------------------------------------- programs


@dataclass(frozen=True)
class ProgramItemRecord:
    """One exercise of a program with its dosage in plain words (`app.formatting.dose_label`)."""

    id: int | str
    exercise_slug: str
    exercise_name: str
    dosage_text: str
    position: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", _ref(self.id, "program item id"))
        object.__setattr__(self, "exercise_slug", _text(self.exercise_slug, "exercise slug"))
        object.__setattr__(self, "exercise_name", _text(self.exercise_name, "exercise name"))
        object.__setattr__(self, "dosage_text", _text(self.dosage_text, "dosage text"))


@dataclass(frozen=True)
class StageChangeRecord:
    """A stage assigned, advanced or regressed (DESIGN §2), with who and why."""

    to_stage: int
    direction: str  # assign | advance | regress
    effective_date: date
    from_stage: int | None = None
    reason: str | None = None
    changed_by: str | None = None  # the therapist's name

    def __post_init__(self) -> None:
        _integer(self.to_stage, 1, 4, "to_stage")
        if self.from_stage is not None:
            _integer(self.from_stage, 1, 4, "from_stage")
        object.__setattr__(
            self, "direction", _choice(self.direction, STAGE_DIRECTIONS, "direction")
        )
        _date(self.effective_date, "effective_date")
        object.__setattr__(self, "reason", _optional_text(self.reason, "reason"))
        object.__setattr__(self, "changed_by", _optional_text(self.changed_by, "changed_by"))


@dataclass(frozen=True)
class StatusChangeRecord:
    """A program status taking effect on a local date (active, paused, suspended, ended)."""

    status: str
    local_date: date
    reason: str | None = None
    changed_by: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", _choice(self.status, PROGRAM_STATUSES, "status"))
        _date(self.local_date, "local_date")
        object.__setattr__(self, "reason", _optional_text(self.reason, "reason"))
        object.__setattr__(self, "changed_by", _optional_text(self.changed_by, "changed_by"))


@dataclass(frozen=True)
class ProgramRecord:
    """One program of the episode: becomes a CarePlan with one activity per item."""

    id: int | str
    title: str  # the routine template's name, e.g. "Low back core stability"
    status: str  # active | paused | suspended | ended
    stage: int
    start_date: date
    weekdays: tuple[int, ...]  # 0 = Monday … 6 = Sunday, in force at export time
    sessions_per_week: int
    items: tuple[ProgramItemRecord, ...] = ()
    stage_name: str | None = None  # e.g. "Stabilise"
    end_date: date | None = None
    created_at: datetime | None = None
    stage_history: tuple[StageChangeRecord, ...] = ()
    status_history: tuple[StatusChangeRecord, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", _ref(self.id, "program id"))
        object.__setattr__(self, "title", _text(self.title, "program title"))
        object.__setattr__(self, "status", _choice(self.status, PROGRAM_STATUSES, "status"))
        _integer(self.stage, 1, 4, "stage")
        _date(self.start_date, "start_date")
        if self.end_date is not None and _date(self.end_date, "end_date") < self.start_date:
            raise ValueError("end_date must not be before start_date")
        if self.created_at is not None:
            _aware(self.created_at, "created_at")
        _integer(self.sessions_per_week, 1, 7, "sessions_per_week")
        weekdays = tuple(_integer(day, 0, 6, "weekday") for day in self.weekdays)
        if not weekdays or len(set(weekdays)) != len(weekdays):
            raise ValueError(f"weekdays must be distinct days 0–6, got {self.weekdays!r}")
        object.__setattr__(self, "weekdays", tuple(sorted(weekdays)))
        object.__setattr__(self, "stage_name", _optional_text(self.stage_name, "stage_name"))
        _freeze(self, "items", sorted(self.items, key=lambda item: (item.position, item.id)))
        _freeze(self, "stage_history", self.stage_history)
        _freeze(self, "status_history", self.status_history)


# ---------------------------------------------------------------------------- readings


@dataclass(frozen=True)
class PainReading:
    """One NPRS pain reading (CLINICAL §1) and where it was recorded.

    Sessions give `before`, `after` and one `during` per exercise result with a pain during
    (`item_id` and `exercise_name` of that result); check-ins give `morning`. `source_id` is the
    session's or check-in's id (the phone's UUID); `program_id` links session readings to the
    program's CarePlan when that program is exported too.
    """

    kind: PainKind
    value: int
    instant: datetime
    source: Source
    source_id: int | str
    program_id: int | str | None = None
    item_id: int | str | None = None
    exercise_name: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", PainKind(self.kind))
        object.__setattr__(self, "source", Source(self.source))
        _integer(self.value, PAIN_MIN, PAIN_MAX, "pain")
        _aware(self.instant, "instant")
        object.__setattr__(self, "source_id", _ref(self.source_id, "source_id"))
        if self.program_id is not None:
            object.__setattr__(self, "program_id", _ref(self.program_id, "program_id"))
        expected = Source.SESSION if self.kind in SESSION_KINDS else Source.CHECK_IN
        if self.source is not expected:
            raise ValueError(f"a {self.kind} reading comes from a {expected}, not {self.source}")
        if self.kind is PainKind.DURING:
            object.__setattr__(self, "item_id", _ref(self.item_id, "item_id"))
        elif self.item_id is not None:
            raise ValueError("only a during reading names a program item")
        name = _optional_text(self.exercise_name, "exercise_name")
        object.__setattr__(self, "exercise_name", name)

    @property
    def local_id(self) -> str:
        """Return an id unique among the patient's readings, stable across exports."""
        parts = [self.source.value, self.source_id, self.kind.value]
        if self.item_id is not None:
            parts.append(self.item_id)
        return "/".join(parts)


@dataclass(frozen=True)
class AdherenceRecord:
    """`adherence_14d` at export time (CLINICAL §3); `value` None means unknown."""

    value: Fraction | Decimal | None
    window_start: date
    window_end: date
    computed_at: datetime
    completed_sessions: int | None = None
    scheduled_sessions: int | None = None
    program_id: int | str | None = None

    def __post_init__(self) -> None:
        value = self.value
        if value is not None and (
            not isinstance(value, (Fraction, Decimal)) or not 0 <= value <= 1
        ):
            raise ValueError(f"adherence must be a Fraction or Decimal 0–1, got {self.value!r}")
        if _date(self.window_end, "window_end") < _date(self.window_start, "window_start"):
            raise ValueError("window_end must not be before window_start")
        _aware(self.computed_at, "computed_at")
        for name in ("completed_sessions", "scheduled_sessions"):
            if getattr(self, name) is not None:
                _integer(getattr(self, name), 0, 10_000, name)
        if self.program_id is not None:
            object.__setattr__(self, "program_id", _ref(self.program_id, "program_id"))

    @property
    def percent(self) -> Decimal | None:
        """Return the adherence in per cent, exact to one decimal place."""
        if self.value is None:
            return None
        exact = Fraction(self.value) * 100
        return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(Decimal("0.1"))


# ---------------------------------------------------------------------------- questionnaires


@dataclass(frozen=True)
class AnswerOption:
    code: str
    display: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", _text(self.code, "option code"))
        object.__setattr__(self, "display", _text(self.display, "option display"))


@dataclass(frozen=True)
class InstrumentItem:
    """One question; `answer_type` is boolean, integer, decimal, string or choice."""

    link_id: str
    text: str
    answer_type: str
    options: tuple[AnswerOption, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "link_id", _text(self.link_id, "link_id"))
        object.__setattr__(self, "text", _text(self.text, "item text"))
        object.__setattr__(
            self, "answer_type", _choice(self.answer_type, ANSWER_TYPES, "answer_type")
        )
        _freeze(self, "options", self.options)
        if (self.answer_type == "choice") != bool(self.options):
            raise ValueError(f"item {self.link_id}: options go with, and only with, choice")


@dataclass(frozen=True)
class InstrumentRecord:
    """An outcome-measure instrument as its data file describes it (CLINICAL §8)."""

    slug: str  # nprs, psfs, start-back, odi, rmdq, or a clinic's own
    title: str
    version: str
    items: tuple[InstrumentItem, ...]
    copyright: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "slug", _text(self.slug, "instrument slug"))
        object.__setattr__(self, "title", _text(self.title, "instrument title"))
        object.__setattr__(self, "version", _text(self.version, "instrument version"))
        object.__setattr__(self, "copyright", _optional_text(self.copyright, "copyright"))
        _freeze(self, "items", self.items)
        link_ids = [item.link_id for item in self.items]
        if not link_ids or len(set(link_ids)) != len(link_ids):
            raise ValueError(f"instrument {self.slug}: items need distinct link ids")

    def item(self, link_id: str) -> InstrumentItem:
        for item in self.items:
            if item.link_id == link_id:
                return item
        raise ValueError(f"instrument {self.slug} has no item {link_id!r}")


Answer = bool | int | Decimal | str


@dataclass(frozen=True)
class MeasureAnswer:
    """An answer; `text` overrides the item's text (PSFS: the activity the patient named)."""

    link_id: str
    value: Answer
    text: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "link_id", _text(self.link_id, "link_id"))
        object.__setattr__(self, "text", _optional_text(self.text, "answer text"))
        if isinstance(self.value, float):
            raise ValueError("answers are exact: pass a Decimal, not a float")
        if isinstance(self.value, str):
            object.__setattr__(self, "value", _text(self.value, f"answer to {self.link_id}"))


@dataclass(frozen=True)
class MeasureRecord:
    """A scored outcome-measure response: becomes a QuestionnaireResponse and score Observations."""

    id: int | str
    instrument: InstrumentRecord
    recorded_at: datetime
    answers: tuple[MeasureAnswer, ...]
    score: Decimal | int | None = None
    subscale_score: Decimal | int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", _ref(self.id, "measure id"))
        _aware(self.recorded_at, "recorded_at")
        _freeze(self, "answers", self.answers)
        for answer in self.answers:
            _check_answer(self.instrument.item(answer.link_id), answer.value)
        for name in ("score", "subscale_score"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (Decimal, int))
            ):
                raise ValueError(f"{name} must be a Decimal or int, got {value!r}")


def _check_answer(item: InstrumentItem, value: Answer) -> None:
    expected: dict[str, tuple[type, ...]] = {
        "boolean": (bool,),
        "integer": (int,),
        "decimal": (Decimal, int),
        "string": (str,),
        "choice": (str,),
    }
    ok = isinstance(value, expected[item.answer_type])
    if item.answer_type in {"integer", "decimal"} and isinstance(value, bool):
        ok = False
    if ok and item.answer_type == "choice":
        ok = value in {option.code for option in item.options}
    if not ok:
        raise ValueError(f"item {item.link_id} ({item.answer_type}) cannot take {value!r}")


@dataclass(frozen=True)
class RedFlagScreenRecord:
    """The red-flag answers of one check-in (CLINICAL §6): question id → yes/no."""

    id: int | str  # the check-in's id
    recorded_at: datetime
    answers: Mapping[str, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", _ref(self.id, "screen id"))
        _aware(self.recorded_at, "recorded_at")
        answers = dict(self.answers)
        unknown = set(answers) - set(QUESTION_IDS)
        if unknown or not answers:
            raise ValueError(f"a screen answers known questions, got {sorted(answers)!r}")
        if not all(isinstance(answer, bool) for answer in answers.values()):
            raise ValueError("red-flag answers are yes/no (bool)")
        # Keep the screen's order (RF1 … RF12) whatever order the caller used; read-only.
        ordered = {question: answers[question] for question in QUESTION_IDS if question in answers}
        object.__setattr__(self, "answers", MappingProxyType(ordered))

    def __hash__(self) -> int:
        return hash((self.id, self.recorded_at, tuple(self.answers.items())))


# ---------------------------------------------------------------------------- alerts


@dataclass(frozen=True)
class AlertRecord:
    """An alert (CLINICAL §5); only open ones (open, acknowledged, snoozed) become Flags."""

    id: int | str
    kind: str
    severity: str
    status: str
    reason: str  # the one plain sentence the therapist sees
    created_at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", _ref(self.id, "alert id"))
        object.__setattr__(self, "kind", _text(str(self.kind), "alert kind"))
        object.__setattr__(self, "severity", _choice(self.severity, SEVERITIES, "severity"))
        object.__setattr__(self, "status", _choice(self.status, ALERT_STATUSES, "status"))
        object.__setattr__(self, "reason", _text(self.reason, "alert reason"))
        _aware(self.created_at, "created_at")


# ---------------------------------------------------------------------------- everything


@dataclass(frozen=True)
class ExportRecords:
    """Everything one patient's export holds; the app fills it from the page queries."""

    patient: PatientRecord
    clinic: ClinicRecord | None = None
    programs: tuple[ProgramRecord, ...] = ()
    pain_readings: tuple[PainReading, ...] = ()
    adherence: AdherenceRecord | None = None
    measures: tuple[MeasureRecord, ...] = ()
    red_flag_screens: tuple[RedFlagScreenRecord, ...] = ()
    alerts: tuple[AlertRecord, ...] = ()

    def __post_init__(self) -> None:
        for name in ("programs", "pain_readings", "measures", "red_flag_screens", "alerts"):
            _freeze(self, name, getattr(self, name))
        _unique(self, "programs", [program.id for program in self.programs])
        _unique(self, "pain_readings", [reading.local_id for reading in self.pain_readings])
        _unique(self, "measures", [measure.id for measure in self.measures])
        _unique(self, "red_flag_screens", [screen.id for screen in self.red_flag_screens])
        _unique(self, "alerts", [alert.id for alert in self.alerts])


def _unique(records: ExportRecords, name: str, ids: list[str]) -> None:
    if len(set(ids)) != len(ids):
        raise ValueError(f"{name}: ids must be unique")
