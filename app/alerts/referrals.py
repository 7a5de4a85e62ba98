"""The referral summary: what a receiving clinician needs, generated from the record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.patient.models import Patient

# CLINICAL §5, shown to clinicians as reference text; the choice belongs to the clinicians.
REFERRAL_CRITERIA = (
    "No routine imaging; imaging only if the result would change management, e.g. the patient "
    "is a candidate for surgery or injection (ACP/APS 2007; NICE NG59).",
    "Radiofrequency denervation only after failed non-surgical care, pain thought to come from "
    "the facet joints, moderate or severe localised pain (≥ 5/10) and a positive diagnostic "
    "medial branch block (NICE NG59).",
    "Epidural injection for acute severe sciatica (NG59).",
    "Decompression for sciatica when non-surgical care has not helped and imaging is "
    "concordant (NG59).",
    "Spinal cord stimulation for neuropathic pain ≥ 50/100 for ≥ 6 months despite conventional "
    "care, after a successful trial (NICE TA159).",
    "Combined physical and psychological care when psychosocial obstacles are present (NG59).",
    "NG59 advises against spinal injections for low back pain without sciatica, and the UK "
    "Evidence-Based Interventions programme against trigger-point injections; US "
    "interventional pain practice still offers them.",
    "The usual interventional pain-medicine path: conservative care → imaging and "
    "pain-specialist referral when pain persists → targeted interventions (trigger point "
    "injections, epidural steroid injections, radiofrequency ablation, spinal cord "
    "stimulation) → surgery when nerves may be permanently damaged.",
)


def _iso(day: Any) -> str | None:
    return None if day is None else day.isoformat()


def _number(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


def referral_summary(patient: Patient, now: datetime) -> dict[str, Any]:
    """Program and stage history, adherence, pain, alerts and red-flag answers as plain data."""
    from app.caseload.record import patient_record

    d = patient_record(patient, now)
    a = d.assessment
    adherence = a.adherence
    return {
        "generated_at": now.isoformat(),
        "patient": {"name": patient.name, "timezone": patient.timezone, "goals": patient.goals},
        "episode_start": _iso(a.timeline.episode_start),
        "program": {
            "stage": d.program.stage,
            "status": d.program.status.value,
            "weekdays": list(d.program.weekdays),
            "items": [
                {"exercise": item.exercise.name, "dosage": item.dosage()}
                for item in d.program.items
            ],
        }
        if d.program
        else None,
        "stage_history": [
            {
                "date": c.created_at.isoformat(),
                "from": c.from_stage,
                "to": c.to_stage,
                "direction": c.direction.value,
                "reason": c.reason,
            }
            for c in reversed(d.stage_changes)
        ],
        "pain": {
            "intake": patient.intake_pain,
            "baseline": _number(a.baseline),
            "current": _number(a.current),
            "status": a.status.value,
            "summary": d.summary,
            "readings": [
                {"date": day.isoformat(), "kind": kind, "value": value}
                for day, kind, value in d.chart_rows
            ],
        },
        "adherence_14d": {
            "ratio": _number(adherence.ratio) if adherence else None,
            "completed": adherence.completed if adherence else 0,
            "scheduled": adherence.scheduled if adherence else 0,
        },
        "alerts": [
            {
                "kind": a.kind.value,
                "severity": a.severity.value,
                "status": a.status.value,
                "created_at": a.created_at.isoformat(),
                "reason": a.reason,
            }
            for a in d.alerts
        ],
        "red_flags": [
            {
                "date": c.recorded_at.isoformat(),
                "level": c.red_flag_level.value,
                "yes": [r.question for r in c.red_flags if r.answer],
                "asked": [r.question for r in c.red_flags],
            }
            for c in d.check_ins
            if c.red_flags
        ],
        "criteria": list(REFERRAL_CRITERIA),
    }
