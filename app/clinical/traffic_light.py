"""Session traffic light: the pain-monitoring model (CLINICAL §4)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from app.clinical.pain import check_pain
from app.clinical.policy import Policy
from app.i18n import N_


class Light(StrEnum):
    """Colour of a session's response to exercise (CLINICAL §4)."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    UNKNOWN = "unknown"


# CLINICAL §4: "what the patient sees" column. Marked for translation and kept English (the
# msgids): `LightResult.message` and the API carry them as they are; a page shows `_(message)`.
MESSAGES: dict[Light, str] = {
    Light.GREEN: N_("Good response — keep going"),
    Light.AMBER: N_("Acceptable — repeat this dose"),
    Light.RED: N_("Too much — we'll ease this off; your therapist is told"),
    Light.UNKNOWN: N_("No pain rating yet"),
}


@dataclass(frozen=True)
class LightResult:
    """A session's light; ``provisional`` until the next morning's check-in (CLINICAL §4)."""

    light: Light
    provisional: bool
    peak: int | None
    message: str


def session_light(
    pain_before: int,
    pain_during: Sequence[int | None],
    pain_after: int | None,
    morning: int | None,
    policy: Policy,
) -> LightResult:
    """Return the session's traffic light by the CLINICAL §4 table.

    ``pain_during`` holds the per-exercise peak pains (None where not rated); ``morning`` is the
    morning pain of the first check-in on the next local day, None until it arrives.
    """
    before = check_pain(pain_before, "pain before")
    responses = [value for value in (*pain_during, pain_after) if value is not None]
    for value in responses:
        check_pain(value, "pain during or after")
    if morning is not None:
        check_pain(morning, "morning pain")
    # CLINICAL §4: until the morning check-in arrives the light is provisional (peak/after only).
    provisional = morning is None

    if not responses:
        # CLINICAL §4: no pain-during or pain-after value at all — the light is unknown.
        return LightResult(Light.UNKNOWN, provisional, None, MESSAGES[Light.UNKNOWN])
    # CLINICAL §4: peak = the highest of the pain-during values and the pain after.
    peak = max(responses)

    # CLINICAL §4 [D]: the ceiling is 5/10 or one point above resting pain, whichever is higher,
    # so the light measures what the exercise adds (resting 6: peak 6 GREEN, 7 AMBER, 8 RED).
    amber_ceiling = max(policy.amber_ceiling, before + policy.amber_margin)
    green_ceiling = max(policy.green_ceiling, before)
    # CLINICAL §4: RED when peak > max(5, before + 1) or morning ≥ before + 2.
    if peak > amber_ceiling or (
        morning is not None and morning >= before + policy.red_morning_rise
    ):
        light = Light.RED
    # CLINICAL §4: GREEN when peak ≤ max(3, before) and morning ≤ before.
    elif peak <= green_ceiling and (morning is None or morning <= before):
        light = Light.GREEN
    else:
        # CLINICAL §4: AMBER = not GREEN, peak ≤ max(5, before + 1), morning ≤ before + 1. Taking
        # AMBER as "neither RED nor GREEN" is the same on whole-number pain with the defaults and
        # leaves no gap if a clinic changes `red_morning_rise` without `amber_margin`.
        light = Light.AMBER
    return LightResult(light, provisional, peak, MESSAGES[light])
