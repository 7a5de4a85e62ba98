"""One assessment behind every number: load bounded timelines and clinic policies, assess.

The caseload read model, the patient record, ``/progress``, ``/today``, the player's eased
session, ``red_flags_due`` and the alert engine all take their baseline, current pain, change and
adherence from here, computed once per patient view by the pure ``app.clinical.assessment``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.assessment.timeline import load_timelines
from app.auth.models import Clinic
from app.clinical.assessment import Assessment, assess
from app.clinical.policy import Policy
from app.extensions import db
from app.patient.models import Patient


def policy_for(clinic: Clinic) -> Policy:
    """Return the clinic's thresholds: CLINICAL defaults with the clinic's own changes."""
    return Policy.from_saved(clinic.policy_overrides)


@dataclass(frozen=True)
class ClinicPolicy:
    clinic_id: int
    policy: Policy


def policies_for(patient_ids: Iterable[int]) -> dict[int, ClinicPolicy]:
    """Return each patient's clinic and its policy, in one query."""
    ids = list(dict.fromkeys(patient_ids))
    if not ids:
        return {}
    built: dict[int, Policy] = {}
    result = {}
    for patient_id, clinic_id, overrides in db.session.execute(
        sa.select(Patient.id, Clinic.id, Clinic.policy_overrides)
        .join(Clinic, Clinic.id == Patient.clinic_id)
        .where(Patient.id.in_(ids))
    ):
        if clinic_id not in built:
            built[clinic_id] = Policy.from_saved(overrides)
        result[patient_id] = ClinicPolicy(clinic_id, built[clinic_id])
    return result


def assess_patients(patient_ids: Iterable[int], now: datetime) -> dict[int, Assessment]:
    """Assess these patients as of ``now`` in a fixed number of queries per batch."""
    ids = list(dict.fromkeys(patient_ids))
    policies = policies_for(ids)
    timelines = load_timelines(ids, now, {pid: cp.policy for pid, cp in policies.items()})
    return {
        patient_id: assess(timeline, policies[patient_id].policy, now)
        for patient_id, timeline in timelines.items()
    }


def assess_patient(patient: Patient, now: datetime) -> Assessment:
    """Assess one patient as of ``now``."""
    return assess_patients([patient.id], now)[patient.id]
