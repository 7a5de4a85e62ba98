"""Messages between a patient and their therapist (DESIGN §4 "Messages", issue 12 acceptance).

Idempotent like sessions (201 new, 200 identical replay, 409 changed text, 422 bad input and
nothing stored), oldest first, reading marks the other side's messages read, unread counts on
the caseload (API and page, without a query per patient), 404 for another clinic's therapist
and for an unassigned one, and a notification that says only that a message is waiting.
"""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa

from app.admin.models import AuditEvent
from app.enums import Role
from app.extensions import db
from app.messages.models import Message, Side
from tests.conftest import Browser, csrf_token_from, in_parallel

SECRET_TEXT = "Is it normal that my knee clicks during the bird dog?"


def new_id() -> str:
    return str(uuid.uuid4())


def count_messages() -> int:
    return db.session.scalar(sa.select(sa.func.count(Message.id)))


@pytest.fixture
def pair(app, login, make_patient):  # type: ignore[no-untyped-def]
    """A patient and their therapist, each logged in on a client of their own."""
    bundle = make_patient()
    patient = login(bundle.user, test_client=app.test_client())
    therapist = login(bundle.therapist, test_client=app.test_client())
    return bundle, patient, therapist


# ---------------------------------------------------------------------------- idempotency


def test_a_message_is_stored_once_201_then_200_for_a_replay_and_409_for_other_text(pair):
    bundle, patient, _ = pair
    message = {"id": new_id(), "body": SECRET_TEXT}

    created = patient.post("/api/v1/me/messages", json=message)
    assert created.status_code == 201
    answer = created.get_json()
    assert answer["id"] == message["id"]
    assert answer["from"] == "patient"
    assert answer["body"] == SECRET_TEXT
    assert answer["read_at"] is None
    assert answer["author"] == bundle.patient.name

    # A replay compares as parsed JSON: key order and whitespace do not matter.
    replay = patient.post(
        "/api/v1/me/messages",
        data=f'{{ "body": "{SECRET_TEXT}",   "id": "{message["id"].upper()}" }}',
        content_type="application/json",
    )
    assert replay.status_code == 200
    assert replay.get_json() == answer

    conflict = patient.post("/api/v1/me/messages", json={**message, "body": "Something else"})
    assert conflict.status_code == 409
    assert conflict.mimetype == "application/problem+json"
    assert count_messages() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"id": "not-a-uuid", "body": "Hello"}, "id"),
        ({"body": "Hello"}, "id"),
        ({"id": "ID", "body": ""}, "body"),
        ({"id": "ID", "body": "   \n\t "}, "body"),
        ({"id": "ID", "body": "x" * 2001}, "body"),
        ({"id": "ID", "body": 42}, "body"),
        ({"id": "ID", "body": "bad\x00text"}, "body"),
        ({"id": "ID"}, "body"),
        ({"id": "ID", "body": "Hello", "urgent": True}, "urgent"),
    ],
)
def test_bad_messages_are_422_with_the_field_and_store_nothing(pair, body, field):
    _, patient, therapist = pair
    body = {k: (new_id() if v == "ID" else v) for k, v in body.items()}
    for client, path in (
        (patient, "/api/v1/me/messages"),
        (therapist, f"/api/v1/patients/{pair[0].patient.id}/messages"),
    ):
        response = client.post(path, json=body)
        assert response.status_code == 422, (path, response.get_json())
        assert field in {e["field"] for e in response.get_json()["errors"]}
    assert count_messages() == 0


def test_a_body_that_is_not_json_is_400_and_a_form_body_is_415(pair):
    _, patient, _ = pair
    assert (
        patient.post("/api/v1/me/messages", data="{", content_type="application/json").status_code
        == 400
    )
    assert patient.post("/api/v1/me/messages", data={"body": "hi"}).status_code == 415
    assert count_messages() == 0


def test_2000_characters_are_accepted_and_surrounding_space_is_trimmed(pair):
    _, patient, _ = pair
    long = patient.post("/api/v1/me/messages", json={"id": new_id(), "body": "é" * 2000})
    assert long.status_code == 201
    trimmed = patient.post("/api/v1/me/messages", json={"id": new_id(), "body": "  hi\nthere \n"})
    assert trimmed.get_json()["body"] == "hi\nthere"


