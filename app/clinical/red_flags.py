"""The red-flag screen (CLINICAL §6): questions, levels and what the patient is told.

Pure: answers in, a level and an instruction out. A yes is never queued for later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from flask_babel import gettext as _

from app.i18n import N_


class RedFlagLevel(StrEnum):
    EMERGENCY = "emergency"
    URGENT = "urgent"
    PROMPT = "prompt"
    NONE = "none"


@dataclass(frozen=True)
class Question:
    id: str
    text: str  # what the patient is asked (CLINICAL §6, plain words), in English: the msgid
    target: str  # what a yes may mean, for the clinician (CLINICAL §6 "target")
    level: str  # emergency | urgent | prompt | modifier

    @property
    def asked(self) -> str:
        """The question in the language of the current request (the patient's pages)."""
        return _(self.text)


# CLINICAL §6, in the order the screen asks them. Each text is marked for the catalogue and kept
# English (`N_`): the FHIR export and the terminology carry the English wording; the patient's
# pages ask `Question.asked`.
QUESTIONS: tuple[Question, ...] = (
    Question(
        "RF1",
        N_(
            "Numbness, tingling or a “different” feeling between your legs, around your "
            "genitals, back passage or buttocks, or when wiping?"
        ),
        "cauda equina",
        "emergency",
    ),
    Question(
        "RF2",
        N_(
            "New trouble starting or controlling urine, a weak flow, or not knowing whether "
            "your bladder is full or empty?"
        ),
        "cauda equina",
        "emergency",
    ),
    Question("RF3", N_("New leaking of urine or stool?"), "cauda equina", "emergency"),
    Question(
        "RF4",
        N_(
            "New loss of feeling in your genitals during sex, or new erection or ejaculation "
            "problems?"
        ),
        "cauda equina",
        "emergency",
    ),
    Question(
        "RF5",
        N_("Pain, numbness or weakness now going down both legs?"),
        "cauda equina",
        "emergency",
    ),
    Question(
        "RF6",
        N_(
            "Leg or foot weakness that is new or getting worse (tripping, foot slapping, leg "
            "giving way)?"
        ),
        "progressive nerve loss",
        "urgent",
    ),
    Question(
        "RF7",
        N_("Fever, chills or feeling generally unwell together with the back pain?"),
        "infection",
        "urgent",
    ),
    Question(
        "RF8",
        N_("A fall, accident or heavy strain since your last session, followed by worse pain?"),
        "fracture",
        "urgent",
    ),
    Question("RF9", N_("Have you ever had cancer?"), "malignancy", "prompt"),
    Question(
        "RF10",
        N_("Have you lost weight recently without trying?"),
        "malignancy",
        "prompt",
    ),
    Question(
        "RF11",
        N_("Constant pain at night that no position eases?"),
        "malignancy, infection",
        "prompt",
    ),
    Question(
        "RF12",
        N_(
            "Do you take long-term steroid tablets, or have osteoporosis, immune-suppressing "
            "treatment or injected drug use?"
        ),
        "raises RF9–RF11 from prompt to urgent",
        "modifier",
    ),
)
# What a yes means in a clinician's words, for alerts, the inbox, evidence and the check-in table
# (never only "RF2"); the code stays as a small reference beside it.
CLINICIAN_WORDS: dict[str, str] = {
    "RF1": "numbness or altered feeling in the saddle area (between the legs, genitals, back "
    "passage)",
    "RF2": "new trouble starting or controlling urine, or not knowing if the bladder is full",
    "RF3": "new leaking of urine or stool",
    "RF4": "new loss of genital feeling, or new erection or ejaculation problems",
    "RF5": "pain, numbness or weakness down both legs",
    "RF6": "new or worsening leg or foot weakness",
    "RF7": "fever, chills or feeling unwell with the back pain",
    "RF8": "a fall, accident or heavy strain followed by worse pain",
    "RF9": "a history of cancer",
    "RF10": "weight loss without trying",
    "RF11": "constant night pain that no position eases",
    "RF12": "long-term steroids, osteoporosis, immune suppression or injected drug use",
}
QUESTION_IDS: tuple[str, ...] = tuple(q.id for q in QUESTIONS)
BY_ID: dict[str, Question] = {q.id: q for q in QUESTIONS}
EMERGENCY_IDS = ("RF1", "RF2", "RF3", "RF4", "RF5")
URGENT_IDS = ("RF6", "RF7", "RF8")
PROMPT_IDS = ("RF9", "RF10", "RF11")
INTAKE_IDS = ("RF9", "RF12")
# DESIGN §4: the weekly screen asks RF1–RF8, RF10, RF11 (RF9 and RF12 are intake items).
WEEKLY_IDS: tuple[str, ...] = (*EMERGENCY_IDS, *URGENT_IDS, "RF10", "RF11")

# What the patient is told (CLINICAL §6), in English (the msgids); `instruction` says it in the
# language of the current request.
INSTRUCTIONS: dict[RedFlagLevel, str] = {
    RedFlagLevel.EMERGENCY: N_(
        "Go to an emergency department now, or call your local emergency number. "
        "Tell them you have back pain with the symptom you just reported. "
        "Do not wait to see if it gets better, and do not do your exercises. "
        "Your therapist has been told."
    ),
    RedFlagLevel.URGENT: N_(
        "Contact your therapist or your doctor today about the symptom you reported. "
        "Your exercises are paused until your therapist has spoken with you."
    ),
    RedFlagLevel.PROMPT: N_(
        "Thank you for telling us. Your therapist will review this within 2 days. "
        "You can carry on with your exercises unless they make this worse."
    ),
    RedFlagLevel.NONE: N_("Thank you. Nothing here needs action — carry on with your plan."),
}


@dataclass(frozen=True)
class Call:
    """Whom to call after a red-flag answer, for a tap-to-call button (DESIGN §4)."""

    number: str
    who: str  # "the emergency services", "Alex Morgan, Homestretch Demo Clinic"
    label: str  # the button: "Call 999", "Call your clinic"


@dataclass(frozen=True)
class Instruction:
    level: RedFlagLevel
    text: str
    call: Call | None = None


def in_words(question_id: str) -> str:
    """Say what a yes to a question means, with its target: "new leaking of urine or stool
    (RF3; possible cauda equina)"."""
    question = BY_ID.get(question_id)
    words = CLINICIAN_WORDS.get(question_id, question_id)
    if question is None or question.level == "modifier":
        return f"{words} ({question_id})"
    return f"{words} ({question_id}; possible {question.target})"


def classify(answers: Mapping[str, bool], risk_modifier: bool = False) -> RedFlagLevel:
    """Return the highest level among the yes answers (one screen raises one alert).

    `risk_modifier` is RF12 from intake; an RF12 yes in these answers counts too.
    """
    yes = {question for question, answer in answers.items() if answer}
    if yes & set(EMERGENCY_IDS):
        return RedFlagLevel.EMERGENCY
    if yes & set(URGENT_IDS):
        return RedFlagLevel.URGENT
    if yes & set(PROMPT_IDS):
        return RedFlagLevel.URGENT if (risk_modifier or "RF12" in yes) else RedFlagLevel.PROMPT
    return RedFlagLevel.NONE


def instruction(
    level: RedFlagLevel,
    *,
    emergency_number: str | None = None,
    therapist: str | None = None,
    clinic: str | None = None,
    clinic_phone: str | None = None,
) -> Instruction:
    """Return what the patient is told at this level, and whom to call (CLINICAL §6).

    An emergency names the local emergency number; "contact today" names the therapist and the
    clinic's phone. Without the clinic's numbers the plain CLINICAL §6 text stands. The words are
    in the language of the current request (English outside one).
    """
    text = _(INSTRUCTIONS[level])
    call = None
    if level is RedFlagLevel.EMERGENCY and emergency_number:
        text = _(
            "Go to an emergency department now, or call %(number)s. "
            "Tell them you have back pain with the symptom you just reported. "
            "Do not wait to see if it gets better, and do not do your exercises. "
            "Your therapist has been told.",
            number=emergency_number,
        )
        label = _("Call %(number)s", number=emergency_number)
        call = Call(emergency_number, _("the emergency services"), label)
    elif level is RedFlagLevel.URGENT:
        if therapist:
            text = _(
                "Contact your therapist, %(therapist)s, or your doctor today about the symptom you "
                "reported. Your exercises are paused until your therapist has spoken with you.",
                therapist=therapist,
            )
        if clinic_phone:
            if clinic:
                more = _("You can call %(clinic)s on %(phone)s.", clinic=clinic, phone=clinic_phone)
            else:
                more = _("You can call your clinic on %(phone)s.", phone=clinic_phone)
            text += " " + more
            who = ", ".join(part for part in (therapist, clinic) if part) or _("your clinic")
            call = Call(clinic_phone, who, _("Call your clinic"))
    return Instruction(level, text, call)


def is_full_screen(answers: Mapping[str, bool]) -> bool:
    return all(question in answers for question in WEEKLY_IDS)


def questions_due(
    last_full_screen: date | None, trigger_since_screen: bool, today: date, every_days: int = 7
) -> tuple[str, ...]:
    """Return the questions to ask next (DESIGN §4 `red_flags_due`).

    The full screen is due when none was ever answered, when `every_days` have passed since the
    last one, or after a FLARE or a RED session since it (CLINICAL §6).
    """
    if (
        last_full_screen is None
        or trigger_since_screen
        or (today - last_full_screen).days >= every_days
    ):
        return WEEKLY_IDS
    return ()
