"""Every code and code system the export uses, in one table (CLINICAL §9).

CLINICAL §9 asks for one terminology table so codes can be swapped without code changes: the
builder in `app.export.fhir` looks every concept up here and spells no code itself. Published
systems (LOINC, UCUM, HL7) are absolute URLs; the project's own concepts live in local code
systems named ``local:<name>``, which `Terminology` turns into URLs under the caller's base URL
(the app's PUBLIC_BASE_URL): ``{base}/fhir/CodeSystem/<name>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from app.clinical.red_flags import QUESTIONS
from app.enums import Severity

LOCAL: Final = "local:"

LOINC: Final = "http://loinc.org"
UCUM: Final = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
FLAG_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/flag-category"
FLAG_PRIORITY: Final = "http://hl7.org/fhir/flag-priority-code"
FLAG_PRIORITY_EXTENSION: Final = "http://hl7.org/fhir/StructureDefinition/flag-priority"
DATA_ABSENT_REASON: Final = "http://terminology.hl7.org/CodeSystem/data-absent-reason"

# Local code systems (CLINICAL §9: no LOINC found for PSFS or STarT Back).
PAIN_READING: Final = LOCAL + "pain-reading"
ADHERENCE: Final = LOCAL + "adherence"
OUTCOME_MEASURES: Final = LOCAL + "outcome-measures"
RED_FLAG_QUESTIONS: Final = LOCAL + "red-flag-questions"
ALERT_KINDS: Final = LOCAL + "alert-kinds"
ALERT_SEVERITY: Final = LOCAL + "alert-severity"
EXERCISES: Final = LOCAL + "exercises"


@dataclass(frozen=True)
class Concept:
    """A code in a system; `system` is an absolute URL or ``local:<name>``."""

    system: str
    code: str
    display: str


# ---------------------------------------------------------------------------- pain (CLINICAL §1)

PAIN_NPRS = Concept(
    LOINC, "72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported"
)
# Which reading a pain Observation is (CLINICAL §1): a component with this code says it.
PAIN_READING_KIND = Concept(PAIN_READING, "reading-kind", "When the pain was rated")
PAIN_READING_EXERCISE = Concept(PAIN_READING, "exercise", "Exercise during which pain was rated")
PAIN_KINDS: Final[dict[str, Concept]] = {
    "before": Concept(PAIN_READING, "before", "Resting pain before an exercise session"),
    "during": Concept(PAIN_READING, "during", "Peak pain during an exercise"),
    "after": Concept(PAIN_READING, "after", "Pain after an exercise session"),
    "morning": Concept(PAIN_READING, "morning", "Pain the next morning (check-in)"),
}

# ---------------------------------------------------------------------------- adherence (§3)

ADHERENCE_14D = Concept(
    ADHERENCE, "adherence-14d", "Completed share of scheduled home-exercise sessions, 14 days"
)
COMPLETED_SESSIONS = Concept(ADHERENCE, "completed-sessions", "Completed sessions in the window")
SCHEDULED_SESSIONS = Concept(ADHERENCE, "scheduled-sessions", "Scheduled sessions in the window")
# CLINICAL §3: with no scheduled day in the window adherence is unknown.
NO_SCHEDULED_DAY = Concept(DATA_ABSENT_REASON, "not-applicable", "Not Applicable")

# ---------------------------------------------------------------------------- categories, units

SURVEY = Concept(OBSERVATION_CATEGORY, "survey", "Survey")
THERAPY = Concept(OBSERVATION_CATEGORY, "therapy", "Therapy")
CLINICAL_FLAG = Concept(FLAG_CATEGORY, "clinical", "Clinical")
PERCENT_UNIT = Concept(UCUM, "%", "%")
SCORE_UNIT = Concept(UCUM, "{score}", "{score}")

# ---------------------------------------------------------------------------- outcome measures (§8)


@dataclass(frozen=True)
class InstrumentCodes:
    """The instrument (Questionnaire.code) and its score and subscale Observation codes."""

    instrument: Concept
    score: Concept
    subscale: Concept | None = None


INSTRUMENTS: Final[dict[str, InstrumentCodes]] = {
    "nprs": InstrumentCodes(
        Concept(OUTCOME_MEASURES, "nprs", "Numeric Pain Rating Scale"), score=PAIN_NPRS
    ),
    "psfs": InstrumentCodes(
        Concept(OUTCOME_MEASURES, "psfs", "Patient-Specific Functional Scale"),
        score=Concept(OUTCOME_MEASURES, "psfs-score", "Patient-Specific Functional Scale score"),
    ),
    "start-back": InstrumentCodes(
        Concept(OUTCOME_MEASURES, "start-back", "Keele STarT Back Screening Tool"),
        score=Concept(OUTCOME_MEASURES, "start-back-total", "STarT Back total score"),
        subscale=Concept(OUTCOME_MEASURES, "start-back-distress", "STarT Back distress subscale"),
    ),
    # CLINICAL §9 names LOINC 97908-8 "verify before relying on it". Checked against loinc.org:
    # 97908-8 "Oswestry Disability Index" is the panel (the instrument); the score is
    # 97909-6 "Oswestry disability index score ODI" (example unit {score}).
    "odi": InstrumentCodes(
        Concept(LOINC, "97908-8", "Oswestry Disability Index"),
        score=Concept(LOINC, "97909-6", "Oswestry disability index score ODI"),
    ),
    "rmdq": InstrumentCodes(
        Concept(OUTCOME_MEASURES, "rmdq", "Roland-Morris Disability Questionnaire"),
        score=Concept(OUTCOME_MEASURES, "rmdq-score", "Roland-Morris Disability score"),
    ),
}


def instrument_codes(slug: str, title: str) -> InstrumentCodes:
    """Return the table's codes for an instrument, or local ones for a clinic-added instrument."""
    known = INSTRUMENTS.get(slug)
    if known is not None:
        return known
    return InstrumentCodes(
        Concept(OUTCOME_MEASURES, slug, title),
        score=Concept(OUTCOME_MEASURES, f"{slug}-score", f"{title} score"),
        subscale=Concept(OUTCOME_MEASURES, f"{slug}-subscale", f"{title} subscale score"),
    )


