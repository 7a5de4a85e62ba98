"""The instruments a deployment offers: the shipped files plus any it added (CLINICAL §8)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

from flask import current_app, has_app_context

from app.auth.models import Clinic
from app.errors import ValidationFailed
from app.i18n import current_language
from app.measures.instruments import Instrument, load_directory, shipped_instruments


def available_instruments(clinic: Clinic | None = None) -> Mapping[str, Instrument]:
    """Return the shipped instruments plus any the deployment added as files.

    CLINICAL §8: a clinic adds a licensed instrument (the ODI, say) by putting its file in
    ``INSTRUMENTS_DIR`` (default: ``instance/instruments``); no code changes. Instruments named
    in ``DISABLED_INSTRUMENTS`` (only those that may be switched off, e.g. STarT Back) are left out,
    and so are those ``clinic`` switched off in its settings: what is offered, scheduled and
    accepted for its patients. Without a clinic (scores and exports of stored responses) they
    stay readable. Their patient-facing words are in the language of the request (issue 16;
    clinicians' requests are English); ids, values and scores are the same in every language.
    """
    found = dict(shipped_instruments())
    if not has_app_context():
        return found
    directory = current_app.config.get("INSTRUMENTS_DIR") or (
        Path(current_app.instance_path) / "instruments"
    )
    if Path(directory).is_dir():
        found.update(_extra_instruments(str(directory)))
    disabled = set(current_app.config.get("DISABLED_INSTRUMENTS") or ())
    if clinic is not None:
        disabled |= set(clinic.questionnaires_off or ())
    language = current_language()
    return {
        slug: instrument.in_language(language)
        for slug, instrument in found.items()
        if not (slug in disabled and instrument.can_disable)
    }


_EXTRA: dict[str, dict[str, Instrument]] = {}


def _extra_instruments(directory: str) -> dict[str, Instrument]:
    # Read once per process: the files change only with a deployment.
    if directory not in _EXTRA:
        _EXTRA[directory] = load_directory(Path(directory))
    return _EXTRA[directory]


def instrument_or_error(slug: object, instruments: Mapping[str, Instrument]) -> Instrument:
    instrument = instruments.get(slug) if isinstance(slug, str) else None
    if instrument is None:
        known = ", ".join(f'"{name}"' for name in sorted(instruments))
        raise ValidationFailed({"instrument": f"Use one of the clinic's questionnaires: {known}."})
    return instrument


def rounded(value: Fraction | None, places: int = 2) -> Decimal | None:
    """Return an exact score rounded half up for display, sorting and spreadsheets."""
    if value is None:
        return None
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
