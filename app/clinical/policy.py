"""Clinical policy: every threshold of CLINICAL §2–§5 in one immutable object."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, ClassVar


@dataclass(frozen=True)
class Policy:
    """Hold every clinical threshold; each [D] default can be overridden per clinic (CLINICAL)."""

    # CLINICAL §2: minimal important change (Childs 2005; Ostelo 2008).
    improve_points: Fraction = Fraction(2)
    improve_fraction: Fraction = Fraction(3, 10)
    improve_floor_points: Fraction = Fraction(1)
    worsen_points: Fraction = Fraction(2)
    # CLINICAL §2: baseline on days 1–7, extended up to day 14, from at least 3 readings.
    baseline_days: int = 7
    baseline_max_days: int = 14
    min_readings: int = 3
    # CLINICAL §2: current = the last 7 local days, today included.
    current_days: int = 7
    # CLINICAL §3: completed session = at least 75 % of prescribed items done or partly done.
    completed_fraction: Fraction = Fraction(3, 4)
    # CLINICAL §3: adherence window and bands (≥ 80 % adherent, < 50 % low).
    adherence_window_days: int = 14
    adherent: Fraction = Fraction(4, 5)
    low_adherence: Fraction = Fraction(1, 2)
    # CLINICAL §4: traffic light — peak ≤ max(3, before) green, ≤ max(5, before + 1) amber,
    # morning ≥ before + 2 red.
    green_ceiling: int = 3
    amber_ceiling: int = 5
    amber_margin: int = 1
    red_morning_rise: int = 2
    # CLINICAL §5: PERSISTENT_PAIN from day 21 with current ≥ 3.
    persistent_day: int = 21
    persistent_min_current: int = 3
    # CLINICAL §5: NON_RESPONSE_6W from day 42 with current ≥ 5.
    non_response_day: int = 42
    non_response_min_current: int = 5
    # CLINICAL §5: FLARE — ≥ 2 RED sessions in 7 days, or a morning pain ≥ 8 and ≥ 2 above baseline.
    flare_red_sessions: int = 2
    flare_window_days: int = 7
    flare_morning_pain: int = 8
    flare_morning_rise: int = 2
    # CLINICAL §5: LOW_ADHERENCE from day 7, or the last 3 scheduled days missed.
    low_adherence_min_day: int = 7
    low_adherence_missed: int = 3
    # CLINICAL §5 / §7: READY_TO_PROGRESS.
    progress_days_in_stage: int = 14
    progress_no_red_days: int = 14
    progress_no_amber_days: int = 7
    progress_max_effort: int = 5
    progress_effort_sessions: int = 3
    progress_effort_window: int = 4
    # CLINICAL §5: a resolved alert may fire again only after 7 days; red-flag screen weekly (§6).
    rearm_days: int = 7
    red_flag_weekly_days: int = 7
    version: str = "2026.1"

    # Inclusive (low, high) bounds per field, finite on both sides (DESIGN §6: no saved policy
    # can make a page, a log or a red-flag answer fail). Windows stay within a few weeks so the
    # bounded timelines of the rules stay small.
    _BOUNDS: ClassVar[dict[str, tuple[Fraction | int, Fraction | int]]] = {
        "improve_points": (Fraction(0), Fraction(10)),
        "improve_fraction": (Fraction(0), Fraction(1)),
        "improve_floor_points": (Fraction(0), Fraction(10)),
        "worsen_points": (Fraction(1), Fraction(10)),
        "baseline_days": (1, 28),
        "baseline_max_days": (1, 28),
        "min_readings": (1, 21),
        "current_days": (1, 28),
        "completed_fraction": (Fraction(0), Fraction(1)),
        "adherence_window_days": (1, 56),
        "adherent": (Fraction(0), Fraction(1)),
        "low_adherence": (Fraction(0), Fraction(1)),
        "green_ceiling": (0, 10),
        "amber_ceiling": (0, 10),
        "amber_margin": (0, 10),
        "red_morning_rise": (1, 10),
        "persistent_day": (1, 365),
        "persistent_min_current": (0, 10),
        "non_response_day": (1, 365),
        "non_response_min_current": (0, 10),
        "flare_red_sessions": (1, 14),
        "flare_window_days": (1, 28),
        "flare_morning_pain": (0, 10),
        "flare_morning_rise": (0, 10),
        "low_adherence_min_day": (1, 365),
        "low_adherence_missed": (1, 7),
        "progress_days_in_stage": (0, 180),
        "progress_no_red_days": (0, 56),
        "progress_no_amber_days": (0, 56),
        "progress_max_effort": (0, 10),
        "progress_effort_sessions": (0, 14),
        "progress_effort_window": (1, 14),
        "rearm_days": (0, 90),
        "red_flag_weekly_days": (1, 28),
    }

    def __post_init__(self) -> None:
        """Reject wrong types, out-of-range values and inconsistent pairs."""
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            kind = _KINDS[field.name]
            if kind is str:
                if not isinstance(value, str) or not value.strip():
                    raise ValueError(f"policy {field.name!r} must be a non-empty string")
                continue
            if isinstance(value, bool) or not isinstance(value, kind | int):
                raise ValueError(
                    f"policy {field.name!r} must be {_kind_label(kind)}, got {value!r}"
                )
            if kind is Fraction and not isinstance(value, Fraction):
                # Store integers given for fraction settings as Fractions, so to_dict is uniform.
                value = Fraction(value)
                object.__setattr__(self, field.name, value)
            low, high = self._BOUNDS[field.name]
            if not low <= value <= high:
                raise ValueError(
                    f"policy {field.name!r} = {_show(value)} is out of range "
                    f"[{_show(low)}, {_show(high)}]"
                )
        self._check_pairs()

    def _check_pairs(self) -> None:
        """Reject thresholds that contradict each other."""
        pairs = [
            # CLINICAL §2: the baseline may only be extended, never shortened.
            ("baseline_days", "baseline_max_days"),
            # CLINICAL §3: "low" must sit below "adherent".
            ("low_adherence", "adherent"),
            # CLINICAL §4: the green ceiling cannot exceed the amber ceiling.
            ("green_ceiling", "amber_ceiling"),
            # CLINICAL §5: "≥ 3 of the last 4 sessions" needs 3 ≤ 4.
            ("progress_effort_sessions", "progress_effort_window"),
        ]
        for low_name, high_name in pairs:
            if getattr(self, low_name) > getattr(self, high_name):
                raise ValueError(
                    f"policy {low_name!r} ({_show(getattr(self, low_name))}) must not exceed "
                    f"{high_name!r} ({_show(getattr(self, high_name))})"
                )
        if self.improve_fraction == 0 and self.improve_points == 0:
            raise ValueError("policy 'improve_points' and 'improve_fraction' cannot both be 0")

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """Return the names of every policy setting."""
        return tuple(field.name for field in dataclasses.fields(cls))

    @classmethod
    def bounds(cls) -> dict[str, tuple[Fraction | int, Fraction | int]]:
        """Return the inclusive (low, high) bounds of every setting."""
        return dict(cls._BOUNDS)

    @classmethod
    def check_value(cls, name: str, value: Any) -> Fraction | int:
        """Return one setting's value in its type, or raise ValueError naming its bounds."""
        if name not in cls._BOUNDS:
            raise ValueError(f"unknown policy setting {name!r}")
        coerced = _coerce(name, value)
        low, high = cls._BOUNDS[name]
        if isinstance(coerced, str) or not low <= coerced <= high:
            raise ValueError(
                f"policy {name!r} = {_show(coerced)} is out of range [{_show(low)}, {_show(high)}]"
            )
        return coerced

    @property
    def window_days(self) -> int:
        """Return the most recent local days any rule of this policy reads (CLINICAL §2–§6).

        LOW_ADHERENCE looks back over the last few scheduled days, a week apart at worst.
        """
        return max(
            self.current_days,
            self.adherence_window_days,
            self.flare_window_days,
            self.progress_no_red_days,
            self.progress_no_amber_days,
            self.red_flag_weekly_days,
            7 * self.low_adherence_missed,
        )

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, Any], base: Policy | None = None) -> Policy:
        """Build a policy from ``base`` (the defaults) with the given settings replaced.

        Raises ValueError naming the setting for unknown names, wrong types or out-of-range values.
        """
        base = base if base is not None else cls()
        known = set(cls.field_names())
        unknown = sorted(str(name) for name in overrides if name not in known)
        if unknown:
            raise ValueError(
                f"unknown policy setting(s): {', '.join(unknown)}; "
                f"known settings: {', '.join(sorted(known))}"
            )
        changes = {name: _coerce(name, value) for name, value in overrides.items()}
        return dataclasses.replace(base, **changes)

    @classmethod
    def from_saved(cls, overrides: Mapping[str, Any] | None) -> Policy:
        """Build a clinic's policy from what it saved, never failing (DESIGN §6).

        A saved setting that no longer fits (an unknown name, a value outside today's bounds, a
        pair that contradicts) keeps its CLINICAL default, so no stored policy can make a page,
        a log or a red-flag answer fail.
        """
        overrides = dict(overrides or {})
        try:
            return cls.from_overrides(overrides)
        except ValueError:
            pass
        policy = cls()
        for name, value in overrides.items():
            try:
                policy = cls.from_overrides({name: value}, base=policy)
            except ValueError:
                continue
        return policy

    def to_dict(self) -> dict[str, int | str]:
        """Return a JSON-ready mapping; fractions as exact strings like "3/10"."""
        result: dict[str, int | str] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            result[field.name] = str(value) if isinstance(value, Fraction) else value
        return result


