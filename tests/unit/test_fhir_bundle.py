"""The FHIR R4 export Bundle built from plain records (CLINICAL §9, DESIGN §4 Export, issue 15).

The R4B models check structure only, so codes, values and links are asserted here explicitly.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from app.clinical.red_flags import BY_ID
from app.export.fhir import build_bundle, unresolved_references
from app.export.records import (
    AdherenceRecord,
    AlertRecord,
    AnswerOption,
    ClinicRecord,
    ExportRecords,
    InstrumentItem,
    InstrumentRecord,
    MeasureAnswer,
    MeasureRecord,
    PainReading,
    PatientRecord,
    ProgramItemRecord,
    ProgramRecord,
    RedFlagScreenRecord,
    StageChangeRecord,
    StatusChangeRecord,
)

MADRID = timezone(timedelta(hours=1))
BASE = "https://clinic.example.org"
GENERATED = datetime(2026, 2, 2, 12, 0, tzinfo=UTC)
LOINC_PAIN = ("http://loinc.org", "72514-3")
PAIN_DISPLAY = "Pain severity - 0-10 verbal numeric rating [Score] - Reported"
PUBLISHED_SYSTEMS = {
    "http://loinc.org",
    "http://unitsofmeasure.org",
    "http://terminology.hl7.org/CodeSystem/observation-category",
    "http://terminology.hl7.org/CodeSystem/flag-category",
    "http://terminology.hl7.org/CodeSystem/data-absent-reason",
    "http://hl7.org/fhir/flag-priority-code",
}

PSFS = InstrumentRecord(
    slug="psfs",
    title="Patient-Specific Functional Scale",
    version="1",
    items=(
        InstrumentItem("activity-1", "Activity 1", "integer"),
        InstrumentItem("activity-2", "Activity 2", "integer"),
        InstrumentItem("activity-3", "Activity 3", "integer"),
    ),
)
START_BACK = InstrumentRecord(
    slug="start-back",
    title="Keele STarT Back Screening Tool",
    version="1",
    items=(
        InstrumentItem(
            "q1", "My back pain has spread down my leg(s) in the last 2 weeks", "boolean"
        ),
        InstrumentItem(
            "q9",
            "Overall, how bothersome has your back pain been in the last 2 weeks?",
            "choice",
            (AnswerOption("not-at-all", "Not at all"), AnswerOption("very-much", "Very much")),
        ),
    ),
    copyright="© Keele University 2007",
)
NPRS = InstrumentRecord(
    slug="nprs",
    title="Numeric Pain Rating Scale",
    version="1",
    items=(InstrumentItem("pain", "Pain now, 0–10", "integer"),),
)


def sample_records(**changes: Any) -> ExportRecords:
    """Return one patient's export: two programs, a session, a check-in, measures, alerts."""
    first = ProgramRecord(
        id=11,
        title="Low back core stability",
        status="ended",
        stage=1,
        start_date=date(2026, 1, 5),
        end_date=date(2026, 1, 18),
        weekdays=(0, 2, 4),
        sessions_per_week=3,
        stage_name="Activate",
        created_at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        items=[
            ProgramItemRecord(101, "diaphragmatic-breathing", "Diaphragmatic breathing", "5 min"),
        ],
        stage_history=[StageChangeRecord(1, "assign", date(2026, 1, 5), changed_by="Dr Lee")],
    )
    second = ProgramRecord(
        id=12,
        title="Low back core stability",
        status="active",
        stage=2,
        start_date=date(2026, 1, 19),
        weekdays=(4, 0, 2),  # given unsorted: exported Mon, Wed, Fri
        sessions_per_week=3,
        stage_name="Stabilise",
        items=[
            ProgramItemRecord(202, "bird-dog", "Bird dog", "3 sets of 5, 3, 1 · 10 s hold", 2),
            ProgramItemRecord(201, "mcgill-curl-up", "McGill curl-up", "5, 3, 1 · 10 s hold", 1),
        ],
        stage_history=[
            StageChangeRecord(
                2,
                "advance",
                date(2026, 1, 19),
                from_stage=1,
                reason="Holds 10 × 10 s",
                changed_by="Dr Lee",
            )
        ],
        status_history=[
            StatusChangeRecord("paused", date(2026, 1, 24), reason="Travelling"),
            StatusChangeRecord("active", date(2026, 1, 27), changed_by="Dr Lee"),
        ],
    )
    session = "5b0c1c1e-0f7a-4e39-9d0e-7d3f9c1a2b01"
    check_in = "9d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
    base = ExportRecords(
        patient=PatientRecord(7, "Ana Ruiz", email="ana@example.org", phone="+34 600 111 222"),
        clinic=ClinicRecord(3, "Bayside Physio", phone="+34 900 000 000"),
        programs=[first, second],
        pain_readings=[
            PainReading(
                "before", 4, datetime(2026, 1, 28, 18, 0, tzinfo=UTC), "session", session, 12
            ),
            PainReading(
                "during",
                5,
                datetime(2026, 1, 28, 18, 12, tzinfo=UTC),
                "session",
                session,
                12,
                item_id=202,
                exercise_name="Bird dog",
            ),
            PainReading(
                "after", 3, datetime(2026, 1, 28, 18, 30, tzinfo=UTC), "session", session, 12
            ),
            PainReading(
                "morning", 2, datetime(2026, 1, 29, 7, 45, tzinfo=MADRID), "check_in", check_in
            ),
        ],
        adherence=AdherenceRecord(
            value=Fraction(6, 7),
            window_start=date(2026, 1, 20),
            window_end=date(2026, 2, 2),
            computed_at=GENERATED,
            completed_sessions=6,
            scheduled_sessions=7,
            program_id=12,
        ),
        measures=[
            MeasureRecord(
                "m-psfs",
                PSFS,
                datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
                [
                    MeasureAnswer("activity-1", 4, "Climbing stairs"),
                    MeasureAnswer("activity-2", 6, "Gardening"),
                ],
                score=Decimal("5.0"),
            ),
            MeasureRecord(
                "m-start",
                START_BACK,
                datetime(2026, 1, 5, 9, 35, tzinfo=UTC),
                [MeasureAnswer("q1", True), MeasureAnswer("q9", "very-much")],
                score=5,
                subscale_score=3,
            ),
            MeasureRecord(
                "m-nprs",
                NPRS,
                datetime(2026, 1, 5, 9, 25, tzinfo=UTC),
                [MeasureAnswer("pain", 6)],
                score=6,
            ),
        ],
        red_flag_screens=[
            RedFlagScreenRecord(
                check_in, datetime(2026, 1, 29, 7, 45, tzinfo=MADRID), {"RF10": True, "RF1": False}
            )
        ],
        alerts=[
            AlertRecord(
                31,
                "RED_FLAG_PROMPT",
                "medium",
                "open",
                "Weight loss without trying was reported.",
                datetime(2026, 1, 29, 6, 46, tzinfo=UTC),
            ),
            AlertRecord(
                32,
                "LOW_ADHERENCE",
                "low",
                "resolved",
                "Three scheduled days missed.",
                datetime(2026, 1, 12, tzinfo=UTC),
            ),
            AlertRecord(
                33,
                "FLARE",
                "high",
                "acknowledged",
                "Two RED sessions in 7 days.",
                datetime(2026, 1, 26, tzinfo=UTC),
            ),
            AlertRecord(
                34,
                "PERSISTENT_PAIN",
                "medium",
                "superseded",
                "Pain persists.",
                datetime(2026, 1, 20, tzinfo=UTC),
            ),
            AlertRecord(
                35,
                "READY_TO_PROGRESS",
                "info",
                "snoozed",
                "Ready for stage 3.",
                datetime(2026, 2, 1, tzinfo=UTC),
            ),
        ],
    )
    return dataclasses.replace(base, **changes)


