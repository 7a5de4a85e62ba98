"""Roles allowed on the export endpoints (merged by test_security.py)."""

CLINICIANS = {"admin", "therapist"}

ACCESS = {
    "api.api_patient_fhir": CLINICIANS,
    "api.api_sessions_csv": CLINICIANS,
    "api.api_caseload_csv": CLINICIANS,
    "api.api_my_export": {"patient"},
}
