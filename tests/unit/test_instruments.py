"""Unit tests for the instrument engine: files, exact scoring, change and MIC (CLINICAL §2, §8)."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.measures import (
    Direction,
    Domain,
    Instrument,
    InstrumentFileError,
    MeasureValidationError,
    Method,
    Mic,
    Score,
    carried_activities,
    change,
    function_changes,
    function_improved,
    load_directory,
    load_instrument,
    load_instrument_file,
    score,
    shipped_instruments,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "instruments"
SHIPPED = shipped_instruments()
NPRS = SHIPPED["nprs"]
PSFS = SHIPPED["psfs"]
START_BACK = SHIPPED["start-back"]
ODI = load_instrument_file(FIXTURES / "odi.json")
ACTIVITIES = ("lifting my daughter", "gardening", "sitting through a film", "driving", "running")


def psfs(*values: object) -> list[dict[str, object]]:
    """Return PSFS answers rating the first len(values) activities."""
    return [
        {"item": str(number), "value": value, "label": ACTIVITIES[number - 1]}
        for number, value in enumerate(values, start=1)
    ]


def start_back(agree: Iterable[int], bothersome: str = "not at all") -> list[dict[str, str]]:
    """Return STarT Back answers agreeing with the items in ``agree`` (1–8), disagreeing else."""
    chosen = set(agree)
    answers = [
        {"item": str(item), "value": "agree" if item in chosen else "disagree"}
        for item in range(1, 9)
    ]
    return [*answers, {"item": "9", "value": bothersome}]


def odi(*sections: int | None) -> list[dict[str, str]]:
    """Return ODI answers for sections 1–10; None skips a section."""
    return [
        {"item": str(number), "value": str(value)}
        for number, value in enumerate(sections, start=1)
        if value is not None
    ]


def nprs(value: object) -> list[dict[str, object]]:
    return [{"item": "1", "value": value}]


def errors_of(instrument: Instrument, answers: object) -> dict[str, str]:
    """Return the validation errors scoring ``answers`` raises."""
    with pytest.raises(MeasureValidationError) as caught:
        score(instrument, answers)
    return caught.value.errors


def instrument_data(**changes: Any) -> dict[str, Any]:
    """Return a valid minimal instrument file's data with ``changes`` applied."""
    data: dict[str, Any] = {
        "format": 1,
        "slug": "tiny",
        "name": "Tiny",
        "version": "1",
        "domain": "other",
        "licence": "Free.",
        "shippable": True,
        "can_disable": True,
        "intro": "Two questions.",
        "items": [
            {"id": "1", "text": "One?", "kind": "scale", "min": 0, "max": 4},
            {"id": "2", "text": "Two?", "kind": "scale", "min": 0, "max": 4},
        ],
        "scoring": {"method": "sum"},
        "schedule": {"days": [1]},
    }
    data.update(changes)
    return data


# --- shipped files ----------------------------------------------------------------------------


def test_the_app_ships_nprs_psfs_and_start_back() -> None:
    assert set(SHIPPED) == {"nprs", "psfs", "start-back"}
    assert all(instrument.shippable for instrument in SHIPPED.values())


def test_only_start_back_can_be_switched_off_by_a_clinic() -> None:
    assert {slug for slug, i in SHIPPED.items() if i.can_disable} == {"start-back"}


def test_start_back_carries_its_keele_copyright_notice() -> None:
    assert "© Keele University" in START_BACK.licence
    assert "non-commercial" in START_BACK.licence


def test_instrument_items_use_string_ids_from_one() -> None:
    assert NPRS.item_ids == ("1",)
    assert START_BACK.item_ids == tuple(str(number) for number in range(1, 10))
    assert PSFS.item_ids == ("1", "2", "3", "4", "5")


def test_the_shipped_schedules_follow_clinical_section_8() -> None:
    assert PSFS.schedule.days == (1, 21, 42, 84) and PSFS.schedule.discharge
    assert NPRS.schedule.days == (1,) and not NPRS.schedule.discharge
    assert START_BACK.schedule.days == (1,) and not START_BACK.schedule.discharge


def test_the_instruments_api_description_lists_items_and_licence() -> None:
    described = START_BACK.to_dict()
    assert described["slug"] == "start-back"
    assert described["licence"] == START_BACK.licence
    assert [item["id"] for item in described["items"]] == [str(n) for n in range(1, 10)]
    assert [option["value"] for option in described["items"][8]["options"]] == [
        "not at all",
        "slightly",
        "moderately",
        "very much",
        "extremely",
    ]
    json.dumps(described)  # JSON-ready
    assert PSFS.to_dict()["patient_named"]["min_items"] == 3


