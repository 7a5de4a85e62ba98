"""Homestretch in Spanish (issue 16, DESIGN §4 "Language"): the patient's saved language, else
the browser's Accept-Language, chooses the pages (with <html lang> and Content-Language), the
API's patient texts and the offline shells; clinicians stay English; every patient page rendered
in Spanish keeps none of its English words."""

from __future__ import annotations

import email
import email.policy
import re
import time
import uuid
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext

from app.clinical.red_flags import INSTRUCTIONS, RedFlagLevel
from app.db import utcnow
from app.enums import Role
from app.extensions import db
from app.messages.services import MessageReport, send_message
from app.patient.models import Patient
from app.programs.models import Exercise
from tests.integration.test_api_patient import check_in_body, session_body
from tests.integration.test_measure_pages import answer_psfs

SPANISH = {"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


def spanish(text: str, **values: object) -> str:
    with force_locale("es"):
        return gettext(text, **values)


def html_lang(html: str) -> str:
    match = re.search(r'<html lang="([a-z]+)"', html)
    assert match, html[:200]
    return match.group(1)


@pytest.fixture
def patient(make_patient, login):
    bundle = make_patient()
    login(bundle.user)
    return bundle


def set_language(bundle, language: str | None) -> None:
    bundle.patient.language = language
    db.session.commit()


# ---------------------------------------------------------------------------- choosing


def test_accept_language_es_gives_spanish_pages(client, patient):
    response = client.get("/today", headers=SPANISH)

    html = response.get_data(as_text=True)
    assert html_lang(html) == "es"
    assert response.headers["Content-Language"] == "es"
    assert "Accept-Language" in response.headers["Vary"]
    assert f"<h1>{spanish('Today')}</h1>" in html
    assert "<h1>Today</h1>" not in html
    assert 'data-words="/static/js/words/es.js"' in html  # the scripts' words come too


def test_the_profile_language_wins_over_the_browser(client, patient):
    set_language(patient, "es")
    html = client.get("/today", headers=ENGLISH).get_data(as_text=True)
    assert html_lang(html) == "es"
    assert f"<h1>{spanish('Today')}</h1>" in html

    set_language(patient, "en")
    response = client.get("/today", headers=SPANISH)
    assert html_lang(response.get_data(as_text=True)) == "en"
    assert response.headers["Content-Language"] == "en"


def test_an_english_patient_stays_english(client, patient):
    response = client.get("/today", headers=ENGLISH)

    html = response.get_data(as_text=True)
    assert html_lang(html) == "en" and "<h1>Today</h1>" in html
    assert "data-words" not in html  # an English page loads no dictionary
    assert response.headers["Content-Language"] == "en"


def test_clinician_pages_stay_english_with_a_spanish_browser(client, make_user, login):
    login(make_user(Role.THERAPIST))
    response = client.get("/caseload/", headers=SPANISH)

    assert response.status_code == 200
    assert html_lang(response.get_data(as_text=True)) == "en"
    assert response.headers["Content-Language"] == "en"


def test_the_patient_chooses_a_language_on_the_account_page(client, patient):
    page = client.get("/account", headers=ENGLISH).get_data(as_text=True)
    assert 'lang="es"' in page and "Español" in page  # offered under its own name

    response = client.post("/account", data={"language": "es"}, headers=ENGLISH)
    assert response.status_code == 302
    db.session.refresh(patient.patient)
    assert patient.patient.language == "es"
    page = client.get("/account", headers=ENGLISH).get_data(as_text=True)
    assert html_lang(page) == "es" and spanish("Language saved.") in page

    refused = client.post("/account", data={"language": "fr"}, headers=ENGLISH)
    assert refused.status_code == 200  # the form again, with its message
    db.session.refresh(patient.patient)
    assert patient.patient.language == "es"

    client.post("/account", data={"language": ""})  # back to the phone's language
    db.session.refresh(patient.patient)
    assert patient.patient.language is None


def test_patch_me_sets_the_language_and_answers_in_it(client, patient):
    response = client.patch("/api/v1/me", json={"language": "es"}, headers=ENGLISH)

    assert response.status_code == 200
    assert response.get_json()["language"] == "es"
    assert response.get_json()["language_now"] == "es"
    assert response.headers["Content-Language"] == "es"
    db.session.refresh(patient.patient)
    assert patient.patient.language == "es"

    for bad in ({"language": "fr"}, {"language": 1}, {}, {"language": "es", "x": 1}):
        assert client.patch("/api/v1/me", json=bad).status_code == 422, bad
    db.session.refresh(patient.patient)
    assert patient.patient.language == "es"

    assert client.patch("/api/v1/me", json={"language": None}).get_json()["language"] is None
    assert client.get("/api/v1/me", headers=SPANISH).get_json()["language_now"] == "es"


def test_the_therapist_sets_the_language_at_invitation(client, make_user, login, builtin_content):
    therapist = make_user(Role.THERAPIST)
    login(therapist)
    response = client.post(
        "/caseload/patients/new",
        data={"name": "Lucía Pérez", "timezone": "America/Chicago", "language": "es", "stage": 1},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    created = db.session.scalar(sa.select(Patient).order_by(Patient.id.desc()))
    assert created.language == "es"

    api = client.post(
        "/api/v1/patients", json={"name": "Ana", "timezone": "America/Chicago", "language": "es"}
    )
    assert api.status_code == 201
    assert db.session.get(Patient, api.get_json()["id"]).language == "es"
    assert (
        client.post(
            "/api/v1/patients", json={"name": "Ana", "timezone": "UTC", "language": "de"}
        ).status_code
        == 422
    )


# ---------------------------------------------------------------------------- the API's texts


def test_today_api_names_the_exercises_and_their_steps_in_spanish(client, patient):
    english = client.get("/api/v1/me/today", headers=ENGLISH).get_json()["items"][0]["exercise"]
    answer = client.get("/api/v1/me/today", headers=SPANISH)

    assert answer.headers["Content-Language"] == "es"
    exercise = answer.get_json()["items"][0]["exercise"]
    stored = db.session.scalar(sa.select(Exercise).where(Exercise.slug == exercise["slug"]))
    es = stored.translations["es"]
    assert exercise["name"] == es["name"] != english["name"] == stored.name
    assert exercise["steps"] == es["steps"] and exercise["cues"] == es["cues"]
    assert exercise["figure_alt"] == es["figure_description"]


def test_a_check_in_instruction_is_in_spanish(client, patient):
    response = client.post(
        "/api/v1/checkins",
        json=check_in_body(morning_pain=None, red_flags={"RF2": True}),
        headers=SPANISH,
    )

    assert response.status_code == 201
    instruction = response.get_json()["instruction"]
    assert instruction["level"] == "emergency"
    assert instruction["text"].startswith("Vaya ahora a la sala de emergencias")
    assert "emergency" not in instruction["text"].lower()


def test_a_session_answer_and_its_problems_are_in_spanish(client, patient):
    body = session_body(patient.program)
    answer = client.post("/api/v1/sessions", json=body, headers=SPANISH).get_json()
    with force_locale("es"):
        from app.clinical.traffic_light import MESSAGES, Light

        assert answer["light_message"] == gettext(MESSAGES[Light(answer["light"])])

    refused = client.post(
        "/api/v1/sessions", json={**session_body(patient.program), "pain_before": 11},
        headers=SPANISH,
    )  # fmt: skip
    assert refused.status_code == 422
    assert refused.get_json()["detail"] == spanish("Some fields need your attention.")


# ---------------------------------------------------------------------------- offline


def test_the_offline_shells_are_kept_in_the_language_of_the_page(client, patient):
    set_language(patient, "es")
    worker = client.get("/sw.js").get_data(as_text=True)
    assert '-es";' in worker  # a change of language is a new worker with new caches
    assert "/static/js/words/es.js" in worker  # the scripts' words are kept offline
    assert "?lang=${LANG}" in worker

    # The worker fetches the shells without cookies, asking for its language.
    anonymous = client.application.test_client()
    offline = anonymous.get("/offline?lang=es", headers=ENGLISH).get_data(as_text=True)
    assert html_lang(offline) == "es"
    assert spanish(INSTRUCTIONS[RedFlagLevel.EMERGENCY]) in offline
    session_shell = anonymous.get("/offline/session?lang=es").get_data(as_text=True)
    assert html_lang(session_shell) == "es"
    assert html_lang(anonymous.get("/offline?lang=xx", headers=ENGLISH).get_data(True)) == "en"


# ---------------------------------------------------------------------------- completeness


class Texts(HTMLParser):
    """The words a person reads or hears on a page: text and the attributes read aloud."""

    SPOKEN = ("alt", "aria-label", "title", "placeholder")

    def __init__(self) -> None:
        super().__init__()
        self.texts: set[str] = set()
        self.skip = 0

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        if tag in ("script", "style"):
            self.skip += 1
        for name, value in attrs:
            if value and (name in self.SPOKEN or (name == "value" and tag == "button")):
                self.add(value)

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if not self.skip:
            self.add(data)

    def add(self, text: str) -> None:
        text = " ".join(text.split())
        if re.search(r"[A-Za-z]{3,}", text):
            self.texts.add(text)


def texts(html: str) -> set[str]:
    parser = Texts()
    parser.feed(html)
    return parser.texts


@pytest.fixture
def rich_patient(make_patient, login, client):
    """A patient with something on every page: a RED session (so today's session is eased and
    an alert is open), a check-in, a reply from the therapist and a PSFS trend on /progress."""
    bundle = make_patient(start_days_ago=3)
    login(bundle.user)
    red = session_body(bundle.program, pain_before=3, pain_after=8)
    for body in (red, check_in_body(red_flags={"RF10": True})):
        path = "/api/v1/sessions" if "program_id" in body else "/api/v1/checkins"
        assert client.post(path, json=body).status_code == 201
    for values in (("3", "3", "3"), ("5", "6", "5")):
        answer_psfs(client, values, ("Jardín", "Cocinar", "Caminar"))
    reply = MessageReport(id=str(uuid.uuid4()), body="Hola, ¿cómo va?")
    send_message(bundle.patient, bundle.therapist, reply, now=utcnow())
    db.session.commit()
    return bundle


def patient_pages(bundle, client) -> list[str]:
    session = client.post("/api/v1/sessions", json=session_body(bundle.program)).get_json()
    check_in = client.post("/api/v1/checkins", json=check_in_body()).get_json()
    return [
        "/today",
        f"/session/{bundle.program.id}",
        f"/session/{bundle.program.id}/done/{session['id']}",
        "/checkin",
        "/checkin/symptom",
        f"/checkin/done/{check_in['id']}",
        "/progress",
        "/messages",
        "/reminders",
        "/account",
        "/measures",
        "/offline",
        "/offline/session",
        "/auth/password",
    ]


# Words that are the same in both languages, or names: never a missed translation. Each
# language is offered under its own name; doses in units ("5 min", "3 × 10 s") read the same.
SAME_IN_BOTH = {"Homestretch", "Europe/London", "English", "Español", "Error 404"}
UNITS_ONLY = re.compile(r"^[\d\s×·,.–-]*(?:(?:min|s|m|kg)\b[\d\s×·,.–-]*)*$")


def untranslated(english: set[str], translated: set[str], names: set[str]) -> set[str]:
    return {
        text
        for text in english & translated
        if text not in SAME_IN_BOTH
        and not UNITS_ONLY.match(text)
        and not any(name and name in text for name in names)
    }


def test_every_patient_page_in_spanish_keeps_none_of_its_english_words(client, rich_patient):
    bundle = rich_patient
    # Names and what people wrote are nobody's words to translate.
    names = {
        bundle.user.name,
        bundle.user.email,
        bundle.therapist.name,
        bundle.patient.clinic.name,
        "Hola, ¿cómo va?",
    }
    left: dict[str, set[str]] = {}
    for path in patient_pages(bundle, client):
        english = client.get(path, headers=ENGLISH)
        assert english.status_code == 200, path
        set_language(bundle, "es")
        translated = client.get(path)
        set_language(bundle, None)
        assert translated.status_code == 200, path
        assert html_lang(translated.get_data(as_text=True)) == "es", path
        same = untranslated(
            texts(english.get_data(as_text=True)), texts(translated.get_data(as_text=True)), names
        )
        if same:
            left[path] = same
    assert left == {}


def test_the_pages_anyone_sees_are_in_spanish_too(client, make_patient):
    invited = make_patient(password=None)
    pages = [
        "/auth/login",
        "/auth/reset",
        f"/auth/invite/{invited.invitation_token}",
        "/auth/invite/not-a-token",
        "/auth/reset/not-a-token",
        "/no-such-page",
    ]
    left = {}
    for path in pages:
        english = client.get(path, headers=ENGLISH).get_data(as_text=True)
        translated = client.get(path, headers=SPANISH).get_data(as_text=True)
        assert html_lang(translated) == "es", path
        same = untranslated(texts(english), texts(translated), {invited.user.name})
        if same:
            left[path] = same
    assert left == {}


def test_a_reset_email_to_a_spanish_patient_is_in_spanish(client, make_patient, smtp):
    bundle = make_patient()
    set_language(bundle, "es")
    client.post("/auth/reset", data={"email": bundle.user.email})
    for _ in range(100):  # sent on a thread after the commit
        if smtp.to(bundle.user.email):
            break
        time.sleep(0.05)
    sent = next(
        message
        for text in smtp.to(bundle.user.email)
        if (message := email.message_from_string(text, policy=email.policy.default))
        and "/auth/reset/" in message.get_content()
    )
    assert sent["Subject"] == spanish("Reset your Homestretch password")
    assert spanish("Language") not in sent.get_content()  # the body is the reset's own words
    assert "Alguien pidió" in sent.get_content()
