"""The patient's questionnaire pages without JavaScript, and the PSFS trend on /progress."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.extensions import db
from app.patient.models import OutcomeResponse
from tests.integration.test_security import assert_strict_html


def count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutcomeResponse)) or 0


def form_id(html: str) -> str:
    return re.search(r'name="id" type="hidden" value="([^"]+)"', html).group(1)


def test_the_due_list_links_each_questionnaire(login, make_patient):
    bundle = make_patient()
    c = login(bundle.user)

    page = c.get("/measures")

    assert page.status_code == 200
    assert_strict_html(page)
    html = page.get_data(as_text=True)
    for slug in ("nprs", "psfs", "start-back"):
        assert f"/measures?instrument={slug}" in html


def test_start_back_shows_its_intro_and_licence_and_every_question(login, make_patient):
    bundle = make_patient()
    c = login(bundle.user)

    page = c.get("/measures?instrument=start-back")

    assert_strict_html(page)
    html = page.get_data(as_text=True)
    assert "Keele University" in html
    assert "Nine short questions" in html
    assert html.count("data-step") == 11  # intro, 9 questions, send
    assert 'value="very much"' in html


def test_psfs_sent_as_a_plain_form_is_stored_and_bad_answers_are_named(login, make_patient):
    bundle = make_patient()
    c = login(bundle.user)
    html = c.get("/measures?instrument=psfs").get_data(as_text=True)
    fields = {
        "id": form_id(html),
        "instrument": "psfs",
        "l-1": "Lifting my child",
        "a-1": "3",
        "l-2": "Gardening",
        "a-2": "4",
        "l-3": "Sitting through a film",
    }

    refused = c.post("/measures", data=fields)  # the third activity has no rating

    assert refused.status_code == 422
    assert "rate the activity" in refused.get_data(as_text=True)
    assert count() == 0
    done = c.post("/measures", data={**fields, "a-3": "2"})
    assert done.status_code == 200
    assert "Thank you" in done.get_data(as_text=True)
    assert count() == 1
    # The same form sent again (a double tap, a resend): the stored one, nothing new, no error.
    twice = c.post("/measures", data={**fields, "a-3": "2"})
    assert twice.status_code == 200 and "Thank you" in twice.get_data(as_text=True)
    assert count() == 1
    again = c.get("/measures?instrument=psfs").get_data(as_text=True)
    assert "Lifting my child" in again  # the same activities, to re-rate
    assert 'name="l-4"' not in again


def answer_psfs(client, values, labels=("Lifting", "Gardening", "Sitting")) -> None:  # type: ignore[no-untyped-def]
    """Answer the PSFS on its page: one rating per named activity."""
    html = client.get("/measures?instrument=psfs").get_data(as_text=True)
    data = {"id": form_id(html), "instrument": "psfs"}
    for n, (value, label) in enumerate(zip(values, labels, strict=True), 1):
        data |= {f"l-{n}": label, f"a-{n}": value}
    assert client.post("/measures", data=data).status_code == 200


def test_progress_shows_the_patients_own_psfs_trend(login, make_patient, app):
    bundle = make_patient()
    c = login(bundle.user)
    for values in (("3", "3", "3"), ("5", "6", "5")):
        answer_psfs(c, values)

    page = c.get("/progress")

    assert_strict_html(page)
    html = page.get_data(as_text=True)
    assert "Your everyday activities" in html
    assert "Latest score 5.3 out of 10" in html and "+2.3 since your first" in html


def test_today_lists_the_due_questionnaires_with_links(login, make_patient):
    bundle = make_patient()
    client = login(bundle.user)

    html = client.get("/today").get_data(as_text=True)

    assert "Short questionnaires" in html
    assert "/measures?instrument=psfs" in html and "/measures?instrument=start-back" in html


def _submit(bundle, slug, answers):  # type: ignore[no-untyped-def]
    import uuid
    from datetime import timedelta

    from app.db import utcnow
    from app.measures.services import MeasureReport, submit_measure

    now = utcnow()
    submit_measure(
        bundle.patient,
        MeasureReport(str(uuid.uuid4()), slug, now - timedelta(minutes=5), answers),
        by=bundle.user,
        now=now,
    )
    db.session.commit()


def test_the_therapist_sees_scores_change_and_the_start_back_advice(
    app, login, make_patient, make_user
):
    from app.enums import Role

    bundle = make_patient(start_days_ago=2)
    labels = ("Lifting", "Gardening", "Sitting")
    for values in ((3, 3, 3), (5, 5, 6)):
        _submit(
            bundle,
            "psfs",
            [{"item": str(n), "value": v, "label": labels[n - 1]} for n, v in enumerate(values, 1)],
        )
    _submit(
        bundle,
        "start-back",
        [{"item": str(n), "value": "agree"} for n in range(1, 9)]
        + [{"item": "9", "value": "very much"}],
    )
    c = login(bundle.therapist, test_client=app.test_client())
    path = f"/measures/patients/{bundle.patient.id}"

    page = c.get(path)

    assert_strict_html(page)
    html = page.get_data(as_text=True)
    assert "+2.3 — meets the minimal important change (2)" in html
    assert "consider combined physical and psychological care (NICE NG59)" in html
    assert "<polyline" in html
    assert "Patient-Specific Functional Scale (" not in html  # done this week
    # The patient's record shows the same panel beside the pain, and links to this page.
    record = c.get(f"/caseload/patients/{bundle.patient.id}").get_data(as_text=True)
    assert "+2.3 — meets the minimal important change (2)" in record
    assert "consider combined physical and psychological care (NICE NG59)" in record
    assert f'href="{path}"' in record
    asked = c.post(f"{path}/request", data={"instrument": "psfs"})
    assert asked.status_code == 302
    assert "Patient-Specific Functional Scale (requested by your therapist)" in c.get(
        path
    ).get_data(as_text=True)
    for outsider in (
        make_user(Role.THERAPIST),  # another clinic
        make_user(Role.THERAPIST, clinic=bundle.therapist.clinic),  # a colleague, not assigned
    ):
        other = login(outsider, test_client=app.test_client())
        assert other.get(path).status_code == 404
        assert other.post(f"{path}/request", data={"instrument": "nprs"}).status_code == 404


def test_the_caseload_row_shows_the_latest_psfs_and_its_change(app, login, make_patient):
    bundle = make_patient(start_days_ago=2, name="Ada Active")
    quiet = make_patient(therapist=bundle.therapist, name="Bob Blank")
    client = login(bundle.therapist, test_client=app.test_client())
    labels = ("Lifting", "Gardening", "Sitting")

    def psfs(values: tuple[int, ...]) -> None:
        answers = [
            {"item": str(n), "value": v, "label": labels[n - 1]} for n, v in enumerate(values, 1)
        ]
        _submit(bundle, "psfs", answers)

    psfs((3, 3, 3))
    rows = {r["name"]: r for r in client.get("/api/v1/caseload").get_json()["patients"]}
    first = rows["Ada Active"]["psfs"]
    assert (first["latest"], first["change"], first["mic_met"]) == (3.0, None, None)
    assert rows["Bob Blank"]["psfs"] is None and quiet.patient.name == "Bob Blank"

    psfs((5, 5, 6))
    rows = {r["name"]: r for r in client.get("/api/v1/caseload").get_json()["patients"]}
    latest = rows["Ada Active"]["psfs"]
    assert latest["instrument"] == "psfs"
    assert (round(latest["latest"], 4), round(latest["change"], 4)) == (5.3333, 2.3333)
    assert latest["mic_met"] is True
    page = client.get("/caseload/").get_data(as_text=True)
    assert re.search(r"PSFS 5\.3 \(\+2\.3\) <span class=\"tag tag-better\">meaningful</span>", page)
