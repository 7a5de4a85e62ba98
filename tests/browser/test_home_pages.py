"""The first pages each role lands on, in a real browser."""

from tests.browser.conftest import assert_no_axe_violations, log_in
from tests.conftest import PASSWORD


def test_patient_logs_in_on_a_phone_and_sees_todays_session(phone, make_patient):
    bundle = make_patient(name="Rosa Phone")

    log_in(phone, bundle.user.email, PASSWORD)

    phone.wait_for_url("**/today")
    assert phone.get_by_role("heading", name="Today", exact=True).is_visible()
    assert phone.get_by_text("Diaphragmatic breathing").is_visible()
    assert phone.get_by_text("Stage 1").is_visible()
    # Usable at phone width: nothing wider than the screen.
    overflow = phone.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not overflow
    assert_no_axe_violations(phone)


def test_therapist_logs_in_on_desktop_and_sees_their_patients(desktop, make_patient, make_user):
    therapist = make_user(name="Theo Desk")
    make_patient(therapist=therapist, name="Quinn Adams")
    make_patient(therapist=therapist, name="Bea Brown")
    make_patient(name="Someone Else")  # another therapist's patient

    log_in(desktop, therapist.email, PASSWORD)

    desktop.wait_for_url("**/caseload/")
    table = desktop.get_by_role("table")
    assert table.get_by_text("Quinn Adams").is_visible()
    assert table.get_by_text("Bea Brown").is_visible()
    assert table.get_by_text("Someone Else").count() == 0
    assert desktop.get_by_text("not a diagnosis").is_visible()
    assert_no_axe_violations(desktop)


def test_login_page_has_no_accessibility_violations_on_a_phone(phone):
    phone.goto("/auth/login")
    assert_no_axe_violations(phone)
