"""Unit tests for the clinic outcomes report against a hand-computed clinic (CLINICAL §8)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction

import pytest

from app.measures import (
    AlertKindStats,
    AlertRecord,
    Direction,
    EpisodeRecord,
    Mic,
    OutcomeStats,
    median,
    outcomes_report,
)

MARCH = (date(2026, 3, 1), date(2026, 3, 31))


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def d(month: int, day: int) -> date:
    return date(2026, month, day)


# The fixture clinic. Therapist 1 has E1 and E2, therapist 2 E3 and E4 (E5 ended before March),
# E7 has no therapist, E6 starts after March.
CLINIC = [
    EpisodeRecord(
        episode_id=1,
        therapist_id=1,
        start=d(2, 1),
        # Given out of order: first (1 Feb) 3, latest (15 Mar) 5 → +2, meets the PSFS MIC.
        psfs=[(d(3, 15), 5), (d(2, 1), 3), (d(2, 22), 4)],
        pain_start=6,
        pain_end=4,  # −2: improved
        adherence_14d=Fraction(9, 10),
        alerts=[AlertRecord("PERSISTENT_PAIN", at(3, 5, 10), at(3, 5, 14))],  # 4 h
    ),
    EpisodeRecord(
        episode_id=2,
        therapist_id=1,
        start=d(3, 2),
        psfs=[(d(3, 2), 2), (d(3, 23), Fraction(19, 5))],  # +9/5 = 1.8: not met
        pain_start=5,
        pain_end=4,  # −1 = 20 %: not improved
        adherence_14d=Decimal("0.6"),
        alerts=[
            AlertRecord("LOW_ADHERENCE", at(3, 10, 9), at(3, 11, 9)),  # 24 h
            AlertRecord("FLARE", at(3, 20, 8), at(3, 20, 9, 30)),  # 3/2 h
        ],
    ),
    EpisodeRecord(
        episode_id=3,
        therapist_id=2,
        start=d(1, 10),
        ended_on=d(3, 10),
        psfs=[(d(1, 10), 4), (d(3, 8), 7)],  # +3: met
        pain_start=3,
        pain_end=2,  # −1 = 33 % and 1 point: improved
        adherence_14d=1,
        alerts=[
            AlertRecord("PERSISTENT_PAIN", at(2, 20, 9), at(2, 21, 9)),  # February: left out
            AlertRecord("FLARE", at(3, 1, 0, 30), at(3, 1, 6, 30)),  # 6 h
        ],
    ),
    EpisodeRecord(
        episode_id=4,
        therapist_id=2,
        start=d(3, 20),
        psfs=[(d(3, 20), 5), (d(4, 10), 8)],  # only one PSFS by 31 March: not measured
        pain_start=7,  # no end value: not measured
        alerts=[AlertRecord("FLARE", at(3, 25, 12))],  # not acted on yet
    ),
    EpisodeRecord(
        episode_id=5,
        therapist_id=2,
        start=d(1, 5),
        ended_on=d(2, 20),  # ended before March: left out
        psfs=[(d(1, 5), 1), (d(2, 15), 9)],
        pain_start=8,
        pain_end=1,
        adherence_14d=1,
    ),
    EpisodeRecord(
        episode_id=6,
        therapist_id=None,
        start=d(4, 2),  # starts after March: left out
        psfs=[(d(4, 2), 1), (d(4, 30), 9)],
        pain_start=8,
        pain_end=1,
    ),
    EpisodeRecord(
        episode_id=7,
        therapist_id=None,
        start=d(3, 15),
        psfs=[(d(3, 15), 6), (d(3, 29), 6)],  # no change: not met
        pain_start=4,
        pain_end=6,  # +2: worse
        adherence_14d=Fraction(1, 2),
    ),
]


def test_the_clinic_figures_match_the_hand_computed_fixture() -> None:
    report = outcomes_report(CLINIC, *MARCH)
    # Episodes overlapping March: E1, E2, E3, E4, E7 = 5.
    # Function: E1, E2, E3, E7 have two PSFS by 31 March; E1 (+2) and E3 (+3) meet the MIC → 2/4.
    # Pain: changes E1 −2, E2 −1, E3 −1, E7 +2; sorted [−2, −1, −1, 2], median (−1 + −1)/2 = −1;
    #   improved E1 (2 points) and E3 (1 of 3 = 33 %) → 2/4.
    # Adherence: [1/2, 3/5, 9/10, 1], median (3/5 + 9/10)/2 = (6/10 + 9/10)/2 = 3/4.
    # Alerts raised in March: FLARE E2 1.5 h, E3 6 h, E4 not yet → 3 raised, 2 actioned,
    #   median (3/2 + 6)/2 = 15/4 h; LOW_ADHERENCE 24 h; PERSISTENT_PAIN E1 4 h (E3's is February).
    assert report.period_start == date(2026, 3, 1) and report.period_end == date(2026, 3, 31)
    assert report.clinic == OutcomeStats(
        episodes=5,
        function_measured=4,
        function_mic_met=2,
        function_mic_share=Fraction(1, 2),
        pain_measured=4,
        median_pain_change=Fraction(-1),
        pain_improved=2,
        pain_improved_share=Fraction(1, 2),
        adherence_measured=4,
        median_adherence=Fraction(3, 4),
        alerts=(
            AlertKindStats("FLARE", 3, 2, Fraction(15, 4)),
            AlertKindStats("LOW_ADHERENCE", 1, 1, Fraction(24)),
            AlertKindStats("PERSISTENT_PAIN", 1, 1, Fraction(4)),
        ),
    )


def test_the_report_groups_the_figures_per_therapist() -> None:
    report = outcomes_report(CLINIC, *MARCH)
    assert list(report.by_therapist) == [1, 2, None]
    # Therapist 1 (E1, E2): function 1 of 2; pain [−2, −1] → median −3/2, improved 1 of 2;
    # adherence [3/5, 9/10] → (6/10 + 9/10)/2 = 3/4; alerts FLARE 3/2 h, LOW_ADHERENCE 24 h,
    # PERSISTENT_PAIN 4 h.
    assert report.by_therapist[1] == OutcomeStats(
        episodes=2,
        function_measured=2,
        function_mic_met=1,
        function_mic_share=Fraction(1, 2),
        pain_measured=2,
        median_pain_change=Fraction(-3, 2),
        pain_improved=1,
        pain_improved_share=Fraction(1, 2),
        adherence_measured=2,
        median_adherence=Fraction(3, 4),
        alerts=(
            AlertKindStats("FLARE", 1, 1, Fraction(3, 2)),
            AlertKindStats("LOW_ADHERENCE", 1, 1, Fraction(24)),
            AlertKindStats("PERSISTENT_PAIN", 1, 1, Fraction(4)),
        ),
    )
    # Therapist 2 (E3, E4; E5 ended in February): function 1 of 1 (E3); pain [−1], improved;
    # adherence [1]; FLARE E3 6 h and E4 not acted on → 2 raised, 1 actioned, median 6 h.
    assert report.by_therapist[2] == OutcomeStats(
        episodes=2,
        function_measured=1,
        function_mic_met=1,
        function_mic_share=Fraction(1),
        pain_measured=1,
        median_pain_change=Fraction(-1),
        pain_improved=1,
        pain_improved_share=Fraction(1),
        adherence_measured=1,
        median_adherence=Fraction(1),
        alerts=(AlertKindStats("FLARE", 2, 1, Fraction(6)),),
    )
    # Unassigned (E7): PSFS 6 → 6 not met; pain +2 not improved; adherence 1/2; no alerts.
    assert report.by_therapist[None] == OutcomeStats(
        episodes=1,
        function_measured=1,
        function_mic_met=0,
        function_mic_share=Fraction(0),
        pain_measured=1,
        median_pain_change=Fraction(2),
        pain_improved=0,
        pain_improved_share=Fraction(0),
        adherence_measured=1,
        median_adherence=Fraction(1, 2),
        alerts=(),
    )


def test_an_alert_kind_with_no_action_yet_has_no_median_time() -> None:
    report = outcomes_report([CLINIC[3]], *MARCH)
    assert report.clinic.alerts == (AlertKindStats("FLARE", 1, 0, None),)


def test_a_period_with_no_episodes_reports_nothing_measured() -> None:
    report = outcomes_report(CLINIC, date(2025, 1, 1), date(2025, 1, 31))
    assert report.clinic == OutcomeStats(0, 0, 0, None, 0, None, 0, None, 0, None, ())
    assert report.by_therapist == {}


def test_an_earlier_period_uses_only_the_psfs_scores_up_to_its_end() -> None:
    # February: E1 3 (1 Feb) → 4 (22 Feb) is +1, not met; E5 (ended 20 Feb) 1 → 9 is met;
    # E3 has one PSFS by 28 February (its second is in March); E2, E4, E7 start in March.
    report = outcomes_report(CLINIC, date(2026, 2, 1), date(2026, 2, 28))
    assert report.clinic.function_measured == 2  # E1, and E5 (1 → 9)
    assert report.clinic.function_mic_met == 1  # E5


def test_a_psfs_gain_of_exactly_two_on_a_fractional_mean_meets_the_mic() -> None:
    episode = EpisodeRecord(
        1, 1, d(3, 1), psfs=[(d(3, 1), Fraction(7, 3)), (d(3, 22), Fraction(13, 3))]
    )
    assert outcomes_report([episode], *MARCH).clinic.function_mic_met == 1


def test_a_pain_fall_of_30_percent_under_one_point_is_not_an_improvement() -> None:
    # CLINICAL §2: ≥ 30 % of baseline and ≥ 1 point; 2/3 → 0 is 100 % but under a point.
    episode = EpisodeRecord(1, 1, d(3, 1), pain_start=Fraction(2, 3), pain_end=0)
    assert outcomes_report([episode], *MARCH).clinic.pain_improved == 0


def test_the_report_takes_the_mics_it_is_given() -> None:
    strict = Mic(Fraction(3), Direction.HIGHER_IS_BETTER)
    report = outcomes_report(CLINIC, *MARCH, function_mic=strict)
    assert report.clinic.function_mic_met == 1  # only E3's +3


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], None),
        ([5], Fraction(5)),
        ([3, 1, 2], Fraction(2)),
        ([1, 2], Fraction(3, 2)),
        ([Fraction(1, 3), Fraction(1, 2), 4, 0], Fraction(5, 12)),
    ],
)
def test_the_median_is_exact_and_averages_the_middle_pair(
    values: list[Fraction | int], expected: Fraction | None
) -> None:
    assert median(values) == expected


def test_an_episode_record_refuses_binary_floats() -> None:
    with pytest.raises(ValueError, match="a PSFS score must be an int, Fraction or Decimal"):
        EpisodeRecord(1, 1, d(3, 1), psfs=[(d(3, 1), 4.0)])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="adherence_14d"):
        EpisodeRecord(1, 1, d(3, 1), adherence_14d=0.8)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"), [("pain_start", 11), ("pain_end", -1), ("adherence_14d", Fraction(6, 5))]
)
def test_an_episode_record_refuses_values_off_their_scale(field: str, value: Fraction) -> None:
    with pytest.raises(ValueError, match=field):
        EpisodeRecord(1, 1, d(3, 1), **{field: value})  # type: ignore[arg-type]


def test_an_alert_cannot_be_acted_on_before_it_was_raised() -> None:
    with pytest.raises(ValueError, match="before it was raised"):
        AlertRecord("FLARE", at(3, 2), at(3, 1))


def test_a_period_must_not_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="period"):
        outcomes_report(CLINIC, date(2026, 3, 31), date(2026, 3, 1))