def test_concurrent_sends_of_one_message_store_it_once(live_server, make_patient):
    bundle = make_patient()
    browsers = [Browser(live_server.url) for _ in range(6)]
    for b in browsers:
        assert b.log_in(bundle.user.email) == 200
    message = {"id": new_id(), "body": SECRET_TEXT}

    statuses = in_parallel(
        *(lambda b=b: b.send("/api/v1/me/messages", json_body=message) for b in browsers)
    )

    assert sorted(statuses) == [200] * 5 + [201], statuses
    db.session.rollback()
    assert count_messages() == 1


# ---------------------------------------------------------------------------- the thread


def test_the_thread_is_oldest_first_and_reading_marks_the_other_side_read(pair):
    bundle, patient, therapist = pair
    thread = f"/api/v1/patients/{bundle.patient.id}/messages"
    first, second = new_id(), new_id()
    patient.post("/api/v1/me/messages", json={"id": first, "body": "First"})
    patient.post("/api/v1/me/messages", json={"id": second, "body": "Second"})

    # The patient reading their own messages marks nothing.
    mine = patient.get("/api/v1/me/messages").get_json()
    assert [m["body"] for m in mine["messages"]] == ["First", "Second"]
    assert all(m["read_at"] is None for m in mine["messages"])
    assert mine["has_earlier"] is False

    seen = therapist.get(thread).get_json()["messages"]
    assert [(m["from"], m["body"]) for m in seen] == [("patient", "First"), ("patient", "Second")]
    assert all(m["read_at"] is not None for m in seen)
    after = patient.get("/api/v1/me/messages").get_json()["messages"]
    assert all(m["read_at"] is not None for m in after)

    reply = therapist.post(thread, json={"id": new_id(), "body": "Yes, that is fine."})
    assert reply.status_code == 201
    assert reply.get_json()["from"] == "therapist"
    assert reply.get_json()["author"] == bundle.therapist.name
    unread = therapist.get(thread).get_json()["messages"][-1]
    assert unread["read_at"] is None  # the therapist reading their own reply changes nothing
    latest = patient.get("/api/v1/me/messages").get_json()["messages"]
    assert [m["from"] for m in latest] == ["patient", "patient", "therapist"]
    assert latest[-1]["read_at"] is not None
    assert therapist.get(thread).get_json()["messages"][-1]["read_at"] is not None


def test_writing_a_reply_marks_the_messages_before_it_read(pair):
    bundle, patient, therapist = pair
    patient.post("/api/v1/me/messages", json={"id": new_id(), "body": "Question"})
    therapist.post(
        f"/api/v1/patients/{bundle.patient.id}/messages", json={"id": new_id(), "body": "Answer"}
    )
    question = db.session.scalar(sa.select(Message).where(Message.sender == Side.PATIENT))
    assert question.read_at is not None


def test_a_long_thread_pages_back_with_before(pair):
    _, patient, _ = pair
    for n in range(55):
        patient.post("/api/v1/me/messages", json={"id": new_id(), "body": f"Message {n}"})
    page = patient.get("/api/v1/me/messages").get_json()
    assert len(page["messages"]) == 50 and page["has_earlier"] is True
    assert page["messages"][0]["body"] == "Message 5"
    earlier = patient.get(f"/api/v1/me/messages?before={page['messages'][0]['number']}")
    earlier = earlier.get_json()
    assert [m["body"] for m in earlier["messages"]] == [f"Message {n}" for n in range(5)]
    assert earlier["has_earlier"] is False
    assert patient.get("/api/v1/me/messages?before=nope").status_code == 422
    assert patient.get("/api/v1/me/messages?before=99999999999").status_code == 422


# ---------------------------------------------------------------------------- isolation


def test_another_clinic_and_an_unassigned_therapist_get_404(app, login, make_patient, make_user):
    bundle = make_patient()
    patient_id = bundle.patient.id
    outsider = login(make_user(Role.THERAPIST), test_client=app.test_client())
    colleague = login(
        make_user(Role.THERAPIST, clinic=bundle.patient.clinic), test_client=app.test_client()
    )
    other_admin = login(make_user(Role.ADMIN), test_client=app.test_client())
    body = {"id": new_id(), "body": "Hello"}

    for client in (outsider, colleague, other_admin):
        assert client.get(f"/api/v1/patients/{patient_id}/messages").status_code == 404
        assert client.post(f"/api/v1/patients/{patient_id}/messages", json=body).status_code == 404
        assert client.get(f"/caseload/patients/{patient_id}/messages").status_code == 404
        assert (
            client.post(
                f"/caseload/patients/{patient_id}/messages",
                data={"client_id": new_id(), "body": "Hello"},
            ).status_code
            == 404
        )
    assert client.get("/api/v1/patients/2147483648/messages").status_code == 404
    assert count_messages() == 0


