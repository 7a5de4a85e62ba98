"""Roles allowed on the therapist-side endpoints (merged by test_security.py)."""

CLINICIANS = {"admin", "therapist"}

ACCESS = {
    "programs.library": CLINICIANS,
    "programs.exercise": CLINICIANS,
    "programs.new_exercise": CLINICIANS,
    "programs.edit_exercise": CLINICIANS,
    "programs.archive_exercise": CLINICIANS,
    "programs.assign": CLINICIANS,
    "programs.builder": CLINICIANS,
    "programs.item_dosage": CLINICIANS,
    "programs.item_add": CLINICIANS,
    "programs.item_remove": CLINICIANS,
    "programs.item_move": CLINICIANS,
    "programs.stage": CLINICIANS,
    "programs.schedule": CLINICIANS,
    "programs.pause": CLINICIANS,
    "programs.resume": CLINICIANS,
    "programs.discharge": CLINICIANS,
    "programs.handout": CLINICIANS,
    "caseload.invite": CLINICIANS,
    "caseload.invitation": CLINICIANS,
    "caseload.reissue_invitation": CLINICIANS,
    "caseload.revoke_invitation": CLINICIANS,
    "caseload.patient_detail": CLINICIANS,
    "admin.invite_therapist": {"admin"},
    "admin.therapist_invitation": {"admin"},
    "admin.reissue_therapist_invitation": {"admin"},
    "admin.policy": {"admin"},
}

ACCESS.update(
    {
        "api.api_caseload": CLINICIANS,
        "api.api_exercises": CLINICIANS,
        "api.api_create_patient": CLINICIANS,
        "api.api_assign_program": CLINICIANS,
        "api.api_update_item": CLINICIANS,
        "api.api_change_stage": CLINICIANS,
        "api.api_resume": CLINICIANS,
    }
)

ACCESS.update(
    {
        "alerts.inbox": CLINICIANS,
        "alerts.detail": CLINICIANS,
        "alerts.acknowledge": CLINICIANS,
        "alerts.snooze": CLINICIANS,
        "alerts.resolve": CLINICIANS,
        "alerts.referral": CLINICIANS,
    }
)

ACCESS.update(
    {
        "api.api_alerts": CLINICIANS,
        "api.api_acknowledge": CLINICIANS,
        "api.api_snooze": CLINICIANS,
        "api.api_resolve": CLINICIANS,
    }
)

ACCESS.update(
    {
        "api.api_clinic_policy": CLINICIANS,
        "api.api_update_clinic_policy": {"admin"},
    }
)

ACCESS.update(
    {
        "admin.settings": {"admin"},
        "api.api_clinic_settings": {"admin"},
        "api.api_update_clinic_settings": {"admin"},
    }
)
