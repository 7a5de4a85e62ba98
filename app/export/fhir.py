"""Build one patient's FHIR R4 `collection` Bundle from plain records (CLINICAL §9, DESIGN §4).

Every resource is constructed as a `fhir.resources.R4B` model, so types and cardinality are
checked as it is built (R4B, not the package's default R5 models: R5 has no
`CarePlan.activity.detail`). Codes come from `app.export.terminology` only. Each resource's
`fullUrl` is a `urn:uuid:` derived (uuid5) from the base URL, the resource type and a local id,
so two exports of the same data carry the same ids, and every reference points at an entry of
the same Bundle.
"""

from __future__ import annotations

import functools
import hashlib
import re
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.resource import Resource

from app.clinical.red_flags import QUESTIONS
from app.export import terminology as t
from app.export.records import (
    AdherenceRecord,
    AlertRecord,
    ExportRecords,
    InstrumentItem,
    InstrumentRecord,
    MeasureRecord,
    PainKind,
    PainReading,
    ProgramRecord,
    RedFlagScreenRecord,
)
from app.export.terminology import Concept, Terminology

JSON = dict[str, Any]
KIND_ORDER = {PainKind.BEFORE: 0, PainKind.DURING: 1, PainKind.AFTER: 2, PainKind.MORNING: 3}
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
VALUE_FIELD = {
    "boolean": "valueBoolean",
    "integer": "valueInteger",
    "decimal": "valueDecimal",
    "string": "valueString",
    "choice": "valueCoding",
}


def build_bundle(records: ExportRecords, *, base_url: str, generated_at: datetime) -> JSON:
    """Return the patient's export as a JSON-ready FHIR R4 Bundle of type `collection`."""
    if generated_at.utcoffset() is None:
        raise ValueError("generated_at must be timezone-aware")
    builder = _BundleBuilder(records, Terminology(base_url))
    bundle = Bundle(
        type="collection",
        timestamp=generated_at,
        entry=[BundleEntry(fullUrl=url, resource=resource) for url, resource in builder.build()],
    )
    data: JSON = bundle.model_dump(mode="json")
    empty = list(_empty_strings(data))
    if empty:  # FHIR forbids "": a record let one through
        raise ValueError(f"empty strings at {empty}")
    return data


def unresolved_references(bundle: JSON) -> list[str]:
    """Return each reference that names no entry of the bundle (Reference and canonical links).

    `Reference.reference` must equal some entry's `fullUrl`; a QuestionnaireResponse's
    `questionnaire` canonical (``url`` or ``url|version``) must name a bundled Questionnaire.
    """
    entries = bundle.get("entry", [])
    full_urls = {entry.get("fullUrl") for entry in entries}
    canonicals: set[str] = set()
    for entry in entries:
        resource = entry.get("resource", {})
        if resource.get("resourceType") == "Questionnaire" and resource.get("url"):
            canonicals.add(resource["url"])
            if resource.get("version"):
                canonicals.add(f"{resource['url']}|{resource['version']}")
    missing: list[str] = []
    for entry in entries:
        resource = entry.get("resource", {})
        for reference in _references(resource):
            if reference not in full_urls:
                missing.append(reference)
        questionnaire = resource.get("questionnaire")
        is_response = resource.get("resourceType") == "QuestionnaireResponse"
        if is_response and questionnaire and questionnaire not in canonicals:
            missing.append(questionnaire)
    return missing


# ---------------------------------------------------------------------------- the builder