def test_a_patient_cannot_use_the_therapist_api_and_sees_only_their_own_thread(
    app, login, make_patient
):
    one, two = make_patient(), make_patient()
    first = login(one.user, test_client=app.test_client())
    second = login(two.user, test_client=app.test_client())
    first.post("/api/v1/me/messages", json={"id": new_id(), "body": SECRET_TEXT})

    assert second.get("/api/v1/me/messages").get_json()["messages"] == []
    assert second.get(f"/api/v1/patients/{one.patient.id}/messages").status_code == 403
    assert SECRET_TEXT not in second.get("/messages").get_data(as_text=True)


def test_an_admin_of_the_clinic_reads_without_clearing_the_therapists_unread_count(
    app, login, pair, make_user
):
    bundle, patient, therapist = pair
    patient.post("/api/v1/me/messages", json={"id": new_id(), "body": SECRET_TEXT})
    admin = login(
        make_user(Role.ADMIN, clinic=bundle.patient.clinic), test_client=app.test_client()
    )

    seen = admin.get(f"/api/v1/patients/{bundle.patient.id}/messages").get_json()["messages"]
    assert seen[0]["body"] == SECRET_TEXT and seen[0]["read_at"] is None
    rows = therapist.get("/api/v1/caseload").get_json()["patients"]
    assert rows[0]["unread_messages"] == 1
    reads = sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "messages.read")
    assert db.session.scalar(reads) == 1


# ---------------------------------------------------------------------------- unread counts


def test_unread_counts_on_the_caseload_api_and_page_until_the_therapist_reads(pair):
    bundle, patient, therapist = pair
    for text in ("One", "Two"):
        patient.post("/api/v1/me/messages", json={"id": new_id(), "body": text})

    (row,) = therapist.get("/api/v1/caseload").get_json()["patients"]
    assert row["unread_messages"] == 2
    page = therapist.get("/caseload/").get_data(as_text=True)
    assert "2 unread messages" in page
    assert f"/caseload/patients/{bundle.patient.id}/messages#latest" in page

    record = therapist.get(f"/caseload/patients/{bundle.patient.id}").get_data(as_text=True)
    assert "2 new" in record and "One" in record and "Two" in record
    (row,) = therapist.get("/api/v1/caseload").get_json()["patients"]
    assert row["unread_messages"] == 0
    assert "unread message" not in therapist.get("/caseload/").get_data(as_text=True)


def test_the_navigation_counts_unread_messages_and_links_to_those_patients(
    app, login, make_patient
):
    first = make_patient(name="Ada Writes")
    second = make_patient(therapist=first.therapist, name="Bob Quiet")
    writer = login(first.user, test_client=app.test_client())
    therapist = login(first.therapist, test_client=app.test_client())
    assert "unread</span>" not in therapist.get("/caseload/").get_data(as_text=True)

    for text in ("One", "Two", "Three"):
        writer.post("/api/v1/me/messages", json={"id": new_id(), "body": text})

    page = therapist.get("/caseload/").get_data(as_text=True)
    assert 'Messages <span class="badge badge-high">3 unread</span>' in page
    assert "/caseload/?show=messages" in page
    only = therapist.get("/caseload/?show=messages").get_data(as_text=True)
    assert "Ada Writes" in only and "Bob Quiet" not in only
    everyone = therapist.get("/caseload/").get_data(as_text=True)
    assert "Bob Quiet" in everyone and second.patient.name == "Bob Quiet"

    therapist.get(f"/caseload/patients/{first.patient.id}/messages")
    assert "unread</span>" not in therapist.get("/caseload/").get_data(as_text=True)


