"""The one number format (CLINICAL §2): exact, halves away from zero — the examples the spine
redesign fixed (issue 8: a baseline of 21/4 read 5.3, 5.25 and 5.2 on three screens; 1 of 8
sessions read 13 % and 12 %)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from app.clinical import numbers


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [
        (Fraction(21, 4), 1, "5.3"),  # 5.25: the half goes away from zero
        (Fraction(-21, 4), 1, "-5.3"),
        (Fraction(17, 3), 1, "5.7"),
        (Fraction(6), 1, "6"),
        (Fraction(1, 2), 1, "0.5"),
        (0.3, 1, "0.3"),  # a float through its shortest decimal form
        (2.675, 2, "2.68"),  # binary floating point would give 2.67
        (Decimal("0.05"), 1, "0.1"),
        (Fraction(-1, 100), 1, "0"),  # never "-0"
    ],
)
def test_trimmed_rounds_exactly_and_halves_away_from_zero(value, places, text):
    assert numbers.trimmed(value, places) == text


@pytest.mark.parametrize(
    ("ratio", "text"),
    [(Fraction(1, 8), "13 %"), (Fraction(7, 8), "88 %"), (Fraction(1, 3), "33 %"), (1, "100 %")],
)
def test_percent_is_whole_and_exact(ratio, text):
    assert numbers.percent(ratio) == text


def test_pain_means_keep_one_decimal_and_changes_their_sign():
    assert numbers.pain(Fraction(21, 4)) == "5.3"
    assert numbers.pain(6) == "6.0"
    assert numbers.pain(None) == "unknown"
    assert [numbers.signed(v) for v in (2, Fraction(-7, 5), 0)] == ["+2", "-1.4", "0"]


def test_the_jinja_filters_and_the_rule_reasons_share_the_format(app):
    from app.formatting import number, percent

    with app.test_request_context("/"):
        assert number("21/4") == numbers.trimmed(Fraction(21, 4)) == "5.3"
        assert percent("1/8") == numbers.percent(Fraction(1, 8)) == "13 %"