class _BundleBuilder:
    """Turn the records into (fullUrl, resource) pairs, in a stable order."""

    def __init__(self, records: ExportRecords, terms: Terminology) -> None:
        self.records = records
        self.terms = terms
        self.patient_id = records.patient.id
        self.entries: list[tuple[str, Resource]] = []
        self.patient_url = self.full_url("Patient", self.patient_id, shared=True)
        self.program_urls = {
            program.id: self.full_url("CarePlan", program.id) for program in records.programs
        }

    # ids and references

    def full_url(self, resource_type: str, local_id: str, *, shared: bool = False) -> str:
        """Return the urn:uuid of a resource; a patient's data is scoped by the patient's id."""
        scope = "" if shared else f"Patient/{self.patient_id}/"
        name = f"{self.terms.fhir_base}/{scope}{resource_type}/{local_id}"
        return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"

    def add(self, resource: Resource, full_url: str) -> None:
        self.entries.append((full_url, resource))

    @property
    def patient_ref(self) -> JSON:
        return {"reference": self.patient_url, "type": "Patient"}

    def careplan_ref(self, program_id: str | None) -> list[JSON] | None:
        url = self.program_urls.get(program_id) if program_id is not None else None
        return [{"reference": url, "type": "CarePlan"}] if url else None

    def identifier(self, kind: str, value: str) -> list[JSON]:
        return [{"system": self.terms.identifier_system(kind), "value": value}]

    def scoped(self, value: str) -> str:
        """Return an id that is unique across patients (client UUIDs are unique per patient)."""
        return f"{self.patient_id}/{value}"

    # the whole bundle

    def build(self) -> list[tuple[str, Resource]]:
        records = self.records
        self.add_patient()
        questionnaires = self.add_questionnaires()
        for program in sorted(records.programs, key=lambda p: (p.start_date, p.id)):
            self.add_careplan(program)
        readings = sorted(
            records.pain_readings, key=lambda r: (r.instant, KIND_ORDER[r.kind], r.local_id)
        )
        for reading in readings:
            self.add_pain_observation(reading)
        if records.adherence is not None:
            self.add_adherence_observation(records.adherence)
        for measure in sorted(records.measures, key=lambda m: (m.recorded_at, m.id)):
            self.add_measure(measure, questionnaires)
        for screen in sorted(records.red_flag_screens, key=lambda s: (s.recorded_at, s.id)):
            self.add_red_flag_screen(screen, questionnaires)
        for alert in sorted(records.alerts, key=lambda a: (a.created_at, a.id)):
            if alert.status in t.OPEN_ALERT_STATUSES:
                self.add_flag(alert)
        return self.entries

    # Patient, Organization

    def add_patient(self) -> None:
        patient = self.records.patient
        telecom = [
            {"system": system, "value": value}
            for system, value in (("email", patient.email), ("phone", patient.phone))
            if value
        ]
        resource = {
            "identifier": self.identifier("patient", patient.id),
            "active": patient.active,
            "name": [{"text": patient.name}],
            "telecom": telecom or None,
        }
        clinic = self.records.clinic
        if clinic is not None:
            clinic_url = self.full_url("Organization", clinic.id, shared=True)
            resource["managingOrganization"] = {"reference": clinic_url, "type": "Organization"}
        self.add(Patient(id=_uuid(self.patient_url), **_prune(resource)), self.patient_url)
        if clinic is not None:
            organization = {
                "identifier": self.identifier("clinic", clinic.id),
                "active": True,
                "name": clinic.name,
                "telecom": [{"system": "phone", "value": clinic.phone}] if clinic.phone else None,
            }
            self.add(Organization(id=_uuid(clinic_url), **_prune(organization)), clinic_url)

    # Questionnaires (CLINICAL §6, §8)

    def add_questionnaires(self) -> dict[tuple[str, str], str]:
        """Add one Questionnaire per instrument version used; return canonical by (slug, ver)."""
        instruments: dict[tuple[str, str], InstrumentRecord] = {}
        for measure in self.records.measures:
            instrument = measure.instrument
            key = (instrument.slug, instrument.version)
            if instruments.setdefault(key, instrument) != instrument:
                raise ValueError(f"instrument {key} is described two different ways")
        if self.records.red_flag_screens:
            red_flags = red_flag_instrument()
            instruments[(red_flags.slug, red_flags.version)] = red_flags
        canonicals: dict[tuple[str, str], str] = {}
        for key in sorted(instruments):
            instrument = instruments[key]
            url = self.terms.questionnaire_url(instrument.slug)
            full_url = self.full_url("Questionnaire", f"{url}|{instrument.version}", shared=True)
            self.add(self.questionnaire(instrument, url, full_url), full_url)
            canonicals[key] = f"{url}|{instrument.version}"
        return canonicals

    def questionnaire(self, instrument: InstrumentRecord, url: str, full_url: str) -> Resource:
        red_flags = instrument.slug == t.RED_FLAG_SCREEN_SLUG
        code = None if red_flags else t.instrument_codes(instrument.slug, instrument.title)
        items = []
        for item in instrument.items:
            entry: JSON = {"linkId": item.link_id, "text": item.text, "type": item.answer_type}
            if red_flags:
                entry["code"] = [self.terms.coding(t.RED_FLAG_QUESTION_CODES[item.link_id])]
            if item.options:
                entry["answerOption"] = [
                    {"valueCoding": self.answer_coding(instrument, option.code)}
                    for option in item.options
                ]
            items.append(entry)
        resource = {
            "url": url,
            "version": instrument.version,
            "name": _computer_name(instrument.slug),
            "title": instrument.title,
            "status": "active",
            "subjectType": ["Patient"],
            "code": [self.terms.coding(code.instrument)] if code else None,
            "copyright": instrument.copyright,
            "item": items,
        }
        return Questionnaire(id=_uuid(full_url), **_prune(resource))

    def answer_coding(self, instrument: InstrumentRecord, code: str) -> JSON:
        for item in instrument.items:
            for option in item.options:
                if option.code == code:
                    system = self.terms.system(f"{t.LOCAL}{instrument.slug}-answers")
                    return {"system": system, "code": option.code, "display": option.display}
        raise ValueError(f"instrument {instrument.slug} has no answer {code!r}")

    # CarePlan (CLINICAL §3, §7)

    def add_careplan(self, program: ProgramRecord) -> None:
        url = self.program_urls[program.id]
        days = ", ".join(WEEKDAY_NAMES[day] for day in program.weekdays)
        stage = f"stage {program.stage} of 4" + (
            f" ({program.stage_name})" if program.stage_name else ""
        )
        bounds = {"start": program.start_date, "end": program.end_date}
        timing = {
            "repeat": {
                "boundsPeriod": _prune(bounds),
                "frequency": 1,
                "period": 1,
                "periodUnit": "d",
                "dayOfWeek": [t.DAY_OF_WEEK[day] for day in program.weekdays],
            }
        }
        activities = [
            {
                "detail": {
                    "code": {
                        "coding": [
                            self.terms.coding(
                                Concept(t.EXERCISES, item.exercise_slug, item.exercise_name)
                            )
                        ],
                        "text": item.exercise_name,
                    },
                    "status": t.ACTIVITY_STATUS[program.status],
                    "scheduledTiming": timing,
                    "description": item.dosage_text,
                }
            }
            for item in program.items
        ]
        resource = {
            "identifier": self.identifier("program", program.id),
            "status": t.CAREPLAN_STATUS[program.status],
            "intent": "plan",
            "title": program.title,
            "description": (
                f"{program.title}, {stage}; {program.sessions_per_week} sessions a week ({days})."
            ),
            "subject": self.patient_ref,
            "period": _prune(bounds),
            "created": program.created_at,
            "note": _history_notes(program) or None,
            "activity": activities or None,
        }
        self.add(CarePlan(id=_uuid(url), **_prune(resource)), url)

    # Observations (CLINICAL §1, §3, §8)

    def add_pain_observation(self, reading: PainReading) -> None:
        url = self.full_url("Observation", f"pain/{reading.local_id}")
        kind = t.PAIN_KINDS[reading.kind.value]
        components: list[JSON] = [
            {
                "code": self.terms.codeable(t.PAIN_READING_KIND),
                "valueCodeableConcept": self.terms.codeable(kind),
            }
        ]
        note = kind.display
        if reading.exercise_name:
            components.append(
                {
                    "code": self.terms.codeable(t.PAIN_READING_EXERCISE),
                    "valueString": reading.exercise_name,
                }
            )
            note = f"Peak pain during {reading.exercise_name}"
        resource = {
            "identifier": self.identifier("pain-reading", self.scoped(reading.local_id)),
            "basedOn": self.careplan_ref(reading.program_id),
            "status": "final",
            "category": [self.terms.codeable(t.SURVEY)],
            "code": self.terms.codeable(t.PAIN_NPRS, "Pain 0–10 (NPRS)"),
            "subject": self.patient_ref,
            "effectiveDateTime": reading.instant,
            "performer": [self.patient_ref],  # patient-reported
            "valueInteger": reading.value,
            "note": [{"text": note}],
            "component": components,
        }
        self.add(Observation(id=_uuid(url), **_prune(resource)), url)

    def add_adherence_observation(self, adherence: AdherenceRecord) -> None:
        url = self.full_url("Observation", f"adherence-14d/{adherence.window_end.isoformat()}")
        components = [
            {"code": self.terms.codeable(concept), "valueInteger": count}
            for concept, count in (
                (t.COMPLETED_SESSIONS, adherence.completed_sessions),
                (t.SCHEDULED_SESSIONS, adherence.scheduled_sessions),
            )
            if count is not None
        ]
        percent = adherence.percent
        resource = {
            "identifier": self.identifier(
                "adherence-14d", self.scoped(adherence.window_end.isoformat())
            ),
            "basedOn": self.careplan_ref(adherence.program_id),
            "status": "final",
            "category": [self.terms.codeable(t.THERAPY)],
            "code": self.terms.codeable(t.ADHERENCE_14D),
            "subject": self.patient_ref,
            "effectivePeriod": {"start": adherence.window_start, "end": adherence.window_end},
            "issued": adherence.computed_at,
            "valueQuantity": None if percent is None else _quantity(percent, t.PERCENT_UNIT),
            "dataAbsentReason": (
                self.terms.codeable(t.NO_SCHEDULED_DAY, "No scheduled day in the window")
                if percent is None
                else None
            ),
            "component": components or None,
        }
        self.add(Observation(id=_uuid(url), **_prune(resource)), url)

    # QuestionnaireResponses (CLINICAL §6, §8)

    def add_measure(self, measure: MeasureRecord, canonicals: dict[tuple[str, str], str]) -> None:
        instrument = measure.instrument
        response_url = self.full_url("QuestionnaireResponse", f"measure/{measure.id}")
        items = []
        for answer in measure.answers:
            item = instrument.item(answer.link_id)
            value: Any = answer.value
            if item.answer_type == "choice":
                value = self.answer_coding(instrument, str(answer.value))
            elif item.answer_type == "decimal":
                value = Decimal(value)
            items.append(
                {
                    "linkId": item.link_id,
                    "text": answer.text or item.text,
                    "answer": [{VALUE_FIELD[item.answer_type]: value}],
                }
            )
        self.add_response(
            response_url,
            "outcome-response",
            measure.id,
            canonicals[(instrument.slug, instrument.version)],
            measure.recorded_at,
            items,
        )
        codes = t.instrument_codes(instrument.slug, instrument.title)
        for part, concept, score in (
            ("score", codes.score, measure.score),
            ("subscale", codes.subscale, measure.subscale_score),
        ):
            if score is None or concept is None:
                continue
            url = self.full_url("Observation", f"measure/{measure.id}/{part}")
            value_field: JSON
            if concept == t.PAIN_NPRS and Decimal(score) == int(score):
                value_field = {"valueInteger": int(score)}  # CLINICAL §9: NPRS as valueInteger
            else:
                value_field = {"valueQuantity": _quantity(Decimal(score), t.SCORE_UNIT)}
            resource = {
                "identifier": self.identifier("outcome-score", self.scoped(f"{measure.id}/{part}")),
                "status": "final",
                "category": [self.terms.codeable(t.SURVEY)],
                "code": self.terms.codeable(concept),
                "subject": self.patient_ref,
                "effectiveDateTime": measure.recorded_at,
                "performer": [self.patient_ref],
                "derivedFrom": [{"reference": response_url, "type": "QuestionnaireResponse"}],
                **value_field,
            }
            self.add(Observation(id=_uuid(url), **_prune(resource)), url)

    def add_red_flag_screen(
        self, screen: RedFlagScreenRecord, canonicals: dict[tuple[str, str], str]
    ) -> None:
        instrument = red_flag_instrument()
        items = [
            {
                "linkId": question,
                "text": instrument.item(question).text,
                "answer": [{"valueBoolean": answer}],
            }
            for question, answer in screen.answers.items()
        ]
        self.add_response(
            self.full_url("QuestionnaireResponse", f"red-flag-screen/{screen.id}"),
            "red-flag-screen",
            screen.id,
            canonicals[(instrument.slug, instrument.version)],
            screen.recorded_at,
            items,
        )

    def add_response(
        self,
        url: str,
        kind: str,
        local_id: str,
        canonical: str,
        authored: datetime,
        items: list[JSON],
    ) -> None:
        resource = {
            "identifier": self.identifier(kind, self.scoped(local_id))[0],
            "questionnaire": canonical,
            "status": "completed",
            "subject": self.patient_ref,
            "authored": authored,
            "author": self.patient_ref,
            "source": self.patient_ref,
            "item": items,
        }
        self.add(QuestionnaireResponse(id=_uuid(url), **resource), url)

    # Flags (CLINICAL §5)

    def add_flag(self, alert: AlertRecord) -> None:
        url = self.full_url("Flag", alert.id)
        kind = t.ALERT_KIND_CODES.get(alert.kind) or Concept(t.ALERT_KINDS, alert.kind, alert.kind)
        priority = {
            "url": t.FLAG_PRIORITY_EXTENSION,
            "valueCodeableConcept": {
                "coding": [
                    self.terms.coding(t.FLAG_PRIORITY_CODES[alert.severity]),
                    self.terms.coding(t.ALERT_SEVERITY_CODES[alert.severity]),
                ],
                "text": f"Severity: {alert.severity}",
            },
        }
        resource = {
            "extension": [priority],
            "identifier": self.identifier("alert", alert.id),
            "status": "active",
            "category": [self.terms.codeable(t.CLINICAL_FLAG)],
            "code": {"coding": [self.terms.coding(kind)], "text": alert.reason},
            "subject": self.patient_ref,
            "period": {"start": alert.created_at},
        }
        self.add(Flag(id=_uuid(url), **resource), url)