def test_the_caseload_costs_the_same_queries_with_messages_for_5_or_for_30_patients(
    app, login, make_user, make_patient, count_queries
):
    therapist = make_user(Role.THERAPIST)
    client = login(therapist, test_client=app.test_client())

    def add(count: int) -> None:
        for _ in range(count):
            bundle = make_patient(therapist=therapist, password=None)
            db.session.add(
                Message(
                    patient_id=bundle.patient.id,
                    sender=Side.PATIENT,
                    author_id=bundle.user.id,
                    client_id=new_id(),
                    body="Hello",
                    payload_hash="0" * 64,
                )
            )
        db.session.commit()

    def measure(path: str) -> int:
        client.get(path)
        with count_queries() as queries:
            assert client.get(path).status_code == 200
        return len(queries)

    add(5)
    few = measure("/caseload/"), measure("/api/v1/caseload")
    add(25)
    many = measure("/caseload/"), measure("/api/v1/caseload")
    assert few == many
    # Four reads and the one audit INSERT naming every patient shown (issue 14).
    assert many[0] <= 5, many
    rows = client.get("/api/v1/caseload").get_json()["patients"]
    assert [r["unread_messages"] for r in rows] == [1] * 30


# ---------------------------------------------------------------------------- notifications


def test_the_therapist_is_emailed_that_a_message_waits_never_its_text(pair, smtp):
    bundle, patient, _ = pair
    address = bundle.therapist.email
    patient.post("/api/v1/me/messages", json={"id": new_id(), "body": SECRET_TEXT})
    patient.post("/api/v1/me/messages", json={"id": new_id(), "body": "And my hip too."})

    (text,) = smtp.to(address)  # one notice while the first message is still unread
    assert "sent you a message" in text
    assert f"/caseload/patients/{bundle.patient.id}/messages" in text
    for secret in ("knee", "clicks", "hip", bundle.patient.name):
        assert secret not in text


def test_after_reading_the_next_message_is_notified_again(pair, smtp):
    bundle, patient, therapist = pair
    patient.post("/api/v1/me/messages", json={"id": new_id(), "body": "First"})
    therapist.get(f"/api/v1/patients/{bundle.patient.id}/messages")
    patient.post("/api/v1/me/messages", json={"id": new_id(), "body": "Second"})
    assert len(smtp.to(bundle.therapist.email)) == 2


def test_the_patient_is_emailed_when_the_therapist_writes_with_a_one_click_unsubscribe(pair, smtp):
    bundle, _, therapist = pair
    reply = "Keep the bird dog slow and the pain under 5."
    therapist.post(
        f"/api/v1/patients/{bundle.patient.id}/messages", json={"id": new_id(), "body": reply}
    )
    (text,) = [t for t in smtp.to(bundle.user.email) if "new message" in t]
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in text
    assert "/messages" in text
    for secret in ("bird", "pain", "slow"):
        assert secret not in text.lower()


def test_a_message_without_a_therapist_goes_to_the_clinic_admins(
    app, login, make_user, make_patient, smtp
):
    bundle = make_patient()
    admin = make_user(Role.ADMIN, clinic=bundle.patient.clinic)
    bundle.patient.therapist_id = None
    db.session.commit()
    client = login(bundle.user, test_client=app.test_client())
    client.post("/api/v1/me/messages", json={"id": new_id(), "body": SECRET_TEXT})
    (text,) = smtp.to(admin.email)
    assert "knee" not in text


def test_a_message_to_a_therapist_who_left_goes_to_the_clinic_admins(
    app, login, make_user, make_patient, smtp
):
    bundle = make_patient()
    admin = make_user(Role.ADMIN, clinic=bundle.patient.clinic)
    bundle.therapist.is_active = False
    db.session.commit()
    client = login(bundle.user, test_client=app.test_client())
    client.post("/api/v1/me/messages", json={"id": new_id(), "body": SECRET_TEXT})
    (text,) = smtp.to(admin.email)
    assert "knee" not in text
    assert smtp.to(bundle.therapist.email) == []


def test_a_refused_message_sends_no_notification(pair, smtp):
    bundle, patient, _ = pair
    patient.post("/api/v1/me/messages", json={"id": new_id(), "body": ""})
    assert smtp.to(bundle.therapist.email) == []


# ---------------------------------------------------------------------------- pages


