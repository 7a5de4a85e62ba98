"""The eased session (CLINICAL §7): table tests for the pure easing in ``app.clinical.easing``.

CLINICAL §7: after a FLARE or a RED session each painful item is swapped for its easier variant,
or done with 30–50 % less volume; after 2 RED sessions in 7 days the previous stage is suggested.
The module picks 40 % less (the middle of the range), rounded half up, never below 1. Every
expected dose below is worked out by hand from that rule (the arithmetic is in the row's comment),
never by calling the function under test.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

import pytest

from app.clinical.easing import (
    Change,
    EaseReason,
    ItemToEase,
    RedSession,
    ease,
    less_volume,
    painful_items,
)
from app.clinical.policy import Policy

POLICY = Policy()  # CLINICAL defaults: green ceiling 3, FLARE at 2 RED sessions in 7 days


def dose(**fields: Any) -> dict[str, Any]:
    """A full DESIGN §2 dosage: the given fields over an empty one-set prescription."""
    base: dict[str, Any] = {
        "sets": 1,
        "reps": None,
        "reps_per_set": None,
        "hold_seconds": None,
        "duration_seconds": None,
        "distance_m": None,
        "rest_seconds": 0,
        "side": "both",
        "load": None,
    }
    return base | fields


# The built-in doses of CLINICAL §7's exercise table, as DESIGN §2 fields.
BRACE = dose(reps=10, hold_seconds=10, rest_seconds=10)  # #2 abdominal brace, 10 × 10 s
BRACE_EASIER = dose(reps=10, hold_seconds=5, rest_seconds=10)  # its easier: "5 s holds"
CURL_UP = dose(sets=3, reps_per_set=[5, 3, 1], hold_seconds=10, rest_seconds=30)  # #8, 5-3-1 × 10 s
SIDE_PLANK_20 = dose(sets=3, reps_per_set=[5, 3, 1], hold_seconds=20, rest_seconds=30)
SIDE_BRIDGE = dose(sets=3, reps_per_set=[5, 3, 1], hold_seconds=10, rest_seconds=30)  # #9
CAT_CAMEL = dose(reps=6)  # #5, 6–8 slow cycles
BREATHING = dose(duration_seconds=300)  # #1, 5 min
WALKING = dose(duration_seconds=600)  # #20, 10 min
CARRY = dose(sets=3, distance_m=20, rest_seconds=60, load="light weight")  # #19, 3 × 20 m
PLANK = dose(sets=3, hold_seconds=10, rest_seconds=30)  # #13, 3 × 10 s
GLUTE_BRIDGE = dose(sets=2, reps=10, hold_seconds=3, rest_seconds=30)  # #11, 2 × 10, 3 s hold
DEAD_BUG = dose(sets=2, reps=6, rest_seconds=30, side="alternating")  # #12, 2 × 6 each side
PALLOF = dose(sets=2, reps=8, hold_seconds=2, rest_seconds=30, load="light band")  # #16


# ---------------------------------------------------------------------------- less volume

# (usual dosage, the fields that change → their eased values). Every other field is unchanged:
# in particular holds keep their seconds (CLINICAL §7: repetitions, not hold time, carry the
# dose), as do sets, rests, side and load when another amount was cut.
LESS_VOLUME = [
    pytest.param(BRACE, {"reps": 6}, id="brace-10x10s-to-6x10s"),  # 10 × 0.6 = 6
    pytest.param(
        CURL_UP, {"reps_per_set": [3, 2, 1]}, id="pyramid-5-3-1-to-3-2-1"
    ),  # 3.0, 1.8 → 2, 0.6 → 1: 9 holds → 6 (33 % less); hold stays 10 s, sets stay 3
    pytest.param(
        dose(sets=3, reps_per_set=[6, 4, 2], hold_seconds=10),
        {"reps_per_set": [4, 2, 1]},
        id="pyramid-6-4-2-to-4-2-1",
    ),  # 3.6 → 4, 2.4 → 2, 1.2 → 1: 12 → 7 (42 % less)
    pytest.param(
        dose(sets=3, reps_per_set=[8, 6, 4], hold_seconds=10),
        {"reps_per_set": [5, 4, 2]},
        id="pyramid-8-6-4-to-5-4-2",
    ),  # 4.8 → 5, 3.6 → 4, 2.4 → 2: 18 → 11 (39 % less)
    pytest.param(
        dose(sets=3, reps_per_set=[1, 1, 1], hold_seconds=10),
        {},
        id="pyramid-never-below-1-per-set",
    ),  # 0.6 → 1 each: a set never drops to 0 repetitions
    pytest.param(CAT_CAMEL, {"reps": 4}, id="reps-6-to-4"),  # 3.6 → 4
    pytest.param(DEAD_BUG, {"reps": 4}, id="reps-6-to-4-sets-and-side-kept"),  # 2 sets stay
    pytest.param(PALLOF, {"reps": 5}, id="reps-8-to-5-hold-2s-and-load-kept"),  # 4.8 → 5
    pytest.param(GLUTE_BRIDGE, {"reps": 6}, id="2x10-3s-to-2x6-3s"),  # sets not cut too
    pytest.param(dose(reps=7), {"reps": 4}, id="reps-7-to-4"),  # 4.2 → 4
    pytest.param(dose(reps=3), {"reps": 2}, id="reps-3-to-2"),  # 1.8 → 2
    pytest.param(dose(reps=2), {"reps": 1}, id="reps-2-to-1"),  # 1.2 → 1
    pytest.param(dose(reps=1), {}, id="reps-never-below-1"),  # 0.6 → 1
    pytest.param(BREATHING, {"duration_seconds": 180}, id="duration-5min-to-3min"),  # 300 × 0.6
    pytest.param(WALKING, {"duration_seconds": 360}, id="duration-10min-to-6min"),  # 600 × 0.6
    pytest.param(CARRY, {"distance_m": 12}, id="distance-3x20m-to-3x12m"),  # 20 × 0.6; 3 sets
    pytest.param(PLANK, {"sets": 2}, id="holds-only-3x10s-to-2x10s"),  # 1.8 → 2; 10 s kept
    pytest.param(dose(sets=2, hold_seconds=10), {"sets": 1}, id="holds-only-2x10s-to-1x10s"),
]


@pytest.mark.parametrize(("usual", "changed"), LESS_VOLUME)
def test_less_volume_cuts_one_amount_by_about_40_percent(
    usual: dict[str, Any], changed: dict[str, Any]
) -> None:
    before = deepcopy(usual)

    eased = less_volume(usual)

    assert eased == usual | changed
    assert usual == before  # the therapist's prescription is not touched


@pytest.mark.parametrize("reps", range(2, 41))
def test_less_volume_is_always_30_to_50_percent_less_where_it_can_be(reps: int) -> None:
    # CLINICAL §7: "30–50 % less volume" — from 2 repetitions up, whatever the rounding.
    eased = less_volume(dose(reps=reps, hold_seconds=10))["reps"]
    assert reps * 0.5 <= eased <= reps * 0.7, (reps, eased)


# ---------------------------------------------------------------------------- painful items

# (pain before, pain during per item, the painful items). An item is painful when its pain during
# is above the GREEN ceiling max(3, before) of CLINICAL §4; no rating says nothing.
PAINFUL = [
    pytest.param(2, {1: 3, 2: 4}, {2}, id="ceiling-3-at-low-rest"),  # max(3, 2) = 3
    pytest.param(0, {1: 8, 2: 0, 3: 2}, {1}, id="only-the-item-that-hurt"),
    pytest.param(6, {1: 6, 2: 7}, {2}, id="ceiling-is-resting-pain-6"),  # max(3, 6) = 6
    pytest.param(2, {1: None, 2: 9}, {2}, id="no-rating-is-not-painful"),
    pytest.param(2, {1: None, 2: 3}, set(), id="none-painful"),
]


@pytest.mark.parametrize(("before", "during", "painful"), PAINFUL)
def test_painful_items_are_those_above_the_green_ceiling(
    before: int, during: dict[int, int | None], painful: set[int]
) -> None:
    assert painful_items(RedSession(before, during), POLICY) == painful


# ---------------------------------------------------------------------------- the eased session

NONE, EASIER, LESS = Change.NONE, Change.EASIER, Change.LESS

# Program: 1 brace (easier: 10 × 5 s), 2 curl-up (no easier), 3 side plank at 20 s holds (easier:
# side bridge from knees, 5-3-1 × 10 s), 4 walking (no easier).
PROGRAM = (
    ItemToEase(1, BRACE, BRACE_EASIER),
    ItemToEase(2, CURL_UP),
    ItemToEase(3, SIDE_PLANK_20, SIDE_BRIDGE),
    ItemToEase(4, WALKING),
)
BRACE_LESS = BRACE | {"reps": 6}
CURL_UP_LESS = CURL_UP | {"reps_per_set": [3, 2, 1]}
WALKING_LESS = WALKING | {"duration_seconds": 360}

# (last RED session or None, FLARE, RED sessions in the window, stage,
#  expected reason, {item: (change, dose shown)}, expected previous stage suggested).
EASE = [
    pytest.param(
        RedSession(2, {1: 2, 2: 8, 3: 2, 4: 2}),
        False,
        1,
        2,
        EaseReason.RED,
        {1: (NONE, BRACE), 2: (LESS, CURL_UP_LESS), 3: (NONE, SIDE_PLANK_20), 4: (NONE, WALKING)},
        None,
        id="red-painful-item-without-easier-gets-less-volume-others-unchanged",
    ),
    pytest.param(
        RedSession(2, {1: 8, 2: 2, 3: None, 4: 1}),
        False,
        1,
        2,
        EaseReason.RED,
        {
            1: (EASIER, BRACE_EASIER),
            2: (NONE, CURL_UP),
            3: (NONE, SIDE_PLANK_20),
            4: (NONE, WALKING),
        },
        None,
        id="red-eased-hold-carries-the-easier-5s-hold",
    ),
    pytest.param(
        RedSession(3, {3: 7}),
        False,
        1,
        3,
        EaseReason.RED,
        {1: (NONE, BRACE), 2: (NONE, CURL_UP), 3: (EASIER, SIDE_BRIDGE), 4: (NONE, WALKING)},
        None,
        id="red-easier-variant-20s-hold-becomes-its-own-10s-hold",
    ),
    pytest.param(
        RedSession(6, {1: 6, 2: 7, 3: 6, 4: 6}),
        False,
        1,
        2,
        EaseReason.RED,
        {1: (NONE, BRACE), 2: (LESS, CURL_UP_LESS), 3: (NONE, SIDE_PLANK_20), 4: (NONE, WALKING)},
        None,
        id="red-at-resting-pain-6-only-the-item-above-6",
    ),
    pytest.param(
        RedSession(2, {1: 2, 2: None, 3: 3, 4: None}),
        False,
        1,
        2,
        EaseReason.RED,
        {
            1: (EASIER, BRACE_EASIER),
            2: (LESS, CURL_UP_LESS),
            3: (EASIER, SIDE_BRIDGE),
            4: (LESS, WALKING_LESS),
        },
        None,
        id="red-from-pain-after-or-next-morning-eases-every-item",
    ),
    pytest.param(
        None,
        True,
        0,
        2,
        EaseReason.FLARE,
        {
            1: (EASIER, BRACE_EASIER),
            2: (LESS, CURL_UP_LESS),
            3: (EASIER, SIDE_BRIDGE),
            4: (LESS, WALKING_LESS),
        },
        None,
        id="flare-by-morning-pain-eases-every-item",
    ),
    pytest.param(
        RedSession(2, {1: 2, 2: 8, 3: 2, 4: 2}),
        True,
        2,
        2,
        EaseReason.FLARE,
        {
            1: (EASIER, BRACE_EASIER),
            2: (LESS, CURL_UP_LESS),
            3: (EASIER, SIDE_BRIDGE),
            4: (LESS, WALKING_LESS),
        },
        1,
        id="flare-by-2-red-eases-every-item-and-suggests-stage-1",
    ),
    pytest.param(
        RedSession(2, {2: 8}),
        True,
        2,
        1,
        EaseReason.FLARE,
        {
            1: (EASIER, BRACE_EASIER),
            2: (LESS, CURL_UP_LESS),
            3: (EASIER, SIDE_BRIDGE),
            4: (LESS, WALKING_LESS),
        },
        None,
        id="2-red-at-stage-1-has-no-previous-stage",
    ),
    pytest.param(
        RedSession(2, {2: 8}),
        False,
        3,
        4,
        EaseReason.RED,
        {1: (NONE, BRACE), 2: (LESS, CURL_UP_LESS), 3: (NONE, SIDE_PLANK_20), 4: (NONE, WALKING)},
        3,
        id="3-red-at-stage-4-suggests-stage-3",
    ),
]


@pytest.mark.parametrize(
    ("last_red", "is_flare", "red_sessions", "stage", "reason", "expected", "previous"), EASE
)
def test_the_eased_session(
    last_red: RedSession | None,
    is_flare: bool,
    red_sessions: int,
    stage: int,
    reason: EaseReason,
    expected: dict[int, tuple[Change, dict[str, Any]]],
    previous: int | None,
) -> None:
    plan = ease(
        PROGRAM,
        last_red=last_red,
        flare=is_flare,
        red_sessions=red_sessions,
        stage=stage,
        policy=POLICY,
    )

    assert plan is not None
    assert plan.reason is reason
    assert {i.item_id: (i.change, i.dosage) for i in plan.items} == expected
    # The therapist's prescription rides along unchanged, for "instead of your usual …".
    assert {i.item_id: i.usual for i in plan.items} == {p.item_id: p.dosage for p in PROGRAM}
    assert plan.suggest_previous_stage == previous


@pytest.mark.parametrize(
    ("item", "hold"),
    [
        pytest.param(ItemToEase(1, BRACE, BRACE_EASIER), 5, id="easier-brace-holds-5s"),
        pytest.param(ItemToEase(3, SIDE_PLANK_20, SIDE_BRIDGE), 10, id="side-bridge-holds-10s"),
        pytest.param(ItemToEase(2, CURL_UP), 10, id="less-volume-curl-up-keeps-10s"),
        pytest.param(ItemToEase(5, PALLOF), 2, id="less-volume-pallof-keeps-2s"),
    ],
)
def test_an_eased_hold_carries_its_eased_hold_seconds(item: ItemToEase, hold: int) -> None:
    # The player's timer counts `hold_seconds` of the dose shown (data-hold), so the eased item
    # must carry the eased hold, not the prescription's.
    plan = ease(
        (item,),
        last_red=RedSession(2, {item.item_id: 8}),
        flare=False,
        red_sessions=1,
        stage=2,
        policy=POLICY,
    )
    assert plan is not None
    (eased,) = plan.items
    assert eased.change is not Change.NONE
    assert eased.dosage["hold_seconds"] == hold


def test_without_a_red_session_or_a_flare_the_session_is_as_prescribed() -> None:
    plan = ease(PROGRAM, last_red=None, flare=False, red_sessions=0, stage=2, policy=POLICY)
    assert plan is None


def test_easing_does_not_change_the_programs_dosages() -> None:
    before = deepcopy([(p.dosage, p.easier_dosage) for p in PROGRAM])
    plan = ease(PROGRAM, last_red=None, flare=True, red_sessions=0, stage=2, policy=POLICY)
    assert plan is not None
    plan.items[1].dosage["reps_per_set"].append(99)  # a caller changing its copy …
    # … changes neither the program nor its easier variants.
    assert [(p.dosage, p.easier_dosage) for p in PROGRAM] == before
