"""Roles allowed on the patient side's routes (merged into test_security.ACCESS)."""

PATIENT = {"patient"}
PUBLIC = {"public"}

ACCESS: dict[str, set[str]] = {
    "patient.today": PATIENT,
    "patient.player": PATIENT,
    "patient.summary": PATIENT,
    "patient.checkin": PATIENT,
    "patient.checkin_result": PATIENT,
    "patient.symptom": PATIENT,
    "patient.progress": PATIENT,
    "patient.account": PATIENT,
    # The offline app: no personal data, cached by the service worker for anyone.
    "patient.offline": PUBLIC,
    "patient.offline_session": PUBLIC,
    "patient.service_worker": PUBLIC,
    "patient.manifest": PUBLIC,
    "api.me_today": PATIENT,
    "api.get_me": PATIENT,
    "api.patch_me": PATIENT,
    "api.post_session": PATIENT,
    "api.post_check_in": PATIENT,
    "api.csrf_token": PATIENT,
}