# ---------------------------------------------------------------------------- helpers


@functools.cache
def red_flag_instrument() -> InstrumentRecord:
    """Return the red-flag screen as an instrument (CLINICAL §6).

    Its version is derived from the wording, so a reworded question gets a new canonical.
    """
    items = tuple(InstrumentItem(q.id, q.text, "boolean") for q in QUESTIONS)
    wording = "\n".join(f"{item.link_id}\t{item.text}" for item in items)
    return InstrumentRecord(
        slug=t.RED_FLAG_SCREEN_SLUG,
        title=t.RED_FLAG_SCREEN_TITLE,
        version=hashlib.sha256(wording.encode()).hexdigest()[:12],
        items=items,
    )


def _history_notes(program: ProgramRecord) -> list[JSON]:
    """Return the stage and status changes as dated notes, oldest first (DESIGN §2)."""
    notes: list[tuple[date, int, JSON]] = []
    for order, change in enumerate(program.stage_history):
        if change.direction == "assign" or change.from_stage is None:
            text = f"Stage {change.to_stage} assigned"
        else:
            verb = "Advanced" if change.direction == "advance" else "Regressed"
            text = f"{verb} from stage {change.from_stage} to stage {change.to_stage}"
        if change.reason:
            text += f": {change.reason}"
        notes.append((change.effective_date, order, _note(text, change.effective_date, change)))
    for order, status in enumerate(program.status_history, start=len(notes)):
        text = f"Program {status.status}"
        if status.reason:
            text += f": {status.reason}"
        notes.append((status.local_date, order, _note(text, status.local_date, status)))
    return [note for _day, _order, note in sorted(notes, key=lambda n: (n[0], n[1]))]