def build(records: ExportRecords | None = None, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("base_url", BASE)
    kwargs.setdefault("generated_at", GENERATED)
    return build_bundle(records or sample_records(), **kwargs)


def resources(bundle: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type
    ]


def by_full_url(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["fullUrl"]: entry["resource"] for entry in bundle["entry"]}


def component_code(observation: dict[str, Any], code: str) -> dict[str, Any]:
    return next(c for c in observation["component"] if c["code"]["coding"][0]["code"] == code)


def codings(value: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        if "system" in value and "code" in value:
            found.append(value)
        for child in value.values():
            found.extend(codings(child))
    elif isinstance(value, list):
        for child in value:
            found.extend(codings(child))
    return found


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for child in value.values() for s in strings(child)]
    if isinstance(value, list):
        return [s for child in value for s in strings(child)]
    return []


# ---------------------------------------------------------------------------- shape


def test_bundle_parses_back_as_an_r4b_collection_with_each_resource_type() -> None:
    bundle = build()

    parsed = Bundle.model_validate(bundle)

    assert parsed.type == "collection"
    assert parsed.timestamp == GENERATED
    counts = Counter(entry.resource.get_resource_type() for entry in parsed.entry)
    assert counts == {
        "Patient": 1,
        "Organization": 1,
        "Questionnaire": 4,  # PSFS, STarT Back, NPRS, the red-flag screen
        "CarePlan": 2,
        "Observation": 4 + 1 + 4,  # pain readings, adherence, scores (PSFS, STarT Back ×2, NPRS)
        "QuestionnaireResponse": 4,
        "Flag": 3,
    }


def test_bundle_is_plain_json() -> None:
    bundle = build()

    assert json.loads(json.dumps(bundle)) == bundle


def test_bundle_holds_no_empty_strings() -> None:
    """FHIR forbids "" anywhere; empty optional text in the records counts as absent."""
    records = sample_records(
        patient=PatientRecord(7, "Ana Ruiz", email="", phone="  "),
        clinic=ClinicRecord(3, "Bayside Physio", phone=""),
    )

    bundle = build(records)

    assert all(s.strip() for s in strings(bundle))
    patient = resources(bundle, "Patient")[0]
    assert "telecom" not in patient


def test_a_patient_with_nothing_recorded_exports_only_the_patient() -> None:
    bundle = build(ExportRecords(patient=PatientRecord("p-1", "New Patient")))

    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == ["Patient"]
    assert unresolved_references(bundle) == []


# ---------------------------------------------------------------------------- Patient


def test_patient_carries_name_telecom_and_the_clinic_identifier() -> None:
    bundle = build()
    patient = resources(bundle, "Patient")[0]

    assert patient["name"] == [{"text": "Ana Ruiz"}]
    assert {"system": "email", "value": "ana@example.org"} in patient["telecom"]
    assert {"system": "phone", "value": "+34 600 111 222"} in patient["telecom"]
    assert patient["identifier"] == [{"system": f"{BASE}/fhir/sid/patient", "value": "7"}]
    organization = by_full_url(bundle)[patient["managingOrganization"]["reference"]]
    assert organization["resourceType"] == "Organization"
    assert organization["name"] == "Bayside Physio"


# ---------------------------------------------------------------------------- pain (CLINICAL §1)


def test_every_pain_observation_is_loinc_72514_3_with_the_value_logged() -> None:
    bundle = build()
    pain = {
        component_code(obs, "reading-kind")["valueCodeableConcept"]["coding"][0]["code"]: obs
        for obs in resources(bundle, "Observation")
        if obs["identifier"][0]["system"] == f"{BASE}/fhir/sid/pain-reading"
    }

    assert set(pain) == {"before", "during", "after", "morning"}
    expected = {
        "before": (4, "2026-01-28T18:00:00Z"),
        "during": (5, "2026-01-28T18:12:00Z"),
        "after": (3, "2026-01-28T18:30:00Z"),
        "morning": (2, "2026-01-29T07:45:00+01:00"),
    }
    for kind, (value, when) in expected.items():
        obs = pain[kind]
        coding = obs["code"]["coding"][0]
        assert (coding["system"], coding["code"]) == LOINC_PAIN
        assert coding["display"] == PAIN_DISPLAY
        assert obs["status"] == "final"
        assert obs["category"][0]["coding"][0]["code"] == "survey"
        assert obs["valueInteger"] == value
        assert obs["effectiveDateTime"] == when
        assert "valueQuantity" not in obs
    assert component_code(pain["during"], "exercise")["valueString"] == "Bird dog"
    assert pain["during"]["note"] == [{"text": "Peak pain during Bird dog"}]
    assert pain["morning"]["note"] == [{"text": "Pain the next morning (check-in)"}]


def test_every_observation_coded_as_pain_is_loinc_72514_3_with_an_integer() -> None:
    bundle = build()
    pain = [
        obs
        for obs in resources(bundle, "Observation")
        if any(c["code"] == "72514-3" for c in obs["code"]["coding"])
    ]

    assert len(pain) == 5  # four readings and the intake NPRS score
    assert all(obs["code"]["coding"][0]["system"] == "http://loinc.org" for obs in pain)
    assert sorted(obs["valueInteger"] for obs in pain) == [2, 3, 4, 5, 6]


def test_session_readings_are_based_on_the_program_careplan() -> None:
    bundle = build()
    urls = by_full_url(bundle)
    session_readings = [
        obs
        for obs in resources(bundle, "Observation")
        if "/session/" in obs.get("identifier", [{}])[0].get("value", "")
    ]

    assert len(session_readings) == 3
    for obs in session_readings:
        careplan = urls[obs["basedOn"][0]["reference"]]
        assert careplan["identifier"][0]["value"] == "12"


# ---------------------------------------------------------------------------- adherence (§3)


def adherence_observation(bundle: dict[str, Any]) -> dict[str, Any]:
    return next(
        obs
        for obs in resources(bundle, "Observation")
        if obs["code"]["coding"][0]["code"] == "adherence-14d"
    )


def test_adherence_is_one_observation_in_per_cent_with_ucum() -> None:
    obs = adherence_observation(build())

    assert obs["code"]["coding"][0]["system"] == f"{BASE}/fhir/CodeSystem/adherence"
    assert obs["valueQuantity"] == {
        "value": 85.7,
        "unit": "%",
        "system": "http://unitsofmeasure.org",
        "code": "%",
    }
    assert obs["effectivePeriod"] == {"start": "2026-01-20", "end": "2026-02-02"}
    assert obs["issued"] == "2026-02-02T12:00:00Z"
    assert component_code(obs, "completed-sessions")["valueInteger"] == 6
    assert component_code(obs, "scheduled-sessions")["valueInteger"] == 7


def test_unknown_adherence_says_why_instead_of_a_value() -> None:
    """CLINICAL §3: with no scheduled day in the window adherence is unknown."""
    unknown = AdherenceRecord(None, date(2026, 1, 20), date(2026, 2, 2), GENERATED)

    obs = adherence_observation(build(sample_records(adherence=unknown)))

    assert "valueQuantity" not in obs
    assert obs["dataAbsentReason"]["coding"][0]["code"] == "not-applicable"


# ---------------------------------------------------------------------------- CarePlan (§3, §7)


def careplans(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {plan["identifier"][0]["value"]: plan for plan in resources(bundle, "CarePlan")}


def test_careplan_activities_carry_the_dosage_and_weekday_timing() -> None:
    plan = careplans(build())["12"]

    assert plan["intent"] == "plan"
    assert plan["status"] == "active"
    assert plan["period"] == {"start": "2026-01-19"}
    details = [activity["detail"] for activity in plan["activity"]]
    assert [d["code"]["text"] for d in details] == ["McGill curl-up", "Bird dog"]
    assert [d["description"] for d in details] == [
        "5, 3, 1 · 10 s hold",
        "3 sets of 5, 3, 1 · 10 s hold",
    ]
    assert details[1]["code"]["coding"][0] == {
        "system": f"{BASE}/fhir/CodeSystem/exercises",
        "code": "bird-dog",
        "display": "Bird dog",
    }
    for detail in details:
        assert detail["status"] == "in-progress"
        repeat = detail["scheduledTiming"]["repeat"]
        assert repeat["dayOfWeek"] == ["mon", "wed", "fri"]
        assert (repeat["frequency"], repeat["period"], repeat["periodUnit"]) == (1, 1, "d")
        assert repeat["boundsPeriod"] == {"start": "2026-01-19"}


@pytest.mark.parametrize(
    ("program_status", "careplan_status", "activity_status"),
    [
        ("active", "active", "in-progress"),
        ("paused", "on-hold", "on-hold"),
        ("suspended", "revoked", "on-hold"),
        ("ended", "completed", "completed"),
    ],
)
def test_careplan_status_follows_the_program_status(
    program_status: str, careplan_status: str, activity_status: str
) -> None:
    records = sample_records()
    program = dataclasses.replace(records.programs[1], status=program_status)

    plan = careplans(build(dataclasses.replace(records, programs=(program,))))["12"]

    assert plan["status"] == careplan_status
    assert {a["detail"]["status"] for a in plan["activity"]} == {activity_status}


def test_every_day_of_the_week_maps_monday_first() -> None:
    records = sample_records()
    daily = dataclasses.replace(records.programs[1], weekdays=tuple(range(7)), sessions_per_week=7)

    plan = careplans(build(dataclasses.replace(records, programs=(daily,))))["12"]

    days = plan["activity"][0]["detail"]["scheduledTiming"]["repeat"]["dayOfWeek"]
    assert days == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def test_stage_and_status_history_become_dated_notes_oldest_first() -> None:
    plans = careplans(build())

    assert plans["12"]["note"] == [
        {
            "text": "Advanced from stage 1 to stage 2: Holds 10 × 10 s",
            "time": "2026-01-19",
            "authorString": "Dr Lee",
        },
        {"text": "Program paused: Travelling", "time": "2026-01-24"},
        {"text": "Program active", "time": "2026-01-27", "authorString": "Dr Lee"},
    ]
    assert plans["11"]["note"] == [
        {"text": "Stage 1 assigned", "time": "2026-01-05", "authorString": "Dr Lee"}
    ]
    assert plans["11"]["period"] == {"start": "2026-01-05", "end": "2026-01-18"}
    assert "stage 2 of 4 (Stabilise)" in plans["12"]["description"]


# ---------------------------------------------------------------------------- questionnaires §6 §8


def test_each_questionnaire_response_links_a_bundled_questionnaire_by_canonical() -> None:
    bundle = build()
    questionnaires = {f"{q['url']}|{q['version']}": q for q in resources(bundle, "Questionnaire")}

    responses = resources(bundle, "QuestionnaireResponse")

    assert len(responses) == 4
    for response in responses:
        questionnaire = questionnaires[response["questionnaire"]]
        assert questionnaire["url"].startswith(f"{BASE}/fhir/Questionnaire/")
        link_ids = {item["linkId"] for item in questionnaire["item"]}
        assert {item["linkId"] for item in response["item"]} <= link_ids
        assert response["status"] == "completed"
    assert {q["url"].rsplit("/", 1)[1] for q in questionnaires.values()} == {
        "psfs",
        "start-back",
        "nprs",
        "red-flag-screen",
    }


def test_measure_answers_and_scores_are_exported_exactly() -> None:
    bundle = build()
    urls = by_full_url(bundle)
    psfs = next(
        r for r in resources(bundle, "QuestionnaireResponse") if "/psfs|" in r["questionnaire"]
    )
    start_back = next(
        r
        for r in resources(bundle, "QuestionnaireResponse")
        if "/start-back|" in r["questionnaire"]
    )

    assert psfs["item"] == [
        {"linkId": "activity-1", "text": "Climbing stairs", "answer": [{"valueInteger": 4}]},
        {"linkId": "activity-2", "text": "Gardening", "answer": [{"valueInteger": 6}]},
    ]
    assert start_back["item"][0]["answer"] == [{"valueBoolean": True}]
    assert start_back["item"][1]["answer"][0]["valueCoding"] == {
        "system": f"{BASE}/fhir/CodeSystem/start-back-answers",
        "code": "very-much",
        "display": "Very much",
    }
    scores = {
        obs["code"]["coding"][0]["code"]: obs
        for obs in resources(bundle, "Observation")
        if "derivedFrom" in obs
    }
    assert scores["psfs-score"]["valueQuantity"]["value"] == 5.0
    assert scores["psfs-score"]["valueQuantity"]["code"] == "{score}"
    assert scores["start-back-total"]["valueQuantity"]["value"] == 5
    assert scores["start-back-distress"]["valueQuantity"]["value"] == 3
    assert scores["72514-3"]["valueInteger"] == 6  # the intake NPRS
    for obs in scores.values():
        assert urls[obs["derivedFrom"][0]["reference"]]["resourceType"] == "QuestionnaireResponse"


@pytest.mark.parametrize(
    ("slug", "instrument_code", "score_code"),
    [
        # CLINICAL §9 named 97908-8 for the ODI; loinc.org has it as the panel, 97909-6 the score.
        ("odi", ("http://loinc.org", "97908-8"), ("http://loinc.org", "97909-6")),
        (
            "clinic-own",
            (f"{BASE}/fhir/CodeSystem/outcome-measures", "clinic-own"),
            (f"{BASE}/fhir/CodeSystem/outcome-measures", "clinic-own-score"),
        ),
    ],
)
def test_instrument_and_score_codes_come_from_the_terminology_table(
    slug: str, instrument_code: tuple[str, str], score_code: tuple[str, str]
) -> None:
    instrument = InstrumentRecord(
        slug, "An instrument", "2.1a", (InstrumentItem("s1", "Pain intensity", "integer"),)
    )
    measure = MeasureRecord(
        "m-1", instrument, GENERATED, [MeasureAnswer("s1", 2)], score=Decimal("40")
    )

    bundle = build(ExportRecords(patient=PatientRecord(7, "Ana Ruiz"), measures=[measure]))

    questionnaire = resources(bundle, "Questionnaire")[0]
    coding = questionnaire["code"][0]
    assert (coding["system"], coding["code"]) == instrument_code
    score = resources(bundle, "Observation")[0]
    coding = score["code"]["coding"][0]
    assert (coding["system"], coding["code"]) == score_code
    assert score["valueQuantity"]["value"] == 40
    assert unresolved_references(bundle) == []


def test_red_flag_screen_answers_carry_the_question_wording_in_screen_order() -> None:
    bundle = build()
    screen = next(
        r
        for r in resources(bundle, "QuestionnaireResponse")
        if "/red-flag-screen|" in r["questionnaire"]
    )
    questionnaire = next(
        q for q in resources(bundle, "Questionnaire") if q["url"].endswith("/red-flag-screen")
    )

    assert screen["item"] == [
        {"linkId": "RF1", "text": BY_ID["RF1"].text, "answer": [{"valueBoolean": False}]},
        {"linkId": "RF10", "text": BY_ID["RF10"].text, "answer": [{"valueBoolean": True}]},
    ]
    assert screen["authored"] == "2026-01-29T07:45:00+01:00"
    assert [item["linkId"] for item in questionnaire["item"]] == [f"RF{n}" for n in range(1, 13)]
    assert questionnaire["item"][0]["code"][0]["system"] == (
        f"{BASE}/fhir/CodeSystem/red-flag-questions"
    )
    assert all(item["type"] == "boolean" for item in questionnaire["item"])


def test_questionnaire_names_are_computer_friendly() -> None:
    """FHIR invariant que-0: name matches [A-Z]([A-Za-z0-9_]){0,254}."""
    names = {q["name"] for q in resources(build(), "Questionnaire")}

    assert names == {"Psfs", "StartBack", "Nprs", "RedFlagScreen"}


# ---------------------------------------------------------------------------- Flags (§5)


def test_only_open_acknowledged_and_snoozed_alerts_become_flags() -> None:
    bundle = build()
    flags = resources(bundle, "Flag")

    assert {flag["identifier"][0]["value"] for flag in flags} == {"31", "33", "35"}
    flag = next(f for f in flags if f["identifier"][0]["value"] == "31")
    assert flag["status"] == "active"
    assert flag["code"]["text"] == "Weight loss without trying was reported."
    assert flag["code"]["coding"][0] == {
        "system": f"{BASE}/fhir/CodeSystem/alert-kinds",
        "code": "RED_FLAG_PROMPT",
        "display": "Red flag: review within 48 hours",
    }
    assert flag["period"] == {"start": "2026-01-29T06:46:00Z"}
    priority = flag["extension"][0]
    assert priority["url"] == "http://hl7.org/fhir/StructureDefinition/flag-priority"
    assert priority["valueCodeableConcept"]["coding"][0]["code"] == "PM"
    assert all(
        by_full_url(bundle)[f["subject"]["reference"]]["resourceType"] == "Patient" for f in flags
    )


# ---------------------------------------------------------------------------- references and ids


def test_every_reference_resolves_inside_the_bundle() -> None:
    bundle = build()

    assert unresolved_references(bundle) == []
    assert all(entry["fullUrl"].startswith("urn:uuid:") for entry in bundle["entry"])
    assert all(
        entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}" for entry in bundle["entry"]
    )
    assert len({entry["fullUrl"] for entry in bundle["entry"]}) == len(bundle["entry"])


def test_unresolved_references_names_a_dangling_reference_and_canonical() -> None:
    bundle = build()
    observation = resources(bundle, "Observation")[0]
    observation["subject"]["reference"] = "urn:uuid:00000000-0000-5000-8000-000000000000"
    response = resources(bundle, "QuestionnaireResponse")[0]
    response["questionnaire"] = f"{BASE}/fhir/Questionnaire/unknown|1"

    assert unresolved_references(bundle) == [
        "urn:uuid:00000000-0000-5000-8000-000000000000",
        f"{BASE}/fhir/Questionnaire/unknown|1",
    ]


def test_two_exports_of_the_same_data_carry_the_same_ids() -> None:
    records = sample_records()
    shuffled = dataclasses.replace(
        records,
        pain_readings=random.Random(4).sample(records.pain_readings, k=4),
        alerts=tuple(reversed(records.alerts)),
        programs=tuple(reversed(records.programs)),
    )

    first = build(records)
    again = build(shuffled, generated_at=GENERATED + timedelta(days=3))

    assert [e["fullUrl"] for e in first["entry"]] == [e["fullUrl"] for e in again["entry"]]
    assert first["entry"] == again["entry"]
    assert first["timestamp"] != again["timestamp"]


def test_ids_differ_between_patients_and_between_deployments() -> None:
    records = sample_records()
    other_patient = dataclasses.replace(records, patient=PatientRecord(8, "Ben Ode"))

    ids = {e["fullUrl"] for e in build(records)["entry"]}
    other_ids = {e["fullUrl"] for e in build(other_patient)["entry"]}
    other_site = {e["fullUrl"] for e in build(records, base_url="https://other.example")["entry"]}

    shared = {
        e["fullUrl"]
        for e in build(records)["entry"]
        if e["resource"]["resourceType"] in {"Questionnaire", "Organization"}
    }
    assert ids & other_ids == shared  # the instruments and the clinic are the same resources
    assert ids.isdisjoint(other_site)


# ---------------------------------------------------------------------------- terminology


def test_local_code_systems_live_under_the_base_url() -> None:
    bundle = build(base_url=f"{BASE}/")  # a trailing slash makes no double slash

    systems = {coding["system"] for coding in codings(bundle)}

    local = systems - PUBLISHED_SYSTEMS
    assert local  # the project's own concepts are coded too
    assert all(system.startswith(f"{BASE}/fhir/CodeSystem/") for system in local)
    assert "//fhir" not in json.dumps(bundle)


def test_base_url_must_be_absolute() -> None:
    with pytest.raises(ValueError, match="absolute"):
        build(base_url="clinic.example.org")


def test_generated_at_must_carry_a_timezone() -> None:
    with pytest.raises(ValueError, match="timezone"):
        build(generated_at=datetime(2026, 2, 2, 12, 0))


# ---------------------------------------------------------------------------- records check data


@pytest.mark.parametrize("value", [-1, 11, 4.5, True, "4"])
def test_pain_reading_refuses_anything_but_an_integer_0_to_10(value: Any) -> None:
    """CLINICAL §1: NPRS integers only; reject anything else."""
    with pytest.raises(ValueError, match="pain"):
        PainReading("before", value, GENERATED, "session", "s-1")


def test_records_refuse_naive_datetimes_and_mismatched_sources() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        PainReading("before", 3, datetime(2026, 1, 1, 8, 0), "session", "s-1")
    with pytest.raises(ValueError, match="check_in"):
        PainReading("morning", 3, GENERATED, "session", "s-1")
    with pytest.raises(ValueError, match="item_id"):
        PainReading("during", 3, GENERATED, "session", "s-1")


def test_records_refuse_unknown_red_flag_questions_and_answers_of_the_wrong_type() -> None:
    with pytest.raises(ValueError, match="known questions"):
        RedFlagScreenRecord("c-1", GENERATED, {"RF13": True})
    with pytest.raises(ValueError, match="activity-1"):
        MeasureRecord("m", PSFS, GENERATED, [MeasureAnswer("activity-1", "four")])
    with pytest.raises(ValueError, match="no item"):
        MeasureRecord("m", PSFS, GENERATED, [MeasureAnswer("activity-9", 4)])


def test_records_refuse_duplicate_ids() -> None:
    records = sample_records()

    with pytest.raises(ValueError, match="pain_readings"):
        dataclasses.replace(records, pain_readings=records.pain_readings * 2)