# ---------------------------------------------------------------------------- red flags (§6)

RED_FLAG_SCREEN_SLUG: Final = "red-flag-screen"
RED_FLAG_SCREEN_TITLE: Final = "Red-flag screen for low back pain"
RED_FLAG_QUESTION_CODES: Final[dict[str, Concept]] = {
    question.id: Concept(RED_FLAG_QUESTIONS, question.id, question.text) for question in QUESTIONS
}

# ---------------------------------------------------------------------------- alerts (§5)

ALERT_KIND_CODES: Final[dict[str, Concept]] = {
    kind: Concept(ALERT_KINDS, kind, display)
    for kind, display in (
        ("RED_FLAG_EMERGENCY", "Red flag: emergency"),
        ("RED_FLAG_URGENT", "Red flag: contact the patient today"),
        ("RED_FLAG_PROMPT", "Red flag: review within 48 hours"),
        ("FLARE", "Flare of pain"),
        ("WORSENING", "Pain worsening against baseline"),
        ("PERSISTENT_PAIN", "Pain persists despite adherence"),
        ("NON_RESPONSE_6W", "No response after six weeks despite adherence"),
        ("LOW_ADHERENCE", "Low adherence to the home program"),
        ("READY_TO_PROGRESS", "Ready to progress to the next stage"),
    )
}
ALERT_SEVERITY_CODES: Final[dict[str, Concept]] = {
    severity: Concept(ALERT_SEVERITY, severity, severity.capitalize())
    for severity in Severity  # most serious first
}
# The standard flag-priority extension has four levels; urgent and high both alarm high.
FLAG_PRIORITY_CODES: Final[dict[str, Concept]] = {
    "urgent": Concept(FLAG_PRIORITY, "PH", "High priority"),
    "high": Concept(FLAG_PRIORITY, "PH", "High priority"),
    "medium": Concept(FLAG_PRIORITY, "PM", "Medium priority"),
    "low": Concept(FLAG_PRIORITY, "PL", "Low priority"),
    "info": Concept(FLAG_PRIORITY, "PN", "No alarm"),
}
# DESIGN §2: open, acknowledged and snoozed count as open; only those become Flags.
OPEN_ALERT_STATUSES: Final = frozenset({"open", "acknowledged", "snoozed"})

# ---------------------------------------------------------------------------- programs (§3, §7)

# Program status → CarePlan.status (request-status) and activity.detail.status.
CAREPLAN_STATUS: Final[dict[str, str]] = {
    "active": "active",
    "paused": "on-hold",
    # A suspension (red flag) lasts until a therapist resumes it; FHIR's on-hold would also fit.
    "suspended": "revoked",
    "ended": "completed",
}
ACTIVITY_STATUS: Final[dict[str, str]] = {
    "active": "in-progress",
    "paused": "on-hold",
    "suspended": "on-hold",
    "ended": "completed",
}
# 0 = Monday … 6 = Sunday (CLINICAL §3) → Timing.repeat.dayOfWeek (days-of-week).
DAY_OF_WEEK: Final[tuple[str, ...]] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# ---------------------------------------------------------------------------- URLs


@dataclass(frozen=True)
class Terminology:
    """The table bound to one deployment's public base URL."""

    base_url: str

    def __post_init__(self) -> None:
        """Keep the base URL without a trailing slash; refuse one that is not absolute."""
        base = self.base_url.rstrip("/")
        if not base.startswith(("https://", "http://")):
            raise ValueError(f"base_url must be an absolute http(s) URL, got {self.base_url!r}")
        object.__setattr__(self, "base_url", base)

    @property
    def fhir_base(self) -> str:
        return f"{self.base_url}/fhir"

    def system(self, system: str) -> str:
        """Return the absolute URL of a code system (local ones under the base URL)."""
        if system.startswith(LOCAL):
            return f"{self.fhir_base}/CodeSystem/{system.removeprefix(LOCAL)}"
        return system

    def identifier_system(self, kind: str) -> str:
        """Return the URL that scopes this deployment's ids of one kind (``patient``, ...)."""
        return f"{self.fhir_base}/sid/{kind}"

    def questionnaire_url(self, slug: str) -> str:
        return f"{self.fhir_base}/Questionnaire/{slug}"

    def coding(self, concept: Concept) -> dict[str, Any]:
        return {
            "system": self.system(concept.system),
            "code": concept.code,
            "display": concept.display,
        }

    def codeable(self, concept: Concept, text: str | None = None) -> dict[str, Any]:
        return {"coding": [self.coding(concept)], "text": text or concept.display}