# --- PSFS -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param([3, 5, 4], Fraction(4), id="three-activities-3-5-4-mean-4"),
        pytest.param([2, 3, 3, 4, 5], Fraction(17, 5), id="five-activities-mean-17/5"),
        pytest.param([1, 2, 2], Fraction(5, 3), id="a-third-stays-exact"),
        pytest.param([0, 10, 10, 10], Fraction(15, 2), id="four-activities"),
    ],
)
def test_psfs_score_is_the_exact_mean_of_the_activities(
    values: list[int], expected: Fraction
) -> None:
    result = score(PSFS, psfs(*values))
    assert result.score == expected
    assert isinstance(result.score, Fraction)
    assert result.interpretation is None


def test_psfs_keeps_the_patients_own_activity_names() -> None:
    answers = psfs(3, 5, 4)
    answers[0]["label"] = "  lifting   my daughter "
    result = score(PSFS, answers)
    assert result.labels == {
        "1": "lifting my daughter",
        "2": "gardening",
        "3": "sitting through a film",
    }


def test_psfs_carries_the_activities_to_the_next_administration() -> None:
    first = score(PSFS, psfs(3, 5, 4))
    assert carried_activities(PSFS, first) == (
        ("1", "lifting my daughter"),
        ("2", "gardening"),
        ("3", "sitting through a film"),
    )
    assert carried_activities(PSFS, None) == ()
    assert carried_activities(NPRS, score(NPRS, nprs(4))) == ()


@pytest.mark.parametrize("count", [0, 1, 2])
def test_psfs_needs_at_least_three_activities(count: int) -> None:
    errors = errors_of(PSFS, psfs(*[5] * count))
    assert errors["answers"] == f"name and rate between 3 and 5 activities, got {count}"


def test_psfs_takes_at_most_five_activities() -> None:
    answers = [*psfs(5, 5, 5, 5, 5), {"item": "6", "value": 5, "label": "swimming"}]
    errors = errors_of(PSFS, answers)
    assert errors["answers"] == "name and rate between 3 and 5 activities, got 6"
    assert errors["answers[5].item"] == 'item "6" is not in this questionnaire (items "1" to "5")'


def test_psfs_names_each_bad_answer_by_its_place() -> None:
    answers = psfs(3, 11, 4, 2.5)
    answers[2]["label"] = " "
    errors = errors_of(PSFS, answers)
    assert errors == {
        "answers[1].value": 'item "2": rate the activity with a whole number from 0 to 10, got 11',
        "answers[2].label": 'item "3": name the activity',
        "answers[3].value": 'item "4": rate the activity with a whole number from 0 to 10, got 2.5',
    }


def test_psfs_rejects_the_same_activity_twice() -> None:
    answers = psfs(3, 5, 4)
    answers[2]["label"] = "Gardening"
    errors = errors_of(PSFS, answers)
    assert errors == {"answers[2].label": 'item "3": this activity is already item "2"'}


def test_psfs_rejects_an_activity_name_that_is_too_long() -> None:
    answers = psfs(3, 5, 4)
    answers[0]["label"] = "x" * 81
    assert errors_of(PSFS, answers) == {
        "answers[0].label": 'item "1": keep the activity to 80 characters'
    }


# --- STarT Back -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agree", "bothersome", "total", "distress", "band"),
    [
        pytest.param((), "not at all", 0, 0, "low", id="nothing-agreed-low"),
        pytest.param((1, 2, 3), "slightly", 3, 0, "low", id="total-3-low"),
        pytest.param((1, 2, 5), "not at all", 3, 1, "low", id="total-3-with-distress-low"),
        pytest.param((1, 2, 3, 4), "moderately", 4, 0, "medium", id="total-4-medium"),
        # Subscale 3 is the highest that is not high risk; with items 1–4 the total is 7, the
        # largest possible (a total of 8 or 9 needs a subscale of at least 4).
        pytest.param((1, 2, 3, 4, 5, 6, 7), "slightly", 7, 3, "medium", id="subscale-3-medium"),
        pytest.param((1, 5, 6), "very much", 4, 3, "medium", id="subscale-3-total-4-medium"),
        pytest.param((5, 6, 7, 8), "not at all", 4, 4, "high", id="subscale-4-high"),
        pytest.param(range(1, 9), "extremely", 9, 5, "high", id="all-agreed-high"),
    ],
)
def test_start_back_bands_by_total_and_distress_subscale(
    agree: Iterable[int], bothersome: str, total: int, distress: int, band: str
) -> None:
    result = score(START_BACK, start_back(agree, bothersome))
    assert result.score == total
    assert result.subscores == {"distress": distress}
    assert result.interpretation is not None
    assert result.interpretation.band == band


