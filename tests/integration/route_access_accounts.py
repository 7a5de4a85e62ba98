"""Roles allowed on the account endpoints of issue 14 (merged by test_security.py)."""

CLINICIANS = {"admin", "therapist"}
EVERYONE = {"admin", "therapist", "patient"}

ACCESS = {
    # Reached before the login is complete (the password step, a reset link).
    "auth.two_factor_step": {"public"},
    "auth.reset_request": {"public"},
    "auth.reset_password": {"public"},
    "auth.two_factor_setup": CLINICIANS,
    "auth.two_factor_reset": CLINICIANS,
    "auth.change_password": EVERYONE,
    "admin.audit_log": {"admin"},
    "admin.audit_csv_export": {"admin"},
    "admin.reset_two_factor": {"admin"},
}
