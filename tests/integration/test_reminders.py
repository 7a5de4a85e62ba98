"""`flask reminders send` with a local SMTP server and a moved clock (issue 12 acceptance).

One reminder on a scheduled day without a session, none once it is done, none twice (also with
concurrent runs), one follow-up the next day and only once, none at night, local times across
the US summer-time change and in two timezones, RFC 8058 headers and a one-click unsubscribe
link that needs no login, and no health data anywhere. 1 March 2027 is a Monday.
"""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.db import utcnow
from app.enums import AlertKind
from app.extensions import db
from app.patient.sessions import log_session
from app.programs.services import pause_program
from app.reminders.models import ReminderSettings, SentReminder
from app.reminders.schedule import ReminderKind
from tests.conftest import in_parallel, session_report

START = datetime(2027, 3, 1, 13, 0, tzinfo=UTC)  # Monday, 08:00 in New York, 13:00 in London
NEW_YORK = "America/New_York"
LONDON = "Europe/London"
TODAY_SUBJECT = "Your exercises for today are ready"
FOLLOW_UP_SUBJECT = "Your exercises are ready when you are"


@pytest.fixture
def now(time_machine) -> datetime:  # type: ignore[no-untyped-def]
    """Freeze the clock at START: patients made by the factories start their program then."""
    time_machine.move_to(START, tick=False)
    return utcnow()


@pytest.fixture
def clock(time_machine, now):  # type: ignore[no-untyped-def]
    """Move the frozen clock to a local wall-clock time: clock(day, "18:00", tz)."""

    def move(day: date, wall: str, tz: str = NEW_YORK) -> datetime:
        hour, minute = map(int, wall.split(":"))
        instant = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(tz))
        time_machine.move_to(instant.astimezone(UTC), tick=False)
        return instant.astimezone(UTC)

    return move