@pytest.mark.parametrize(
    "agree",
    [
        pytest.param((5, 6, 7), id="total-4"),
        pytest.param((1, 2, 3, 5, 6, 7), id="total-7"),
        pytest.param((1, 2, 3, 4, 5, 6, 7), id="total-8"),
    ],
)
def test_start_back_distress_subscale_of_four_is_high_risk_whatever_the_total(
    agree: tuple[int, ...],
) -> None:
    # Item 9 "very much" scores 1, so items 5–7 plus item 9 make a distress subscale of 4.
    result = score(START_BACK, start_back(agree, "very much"))
    assert result.subscores["distress"] == 4
    assert result.score == len(agree) + 1
    assert result.interpretation is not None
    assert result.interpretation.band == "high"


def test_start_back_high_risk_suggests_combined_care_per_nice_ng59() -> None:
    result = score(START_BACK, start_back((5, 6, 7, 8), "extremely"))
    assert result.interpretation is not None
    assert result.interpretation.text == (
        "High risk: consider combined physical and psychological care (NICE NG59)"
    )


@pytest.mark.parametrize(
    ("option", "points"),
    [
        ("not at all", 0),
        ("slightly", 0),
        ("moderately", 0),
        ("very much", 1),
        ("extremely", 1),
    ],
)
def test_start_back_item_9_scores_only_very_much_and_extremely(option: str, points: int) -> None:
    result = score(START_BACK, start_back((), option))
    assert result.item_scores["9"] == points
    assert result.score == points
    assert result.subscores["distress"] == points


@pytest.mark.parametrize(("value", "points"), [("agree", 1), ("disagree", 0)])
def test_start_back_items_1_to_8_score_agree_as_one(value: str, points: int) -> None:
    answers = start_back(())
    answers[0]["value"] = value
    assert score(START_BACK, answers).item_scores["1"] == points


def test_start_back_rejects_an_unknown_option_naming_the_choices() -> None:
    answers = start_back((), "a bit")
    answers[2]["value"] = "yes"
    assert errors_of(START_BACK, answers) == {
        "answers[2].value": 'item "3": the answer must be one of "agree", "disagree", got \'yes\'',
        "answers[8].value": (
            'item "9": the answer must be one of "not at all", "slightly", "moderately", '
            '"very much", "extremely", got \'a bit\''
        ),
    }


def test_start_back_needs_every_item() -> None:
    answers = [answer for answer in start_back(()) if answer["item"] not in ("4", "7")]
    assert errors_of(START_BACK, answers) == {
        "answers": 'answer every required question: items "4", "7" missing'
    }


def test_scoring_names_unknown_duplicate_and_malformed_answers() -> None:
    answers: list[object] = start_back(())
    answers += [
        {"item": "2", "value": "agree"},
        {"item": "10", "value": "agree"},
        {"item": 3, "value": "agree"},
        {"value": "agree"},
        "agree",
        {"item": "1", "value": "agree", "note": "x"},
    ]
    answers[0] = {"item": "1", "value": "agree", "label": "not for this one"}
    errors = errors_of(START_BACK, answers)
    assert errors == {
        "answers[0].label": 'item "1": this question does not take a label',
        "answers[9].item": 'item "2" is answered twice',
        "answers[10].item": 'item "10" is not in this questionnaire (items "1" to "9")',
        "answers[11].item": 'the item id must be a string such as "1", got 3',
        "answers[12].item": 'give the item id ("1" to "9")',
        "answers[13]": 'each answer must be an object with "item" and "value"',
        "answers[14].note": "is not a field of an answer",
        "answers[14].item": 'item "1" is answered twice',
    }


@pytest.mark.parametrize("answers", [None, "1=3", {"item": "1", "value": 3}])
def test_scoring_needs_a_list_of_answers(answers: object) -> None:
    assert errors_of(NPRS, answers) == {"answers": "send the answers as a list"}


