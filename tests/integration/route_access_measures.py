"""Roles allowed on the outcome-measure routes (merged by test_security.py)."""

PATIENT = {"patient"}
CLINICIANS = {"admin", "therapist"}

ACCESS: dict[str, set[str]] = {
    "measures.answer": PATIENT,
    "measures.outcomes": {"admin"},
    "measures.outcomes_csv": {"admin"},
    "api.api_instruments": {"admin", "therapist", "patient"},
    "api.api_my_measures": PATIENT,
    "api.api_post_measure": PATIENT,
    "api.api_patient_measures": CLINICIANS,
    "api.api_enter_measure": CLINICIANS,
    "api.api_request_measure": CLINICIANS,
}


def psfs_body() -> dict:
    """A valid PSFS response with a fresh client UUID (for the object-level access cases)."""
    import uuid

    from app.db import utcnow

    return {
        "id": str(uuid.uuid4()),
        "instrument": "psfs",
        "completed_at": utcnow().isoformat(),
        "answers": [
            {"item": "1", "value": 3, "label": "Lifting my child"},
            {"item": "2", "value": 4, "label": "Gardening"},
            {"item": "3", "value": 2, "label": "Sitting through a film"},
        ],
    }


ACCESS.update(
    {
        "measures.patient_page": CLINICIANS,
        "measures.request_page": CLINICIANS,
    }
)
