"""Unit tests for the session traffic light (CLINICAL §4)."""

import pytest

from app.clinical import Light, Policy, session_light

POLICY = Policy()


@pytest.mark.parametrize(
    ("before", "during", "after", "morning", "light", "peak"),
    [
        # Low resting pain: the published model (≤ 3 safe, 4–5 acceptable, > 5 too much).
        pytest.param(2, [3], 2, 2, Light.GREEN, 3, id="peak-3-settles"),
        pytest.param(2, [1, 3], None, 1, Light.GREEN, 3, id="after-optional"),
        pytest.param(2, [4], 3, 2, Light.AMBER, 4, id="peak-4-amber"),
        pytest.param(2, [5], None, 2, Light.AMBER, 5, id="peak-5-amber"),
        pytest.param(2, [6], None, 2, Light.RED, 6, id="peak-6-red"),
        pytest.param(2, [2], 6, 2, Light.RED, 6, id="pain-after-counts-in-the-peak"),
        pytest.param(0, [None, 3], None, 0, Light.GREEN, 3, id="unrated-exercises-skipped"),
        # Morning pain: must settle by the next morning.
        pytest.param(2, [3], 3, 3, Light.AMBER, 3, id="morning-one-above"),
        pytest.param(2, [3], 3, 4, Light.RED, 3, id="morning-two-above"),
        pytest.param(2, [5], 5, 3, Light.AMBER, 5, id="amber-peak-morning-one-above"),
        pytest.param(5, [5], 5, 0, Light.GREEN, 5, id="morning-below-before"),
        # Resting 6: what the exercise adds, not the 5/10 ceiling (CLINICAL §4 examples).
        pytest.param(6, [6], None, 6, Light.GREEN, 6, id="resting-6-peak-6"),
        pytest.param(6, [7], None, 6, Light.AMBER, 7, id="resting-6-peak-7"),
        pytest.param(6, [8], None, 6, Light.RED, 8, id="resting-6-peak-8"),
        pytest.param(6, [6], 6, 8, Light.RED, 6, id="resting-6-morning-8"),
        pytest.param(4, [4], 4, 4, Light.GREEN, 4, id="resting-4-peak-4"),
        pytest.param(4, [5], None, 4, Light.AMBER, 5, id="resting-4-peak-5"),
        pytest.param(10, [10], 10, 10, Light.GREEN, 10, id="resting-10"),
    ],
)
def test_session_light_follows_the_pain_monitoring_table(
    before: int, during: list[int | None], after: int | None, morning: int, light: Light, peak: int
) -> None:
    result = session_light(before, during, after, morning, POLICY)
    assert (result.light, result.peak, result.provisional) == (light, peak, False)


@pytest.mark.parametrize(
    ("before", "during", "after", "light"),
    [
        pytest.param(2, [3], 3, Light.GREEN, id="green-on-peak"),
        pytest.param(2, [4], None, Light.AMBER, id="amber-on-peak"),
        pytest.param(2, [6], None, Light.RED, id="red-on-peak-already"),
        pytest.param(6, [6], None, Light.GREEN, id="resting-6-peak-6"),
        pytest.param(6, [7], None, Light.AMBER, id="resting-6-peak-7"),
        pytest.param(6, [], 8, Light.RED, id="resting-6-after-8"),
    ],
)
def test_light_is_provisional_on_peak_and_after_until_the_morning_check_in(
    before: int, during: list[int | None], after: int | None, light: Light
) -> None:
    result = session_light(before, during, after, None, POLICY)
    assert (result.light, result.provisional) == (light, True)


def test_a_bad_morning_turns_a_provisional_green_red() -> None:
    assert session_light(2, [3], 3, None, POLICY).light is Light.GREEN
    assert session_light(2, [3], 3, 4, POLICY).light is Light.RED


@pytest.mark.parametrize(
    ("during", "after", "morning"),
    [([], None, None), ([None, None], None, 3), ([], None, 9)],
)
def test_light_is_unknown_without_any_pain_during_or_after(
    during: list[int | None], after: int | None, morning: int | None
) -> None:
    result = session_light(3, during, after, morning, POLICY)
    assert (result.light, result.peak) == (Light.UNKNOWN, None)
    assert result.message == "No pain rating yet"


@pytest.mark.parametrize(
    ("during", "morning", "message"),
    [
        ([2], 2, "Good response — keep going"),
        ([4], 2, "Acceptable — repeat this dose"),
        ([7], 2, "Too much — we'll ease this off; your therapist is told"),
    ],
)
def test_patient_sees_the_message_of_the_light(
    during: list[int], morning: int, message: str
) -> None:
    assert session_light(2, during, None, morning, POLICY).message == message


@pytest.mark.parametrize(
    ("before", "during", "after", "morning", "what"),
    [
        (11, [3], None, None, "pain before"),
        (-1, [3], None, None, "pain before"),
        (2, [3, 12], None, None, "pain during or after"),
        (2, [3], -2, None, "pain during or after"),
        (2, [3], None, 11, "morning pain"),
        (2, [True], None, None, "pain during or after"),
    ],
)
def test_session_light_rejects_scores_outside_the_nprs(
    before: int, during: list[int], after: int | None, morning: int | None, what: str
) -> None:
    with pytest.raises(ValueError, match=what):
        session_light(before, during, after, morning, POLICY)


def test_a_clinic_can_move_the_amber_ceiling() -> None:
    lenient = Policy.from_overrides({"amber_ceiling": 6})
    assert session_light(2, [6], None, 2, POLICY).light is Light.RED
    assert session_light(2, [6], None, 2, lenient).light is Light.AMBER


def test_a_larger_morning_rise_leaves_no_gap_between_amber_and_red() -> None:
    lenient = Policy.from_overrides({"red_morning_rise": 3})
    assert session_light(2, [3], 3, 4, lenient).light is Light.AMBER
    assert session_light(2, [3], 3, 5, lenient).light is Light.RED