def test_the_patient_page_sends_a_message_without_javascript_and_says_not_for_emergencies(
    app, login, make_patient, csrf_enabled
):
    bundle = make_patient()
    bundle.patient.clinic.emergency_number = "999"
    bundle.patient.clinic.phone = "020 7946 0000"
    db.session.commit()
    client = login(bundle.user, test_client=app.test_client())

    page = client.get("/messages")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "not for emergencies" in html
    assert 'href="tel:999"' in html and "Call 999" in html
    client_id = re.search(r'name="client_id" type="hidden" value="([^"]+)"', html).group(1)
    form = {"csrf_token": csrf_token_from(html), "client_id": client_id, "body": SECRET_TEXT}

    sent = client.post("/messages", data=form)
    assert sent.status_code == 302
    again = client.post("/messages", data=form)  # a double tap stores it once
    assert again.status_code == 302
    assert count_messages() == 1
    thread = client.get("/messages").get_data(as_text=True)
    assert SECRET_TEXT in thread

    empty = client.post("/messages", data={**form, "client_id": new_id(), "body": " "})
    assert empty.status_code == 422
    assert "Write a message first." in empty.get_data(as_text=True)
    assert count_messages() == 1


def test_something_else_on_the_symptom_page_arrives_as_a_message_to_the_therapist(
    app, login, make_patient, csrf_enabled
):
    bundle = make_patient()
    client = login(bundle.user, test_client=app.test_client())
    html = client.get("/checkin/symptom").get_data(as_text=True)
    assert "Something else?" in html and f"Message {bundle.therapist.name}" in html
    form = re.search(r'<form[^>]+data-prefix="A new symptom: "[^>]*>(.*?)</form>', html, re.S)
    assert form, "the symptom page has a message form"
    client_id = re.search(r'name="client_id" type="hidden" value="([^"]+)"', form.group(1))
    sent = client.post(
        "/messages",
        data={
            "csrf_token": csrf_token_from(html),
            "client_id": client_id.group(1),
            "subject": "symptom",
            "body": "  My left foot tingles since Monday  ",
        },
    )
    assert sent.status_code == 302
    therapist = login(bundle.therapist, test_client=app.test_client())
    thread = therapist.get(f"/api/v1/patients/{bundle.patient.id}/messages").get_json()
    assert [m["body"] for m in thread["messages"]] == [
        "A new symptom: My left foot tingles since Monday"
    ]

    odd = client.post(
        "/messages",
        data={
            "csrf_token": csrf_token_from(html),
            "client_id": new_id(),
            "subject": "x",
            "body": "Hi",
        },
    )
    assert odd.status_code == 422 and count_messages() == 1


def test_asking_about_an_exercise_quotes_it(app, login, make_patient):
    bundle = make_patient()
    exercise = bundle.program.items[0].exercise
    client = login(bundle.user, test_client=app.test_client())
    html = client.get(f"/messages?about={exercise.slug}").get_data(as_text=True)
    assert f"About {exercise.name}: " in html
    assert "About" not in client.get("/messages?about=not-in-my-program").get_data(as_text=True)


def test_the_therapist_replies_from_the_patient_record(pair, csrf_enabled):
    bundle, patient, therapist = pair
    header = {"X-CSRFToken": patient.get("/api/v1/csrf").get_json()["csrf_token"]}
    sent = patient.post(
        "/api/v1/me/messages", json={"id": new_id(), "body": SECRET_TEXT}, headers=header
    )
    assert sent.status_code == 201
    record = therapist.get(f"/caseload/patients/{bundle.patient.id}")
    html = record.get_data(as_text=True)
    assert 'id="messages"' in html
    assert SECRET_TEXT in html
    assert "Session reminders: <strong>on</strong> (email)" in html
    client_id = re.search(r'name="client_id" type="hidden" value="([^"]+)"', html).group(1)
    token = csrf_token_from(html)

    sent = therapist.post(
        f"/caseload/patients/{bundle.patient.id}/messages",
        data={
            "csrf_token": token,
            "client_id": client_id,
            "body": "Quite normal.",
            "return_to": "record",
        },
    )
    assert sent.status_code == 302
    assert sent.headers["Location"].endswith(f"/caseload/patients/{bundle.patient.id}#messages")
    reply = db.session.scalar(sa.select(Message).where(Message.sender == Side.THERAPIST))
    assert (reply.body, reply.author_id) == ("Quite normal.", bundle.therapist.id)

    whole = therapist.get(f"/caseload/patients/{bundle.patient.id}/messages")
    assert whole.status_code == 200
    assert "Quite normal." in whole.get_data(as_text=True)


def test_an_empty_reply_from_the_record_is_explained_there(pair):
    bundle, _, therapist = pair
    response = therapist.post(
        f"/caseload/patients/{bundle.patient.id}/messages",
        data={"client_id": new_id(), "body": "", "return_to": "record"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Write a message first." in response.get_data(as_text=True)
    assert count_messages() == 0