def send(app) -> str:  # type: ignore[no-untyped-def]
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["reminders", "send"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    return result.output


def messages(inbox, address: str) -> list[email.message.EmailMessage]:  # type: ignore[no-untyped-def]
    """Return the reminders sent to ``address`` (not the invitation or the program email)."""
    parsed = [
        email.message_from_bytes(m.content, policy=email.policy.default)
        for m in inbox.messages
        if address in m.rcpt_tos
    ]
    return [m for m in parsed if m["Subject"] in (TODAY_SUBJECT, FOLLOW_UP_SUBJECT)]


def subjects(inbox, address: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [m["Subject"] for m in messages(inbox, address)]


def day(n: int) -> date:
    """Return the date n days after Monday 1 March 2027."""
    return date(2027, 3, 1) + timedelta(days=n)


def log_done(bundle, at: datetime) -> None:  # type: ignore[no-untyped-def]
    log_session(bundle.patient, session_report(bundle.program, completed_at=at), now=at)
    db.session.commit()


@pytest.fixture
def every_day(make_patient):  # type: ignore[no-untyped-def]
    """A New York patient whose program (every day) starts on Monday 1 March 2027."""

    def make(tz: str = NEW_YORK, **options):  # type: ignore[no-untyped-def]
        return make_patient(timezone=tz, sessions_per_week=7, **options)

    return make


# ---------------------------------------------------------------------------- once a day


def test_one_reminder_on_a_scheduled_day_once_the_local_time_has_passed(
    app, smtp, every_day, clock
):
    bundle = every_day()
    address = bundle.user.email

    clock(day(0), "17:59")
    assert "0 reminders sent" in send(app)
    assert subjects(smtp, address) == []

    clock(day(0), "18:00")
    assert "1 reminders sent (1 reminder)" in send(app)
    assert subjects(smtp, address) == [TODAY_SUBJECT]

    clock(day(0), "18:15")  # the next run, 15 minutes later
    send(app)
    clock(day(0), "20:30")
    send(app)
    assert subjects(smtp, address) == [TODAY_SUBJECT]
    rows = db.session.scalars(sa.select(SentReminder)).all()
    assert [(r.local_date, r.kind, r.channels) for r in rows] == [
        (day(0), ReminderKind.REMINDER, ["email"])
    ]


def test_no_reminder_when_the_session_is_already_done(app, smtp, every_day, clock):
    bundle = every_day()
    log_done(bundle, clock(day(0), "12:30"))

    clock(day(0), "18:30")
    send(app)

    assert subjects(smtp, bundle.user.email) == []
    assert db.session.scalar(sa.select(sa.func.count(SentReminder.id))) == 0


def test_concurrent_runs_send_each_reminder_once(app, smtp, every_day, clock):
    patients = [every_day() for _ in range(3)]
    clock(day(0), "18:05")
    db.session.commit()

    def run() -> int:
        return app.test_cli_runner().invoke(args=["reminders", "send"]).exit_code

    assert in_parallel(*(run for _ in range(4))) == [0, 0, 0, 0]
    db.session.rollback()
    for bundle in patients:
        assert subjects(smtp, bundle.user.email) == [TODAY_SUBJECT]
    assert db.session.scalar(sa.select(sa.func.count(SentReminder.id))) == 3


def test_a_claimed_reminder_is_never_sent_again_even_if_delivery_never_happened(
    app, smtp, every_day, clock
):
    # A run that crashed after claiming (the row is in, nothing went out) must not be redone:
    # at most once is the promise, so a crash can never double a reminder.
    bundle = every_day()
    clock(day(0), "18:00")
    db.session.add(
        SentReminder(
            patient_id=bundle.patient.id,
            local_date=day(0),
            kind=ReminderKind.REMINDER,
            created_at=utcnow(),
            channels=[],
        )
    )
    send(app)
    assert subjects(smtp, bundle.user.email) == []


# ---------------------------------------------------------------------------- follow-up


def test_one_follow_up_the_day_after_a_missed_day_and_never_two_days_running(
    app, smtp, every_day, clock
):
    bundle = every_day()
    address = bundle.user.email
    clock(day(0), "18:00")
    send(app)  # Monday: today's reminder; nothing is logged

    clock(day(1), "18:00")
    send(app)
    clock(day(1), "19:00")
    send(app)
    assert subjects(smtp, address) == [TODAY_SUBJECT, FOLLOW_UP_SUBJECT]

    # Tuesday was missed too, but Tuesday had the follow-up: Wednesday is a plain reminder.
    clock(day(2), "18:00")
    send(app)
    assert subjects(smtp, address)[-1] == TODAY_SUBJECT
    # Wednesday missed: Thursday may follow up again (not two days running).
    clock(day(3), "18:00")
    send(app)
    assert subjects(smtp, address) == [
        TODAY_SUBJECT,
        FOLLOW_UP_SUBJECT,
        TODAY_SUBJECT,
        FOLLOW_UP_SUBJECT,
    ]
    kinds = db.session.scalars(sa.select(SentReminder.kind).order_by(SentReminder.local_date))
    assert list(kinds) == [
        ReminderKind.REMINDER,
        ReminderKind.FOLLOW_UP,
        ReminderKind.REMINDER,
        ReminderKind.FOLLOW_UP,
    ]


def test_no_follow_up_after_a_day_with_a_session(app, smtp, every_day, clock):
    bundle = every_day()
    log_done(bundle, clock(day(0), "09:00"))
    clock(day(1), "18:00")
    send(app)
    assert subjects(smtp, bundle.user.email) == [TODAY_SUBJECT]


def test_nothing_while_the_program_is_paused_not_even_the_follow_up(app, smtp, every_day, clock):
    bundle = every_day()
    clock(day(0), "18:00")
    send(app)  # Monday reminder, nothing logged
    pause_program(bundle.program, by=bundle.therapist, now=clock(day(0), "19:00"), reason="")
    db.session.commit()

    for n in (1, 2):
        clock(day(n), "18:00")
        send(app)
    assert subjects(smtp, bundle.user.email) == [TODAY_SUBJECT]


def test_no_separate_message_for_low_adherence_the_follow_up_is_the_nudge(
    app, smtp, every_day, clock, make_alert
):
    bundle = every_day()
    make_alert(bundle, AlertKind.LOW_ADHERENCE)
    clock(day(1), "18:00")
    send(app)
    assert subjects(smtp, bundle.user.email) == [FOLLOW_UP_SUBJECT]


# ---------------------------------------------------------------------------- night and zones


def test_nothing_between_21_and_8_local(app, smtp, every_day, clock):
    bundle = every_day()
    settings = ReminderSettings(patient_id=bundle.patient.id)
    settings.local_time = datetime(2027, 1, 1, 20, 45).time()
    db.session.add(settings)

    for wall in ("21:00", "23:30"):
        clock(day(0), wall)
        send(app)
    for wall in ("00:15", "06:00", "07:45"):
        clock(day(1), wall)
        send(app)
    assert subjects(smtp, bundle.user.email) == []
    assert db.session.scalar(sa.select(sa.func.count(SentReminder.id))) == 0

    clock(day(1), "20:45")
    send(app)
    assert subjects(smtp, bundle.user.email) == [FOLLOW_UP_SUBJECT]


def test_18_local_stays_18_local_across_the_us_summer_time_change(app, smtp, every_day, clock):
    # Summer time starts on Sunday 14 March 2027 in the US: 18:00 is 23:00 UTC on Saturday
    # and 22:00 UTC on Sunday.
    bundle = every_day()
    address = bundle.user.email
    friday, saturday, sunday = day(11), day(12), day(13)
    log_done(bundle, clock(friday, "09:00"))

    assert clock(saturday, "17:00") == datetime(2027, 3, 13, 22, 0, tzinfo=UTC)
    send(app)
    assert clock(saturday, "17:59") == datetime(2027, 3, 13, 22, 59, tzinfo=UTC)
    send(app)
    assert subjects(smtp, address) == []
    assert clock(saturday, "18:00") == datetime(2027, 3, 13, 23, 0, tzinfo=UTC)
    send(app)
    assert subjects(smtp, address) == [TODAY_SUBJECT]
    log_done(bundle, clock(saturday, "19:00"))

    assert clock(sunday, "17:59") == datetime(2027, 3, 14, 21, 59, tzinfo=UTC)
    send(app)
    assert subjects(smtp, address) == [TODAY_SUBJECT]
    assert clock(sunday, "18:00") == datetime(2027, 3, 14, 22, 0, tzinfo=UTC)
    send(app)
    assert subjects(smtp, address) == [TODAY_SUBJECT, TODAY_SUBJECT]
    sent = db.session.scalars(sa.select(SentReminder.sent_at).order_by(SentReminder.local_date))
    assert list(sent) == [
        datetime(2027, 3, 13, 23, 0, tzinfo=UTC),
        datetime(2027, 3, 14, 22, 0, tzinfo=UTC),
    ]


def test_the_reminder_follows_the_local_clock_on_the_day_summer_time_starts(
    app, smtp, every_day, clock
):
    bundle = every_day()
    address = bundle.user.email
    saturday, sunday = day(12), day(13)
    log_done(bundle, clock(saturday, "09:00"))

    # 21:59 UTC is 17:59 EDT: not yet. 22:00 UTC is 18:00 EDT (it would be 17:00 in winter).
    assert clock(sunday, "17:59") == datetime(2027, 3, 14, 21, 59, tzinfo=UTC)
    send(app)
    assert subjects(smtp, address) == []
    assert clock(sunday, "18:00") == datetime(2027, 3, 14, 22, 0, tzinfo=UTC)
    send(app)
    assert subjects(smtp, address) == [TODAY_SUBJECT]
    (row,) = db.session.scalars(sa.select(SentReminder)).all()
    assert row.local_date == sunday
    assert row.sent_at == datetime(2027, 3, 14, 22, 0, tzinfo=UTC)


def test_patients_in_two_timezones_get_their_own_18_00_in_one_run(
    app, smtp, every_day, clock, time_machine
):
    london, new_york = every_day(LONDON), every_day(NEW_YORK)

    # 18:00 UTC is 18:00 in London (winter time) and 13:00 in New York.
    time_machine.move_to(datetime(2027, 3, 1, 18, 0, tzinfo=UTC), tick=False)
    send(app)
    assert subjects(smtp, london.user.email) == [TODAY_SUBJECT]
    assert subjects(smtp, new_york.user.email) == []

    # 23:00 UTC is 18:00 in New York and 23:00 in London (quiet hours, and done for the day).
    time_machine.move_to(datetime(2027, 3, 1, 23, 0, tzinfo=UTC), tick=False)
    send(app)
    assert subjects(smtp, london.user.email) == [TODAY_SUBJECT]
    assert subjects(smtp, new_york.user.email) == [TODAY_SUBJECT]
    rows = db.session.execute(
        sa.select(SentReminder.patient_id, SentReminder.local_date, SentReminder.sent_at)
    ).all()
    assert sorted(rows) == sorted(
        [
            (london.patient.id, day(0), datetime(2027, 3, 1, 18, 0, tzinfo=UTC)),
            (new_york.patient.id, day(0), datetime(2027, 3, 1, 23, 0, tzinfo=UTC)),
        ]
    )


# ---------------------------------------------------------------------------- settings


def test_reminders_follow_the_days_and_time_the_patient_picks(
    app, smtp, every_day, clock, client, login
):
    bundle = every_day()
    login(bundle.user)
    response = client.put(
        "/api/v1/me/reminders", json={"days": [2, 4], "time": "08:30", "channels": ["email"]}
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["days"] == [2, 4]
    log_done(bundle, clock(day(0), "09:00"))

    clock(day(1), "20:00")  # Tuesday: not a picked day (and Monday was done)
    send(app)
    assert subjects(smtp, bundle.user.email) == []
    log_done(bundle, clock(day(1), "20:30"))
    clock(day(2), "08:29")
    send(app)
    assert subjects(smtp, bundle.user.email) == []
    clock(day(2), "08:30")  # Wednesday at the picked time
    send(app)
    assert subjects(smtp, bundle.user.email) == [TODAY_SUBJECT]


def test_no_reminder_when_the_patient_turned_them_off(app, smtp, every_day, clock, client, login):
    bundle = every_day()
    login(bundle.user)
    assert client.put("/api/v1/me/reminders", json={"enabled": False}).status_code == 200
    clock(day(0), "18:00")
    send(app)
    assert subjects(smtp, bundle.user.email) == []


def test_the_settings_api_gives_the_defaults_and_refuses_bad_values(client, login, every_day):
    bundle = every_day()
    login(bundle.user)

    defaults = client.get("/api/v1/me/reminders").get_json()
    assert defaults == {
        "enabled": True,
        "days": [0, 1, 2, 3, 4, 5, 6],
        "time": "18:00",
        "channels": ["email"],
        "days_follow_program": True,
        "has_email": True,
        "email_unsubscribed": False,
        "push_devices": 0,
    }
    for body, field in [
        ({"time": "22:00"}, "time"),
        ({"time": "07:45"}, "time"),
        ({"time": "6pm"}, "time"),
        ({"days": []}, "days"),
        ({"days": [7]}, "days[0]"),
        ({"channels": ["push"]}, "channels"),
        ({"channels": ["sms"]}, "channels[0]"),
        ({"enabled": None}, "enabled"),
        ({"enabled": "yes"}, "enabled"),
        ({"colour": "blue"}, "colour"),
    ]:
        response = client.put("/api/v1/me/reminders", json=body)
        assert response.status_code == 422, (body, response.get_json())
        assert field in {e["field"] for e in response.get_json()["errors"]}, body
    assert client.get("/api/v1/me/reminders").get_json() == defaults

    # The program's own days sent back keep following the program; null goes back to it.
    same = client.put("/api/v1/me/reminders", json={"days": defaults["days"]}).get_json()
    assert same["days_follow_program"] is True
    own = client.put("/api/v1/me/reminders", json={"days": [5, 6, 5]}).get_json()
    assert (own["days"], own["days_follow_program"]) == ([5, 6], False)
    back = client.put("/api/v1/me/reminders", json={"days": None}).get_json()
    assert (back["days"], back["days_follow_program"]) == ([0, 1, 2, 3, 4, 5, 6], True)


def test_the_settings_page_saves_without_javascript(client, login, every_day):
    bundle = every_day()
    login(bundle.user)
    page = client.get("/reminders")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'selected value="18:00"' in html
    assert "nothing between 21:00 and 08:00" in html.lower()

    form = {"enabled": "y", "which_days": "own", "days": ["0", "3"], "time": "19:15"}
    saved = client.post("/reminders", data={**form, "email": "y"})
    assert saved.status_code == 302
    settings = db.session.get(ReminderSettings, bundle.patient.id)
    assert (settings.days, settings.local_time.isoformat(timespec="minutes")) == ([0, 3], "19:15")
    assert settings.channels == ["email"]

    no_way = client.post("/reminders", data=form)  # on, but "By email" unticked
    assert no_way.status_code == 422
    assert "Choose email or phone notifications" in no_way.get_data(as_text=True)
    no_days = client.post("/reminders", data={**form, "days": [], "email": "y"})
    assert no_days.status_code == 422
    assert "Pick at least one day" in no_days.get_data(as_text=True)
    off = client.post("/reminders", data={"which_days": "program", "time": "18:00"})
    assert off.status_code == 302
    db.session.refresh(settings)
    assert (settings.enabled, settings.days) == (False, None)


# ---------------------------------------------------------------------------- the email


def test_the_email_has_two_parts_rfc_8058_headers_a_footer_and_no_health_data(
    app, smtp, every_day, clock, make_alert
):
    bundle = every_day()
    make_alert(bundle, AlertKind.PERSISTENT_PAIN)
    log_done(bundle, clock(day(0), "10:00"))
    clock(day(1), "18:00")
    send(app)

    (message,) = messages(smtp, bundle.user.email)
    assert message["Subject"] == TODAY_SUBJECT
    assert message["Auto-Submitted"] == "auto-generated"
    unsubscribe = message["List-Unsubscribe"]
    assert re.fullmatch(r"<https?://[^>]+/reminders/unsubscribe/[^>]+>", unsubscribe)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    base = app.config["PUBLIC_BASE_URL"]
    for part in (plain, html):
        assert "Your exercises for today are ready" in part
        assert f"{base}/today" in part
        assert bundle.patient.clinic.name in part  # the footer names the clinic
        assert unsubscribe.strip("<>") in part.replace("&amp;", "&")
    # No health data: no pain, no exercise, no alert, not even the patient's name.
    words = " ".join((plain, html, message["Subject"])).lower()
    forbidden = [item.exercise.name.lower() for item in bundle.program.items]
    forbidden += ["pain", "persistent", "alert", "adherence", bundle.patient.name.lower()]
    for word in forbidden:
        assert word not in words, word


def test_the_unsubscribe_link_works_without_login_and_stops_the_emails(
    app, smtp, every_day, clock, client, csrf_enabled
):
    bundle = every_day()
    clock(day(0), "18:00")
    send(app)
    (message,) = messages(smtp, bundle.user.email)
    path = urlsplit(message["List-Unsubscribe"].strip("<>")).path

    asked = client.get(path)  # a link scanner's GET changes nothing
    assert asked.status_code == 200
    assert "Stop these emails" in asked.get_data(as_text=True)
    assert bundle.patient.clinic.name in asked.get_data(as_text=True)
    assert db.session.get(ReminderSettings, bundle.patient.id) is None

    # RFC 8058: the mail provider POSTs this body, with no cookie and no CSRF token.
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert "No more reminder emails" in done.get_data(as_text=True)
    settings = db.session.get(ReminderSettings, bundle.patient.id)
    assert settings.email_unsubscribed_at is not None
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200

    clock(day(1), "18:00")
    send(app)
    assert len(messages(smtp, bundle.user.email)) == 1


def test_a_forged_unsubscribe_link_is_a_404_and_changes_nothing(client, every_day):
    bundle = every_day()
    for token in ("nonsense", "eyJwIjoxfQ.forged", "x" * 300):
        assert client.get(f"/reminders/unsubscribe/{token}").status_code == 404
        assert client.post(f"/reminders/unsubscribe/{token}").status_code == 404
    assert db.session.get(ReminderSettings, bundle.patient.id) is None


def test_choosing_email_again_after_unsubscribing_turns_it_back_on(
    app, smtp, every_day, clock, client, login
):
    bundle = every_day()
    from app.reminders.services import unsubscribe_email

    unsubscribe_email(bundle.patient, now=utcnow())
    login(bundle.user)
    body = client.get("/api/v1/me/reminders").get_json()
    assert (body["channels"], body["email_unsubscribed"]) == ([], True)
    again = client.put("/api/v1/me/reminders", json={"channels": ["email"]}).get_json()
    assert (again["channels"], again["email_unsubscribed"]) == (["email"], False)
    clock(day(0), "18:00")
    send(app)
    assert subjects(smtp, bundle.user.email) == [TODAY_SUBJECT]


def test_without_a_mail_server_nothing_is_claimed(app, every_day, clock):
    every_day()
    clock(day(0), "18:00")
    assert "0 reminders sent" in send(app)
    assert db.session.scalar(sa.select(sa.func.count(SentReminder.id))) == 0


def test_a_batch_loads_in_a_fixed_number_of_queries(app, smtp, every_day, clock, count_queries):
    from app.reminders.services import claim_due

    def queries_for(count: int) -> int:
        ids = [every_day().patient.id for _ in range(count)]
        db.session.commit()
        with count_queries() as statements:
            claim_due(ids, utcnow())
        db.session.rollback()
        return len(statements)

    clock(day(0), "18:00")
    assert queries_for(2) == queries_for(12)


def test_concurrent_one_click_posts_all_answer_200_and_store_one_row(live_server, every_day):
    from app.reminders.services import unsubscribe_url
    from tests.conftest import Browser

    bundle = every_day()
    path = urlsplit(unsubscribe_url(bundle.patient.id)).path
    db.session.commit()

    statuses = in_parallel(
        *(
            lambda: Browser(live_server.url).send(path, data=b"List-Unsubscribe=One-Click")
            for _ in range(6)
        )
    )

    assert statuses == [200] * 6, statuses
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReminderSettings)) == 1
    assert db.session.get(ReminderSettings, bundle.patient.id).email_unsubscribed_at is not None
