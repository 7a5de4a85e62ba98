"""Unit tests for the clinical policy object (CLINICAL §2–§5 thresholds)."""

import dataclasses
import json
from decimal import Decimal
from fractions import Fraction

import pytest

from app.clinical import Policy


def test_defaults_carry_the_published_thresholds() -> None:
    policy = Policy()
    assert policy.improve_points == 2
    assert policy.improve_fraction == Fraction(3, 10)
    assert policy.worsen_points == 2
    assert policy.adherent == Fraction(4, 5)
    assert policy.low_adherence == Fraction(1, 2)
    assert policy.completed_fraction == Fraction(3, 4)
    assert (policy.baseline_days, policy.baseline_max_days, policy.min_readings) == (7, 14, 3)
    assert policy.version == "2026.1"


def test_policy_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Policy().adherent = Fraction(1, 2)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "given", "expected"),
    [
        ("improve_fraction", "1/4", Fraction(1, 4)),
        ("improve_fraction", 0.3, Fraction(3, 10)),
        ("improve_fraction", Decimal("0.35"), Fraction(7, 20)),
        ("adherent", Fraction(9, 10), Fraction(9, 10)),
        ("worsen_points", 3, Fraction(3)),
        ("persistent_day", 28, 28),
        ("persistent_day", "28", 28),
        ("rearm_days", 10.0, 10),
        ("version", "clinic-b-1", "clinic-b-1"),
    ],
)
def test_overrides_are_converted_to_exact_values(
    name: str, given: object, expected: object
) -> None:
    policy = Policy.from_overrides({name: given})
    assert getattr(policy, name) == expected
    assert type(getattr(policy, name)) is type(expected)


def test_overrides_leave_other_settings_at_their_defaults() -> None:
    policy = Policy.from_overrides({"rearm_days": 10})
    assert dataclasses.replace(policy, rearm_days=7) == Policy()


def test_overrides_start_from_a_given_base() -> None:
    base = Policy.from_overrides({"rearm_days": 10})
    assert Policy.from_overrides({"persistent_day": 28}, base=base).rearm_days == 10


@pytest.mark.parametrize("name", ["adherance", "Adherent", "improve_percent", ""])
def test_overrides_reject_unknown_setting_names(name: str) -> None:
    with pytest.raises(ValueError, match="unknown policy setting"):
        Policy.from_overrides({name: 1})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("adherent", 2),
        ("adherent", "-1/2"),
        ("improve_fraction", "3/2"),
        ("min_readings", 0),
        ("baseline_days", -1),
        ("green_ceiling", 11),
        ("flare_morning_pain", 12),
        ("worsen_points", 0),
        ("red_morning_rise", 0),
    ],
)
def test_overrides_reject_out_of_range_values(name: str, value: object) -> None:
    with pytest.raises(ValueError, match=name):
        Policy.from_overrides({name: value})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("adherent", True),
        ("adherent", "four fifths"),
        ("adherent", "1/0"),
        ("adherent", None),
        ("persistent_day", 21.5),
        ("persistent_day", "3/2"),
        ("persistent_day", [21]),
        ("version", 2026),
        ("version", "  "),
    ],
)
def test_overrides_reject_values_of_the_wrong_type(name: str, value: object) -> None:
    with pytest.raises(ValueError, match=name):
        Policy.from_overrides({name: value})


@pytest.mark.parametrize(
    "overrides",
    [
        {"low_adherence": "9/10"},
        {"baseline_days": 15},
        {"green_ceiling": 6},
        {"progress_effort_sessions": 5},
    ],
)
def test_overrides_reject_contradicting_thresholds(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="must not exceed"):
        Policy.from_overrides(overrides)


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(ValueError, match="min_readings"):
        Policy(min_readings=0)


def test_to_dict_is_json_ready_and_round_trips() -> None:
    policy = Policy.from_overrides({"improve_fraction": "1/3", "rearm_days": 5})
    data = json.loads(json.dumps(policy.to_dict()))
    assert data["improve_fraction"] == "1/3"
    assert data["rearm_days"] == 5
    assert Policy.from_overrides(data) == policy


def test_to_dict_names_every_setting() -> None:
    assert tuple(Policy().to_dict()) == Policy.field_names()
