"""Messages on a phone: ask about an exercise from the player, read the therapist's reply."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.db import utcnow
from app.extensions import db
from app.messages.models import Message, Side
from app.messages.services import MessageReport, send_message
from app.patient.models import Patient
from tests.browser.conftest import log_in
from tests.browser.test_patient_player import BEFORE, rate, short_program
from tests.conftest import PASSWORD

QUESTION = "Is it normal that my knee clicks?"
REPLY = "Yes, a painless click is fine. Keep the movement slow."


def stored(sender: Side) -> list[str]:
    db.session.rollback()
    return list(
        db.session.scalars(
            sa.select(Message.body).where(Message.sender == sender).order_by(Message.id)
        )
    )


def test_a_patient_asks_about_an_exercise_from_the_player_and_reads_the_reply(
    phone: Page, make_patient
):
    bundle = make_patient()
    short_program(bundle)
    exercise = bundle.program.items[0].exercise.name
    log_in(phone, bundle.user.email, PASSWORD)
    phone.wait_for_url("**/today")
    phone.get_by_role("link", name="Start today's session").click()
    phone.wait_for_url(re.compile(r"/session/\d+$"))
    rate(phone, BEFORE, 3)
    phone.get_by_role("button", name="Start", exact=True).click()
    step = phone.locator("section.step.current")
    expect(step.locator("h2")).to_contain_text(exercise)

    # The question opens beside the session (a new tab), so the session in progress stays.
    with phone.context.expect_page() as opened:
        step.get_by_role("link", name="Ask about this exercise").click()
    thread = opened.value
    thread.wait_for_load_state()
    assert "/messages" in thread.url
    box = thread.get_by_label("Your message")
    expect(box).to_have_value(f"About {exercise}: ")
    expect(thread.get_by_text("Messages are not for emergencies.")).to_be_visible()
    box.press("End")
    box.type(QUESTION)
    thread.get_by_role("button", name="Send", exact=True).click()

    # Sent through the outbox; the thread shows it once it has arrived.
    expect(thread.locator(".message-mine .message-body").last).to_have_text(
        f"About {exercise}: {QUESTION}"
    )
    assert stored(Side.PATIENT) == [f"About {exercise}: {QUESTION}"]
    expect(step.locator("h2")).to_contain_text(exercise)  # the session is where it was

    patient = db.session.get(Patient, bundle.patient.id)
    send_message(
        patient,
        bundle.therapist,
        MessageReport(id=str(__import__("uuid").uuid4()), body=REPLY),
        now=utcnow(),
    )
    db.session.commit()
    thread.reload()
    reply = thread.locator(".message-theirs").last
    expect(reply.locator(".message-body")).to_have_text(REPLY)
    expect(reply.locator(".tag")).to_have_text("new")


def test_a_push_shows_a_notification_without_health_data_and_a_tap_opens_today(
    phone: Page, make_patient
):
    bundle = make_patient()
    phone.context.grant_permissions(["notifications"])
    log_in(phone, bundle.user.email, PASSWORD)
    phone.wait_for_url("**/today")
    phone.evaluate("navigator.serviceWorker.ready.then(() => true)")
    worker = phone.context.service_workers[0]
    shown = worker.evaluate(
        """async () => {
            const data = JSON.stringify({
              title: 'Homestretch', body: 'Your exercises for today are ready.',
              url: '/today', tag: 'reminder',
            });
            self.dispatchEvent(new PushEvent('push', {data}));
            for (let i = 0; i < 50; i++) {
              const list = await self.registration.getNotifications();
              const seen = (n) => ({title: n.title, body: n.body, tag: n.tag, data: n.data});
              if (list.length) return list.map(seen);
              await new Promise((r) => setTimeout(r, 100));
            }
            return [];
        }"""
    )
    assert shown == [
        {
            "title": "Homestretch",
            "body": "Your exercises for today are ready.",
            "tag": "reminder",
            "data": {"path": "/today"},
        }
    ]
    # A payload that names another site falls back to /today.
    odd = worker.evaluate(
        """async () => {
            (await self.registration.getNotifications()).forEach((n) => n.close());
            const data = JSON.stringify({url: '//evil.example/'});
            self.dispatchEvent(new PushEvent('push', {data}));
            for (let i = 0; i < 50; i++) {
              const list = await self.registration.getNotifications();
              if (list.length) return list[0].data;
              await new Promise((r) => setTimeout(r, 100));
            }
            return null;
        }"""
    )
    assert odd == {"path": "/today"}