# --- NPRS -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (0, "none"),
        (1, "mild"),
        (3, "mild"),
        (4, "moderate"),
        (6, "moderate"),
        (7, "severe"),
        (10, "severe"),
    ],
)
def test_nprs_scores_the_number_and_names_its_band(value: int, band: str) -> None:
    result = score(NPRS, nprs(value))
    assert result.score == value
    assert result.interpretation is not None and result.interpretation.band == band


@pytest.mark.parametrize("value", [-1, 11, 2.5, True, "7", None])
def test_nprs_accepts_only_whole_numbers_from_0_to_10(value: object) -> None:
    # CLINICAL §1: integers 0–10 only; reject anything else.
    errors = errors_of(NPRS, nprs(value))
    message = "give an answer" if value is None else "the answer must be a whole number"
    assert errors["answers[0].value"].startswith(f'item "1": {message}')


# --- ODI, a licensed instrument added as a file -----------------------------------------------


def test_a_licensed_instrument_is_loaded_from_a_file_without_code() -> None:
    assert ODI.slug == "odi"
    assert not ODI.shippable
    assert ODI.method is Method.PERCENT_OF_MAX
    assert ODI.domain is Domain.FUNCTION
    assert ODI.mic == Mic(Fraction(10), Direction.LOWER_IS_BETTER, source=ODI.mic.source)
    assert load_directory(FIXTURES) == {"odi": ODI}


@pytest.mark.parametrize(
    ("sections", "expected"),
    [
        # 25 ÷ (5 × 10) × 100 = 50
        pytest.param((3, 2, 2, 3, 2, 3, 2, 3, 2, 3), Fraction(50), id="all-ten-sections"),
        # one skipped: 18 ÷ (5 × 9) × 100 = 40
        pytest.param((2, 2, 2, 2, None, 2, 2, 2, 2, 2), Fraction(40), id="one-skipped"),
        # two skipped: 17 ÷ (5 × 8) × 100 = 85/2
        pytest.param((3, None, 2, 2, 2, 2, 2, None, 2, 2), Fraction(85, 2), id="two-skipped"),
        pytest.param((0,) * 10, Fraction(0), id="no-disability"),
        pytest.param((5,) * 10, Fraction(100), id="maximum"),
    ],
)
def test_odi_scores_the_percent_of_the_answered_sections(
    sections: tuple[int | None, ...], expected: Fraction
) -> None:
    result = score(ODI, odi(*sections))
    assert result.score == expected
    assert result.answered == sum(value is not None for value in sections)


def test_odi_cannot_be_scored_with_three_sections_skipped() -> None:
    answers = odi(1, None, 1, None, 1, None, 1, 1, 1, 1)
    assert errors_of(ODI, answers) == {"answers": "answer at least 8 of the 10 questions, got 7"}


def test_odi_change_of_ten_points_meets_its_mic_and_nine_does_not() -> None:
    first = score(ODI, odi(*(3,) * 10))  # 60
    assert change(ODI, first, score(ODI, odi(*(2,) * 10))).mic_met  # 40: −20
    assert change(ODI, first, score(ODI, odi(2, 3, 3, 3, 3, 3, 3, 3, 3, 3))).mic_met is False  # 58
    ten = change(ODI, first, score(ODI, odi(2, 2, 2, 2, 2, 3, 3, 3, 3, 3)))  # 50: −10
    assert ten.points == -10 and ten.mic_met


# --- change and the minimal important change --------------------------------------------------


def test_nprs_change_of_exactly_two_points_meets_the_mic() -> None:
    result = change(NPRS, score(NPRS, nprs(6)), score(NPRS, nprs(4)))
    assert result.points == -2
    assert result.improvement == 2
    assert result.percent == Fraction(-100, 3)
    assert result.mic_met is True


def test_a_two_point_fall_between_decimal_means_counts_as_two() -> None:
    # CLINICAL §2: in binary floating point 5.1 − 3.1 = 1.9999999999999996 < 2; exactly it is 2.
    assert 5.1 - 3.1 < 2
    mic = NPRS.mic
    assert mic is not None
    assert mic.met(Fraction(Decimal("5.1")), Fraction(Decimal("3.1")))


