"""The pure NON_RESPONSE_6W rule reads the function change (CLINICAL §5, §8)."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import pytest

from app.clinical.timeline import FunctionFact
from app.enums import AlertKind, Severity
from tests.unit.test_alert_rules import START, day, progressing, run, steady


def psfs(first: str, latest: str) -> FunctionFact:
    gain = Fraction(latest) - Fraction(first)
    return FunctionFact(
        "psfs",
        Fraction(first),
        Fraction(latest),
        START,
        START + timedelta(days=41),
        2,
        Fraction(2),
        gain >= 2,
    )


@pytest.mark.parametrize(
    ("function", "severity"),
    [
        (None, Severity.HIGH),
        (psfs("3", "4"), Severity.HIGH),
        (psfs("3", "23/5"), Severity.HIGH),  # +1.6
        (psfs("3", "5"), Severity.MEDIUM),  # +2: the minimal important change
        (psfs("2", "7"), Severity.MEDIUM),
    ],
)
def test_the_same_45_day_flat_pain_is_high_without_and_medium_with_a_psfs_gain_of_two(
    function: FunctionFact | None, severity: Severity
) -> None:
    timeline = steady(45, pain=6).timeline(function=function)

    found = run(timeline, 45)

    assert found[AlertKind.NON_RESPONSE_6W].severity is severity
    evidence = found[AlertKind.NON_RESPONSE_6W].evidence
    assert evidence["function_improved"] is (severity is Severity.MEDIUM)
    if function is None:
        assert evidence["function"] is None
    else:
        assert evidence["function"]["first"] == str(function.first)
        assert evidence["function"]["latest"] == str(function.latest)
        assert evidence["function"]["change"] == str(function.change)


def test_ready_to_progress_mentions_the_function_trend_beside_the_pain() -> None:
    timeline = progressing().timeline(stage_started_on=day(6), function=psfs("3", "6"))

    finding = run(timeline, 20)[AlertKind.READY_TO_PROGRESS]

    assert "PSFS 3 → 6 (+3, reaches its minimal important change of 2)" in finding.reason
    assert finding.evidence["function"]["change"] == "3"
