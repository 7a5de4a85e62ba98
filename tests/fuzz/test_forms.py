"""Generated posts of every HTML form, as each role: zero 5xx, and nothing stored on a refusal.

The forms are read from the pages themselves (action, method, field names), so a new form is
fuzzed without a change here. Values come from hypothesis: text with control characters and
odd Unicode, very long text, huge and negative numbers, instants near year 1 and 9999, missing
fields, several values for one field, and the fields' own valid values. A fixed example budget
keeps CI time predictable (DESIGN §6).

The list is complete by construction (issue 9): every POST rule of app.url_map outside the JSON
API must be the action of a form on one of the pages the actors below open, or be in EXCLUDED
with a reason; test_every_post_endpoint_is_fuzzed_or_excluded fails otherwise.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pyotp
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.auth import services as accounts
from app.auth.models import PasswordReset, User
from app.auth.sessions import token_digest
from app.auth.two_factor import new_secret, replace_recovery_codes, seal_secret
from app.db import utcnow
from app.enums import AlertKind, Role
from app.extensions import db
from app.programs.library import ExerciseData, create_exercise
from app.programs.services import pause_program
from app.reminders.services import unsubscribe_token

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

# POST endpoints outside the API that are deliberately not fuzzed, each with its reason.
EXCLUDED = {
    "auth.logout": "ends the client's login, so every later post would only test the login "
    "redirect; its one field is the CSRF token (off in tests) and tests/integration covers it",
}

# Endpoints whose refusal must store a row by design; the rest of the tables must not change.
REFUSAL_MAY_STORE = {
    # A wrong password or code is counted per account and address for the back-off (DESIGN §6).
    "auth.login": {"login_failures"},
    "auth.two_factor_step": {"login_failures"},
}

# Posts that end or reshape what other forms act on run after those forms (same client, same
# data): moving or removing an item, a new stage or program (new items), pausing, discharging,
# archiving, revoking, requiring a second factor.
RUN_LAST = (
    "programs.item_move",
    "programs.item_remove",
    "programs.stage",
    "programs.assign",
    "programs.pause",
    "programs.resume",
    "programs.discharge",
    "programs.archive_exercise",
    "caseload.revoke_invitation",
    "admin.reset_two_factor",
    "admin.settings",
)

# A page that re-renders a refused form shows one of these (templates/macros/forms.html, the
# per-page `<p class="error">`s, and flash(..., "error") in base.html).
ERROR_MARKERS = ('class="error"', 'aria-invalid="true"', "flash-error")


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
    assert page.status_code == 200, (path, page.status_code, page.headers.get("Location"))
    parser = Forms()
    parser.feed(page.get_data(as_text=True))
    return [
        dict(form, action=form["action"] or path)
        for form in parser.forms
        if form["method"] == "post"
    ]


def post_endpoints(app) -> set[str]:  # type: ignore[no-untyped-def]
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and not rule.endpoint.startswith("api.")
    }


def endpoint_of(app, action: str) -> str:  # type: ignore[no-untyped-def]
    return app.url_map.bind("localhost").match(urlsplit(action).path, method="POST")[0]


# A refusal is itself recorded in the audit log (issue 14); nothing else may change.
UNCOMPARED_TABLES = {"audit_events"}


def row_counts() -> dict[str, int]:
    """Every table's row count (but the audit log's), in one statement."""
    tables = [t for t in db.metadata.sorted_tables if t.name not in UNCOMPARED_TABLES]
    counts = db.session.execute(
        sa.select(
            *(
                sa.select(sa.func.count()).select_from(t).scalar_subquery().label(t.name)
                for t in tables
            )
        )
    ).one()
    return dict(counts._mapping)


# ---------------------------------------------------------------------------- who posts what


@dataclass
class Actor:
    """A role with a logged-in client, the pages whose forms it posts, and a per-post setup."""

    client: Callable[[], object]
    pages: list[str]
    before_each: Callable[[object], None] | None = None


def turn_on_second_factor(user: User) -> str:
    secret = new_secret()
    user.totp_secret = seal_secret(secret)
    user.totp_enabled_at = utcnow()
    replace_recovery_codes(user, utcnow())
    db.session.commit()
    return secret


@pytest.fixture
def world(app, login, make_patient, make_user, make_alert) -> dict[str, Actor]:  # type: ignore[no-untyped-def]
    now = utcnow()
    bundle = make_patient(start_days_ago=10)
    therapist, clinic, patient = bundle.therapist, bundle.patient.clinic, bundle.patient
    admin = make_user(Role.ADMIN, clinic=clinic)
    alert = make_alert(bundle, AlertKind.PERSISTENT_PAIN)
    # A second patient whose program is paused (the resume form), one still invited.
    paused = make_patient(therapist=therapist)
    pause_program(paused.program, by=therapist, now=now, reason="Fuzz")
    invited = make_patient(therapist=therapist, password=None, stage=None)
    exercise = create_exercise(
        clinic.id,
        ExerciseData(
            name="Fuzz bridge",
            target="Glutes",
            steps=("Lie on your back.", "Lift your hips."),
            dosage={"sets": 2, "reps": 10, "rest_seconds": 30},
        ),
        by=therapist,
        now=now,
    )
    # Clinicians of the admin's clinic: one still invited, two with a second factor.
    invited_therapist = accounts.invite_therapist(
        clinic, name="Invited Therapist", email="invited@example.org", by=admin, now=now
    ).user
    enrolled, stepping = make_user(clinic=clinic), make_user(clinic=clinic)
    enrolled_secret = turn_on_second_factor(enrolled)
    turn_on_second_factor(stepping)
    reset_token = secrets.token_urlsafe(32)
    db.session.add(
        PasswordReset(
            user_id=bundle.user.id,
            token_hash=token_digest(reset_token),
            created_at=now,
            expires_at=now + timedelta(hours=1),
        )
    )
    db.session.commit()

    def logged_in(user: User) -> Callable[[], object]:
        return lambda: login(user, test_client=app.test_client())

    def with_second_factor():  # type: ignore[no-untyped-def]
        client = login(enrolled, test_client=app.test_client())
        done = client.post("/auth/2fa", data={"code": pyotp.TOTP(enrolled_secret).now()})
        assert done.status_code == 302, done.get_data(as_text=True)[:300]
        return client

    def keep_second_step_pending(client) -> None:  # type: ignore[no-untyped-def]
        # Too many wrong codes end the pending login; the next post starts a new one.
        with client.session_transaction() as session:
            pending = "pending_login" in session
        if not pending:
            login(stepping, test_client=client)

    p, program = patient.id, bundle.program.id
    return {
        "therapist": Actor(
            logged_in(therapist),
            [
                "/caseload/patients/new",
                f"/caseload/patients/{p}",
                f"/caseload/patients/{p}/messages",
                f"/caseload/patients/{invited.patient.id}/invitation",
                f"/programs/{program}",
                f"/programs/{paused.program.id}",
                f"/programs/assign/{p}",
                "/programs/exercises/new",
                f"/programs/exercises/{exercise.id}",
                f"/programs/exercises/{exercise.id}/edit",
                f"/alerts/{alert.id}",
                "/auth/password",
                "/auth/2fa/setup",
            ],
        ),
        "admin": Actor(
            logged_in(admin),
            [
                "/admin/",
                "/admin/policy",
                "/admin/settings",
                "/admin/therapists/new",
                f"/admin/therapists/{invited_therapist.id}/invitation",
                "/auth/password",
            ],
        ),
        "patient": Actor(
            logged_in(bundle.user),
            [
                f"/session/{program}",
                "/checkin",
                "/checkin/symptom",
                "/messages",
                "/reminders",
                "/measures?instrument=nprs",
                "/account",
                "/auth/password",
            ],
        ),
        "anonymous": Actor(
            app.test_client,
            [
                "/auth/login",
                "/auth/reset",
                f"/auth/reset/{reset_token}",
                f"/auth/invite/{invited.invitation_token}",
                f"/reminders/unsubscribe/{unsubscribe_token(p)}",
            ],
        ),
        "second step": Actor(
            logged_in(stepping), ["/auth/2fa"], before_each=keep_second_step_pending
        ),
        "second factor on": Actor(with_second_factor, ["/auth/2fa/reset"]),
    }


def forms_of(app, actor: Actor):  # type: ignore[no-untyped-def]
    """Log the actor in and return its client and one form per endpoint, in running order."""
    client = actor.client()
    found: dict[str, dict] = {}
    for path in actor.pages:
        for form in forms_on(client, path):
            endpoint = endpoint_of(app, form["action"])
            if endpoint not in EXCLUDED:
                found.setdefault(endpoint, dict(form, endpoint=endpoint))
    order = sorted(found, key=lambda e: RUN_LAST.index(e) if e in RUN_LAST else -1)
    return client, [found[endpoint] for endpoint in order]


# ---------------------------------------------------------------------------- the tests


def test_every_post_endpoint_is_fuzzed_or_excluded(app, world):  # type: ignore[no-untyped-def]
    endpoints = post_endpoints(app)
    assert set(EXCLUDED) <= endpoints, "EXCLUDED names an endpoint that no longer exists"
    fuzzed: set[str] = set()
    for name, actor in world.items():
        _, forms = forms_of(app, actor)
        assert forms, f"{name} has no form to post"
        fuzzed |= {form["endpoint"] for form in forms}
    missing = endpoints - fuzzed - set(EXCLUDED)
    assert not missing, f"POST endpoints neither fuzzed nor excluded: {sorted(missing)}"


@pytest.fixture
def fast_refusals(app, monkeypatch):  # type: ignore[no-untyped-def]
    """No padding of the reset answer and no back-off or lockout: the budget is time-bound."""
    monkeypatch.setitem(app.config, "RESET_ANSWER_SECONDS", 0)
    monkeypatch.setitem(app.config, "LOGIN_SLOWDOWN_AFTER", 10**6)
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES", 10**6)


ACTORS = ["therapist", "admin", "patient", "anonymous", "second step", "second factor on"]


@pytest.mark.parametrize("actor", ACTORS)
def test_no_generated_form_post_answers_5xx_or_stores_anything_when_refused(
    app, world, fast_refusals, actor
):
    assert set(world) == set(ACTORS)
    client, forms = forms_of(app, world[actor])
    for form in forms:
        fuzz_form(client, form, world[actor].before_each)


def refused(client, response) -> bool:  # type: ignore[no-untyped-def]
    """A status of 400 or more, a re-rendered form with an error, or a redirect flashing one."""
    with client.session_transaction() as session:
        flashes = session.pop("_flashes", [])
    if response.status_code >= 400:
        return True
    if 300 <= response.status_code < 400:
        return any(category == "error" for category, _ in flashes)
    body = response.get_data(as_text=True)
    return any(marker in body for marker in ERROR_MARKERS)


def values_for(options: list[str]) -> st.SearchStrategy:
    if not options:
        return ODD_TEXT
    return st.one_of(
        st.sampled_from(options), st.lists(st.sampled_from(options), max_size=3), ODD_TEXT
    )


def fuzz_form(client, form: dict, before_each=None) -> None:  # type: ignore[no-untyped-def]
    """Post generated values for the form's fields; no 5xx, nothing stored on a refusal."""
    action, endpoint = form["action"], form["endpoint"]
    fields = {
        name: values_for(options)
        for name, options in form["fields"].items()
        if name != "csrf_token"
    }
    data = st.one_of(st.fixed_dictionaries(fields), st.fixed_dictionaries({}, optional=fields))
    may_store = REFUSAL_MAY_STORE.get(endpoint, set())

    @FUZZ
    @given(data=data)
    def post(data):  # type: ignore[no-untyped-def]
        if before_each is not None:
            before_each(client)
        before = row_counts()
        response = client.post(action, data=data)
        assert response.status_code < 500, (endpoint, action, data, response.status_code)
        if refused(client, response):
            after = row_counts()
            changed = {
                table: (before[table], after[table])
                for table in before
                if before[table] != after[table] and table not in may_store
            }
            assert not changed, (endpoint, action, data, response.status_code, changed)

    post()