@pytest.mark.parametrize(
    ("first", "latest", "met"),
    [
        pytest.param(3, 2, True, id="1-of-3-is-33-percent"),
        pytest.param(10, 7, True, id="3-of-10-is-30-percent-and-3-points"),
        pytest.param(4, 3, False, id="1-of-4-is-25-percent"),
        pytest.param(5, 4, False, id="1-of-5-is-20-percent"),
        pytest.param(1, 0, True, id="1-of-1-is-100-percent"),
        pytest.param(4, 4, False, id="no-change"),
        pytest.param(4, 6, False, id="worse"),
        pytest.param(0, 0, False, id="no-pain-throughout"),
    ],
)
def test_nprs_improvement_of_30_percent_meets_the_mic(first: int, latest: int, met: bool) -> None:
    result = change(NPRS, score(NPRS, nprs(first)), score(NPRS, nprs(latest)))
    assert result.mic_met is met


def test_a_30_percent_fall_under_one_point_is_not_an_improvement() -> None:
    # CLINICAL §2: ≥ 30 % of baseline *and* ≥ 1 point; 2/3 → 0 is 100 % but under a point.
    mic = NPRS.mic
    assert mic is not None
    assert not mic.met(Fraction(2, 3), Fraction(0))
    assert mic.met(Fraction(10, 3), Fraction(7, 3))  # 1 point of 10/3 = 30 %


def test_change_has_no_percent_from_a_zero_first_score() -> None:
    result = change(NPRS, score(NPRS, nprs(0)), score(NPRS, nprs(3)))
    assert result.percent is None
    assert result.points == 3
    assert result.improvement == -3
    assert result.mic_met is False


@pytest.mark.parametrize(
    ("first", "latest", "met"),
    [
        pytest.param([2, 3, 4], [5, 5, 5], True, id="3-to-5-gain-2"),
        pytest.param([3, 5, 4], [6, 7, 6, 5], True, id="4-to-6-gain-2"),
        pytest.param([5, 5, 5], [3, 3, 3], False, id="loss-of-2"),
        pytest.param([2, 3, 4], [4, 4, 5], False, id="gain-4/3"),
    ],
)
def test_psfs_mic_is_a_gain_of_two_on_the_mean(
    first: list[int], latest: list[int], met: bool
) -> None:
    assert change(PSFS, score(PSFS, psfs(*first)), score(PSFS, psfs(*latest))).mic_met is met


def test_start_back_has_no_mic_so_its_change_is_not_judged() -> None:
    result = change(
        START_BACK, score(START_BACK, start_back(())), score(START_BACK, start_back((1,)))
    )
    assert result.points == 1
    assert result.improvement is None
    assert result.mic_met is None


def test_change_refuses_scores_of_another_instrument() -> None:
    with pytest.raises(ValueError, match="not a 'psfs' score"):
        change(PSFS, score(NPRS, nprs(3)), score(PSFS, psfs(3, 3, 3)))


# --- function_improved: the rule input of NON_RESPONSE_6W (CLINICAL §5) -----------------------


def on(day: int) -> date:
    """Return program day ``day`` of an episode that starts on 2 March 2026."""
    return date(2026, 3, 2) + timedelta(days=day - 1)


def test_function_improved_when_psfs_gains_two_points_over_the_episode() -> None:
    results = [
        (on(1), score(PSFS, psfs(2, 3, 4))),  # first: 3
        (on(21), score(PSFS, psfs(3, 4, 4))),  # 11/3
        (on(20), score(PSFS, psfs(5, 5, 5))),  # given out of order; latest is day 21
        (on(28), score(PSFS, psfs(5, 5, 5))),  # latest: 5, gain 2
    ]
    assert function_improved(SHIPPED, results) is True
    assert function_changes(SHIPPED, results)["psfs"].points == 2


def test_function_not_improved_by_a_psfs_gain_of_1_9() -> None:
    # first 5 activities 1, 1, 1, 0, 0 → 3/5; latest 4 activities 3, 3, 2, 2 → 5/2;
    # 5/2 − 3/5 = 25/10 − 6/10 = 19/10 = 1.9 < 2.
    results = [
        (on(1), score(PSFS, psfs(1, 1, 1, 0, 0))),
        (on(21), score(PSFS, psfs(3, 3, 2, 2))),
    ]
    assert function_changes(SHIPPED, results)["psfs"].points == Fraction(19, 10)
    assert function_improved(SHIPPED, results) is False


