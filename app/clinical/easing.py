"""The eased session after a RED session or a FLARE, until the therapist decides (CLINICAL §7).

Pure: the program's items, what the last RED session reported and whether FLARE holds go in; the
dose each item is shown and timed with comes out. The note, ``/today``, the player and its timers
all read this one result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from math import floor
from typing import Any

from app.clinical.policy import Policy

# CLINICAL §7: a painful item is eased with its easier variant, or 30–50 % less volume; 40 %
# less sits in the middle of that range.
EASED_SHARE = Fraction(3, 5)


class EaseReason(StrEnum):
    RED = "red"  # the last session was RED: ease the items that hurt
    FLARE = "flare"  # CLINICAL §5 FLARE: ease every item


class Change(StrEnum):
    NONE = ""  # shown as prescribed
    EASIER = "easier"  # swapped for the exercise's easier variant, at its own dose
    LESS = "less"  # the same exercise with about 40 % less volume


@dataclass(frozen=True)
class ItemToEase:
    """One program item: its dosage (DESIGN §2 fields) and its easier variant, if any."""

    item_id: int
    dosage: Mapping[str, Any]
    easier_dosage: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class RedSession:
    """The latest RED session since the stage began: resting pain and pain during per item."""

    pain_before: int
    pain_during: Mapping[int, int | None]


@dataclass(frozen=True)
class EasedItem:
    item_id: int
    change: Change
    dosage: dict[str, Any]  # what the patient is shown and timed with
    usual: dict[str, Any]  # the therapist's prescription


@dataclass(frozen=True)
class EasedPlan:
    reason: EaseReason
    items: tuple[EasedItem, ...]
    # CLINICAL §7: 2 RED sessions in 7 days suggest going back one stage (the therapist decides).
    suggest_previous_stage: int | None

    def item(self, item_id: int) -> EasedItem | None:
        return next((i for i in self.items if i.item_id == item_id), None)


def less_volume(dosage: Mapping[str, Any]) -> dict[str, Any]:
    """Return the dosage with about 40 % less volume (CLINICAL §7: 30–50 % less).

    The first amount the dosage has is cut: reps per set, reps, duration, distance, else sets.
    Holds keep their length (CLINICAL §7: step up repetitions, not hold time).
    """
    eased = dict(dosage)

    def cut(value: int) -> int:
        return max(1, floor(value * EASED_SHARE + Fraction(1, 2)))

    if eased.get("reps_per_set"):
        eased["reps_per_set"] = [cut(r) for r in eased["reps_per_set"]]
    elif eased.get("reps"):
        eased["reps"] = cut(eased["reps"])
    elif eased.get("duration_seconds"):
        eased["duration_seconds"] = cut(eased["duration_seconds"])
    elif eased.get("distance_m"):
        eased["distance_m"] = cut(eased["distance_m"])
    elif eased.get("sets", 1) > 1:
        eased["sets"] = cut(eased["sets"])
    return eased


def painful_items(red: RedSession, policy: Policy) -> set[int]:
    """Return the items whose pain during went above the green ceiling (CLINICAL §4)."""
    ceiling = max(policy.green_ceiling, red.pain_before)
    return {
        item_id for item_id, pain in red.pain_during.items() if pain is not None and pain > ceiling
    }


def ease(
    items: Sequence[ItemToEase],
    *,
    last_red: RedSession | None,
    flare: bool,
    red_sessions: int,
    stage: int,
    policy: Policy,
) -> EasedPlan | None:
    """Return the eased session, or None when the session is shown as prescribed.

    CLINICAL §7: after a RED session each painful item is swapped for its easier variant (or
    done with 30–50 % less volume); a FLARE (CLINICAL §5, by the clinic's thresholds) eases every
    item, and so does a RED session whose pain came after or next morning (no single item to
    blame). ``red_sessions`` counts the RED sessions in the FLARE window; as many as FLARE needs
    suggest the previous stage.
    """
    if not flare and last_red is None:
        return None
    targets = None if flare or last_red is None else painful_items(last_red, policy)
    every = not targets
    eased = []
    for item in items:
        usual = dict(item.dosage)
        if not every and item.item_id not in targets:
            eased.append(EasedItem(item.item_id, Change.NONE, usual, usual))
        elif item.easier_dosage is not None:
            eased.append(EasedItem(item.item_id, Change.EASIER, dict(item.easier_dosage), usual))
        else:
            eased.append(EasedItem(item.item_id, Change.LESS, less_volume(usual), usual))
    reason = EaseReason.FLARE if flare else EaseReason.RED
    previous = stage - 1 if red_sessions >= policy.flare_red_sessions and stage > 1 else None
    return EasedPlan(reason, tuple(eased), previous)