def _note(text: str, when: date, change: Any) -> JSON:
    return _prune({"text": text, "time": when, "authorString": change.changed_by})


def _quantity(value: Decimal, unit: Concept) -> JSON:
    return {"value": value, "unit": unit.display, "system": unit.system, "code": unit.code}


def _uuid(full_url: str) -> str:
    return full_url.removeprefix("urn:uuid:")


def _computer_name(slug: str) -> str:
    """Return a Questionnaire.name that meets invariant que-0 ([A-Z][A-Za-z0-9_]*)."""
    name = "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", slug) if part)
    return name if name[:1].isalpha() else f"Q{name}"


def _prune(values: JSON) -> JSON:
    """Drop absent values so the models never see None or an empty list."""
    return {key: value for key, value in values.items() if value is not None and value != []}


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        reference = value.get("reference")
        if isinstance(reference, str):
            yield reference
        for child in value.values():
            yield from _references(child)
    elif isinstance(value, list):
        for child in value:
            yield from _references(child)


def _empty_strings(value: Any, path: str = "") -> Iterator[str]:
    if isinstance(value, str) and not value.strip():
        yield path or "<root>"
    elif isinstance(value, dict):
        for key, child in value.items():
            yield from _empty_strings(child, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _empty_strings(child, f"{path}[{index}]")