def test_function_improved_compares_the_latest_with_the_first_not_the_best() -> None:
    results = [
        (on(1), score(PSFS, psfs(3, 3, 3))),
        (on(21), score(PSFS, psfs(6, 6, 6))),
        (on(42), score(PSFS, psfs(4, 4, 4))),
    ]
    assert function_improved(SHIPPED, results) is False


def test_function_improved_needs_two_results() -> None:
    assert function_improved(SHIPPED, [(on(1), score(PSFS, psfs(3, 3, 3)))]) is False
    assert function_improved(SHIPPED, []) is False


def test_pain_and_risk_measures_do_not_count_as_function() -> None:
    results = [
        (on(1), score(NPRS, nprs(8))),
        (on(21), score(NPRS, nprs(2))),
        (on(1), score(START_BACK, start_back(range(1, 9), "extremely"))),
        (on(21), score(START_BACK, start_back(()))),
    ]
    assert function_changes(SHIPPED, results) == {}
    assert function_improved(SHIPPED, results) is False


def test_a_clinic_added_disability_measure_counts_as_function() -> None:
    instruments = {**SHIPPED, "odi": ODI}
    results = [
        (on(1), score(ODI, odi(*(3,) * 10))),  # 60
        (on(21), score(ODI, odi(*(2,) * 10))),  # 40
        (on(1), score(PSFS, psfs(3, 3, 3))),
        (on(21), score(PSFS, psfs(3, 3, 3))),
    ]
    assert function_improved(instruments, results) is True
    # Without the ODI file the clinic has only PSFS, which did not change.
    assert function_improved(SHIPPED, results) is False


# --- storing a score --------------------------------------------------------------------------


def test_a_score_round_trips_through_its_json_record() -> None:
    result = score(PSFS, psfs(2, 3, 3, 4, 5))
    record = json.loads(json.dumps(result.to_dict()))
    assert record["score"] == "17/5"
    assert Score.from_dict(record) == result
    high = score(START_BACK, start_back((5, 6, 7, 8)))
    assert Score.from_dict(json.loads(json.dumps(high.to_dict()))) == high


# --- instrument files -------------------------------------------------------------------------


def test_a_file_number_with_a_decimal_point_is_read_exactly(tmp_path: Path) -> None:
    path = tmp_path / "tiny.json"
    data = instrument_data(mic={"points": "PLACEHOLDER", "direction": "higher_is_better"})
    path.write_text(json.dumps(data).replace('"PLACEHOLDER"', "0.1"), encoding="utf-8")
    mic = load_instrument_file(path).mic
    assert mic is not None
    assert mic.points == Fraction(1, 10)


def test_an_instrument_file_error_names_each_problem() -> None:
    data = instrument_data(
        shipable=True,
        scoring={
            "method": "median",
            "subscales": [{"name": "part", "items": ["1", "7"], "method": "sum"}],
            "bands": [{"label": "x", "text": "X", "when": [{"of": "other", "min": 1}]}],
        },
    )
    data["items"][1]["id"] = "1"
    data["items"][0]["anchors"] = [{"value": 9, "label": "too high"}]
    with pytest.raises(InstrumentFileError) as caught:
        load_instrument(data, "tiny.json")
    assert set(caught.value.problems) == {
        "shipable: unknown key",
        "items[0].anchors[0].value: must lie on the scale 0–4",
        "items[1].id: '1' is used twice",
        'scoring.method: must be one of "sum", "mean", "percent_of_max", "count", got \'median\'',
        "scoring.subscales[0].items: '7' is not an item of this instrument",
        "scoring.bands[0].when[0].of: must be \"score\" or a subscale name, got 'other'",
    }
    assert str(caught.value).startswith("tiny.json: ")


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"format": 2}, "format: must be 1, got 2"),
        ({"slug": "Tiny One"}, "slug: must be lower-case letters, digits and single hyphens"),
        ({"domain": "mood"}, 'domain: must be one of "pain", "function", "risk", "other"'),
        ({"shippable": "yes"}, "shippable: must be true or false"),
        ({"intro": ""}, "intro: must be a non-empty string"),
        ({"patient_named": {}}, 'items: give either "items" or "patient_named"'),
        ({"items": []}, "items: must be a non-empty list"),
        (
            {"scoring": {"method": "sum", "min_answered": 3}},
            "scoring.min_answered: must be from 1 to the number of items",
        ),
        (
            {"mic": {"points": 2, "direction": "up"}},
            'mic.direction: must be one of "higher_is_better", "lower_is_better"',
        ),
        ({"schedule": {"days": [0, 21]}}, "schedule.days: must be a list of program days"),
    ],
)
def test_an_instrument_file_with_a_bad_field_is_refused(
    changes: dict[str, Any], problem: str
) -> None:
    with pytest.raises(InstrumentFileError) as caught:
        load_instrument(instrument_data(**changes))
    assert any(found.startswith(problem) for found in caught.value.problems), caught.value.problems


