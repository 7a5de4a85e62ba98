"""The referral letter names only the criteria that bear on the finding (CLINICAL §5)."""

from fractions import Fraction

from app.alerts.referrals import CAUDA_EQUINA, CRITERIA, RED_FLAG_TARGET, relevant_criteria
from app.enums import AlertKind


def keys(texts: list[str]) -> list[str]:
    by_text = {text: key for key, text in CRITERIA.items()}
    return [by_text.get(text, text) for text in texts]


def test_persistent_pain_of_five_or_more_without_leg_signs_names_radiofrequency_not_epidural():
    chosen = keys(
        relevant_criteria(
            AlertKind.NON_RESPONSE_6W, current=Fraction(11, 2), episode_days=60, nerve_signs=False
        )
    )

    assert chosen == ["imaging", "radiofrequency", "combined", "no_injections", "path"]


def test_leg_signs_bring_epidural_and_decompression_and_drop_the_advice_against_injections():
    chosen = keys(
        relevant_criteria(
            AlertKind.PERSISTENT_PAIN, current=Fraction(6), episode_days=60, nerve_signs=True
        )
    )

    assert "epidural" in chosen and "decompression" in chosen
    assert "no_injections" not in chosen and "radiofrequency" not in chosen


def test_mild_pain_names_neither_radiofrequency_nor_stimulation():
    chosen = keys(
        relevant_criteria(
            AlertKind.PERSISTENT_PAIN, current=Fraction(3), episode_days=400, nerve_signs=False
        )
    )

    assert "radiofrequency" not in chosen and "stimulation" not in chosen


def test_stimulation_only_after_six_months_of_pain_of_five_or_more():
    def named(days: int) -> bool:
        found = relevant_criteria(
            AlertKind.NON_RESPONSE_6W, current=Fraction(6), episode_days=days, nerve_signs=False
        )
        return CRITERIA["stimulation"] in found

    assert not named(181)
    assert named(182)


def test_an_emergency_red_flag_letter_says_cauda_equina_is_a_surgical_emergency():
    chosen = relevant_criteria(
        AlertKind.RED_FLAG_EMERGENCY, current=Fraction(6), episode_days=60, nerve_signs=True
    )

    assert chosen == [CAUDA_EQUINA, RED_FLAG_TARGET]
    assert not set(chosen) & set(CRITERIA.values())


def test_worsening_pain_names_imaging_only():
    chosen = keys(
        relevant_criteria(
            AlertKind.WORSENING, current=Fraction(7), episode_days=30, nerve_signs=False
        )
    )

    assert chosen == ["imaging"]
