"""Outcome measures leave with the patient's record: FHIR QuestionnaireResponses (CLINICAL §9)."""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import timedelta

from fhir.resources.R4B.bundle import Bundle

from app.db import utcnow
from app.export import unresolved_references
from app.extensions import db
from app.measures.services import MeasureReport, submit_measure
from tests.integration.test_export import resources
from tests.integration.test_fhir_validator import SCRIPT, node_or_skip


def measured(make_patient):
    bundle = make_patient(start_days_ago=3)
    now = utcnow()
    for slug, answers in (
        (
            "psfs",
            [
                {"item": "1", "value": 3, "label": "Lifting my child"},
                {"item": "2", "value": 4, "label": "Gardening"},
                {"item": "3", "value": 5, "label": "=cmd|' /C calc'!A0"},
            ],
        ),
        (
            "start-back",
            [{"item": str(n), "value": "agree" if n < 6 else "disagree"} for n in range(1, 9)]
            + [{"item": "9", "value": "extremely"}],
        ),
        ("nprs", [{"item": "1", "value": 6}]),
    ):
        submit_measure(
            bundle.patient,
            MeasureReport(str(uuid.uuid4()), slug, now - timedelta(hours=2), answers),
            by=bundle.user,
            now=now,
        )
    db.session.commit()
    return bundle


def test_measures_are_exported_as_questionnaire_responses_with_their_scores(
    app, login, make_patient, tmp_path
):
    bundle = measured(make_patient)
    c = login(bundle.therapist, test_client=app.test_client())

    data = c.get(f"/api/v1/patients/{bundle.patient.id}/fhir").get_json(force=True)

    Bundle.model_validate(data)
    assert unresolved_references(data) == []
    answered = resources(data, "QuestionnaireResponse")
    slugs = {q["url"].rsplit("/", 1)[-1] for q in resources(data, "Questionnaire")}
    assert {"psfs", "start-back", "nprs"} <= slugs
    assert len(answered) == 3  # one per measure (no red-flag screen was answered)
    texts = json.dumps(answered)
    assert "Lifting my child" in texts
    node = node_or_skip()
    path = tmp_path / "export.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = subprocess.run(
        [node, str(SCRIPT), str(path)], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