def test_percent_of_max_needs_items_that_start_at_zero() -> None:
    data = instrument_data(scoring={"method": "percent_of_max"})
    data["items"][0]["min"] = 1
    with pytest.raises(InstrumentFileError, match="lowest score 0"):
        load_instrument(data)


def test_a_choice_item_needs_two_distinct_options() -> None:
    data = instrument_data()
    data["items"][0] = {
        "id": "1",
        "text": "One?",
        "kind": "choice",
        "options": [
            {"value": "yes", "label": "Yes", "score": 1},
            {"value": "yes", "label": "Y", "score": 0},
        ],
    }
    with pytest.raises(InstrumentFileError, match=r"options\[1\]\.value: 'yes' is listed twice"):
        load_instrument(data)


def test_a_count_instrument_counts_the_answers_that_score() -> None:
    data = instrument_data(scoring={"method": "count"})
    instrument = load_instrument(data)
    result = score(instrument, [{"item": "1", "value": 3}, {"item": "2", "value": 0}])
    assert result.score == 1


def test_a_band_with_no_conditions_always_matches() -> None:
    data = instrument_data(
        scoring={"method": "mean", "bands": [{"label": "any", "text": "Scored", "when": []}]}
    )
    result = score(load_instrument(data), [{"item": "1", "value": 1}, {"item": "2", "value": 2}])
    assert result.score == Fraction(3, 2)
    assert result.interpretation is not None and result.interpretation.band == "any"


def test_the_shipped_folder_refuses_an_instrument_that_may_not_be_shipped(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "odi.json", tmp_path / "odi.json")
    with pytest.raises(InstrumentFileError, match="not shippable"):
        load_directory(tmp_path, require_shippable=True)


def test_an_instrument_file_is_named_after_its_slug(tmp_path: Path) -> None:
    data = copy.deepcopy(json.loads((FIXTURES / "odi.json").read_text(encoding="utf-8")))
    (tmp_path / "oswestry.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InstrumentFileError, match="must match the file name 'oswestry'"):
        load_directory(tmp_path)


def test_an_unreadable_instrument_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(InstrumentFileError, match="cannot read the file"):
        load_instrument_file(path)


# --- properties -------------------------------------------------------------------------------

# No example database on disk: these runs must leave the repository untouched.
SETTINGS = settings(database=None, deadline=None, max_examples=200)


@SETTINGS
@given(st.lists(st.integers(min_value=0, max_value=10), min_size=3, max_size=5))
def test_any_psfs_scores_the_exact_mean(values: list[int]) -> None:
    assert score(PSFS, psfs(*values)).score == Fraction(sum(values), len(values))


@SETTINGS
@given(
    st.sets(st.integers(min_value=1, max_value=8)),
    st.sampled_from(["not at all", "slightly", "moderately", "very much", "extremely"]),
)
def test_any_start_back_is_high_exactly_when_distress_reaches_four(
    agree: set[int], bothersome: str
) -> None:
    result = score(START_BACK, start_back(agree, bothersome))
    distress = len(agree & {5, 6, 7, 8}) + (bothersome in ("very much", "extremely"))
    total = len(agree) + (bothersome in ("very much", "extremely"))
    expected = "high" if distress >= 4 else "low" if total <= 3 else "medium"
    assert (result.score, result.subscores["distress"]) == (total, distress)
    assert result.interpretation is not None and result.interpretation.band == expected


@SETTINGS
@given(st.integers(min_value=0, max_value=10), st.integers(min_value=0, max_value=10))
def test_nprs_mic_matches_the_clinical_pain_rule(first: int, latest: int) -> None:
    # CLINICAL §2: improved when the fall is ≥ 2, or ≥ 30 % of the first and ≥ 1 point.
    fall = first - latest
    expected = fall > 0 and (fall >= 2 or (10 * fall >= 3 * first and fall >= 1))
    result = change(NPRS, score(NPRS, nprs(first)), score(NPRS, nprs(latest)))
    assert result.mic_met is expected
