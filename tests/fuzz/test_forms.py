"""Generated posts of every HTML form, as each role: zero 5xx, and nothing stored on a refusal.

The forms are read from the pages themselves (action, method, field names), so a new form is
fuzzed without a change here. Values come from hypothesis: text with control characters and
odd Unicode, very long text, huge and negative numbers, instants near year 1 and 9999, and the
fields' own valid values. A fixed example budget keeps CI time predictable (DESIGN §6).
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.enums import AlertKind, Role
from app.extensions import db

EXAMPLES = 20  # per form and role
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

ODD_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=31), min_size=1, max_size=5),
    st.sampled_from(["\x00", "a\x00b", "\r\n", "😀" * 3, "<script>", "' OR 1=1 --", "x" * 5000]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(
        ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-13-45", "1e309", "NaN"]
    ),
)


class Forms(HTMLParser):
    """Collect each form's action, method, fields and their offered values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append(
                {
                    "action": a.get("action") or "",
                    "method": (a.get("method") or "get").lower(),
                    "fields": {},
                }
            )
        elif self.forms and tag in ("input", "textarea", "select", "option") and a.get("name"):
            values = self.forms[-1]["fields"].setdefault(a["name"], [])
            if a.get("value") is not None:
                values.append(a["value"])
        elif self.forms and tag == "option" and a.get("value") is not None:
            fields = self.forms[-1]["fields"]
            if fields:
                fields[list(fields)[-1]].append(a["value"])


def forms_on(client, path: str) -> list[dict]:  # type: ignore[no-untyped-def]
    page = client.get(path)
    assert page.status_code == 200, path
    parser = Forms()
    parser.feed(page.get_data(as_text=True))
    return [
        dict(form, action=form["action"] or path)
        for form in parser.forms
        if form["method"] == "post" and not form["action"].endswith("/auth/logout")
    ]


# A refusal is itself recorded in the audit log (issue 14); nothing else may change.
UNCOMPARED_TABLES = {"audit_events"}


def row_counts() -> dict[str, int]:
    counts = {}
    for table in db.metadata.sorted_tables:
        if table.name in UNCOMPARED_TABLES:
            continue
        counts[table.name] = db.session.scalar(sa.select(sa.func.count()).select_from(table))
    return counts


@pytest.fixture
def world(make_patient, make_user, make_alert):  # type: ignore[no-untyped-def]
    bundle = make_patient(start_days_ago=10)
    admin = make_user(Role.ADMIN, clinic=bundle.patient.clinic)
    alert = make_alert(bundle, AlertKind.PERSISTENT_PAIN)
    pages = {
        Role.THERAPIST: [
            "/caseload/patients/new",
            f"/caseload/patients/{bundle.patient.id}",
            f"/caseload/patients/{bundle.patient.id}/invitation",
            f"/programs/{bundle.program.id}",
            f"/programs/assign/{bundle.patient.id}",
            "/programs/exercises/new",
            f"/alerts/{alert.id}",
        ],
        Role.ADMIN: ["/admin/policy", "/admin/therapists/new"],
        Role.PATIENT: [f"/session/{bundle.program.id}", "/checkin", "/checkin/symptom"],
    }
    users = {Role.THERAPIST: bundle.therapist, Role.ADMIN: admin, Role.PATIENT: bundle.user}
    return pages, users


@pytest.mark.parametrize("role", [Role.THERAPIST, Role.ADMIN, Role.PATIENT], ids=str)
def test_no_generated_form_post_answers_5xx_or_stores_anything_when_refused(
    app, login, world, role
):
    pages, users = world
    client = login(users[role], test_client=app.test_client())
    forms = [form for path in pages[role] for form in forms_on(client, path)]
    assert len(forms) >= 2

    for form in forms:
        fuzz_form(client, form["action"], form["fields"])


def fuzz_form(client, action: str, fields: dict[str, list[str]]) -> None:  # type: ignore[no-untyped-def]
    """Post generated values for the form's fields; no 5xx, nothing stored on a refusal."""
    data = st.fixed_dictionaries(
        {
            name: st.one_of(st.sampled_from(values), ODD_TEXT) if values else ODD_TEXT
            for name, values in fields.items()
            if name != "csrf_token"
        }
    )

    @FUZZ
    @given(data=data)
    def post(data):  # type: ignore[no-untyped-def]
        before = row_counts()
        response = client.post(action, data=data)
        assert response.status_code < 500, (action, data, response.status_code)
        if response.status_code >= 400:
            assert row_counts() == before, (action, data)

    post()


def test_the_login_and_invitation_forms_never_answer_5xx(app, make_patient):
    bundle = make_patient(password=None)
    token = bundle.invitation_token

    @FUZZ
    @given(email=ODD_TEXT, password=ODD_TEXT, next_=ODD_TEXT)
    def post(email, password, next_):  # type: ignore[no-untyped-def]
        client = app.test_client()
        login = client.post(
            "/auth/login", data={"email": email, "password": password, "next": next_}
        )
        invite = client.post(f"/auth/invite/{token}", data={"email": email, "password": password})
        assert login.status_code < 500 and invite.status_code < 500

    post()
