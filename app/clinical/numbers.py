"""The one way numbers are written for people: exact, halves away from zero (CLINICAL §2).

Rule reasons, evidence panels, pages, the API's texts and the Jinja filters all format through
these functions, so a baseline of 21/4 reads 5.3 everywhere and 1 of 8 sessions reads 13 %.
Values may be ints, Fractions, Decimals or floats; floats are read through their shortest
decimal form, so 0.3 means 3/10.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from math import floor

Number = Fraction | Decimal | int | float


def exact(value: Number) -> Fraction:
    """Return ``value`` as an exact Fraction (a float through its shortest decimal form)."""
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)


def fixed(value: Number, places: int) -> str:
    """Format ``value`` with exactly ``places`` decimals, rounding halves away from zero."""
    number = exact(value)
    scaled = floor(abs(number) * 10**places + Fraction(1, 2))
    whole, decimals = divmod(scaled, 10**places)
    sign = "-" if number < 0 and scaled else ""
    return f"{sign}{whole}.{decimals:0{places}d}" if places else f"{sign}{whole}"


def trimmed(value: Number | None, places: int = 1, missing: str = "—") -> str:
    """Format with at most ``places`` decimals, dropping trailing zeros: "5.3", "4", "0.5"."""
    if value is None:
        return missing
    text = fixed(value, places)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def pain(value: Number | None, missing: str = "unknown") -> str:
    """Format a resting-pain mean with one decimal ("5.3", "6.0"), or ``missing``."""
    return missing if value is None else fixed(value, 1)


def signed(value: Number, places: int = 1) -> str:
    """Format a change with its sign and at most ``places`` decimals: "+2", "-1.4", "0"."""
    text = trimmed(value, places)
    return text if text.startswith("-") or text == "0" else f"+{text}"


def percent(ratio: Number | None, missing: str = "—") -> str:
    """Format a ratio as a whole percentage: 1/8 → "13 %"."""
    if ratio is None:
        return missing
    return f"{fixed(exact(ratio) * 100, 0)} %"


def decimal_text(value: Number) -> str:
    """Write an exact value as a decimal string when it terminates, else as "n/d"."""
    number = exact(value)
    denominator = number.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    if denominator != 1:
        return f"{number.numerator}/{number.denominator}"
    text = format(Decimal(number.numerator) / Decimal(number.denominator), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
