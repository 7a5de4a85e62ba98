"""Roles allowed on the reminders and messages routes (merged by test_security.py)."""

PATIENT = {"patient"}
CLINICIANS = {"admin", "therapist"}
# The unsubscribe link of every email works without a login (RFC 8058); it needs a signed
# token and shows nothing about the patient but the clinic's name.
PUBLIC = {"public"}

ACCESS: dict[str, set[str]] = {
    "reminders.settings": PATIENT,
    "reminders.unsubscribe": PUBLIC,
    "messages.thread": PATIENT,
    "messages.patient_thread": CLINICIANS,
    "api.get_reminders": PATIENT,
    "api.put_reminders": PATIENT,
    "api.push_key": PATIENT,
    "api.post_push_subscription": PATIENT,
    "api.delete_push_subscription": PATIENT,
    "api.get_my_messages": PATIENT,
    "api.post_my_message": PATIENT,
    "api.get_patient_messages": CLINICIANS,
    "api.post_patient_message": CLINICIANS,
}