def _kind_label(kind: type) -> str:
    """Name a field type for an error message."""
    return {Fraction: "a fraction or integer", int: "an integer", str: "a string"}[kind]


def _show(value: object) -> str:
    """Format a bound or value for an error message."""
    return str(value)


def _coerce(name: str, value: Any) -> Fraction | int | str:
    """Convert one override to its field type or raise ValueError naming the setting."""
    kind = _KINDS[name]
    if kind is str:
        if not isinstance(value, str):
            raise ValueError(f"policy {name!r} must be a string, got {value!r}")
        return value
    if isinstance(value, bool):
        raise ValueError(f"policy {name!r} must be {_kind_label(kind)}, got {value!r}")
    try:
        if kind is Fraction:
            if isinstance(value, float):
                # CLINICAL §2 (compare exactly): read a float through its shortest decimal repr,
                # so 0.3 from a form or JSON means the 3/10 the admin typed, not 0.29999….
                return Fraction(repr(value))
            if isinstance(value, Fraction | int | Decimal):
                return Fraction(value)
            if isinstance(value, str):
                return Fraction(value.strip())
        else:
            if isinstance(value, int):
                return value
            if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
                return int(value.strip())
            if isinstance(value, Fraction | Decimal | float) and value == int(value):
                return int(value)
    except (ValueError, ZeroDivisionError, OverflowError):
        pass
    raise ValueError(f"policy {name!r} must be {_kind_label(kind)}, got {value!r}")


# Field name -> type, resolved once (annotations are strings under `from __future__`).
_KINDS: dict[str, type] = {
    field.name: (
        Fraction
        if isinstance(field.default, Fraction)
        else str
        if isinstance(field.default, str)
        else int
    )
    for field in dataclasses.fields(Policy)
}
