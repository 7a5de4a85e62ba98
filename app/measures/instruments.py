"""Outcome-measure instruments: load a questionnaire from its data file, score it, compare scores.

CLINICAL §8: the engine scores any instrument described in a data file, so a clinic can add a
licensed one (the ODI, say) without code. Everything here is pure and exact: numbers are
``Fraction`` throughout, never binary floating point (CLINICAL §2, "compare exactly").

Instrument file format (JSON, ``"format": 1``); unknown keys are rejected so a typo cannot
silently fall back to a default::

    {
      "format": 1,
      "slug": "start-back",              # lower-case letters, digits and "-"; the API's name
      "name": "Keele STarT Back Screening Tool",
      "version": "9-item",               # stored with every response
      "domain": "risk",                  # "pain" | "function" | "risk" | "other";
                                         # "function" feeds the alert rules (function_improved)
      "licence": "© Keele University …", # notice shown with the instrument
      "shippable": true,                 # may the project distribute this file? (CLINICAL §8)
      "can_disable": true,               # may a clinic switch it off?
      "intro": "Plain words for the patient, shown before the first question.",

      # Either fixed items …
      "items": [
        {"id": "1", "text": "…", "kind": "scale", "min": 0, "max": 10,
         "anchors": [{"value": 0, "label": "No pain"}, {"value": 10, "label": "…"}]},
        {"id": "9", "text": "…", "kind": "choice",
         "options": [{"value": "not at all", "label": "Not at all", "score": 0}, …]},
        …                                # each item may say "required": false (default true)
      ],
      # … or patient-named items (PSFS): the patient names each activity (the answer's "label")
      # and rates it on the scale; the answer's item ids are the slots "1" … max_items.
      "patient_named": {"min_items": 3, "max_items": 5, "prompt": "Name an activity …",
                        "question": "How able are you …?", "min": 0, "max": 10,
                        "anchors": […], "label_max_length": 80, "carry_forward": true},

      "scoring": {
        "method": "sum",                 # "sum" | "mean" | "percent_of_max" | "count"
        "min_answered": 1,               # optional: fewest answered items that can be scored
        "subscales": [{"name": "distress", "items": ["5", "6", "7", "8", "9"], "method": "sum"}],
        "bands": [                       # ordered: the first band whose conditions all hold wins
          {"label": "high", "text": "High risk: …", "when": [{"of": "distress", "min": 4}]},
          {"label": "low", "text": "…", "when": [{"of": "score", "min": 0, "max": 3}]},
          …
        ]
      },
      "mic": {"points": 2, "percent": 30, "percent_min_points": 1,   # optional section
              "direction": "lower_is_better", "source": "Childs 2005; Ostelo 2008"},
      "schedule": {"days": [1, 21, 42, 84], "discharge": true},
      # Optional: the patient's words in other languages (issue 16), keyed by item id and by
      # option / anchor value; anything left out reads in English.
      "translations": {"es": {"name": "…", "intro": "…",
                              "items": {"9": {"text": "…", "options": {"slightly": "Un poco"},
                                              "anchors": {"0": "…"}}},
                              "patient_named": {"prompt": "…", "question": "…",
                                                "anchors": {"0": "…"}}}}
    }

Scoring methods, over the answered items' scores (a scale answer scores its value, a choice
answer its option's ``score``): ``sum``; ``mean`` (sum ÷ answered); ``percent_of_max`` (sum ÷ the
answered items' maximum scores × 100, so the ODI is sum ÷ (5 × answered) × 100; every item's lowest
score must be 0); ``count`` (answered items scoring above 0, as for the RMDQ). Band conditions
``{"of": "score" | <subscale name>, "min": …, "max": …}`` are inclusive; a condition on a subscale
with no answered item does not hold; a band with ``"when": []`` always matches. Numbers in a file
are integers, decimals (read exactly, never as binary floats) or strings such as ``"2.5"`` or
``"17/5"``.

Minimal important change (``mic``): an improvement (a fall for ``lower_is_better``, a rise for
``higher_is_better``) meets it when it is ≥ ``points``, or, with ``percent``, when it is ≥ that
percentage of the first score and ≥ ``percent_min_points`` (CLINICAL §2: NPRS 2 points, or 30 % and
at least 1 point). Without a ``mic`` section (STarT Back stratifies risk) ``mic_met`` is None.

``schedule.days`` are the program days the measure is due on (day 1 = intake) and
``schedule.discharge`` whether it is due at discharge; see ``app.measures.schedule``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from functools import cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

FORMAT: Final = 1
# The shipped instrument files (CLINICAL §8: NPRS, PSFS, STarT Back) live in app/content/.
SHIPPED_DIR: Final[Traversable] = resources.files("app") / "content" / "instruments"

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_ITEM_ID = re.compile(r"[A-Za-z0-9_-]{1,20}")
_SCORE_KEY = "score"


class Method(StrEnum):
    """How item scores combine into a score (see the module docstring)."""

    SUM = "sum"
    MEAN = "mean"
    PERCENT_OF_MAX = "percent_of_max"
    COUNT = "count"


class Direction(StrEnum):
    """Which way a score improves."""

    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"


class Domain(StrEnum):
    """What an instrument measures; ``function`` measures feed the alert rules (CLINICAL §5)."""

    PAIN = "pain"
    FUNCTION = "function"
    RISK = "risk"
    OTHER = "other"


class ItemKind(StrEnum):
    """The answer an item takes: a whole number on a scale, or one of a list of options."""

    SCALE = "scale"
    CHOICE = "choice"


class InstrumentFileError(ValueError):
    """An instrument file that cannot be used; ``problems`` names each fault by its path."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__(f"{source}: " + "; ".join(self.problems))


class MeasureValidationError(ValueError):
    """Answers that cannot be scored; ``errors`` maps a field such as "answers[2].value" to why."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.errors.items()))


# --------------------------------------------------------------------------- the instrument


@dataclass(frozen=True)
class Anchor:
    """A label shown at one point of a scale ("0 = no pain")."""

    value: int
    label: str


@dataclass(frozen=True)
class Option:
    """One answer of a choice item: the key the API sends, what the patient reads, its score."""

    value: str
    label: str
    score: Fraction


@dataclass(frozen=True)
class Item:
    """One question; a scale item has ``minimum``/``maximum``, a choice item ``options``."""

    id: str
    text: str
    kind: ItemKind
    required: bool = True
    minimum: int | None = None
    maximum: int | None = None
    anchors: tuple[Anchor, ...] = ()
    options: tuple[Option, ...] = ()

    @property
    def min_score(self) -> Fraction:
        """Return the lowest score an answer can give."""
        if self.kind is ItemKind.SCALE:
            return Fraction(self.minimum or 0)
        return min(option.score for option in self.options)

    @property
    def max_score(self) -> Fraction:
        """Return the highest score an answer can give."""
        if self.kind is ItemKind.SCALE:
            return Fraction(self.maximum or 0)
        return max(option.score for option in self.options)

    def option(self, value: str) -> Option | None:
        """Return the option whose answer key is ``value``, if any."""
        return next((option for option in self.options if option.value == value), None)


@dataclass(frozen=True)
class PatientNamed:
    """Patient-named items (PSFS): the patient names 3–5 activities and rates each on a scale."""

    min_items: int
    max_items: int
    prompt: str
    question: str
    minimum: int
    maximum: int
    anchors: tuple[Anchor, ...]
    label_max_length: int
    carry_forward: bool

    @property
    def slots(self) -> tuple[str, ...]:
        """Return the item ids an answer may use: "1" … max_items."""
        return tuple(str(number) for number in range(1, self.max_items + 1))


@dataclass(frozen=True)
class Subscale:
    """A named score over some of the items (STarT Back distress: items 5–9)."""

    name: str
    items: tuple[str, ...]
    method: Method


@dataclass(frozen=True)
class Condition:
    """``minimum`` ≤ the score (``of`` = "score") or a subscale ≤ ``maximum``, both inclusive."""

    of: str
    minimum: Fraction | None
    maximum: Fraction | None

    def holds(self, total: Fraction, subscores: Mapping[str, Fraction]) -> bool:
        """Return whether the condition holds for these scores."""
        value = total if self.of == _SCORE_KEY else subscores.get(self.of)
        if value is None:
            return False
        return (self.minimum is None or value >= self.minimum) and (
            self.maximum is None or value <= self.maximum
        )


@dataclass(frozen=True)
class Band:
    """An interpretation that applies when all its conditions hold."""

    label: str
    text: str
    when: tuple[Condition, ...]


@dataclass(frozen=True)
class Mic:
    """Minimal important change: ``points``, or ``percent`` of the first score (see module doc)."""

    points: Fraction
    direction: Direction
    percent: Fraction | None = None
    percent_min_points: Fraction = Fraction(0)
    source: str = ""

    def improvement(self, first: Fraction, latest: Fraction) -> Fraction:
        """Return the change from ``first`` to ``latest`` in the better direction (< 0: worse)."""
        if self.direction is Direction.LOWER_IS_BETTER:
            return first - latest
        return latest - first

    def met(self, first: Fraction | int, latest: Fraction | int) -> bool:
        """Return whether ``latest`` improved on ``first`` by at least this change."""
        first, latest = Fraction(first), Fraction(latest)
        gain = self.improvement(first, latest)
        # A zero threshold must not turn "no change" into an improvement.
        if gain <= 0:
            return False
        if gain >= self.points:
            return True
        # CLINICAL §2: or ≥ 30 % of the first score and ≥ 1 point (Ostelo 2008).
        return (
            self.percent is not None
            and first != 0
            and gain * 100 >= self.percent * abs(first)
            and gain >= self.percent_min_points
        )


@dataclass(frozen=True)
class Schedule:
    """The program days a measure is due on (1 = intake), and whether it is due at discharge."""

    days: tuple[int, ...]
    discharge: bool


@dataclass(frozen=True)
class Instrument:
    """A questionnaire read from its data file (see the module docstring for the format)."""

    slug: str
    name: str
    version: str
    domain: Domain
    licence: str
    shippable: bool
    can_disable: bool
    intro: str
    items: tuple[Item, ...]
    patient_named: PatientNamed | None
    method: Method
    min_answered: int
    subscales: tuple[Subscale, ...]
    bands: tuple[Band, ...]
    mic: Mic | None
    schedule: Schedule
    translations: Mapping[str, Mapping[str, Any]] = field(
        default_factory=dict, compare=False, hash=False
    )

    def in_language(self, language: str) -> Instrument:
        """Return this instrument with the patient's words in ``language`` where the file gives
        them (issue 16); ids, values and scores never change."""
        words = self.translations.get(language)
        if not words:
            return self
        items = words.get("items", {})
        translated = tuple(_item_in(item, items.get(item.id, {})) for item in self.items)
        named = self.patient_named
        if named is not None and words.get("patient_named"):
            spoken = words["patient_named"]
            named = replace(
                named,
                prompt=spoken.get("prompt", named.prompt),
                question=spoken.get("question", named.question),
                anchors=_anchors_in(named.anchors, spoken.get("anchors", {})),
            )
        return replace(
            self,
            name=words.get("name", self.name),
            intro=words.get("intro", self.intro),
            items=translated,
            patient_named=named,
        )

    def item(self, item_id: str) -> Item | None:
        """Return the fixed item with this id, if any."""
        return next((item for item in self.items if item.id == item_id), None)

    @property
    def item_ids(self) -> tuple[str, ...]:
        """Return the ids an answer may name, in order."""
        if self.patient_named is not None:
            return self.patient_named.slots
        return tuple(item.id for item in self.items)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready description the instruments API lists (DESIGN §4)."""
        result: dict[str, Any] = {
            "slug": self.slug,
            "name": self.name,
            "version": self.version,
            "domain": str(self.domain),
            "licence": self.licence,
            "can_disable": self.can_disable,
            "intro": self.intro,
            "items": [_item_dict(item) for item in self.items],
        }
        if self.patient_named is not None:
            named = self.patient_named
            result["patient_named"] = {
                "min_items": named.min_items,
                "max_items": named.max_items,
                "prompt": named.prompt,
                "question": named.question,
                "min": named.minimum,
                "max": named.maximum,
                "anchors": [{"value": a.value, "label": a.label} for a in named.anchors],
                "label_max_length": named.label_max_length,
                "carry_forward": named.carry_forward,
            }
        if self.mic is not None:
            result["mic"] = {
                "points": str(self.mic.points),
                "percent": None if self.mic.percent is None else str(self.mic.percent),
                "direction": str(self.mic.direction),
            }
        return result


def _anchors_in(anchors: tuple[Anchor, ...], labels: Mapping[str, str]) -> tuple[Anchor, ...]:
    return tuple(replace(a, label=labels.get(str(a.value), a.label)) for a in anchors)


def _item_in(item: Item, words: Mapping[str, Any]) -> Item:
    """One item in another language: its text, its options' and anchors' labels."""
    if not words:
        return item
    labels = words.get("options", {})
    return replace(
        item,
        text=words.get("text", item.text),
        options=tuple(replace(o, label=labels.get(o.value, o.label)) for o in item.options),
        anchors=_anchors_in(item.anchors, words.get("anchors", {})),
    )


def _item_dict(item: Item) -> dict[str, Any]:
    """Describe one item for the API."""
    described: dict[str, Any] = {
        "id": item.id,
        "text": item.text,
        "kind": str(item.kind),
        "required": item.required,
    }
    if item.kind is ItemKind.SCALE:
        described["min"] = item.minimum
        described["max"] = item.maximum
        described["anchors"] = [{"value": a.value, "label": a.label} for a in item.anchors]
    else:
        described["options"] = [{"value": o.value, "label": o.label} for o in item.options]
    return described


# --------------------------------------------------------------------------- loading


def load_instrument(data: object, source: str = "instrument") -> Instrument:
    """Build an instrument from parsed file data; raise InstrumentFileError naming each fault."""
    reader = _Reader()
    instrument = reader.instrument(data)
    if reader.problems or instrument is None:
        raise InstrumentFileError(source, reader.problems or ["not an instrument"])
    return instrument


def load_instrument_file(path: Path | Traversable) -> Instrument:
    """Read and build the instrument in a JSON file."""
    try:
        # parse_float=Decimal keeps "1.5" exact: no binary float ever enters the engine.
        data = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InstrumentFileError(str(path), [f"cannot read the file: {error}"]) from None
    return load_instrument(data, str(path))


def load_directory(
    directory: Path | Traversable, *, require_shippable: bool = False
) -> dict[str, Instrument]:
    """Load every ``*.json`` instrument in a folder, keyed by slug (file name = slug + ".json")."""
    instruments: dict[str, Instrument] = {}
    for path in sorted(directory.iterdir(), key=lambda entry: entry.name):
        if not path.name.endswith(".json") or not path.is_file():
            continue
        instrument = load_instrument_file(path)
        stem = path.name.removesuffix(".json")
        if instrument.slug != stem:
            raise InstrumentFileError(
                str(path), [f"slug {instrument.slug!r} must match the file name {stem!r}"]
            )
        if require_shippable and not instrument.shippable:
            # CLINICAL §8: a licensed instrument's text is never distributed with the app.
            raise InstrumentFileError(str(path), ["shipped with the app but not shippable"])
        instruments[instrument.slug] = instrument
    return instruments


@cache
def shipped_instruments() -> Mapping[str, Instrument]:
    """Return the instruments shipped with the app (NPRS, PSFS, STarT Back), keyed by slug."""
    return MappingProxyType(load_directory(SHIPPED_DIR, require_shippable=True))


def _exact(value: object) -> Fraction | None:
    """Return ``value`` as an exact fraction, or None when it is not a number."""
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | Fraction | Decimal):
            return Fraction(value)
        if isinstance(value, float):
            # Read a float through its shortest decimal text, so 0.3 means 3/10 (as Policy does).
            return Fraction(repr(value))
        if isinstance(value, str):
            return Fraction(value.strip())
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    return None


def _is_whole(value: object) -> bool:
    """Return whether ``value`` is an int (and not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool)


class _Reader:
    """Read an instrument file, collecting every problem with its path."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, path: str, message: str) -> None:
        """Record a problem at ``path`` ("items[2].options[0].score")."""
        self.problems.append(f"{path}: {message}" if path else message)

    def mapping(self, data: object, path: str, allowed: Iterable[str]) -> Mapping[str, Any] | None:
        """Return ``data`` if it is an object with only ``allowed`` keys (else record why)."""
        if not isinstance(data, Mapping):
            self.problem(path, "must be an object")
            return None
        for key in data:
            if key not in allowed:
                self.problem(f"{path}.{key}" if path else str(key), "unknown key")
        return data

    def text(self, data: Mapping[str, Any], key: str, path: str, default: str | None = None) -> str:
        """Return a required non-empty string, stripped."""
        value = data.get(key, default)
        if not isinstance(value, str) or not value.strip():
            self.problem(_join(path, key), "must be a non-empty string")
            return ""
        return value.strip()

    def flag(self, data: Mapping[str, Any], key: str, path: str, default: bool | None) -> bool:
        """Return a boolean; ``default`` None makes it required."""
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.problem(_join(path, key), "must be true or false")
            return False
        return value

    def whole(
        self, data: Mapping[str, Any], key: str, path: str, default: int | None = None
    ) -> int | None:
        """Return a whole number (not a bool); ``default`` None makes it required."""
        value = data.get(key, default)
        if not _is_whole(value):
            self.problem(_join(path, key), f"must be a whole number, got {value!r}")
            return None
        return value

    def number(self, data: Mapping[str, Any], key: str, path: str) -> Fraction | None:
        """Return an optional exact number."""
        if data.get(key) is None:
            return None
        value = _exact(data[key])
        if value is None:
            self.problem(_join(path, key), f"must be a number, got {data[key]!r}")
        return value

    def choice(self, data: Mapping[str, Any], key: str, path: str, kind: type[StrEnum]) -> Any:
        """Return the member of ``kind`` named by the field, or None."""
        value = data.get(key)
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(f'"{member}"' for member in kind)
            self.problem(_join(path, key), f"must be one of {allowed}, got {value!r}")
            return None

    def anchors(self, data: object, path: str, low: int | None, high: int | None) -> list[Anchor]:
        if data is None:
            return []
        if not isinstance(data, list):
            self.problem(path, "must be a list")
            return []
        result = []
        for index, entry in enumerate(data):
            where = f"{path}[{index}]"
            anchor = self.mapping(entry, where, ("value", "label"))
            if anchor is None:
                continue
            value = self.whole(anchor, "value", where)
            label = self.text(anchor, "label", where)
            if value is not None and low is not None and high is not None:
                if not low <= value <= high:
                    self.problem(f"{where}.value", f"must lie on the scale {low}–{high}")
                else:
                    result.append(Anchor(value, label))
        return result

    def scale(self, data: Mapping[str, Any], path: str) -> tuple[int | None, int | None]:
        low = self.whole(data, "min", path)
        high = self.whole(data, "max", path)
        if low is not None and high is not None and low >= high:
            self.problem(_join(path, "max"), "must be above min")
            return None, None
        return low, high

    def item(self, data: object, path: str) -> Item | None:
        keys = ("id", "text", "kind", "required", "min", "max", "anchors", "options")
        entry = self.mapping(data, path, keys)
        if entry is None:
            return None
        item_id = entry.get("id")
        if not isinstance(item_id, str) or not _ITEM_ID.fullmatch(item_id):
            self.problem(f"{path}.id", 'must be a short id string such as "1"')
            item_id = ""
        text = self.text(entry, "text", path)
        kind = self.choice(entry, "kind", path, ItemKind)
        required = self.flag(entry, "required", path, True)
        if kind is ItemKind.SCALE:
            if "options" in entry:
                self.problem(f"{path}.options", "belongs to a choice item")
            low, high = self.scale(entry, path)
            anchors = self.anchors(entry.get("anchors"), f"{path}.anchors", low, high)
            return Item(item_id, text, kind, required, low, high, tuple(anchors))
        if kind is ItemKind.CHOICE:
            for key in ("min", "max", "anchors"):
                if key in entry:
                    self.problem(f"{path}.{key}", "belongs to a scale item")
            options = self.options(entry.get("options"), f"{path}.options")
            return Item(item_id, text, kind, required, options=tuple(options))
        return None

    def options(self, data: object, path: str) -> list[Option]:
        if not isinstance(data, list) or len(data) < 2:
            self.problem(path, "must be a list of at least 2 options")
            return []
        result: list[Option] = []
        for index, entry in enumerate(data):
            where = f"{path}[{index}]"
            option = self.mapping(entry, where, ("value", "label", "score"))
            if option is None:
                continue
            value = self.text(option, "value", where)
            label = self.text(option, "label", where)
            score = _exact(option.get("score"))
            if score is None:
                self.problem(f"{where}.score", f"must be a number, got {option.get('score')!r}")
                continue
            if any(existing.value == value for existing in result):
                self.problem(f"{where}.value", f"{value!r} is listed twice")
                continue
            result.append(Option(value, label, score))
        return result

    def patient_named(self, data: object, path: str) -> PatientNamed | None:
        keys = (
            "min_items",
            "max_items",
            "prompt",
            "question",
            "min",
            "max",
            "anchors",
            "label_max_length",
            "carry_forward",
        )
        entry = self.mapping(data, path, keys)
        if entry is None:
            return None
        fewest = self.whole(entry, "min_items", path)
        most = self.whole(entry, "max_items", path)
        if fewest is not None and most is not None and not 1 <= fewest <= most:
            self.problem(f"{path}.max_items", "needs 1 ≤ min_items ≤ max_items")
        prompt = self.text(entry, "prompt", path)
        question = self.text(entry, "question", path)
        low, high = self.scale(entry, path)
        anchors = self.anchors(entry.get("anchors"), f"{path}.anchors", low, high)
        longest = self.whole(entry, "label_max_length", path, 80)
        if longest is not None and longest < 1:
            self.problem(f"{path}.label_max_length", "must be at least 1")
        carry = self.flag(entry, "carry_forward", path, True)
        if None in (fewest, most, low, high, longest):
            return None
        assert fewest is not None and most is not None and low is not None and high is not None
        assert longest is not None
        return PatientNamed(
            fewest, most, prompt, question, low, high, tuple(anchors), longest, carry
        )

    def mic(self, data: object, path: str) -> Mic | None:
        keys = ("points", "percent", "percent_min_points", "direction", "source")
        entry = self.mapping(data, path, keys)
        if entry is None:
            return None
        points = self.number(entry, "points", path)
        if entry.get("points") is None:
            self.problem(f"{path}.points", "is required")
        percent = self.number(entry, "percent", path)
        floor = self.number(entry, "percent_min_points", path) or Fraction(0)
        direction = self.choice(entry, "direction", path, Direction)
        source = entry.get("source", "")
        if not isinstance(source, str):
            self.problem(f"{path}.source", "must be a string")
            source = ""
        for name, value in (
            ("points", points),
            ("percent", percent),
            ("percent_min_points", floor),
        ):
            if value is not None and value < 0:
                self.problem(f"{path}.{name}", "must not be negative")
        if points is None or direction is None:
            return None
        return Mic(points, direction, percent, floor, source)

    def schedule(self, data: object, path: str) -> Schedule:
        entry = self.mapping(data, path, ("days", "discharge"))
        if entry is None:
            return Schedule((), False)
        days = entry.get("days", [])
        if not isinstance(days, list) or not all(_is_whole(day) and day >= 1 for day in days):
            self.problem(f"{path}.days", "must be a list of program days (whole numbers ≥ 1)")
            days = []
        if len(set(days)) != len(days):
            self.problem(f"{path}.days", "lists a day twice")
        discharge = self.flag(entry, "discharge", path, False)
        return Schedule(tuple(sorted(set(days))), discharge)

    def instrument(self, data: object) -> Instrument | None:
        """Read a whole instrument file; None when any problem was recorded."""
        keys = (
            "format",
            "slug",
            "name",
            "version",
            "domain",
            "licence",
            "shippable",
            "can_disable",
            "intro",
            "items",
            "patient_named",
            "scoring",
            "mic",
            "schedule",
            "translations",
        )
        top = self.mapping(data, "", keys)
        if top is None:
            return None
        if top.get("format") != FORMAT:
            self.problem("format", f"must be {FORMAT}, got {top.get('format')!r}")
        slug = self.text(top, "slug", "")
        if slug and not _SLUG.fullmatch(slug):
            self.problem("slug", "must be lower-case letters, digits and single hyphens")
        name = self.text(top, "name", "")
        version = self.text(top, "version", "")
        domain = self.choice(top, "domain", "", Domain)
        licence = self.text(top, "licence", "")
        shippable = self.flag(top, "shippable", "", None)
        can_disable = self.flag(top, "can_disable", "", None)
        intro = self.text(top, "intro", "")

        items: list[Item] = []
        named: PatientNamed | None = None
        if ("items" in top) == ("patient_named" in top):
            self.problem("items", 'give either "items" or "patient_named", not both or neither')
        elif "items" in top:
            raw_items = top["items"]
            if not isinstance(raw_items, list) or not raw_items:
                self.problem("items", "must be a non-empty list")
            else:
                for index, raw in enumerate(raw_items):
                    item = self.item(raw, f"items[{index}]")
                    if item is None:
                        continue
                    if any(existing.id == item.id for existing in items):
                        self.problem(f"items[{index}].id", f"{item.id!r} is used twice")
                    items.append(item)
        else:
            named = self.patient_named(top["patient_named"], "patient_named")
        ids = [item.id for item in items] if named is None else list(named.slots)

        scoring = self.mapping(
            top.get("scoring"), "scoring", ("method", "min_answered", "subscales", "bands")
        )
        method, min_answered = Method.SUM, 1
        subscales: list[Subscale] = []
        bands: list[Band] = []
        if scoring is not None:
            method = self.choice(scoring, "method", "scoring", Method) or Method.SUM
            fewest = self.whole(scoring, "min_answered", "scoring", 1)
            if fewest is not None and not 1 <= fewest <= max(len(ids), 1):
                self.problem("scoring.min_answered", "must be from 1 to the number of items")
            min_answered = fewest or 1
            subscales = self.subscales(scoring.get("subscales", []), ids)
            bands = self.bands(scoring.get("bands", []), {s.name for s in subscales})
        if method is Method.PERCENT_OF_MAX or any(
            s.method is Method.PERCENT_OF_MAX for s in subscales
        ):
            lowest = [
                item.min_score for item in items if item.options or item.kind is ItemKind.SCALE
            ]
            if named is not None:
                lowest.append(Fraction(named.minimum))
            if any(value != 0 for value in lowest):
                self.problem("scoring.method", "percent_of_max needs every item's lowest score 0")
        mic = self.mic(top["mic"], "mic") if top.get("mic") is not None else None
        schedule = self.schedule(top.get("schedule", {}), "schedule")
        translations = self.translations(top.get("translations", {}), items, named)
        if self.problems or domain is None:
            return None
        return Instrument(
            slug,
            name,
            version,
            domain,
            licence,
            shippable,
            can_disable,
            intro,
            tuple(items),
            named,
            method,
            min_answered,
            tuple(subscales),
            tuple(bands),
            mic,
            schedule,
            translations,
        )

    def translations(
        self, data: object, items: Sequence[Item], named: PatientNamed | None
    ) -> dict[str, Mapping[str, Any]]:
        """Check the translations name only what the instrument has, all as text."""
        languages = self.mapping(data, "translations", ("es",))
        result: dict[str, Mapping[str, Any]] = {}
        for language, raw in (languages or {}).items():
            path = f"translations.{language}"
            words = self.mapping(raw, path, ("name", "intro", "items", "patient_named"))
            if words is None:
                continue
            for key in ("name", "intro"):
                if key in words:
                    self.text(words, key, path)
            by_id = {item.id: item for item in items}
            item_words = self.mapping(words.get("items", {}), f"{path}.items", by_id)
            for item_id, spoken in (item_words or {}).items():
                item = by_id[item_id]
                self._labels(spoken, f"{path}.items.{item_id}", item.options, item.anchors)
            if "patient_named" in words:
                if named is None:
                    self.problem(f"{path}.patient_named", "the instrument has no patient_named")
                else:
                    self._labels(words["patient_named"], f"{path}.patient_named", (), named.anchors)
            result[language] = words
        return result

    def _labels(
        self,
        data: object,
        path: str,
        options: Sequence[Option],
        anchors: Sequence[Anchor],
    ) -> None:
        keys = ("text", "options", "anchors", "prompt", "question")
        spoken = self.mapping(data, path, keys)
        if spoken is None:
            return
        for key in ("text", "prompt", "question"):
            if key in spoken:
                self.text(spoken, key, path)
        for key, known in (
            ("options", [o.value for o in options]),
            ("anchors", [str(a.value) for a in anchors]),
        ):
            labels = self.mapping(spoken.get(key, {}), f"{path}.{key}", known)
            for value, label in (labels or {}).items():
                if not isinstance(label, str) or not label.strip():
                    self.problem(f"{path}.{key}.{value}", "must be a non-empty text")

    def subscales(self, data: object, ids: Sequence[str]) -> list[Subscale]:
        if not isinstance(data, list):
            self.problem("scoring.subscales", "must be a list")
            return []
        result: list[Subscale] = []
        for index, raw in enumerate(data):
            where = f"scoring.subscales[{index}]"
            entry = self.mapping(raw, where, ("name", "items", "method"))
            if entry is None:
                continue
            name = self.text(entry, "name", where)
            if name == _SCORE_KEY or any(existing.name == name for existing in result):
                self.problem(f"{where}.name", f"{name!r} is reserved or used twice")
            members = entry.get("items")
            if not isinstance(members, list) or not members:
                self.problem(f"{where}.items", "must be a non-empty list of item ids")
                continue
            for member in members:
                if member not in ids:
                    self.problem(f"{where}.items", f"{member!r} is not an item of this instrument")
            method = self.choice(entry, "method", where, Method)
            if method is not None:
                result.append(Subscale(name, tuple(str(member) for member in members), method))
        return result

    def bands(self, data: object, subscales: set[str]) -> list[Band]:
        if not isinstance(data, list):
            self.problem("scoring.bands", "must be a list")
            return []
        result: list[Band] = []
        for index, raw in enumerate(data):
            where = f"scoring.bands[{index}]"
            entry = self.mapping(raw, where, ("label", "text", "when"))
            if entry is None:
                continue
            label = self.text(entry, "label", where)
            text = self.text(entry, "text", where)
            conditions = entry.get("when")
            if not isinstance(conditions, list):
                self.problem(f"{where}.when", "must be a list of conditions ([] = always)")
                continue
            parsed: list[Condition] = []
            for number, raw_condition in enumerate(conditions):
                spot = f"{where}.when[{number}]"
                condition = self.mapping(raw_condition, spot, ("of", "min", "max"))
                if condition is None:
                    continue
                of = condition.get("of")
                if of != _SCORE_KEY and of not in subscales:
                    self.problem(f"{spot}.of", f'must be "score" or a subscale name, got {of!r}')
                low = self.number(condition, "min", spot)
                high = self.number(condition, "max", spot)
                if low is None and high is None:
                    self.problem(spot, 'needs "min" or "max"')
                elif low is not None and high is not None and low > high:
                    self.problem(spot, '"min" must not exceed "max"')
                parsed.append(Condition(str(of), low, high))
            result.append(Band(label, text, tuple(parsed)))
        return result


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# --------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class Interpretation:
    """A band of the score and its plain sentence ("high", "High risk: consider …")."""

    band: str
    text: str


@dataclass(frozen=True)
class Score:
    """A scored response: exact score, subscores, interpretation and each item's score.

    ``labels`` holds the patient's own activity names (PSFS) by item id.
    """

    instrument: str
    version: str
    score: Fraction
    subscores: Mapping[str, Fraction]
    interpretation: Interpretation | None
    item_scores: Mapping[str, Fraction]
    labels: Mapping[str, str]

    @property
    def answered(self) -> int:
        """Return how many items were answered."""
        return len(self.item_scores)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready record, numbers as exact strings ("17/5") that Fraction reads."""
        return {
            "instrument": self.instrument,
            "version": self.version,
            "score": str(self.score),
            "subscores": {name: str(value) for name, value in self.subscores.items()},
            "interpretation": None
            if self.interpretation is None
            else {"band": self.interpretation.band, "text": self.interpretation.text},
            "item_scores": {item: str(value) for item, value in self.item_scores.items()},
            "labels": dict(self.labels),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Score:
        """Rebuild a score stored with ``to_dict``."""
        interpretation = data.get("interpretation")
        return cls(
            instrument=data["instrument"],
            version=data["version"],
            score=Fraction(data["score"]),
            subscores={name: Fraction(value) for name, value in data["subscores"].items()},
            interpretation=None
            if interpretation is None
            else Interpretation(interpretation["band"], interpretation["text"]),
            item_scores={item: Fraction(value) for item, value in data["item_scores"].items()},
            labels=dict(data.get("labels", {})),
        )


_ANSWER_KEYS = frozenset({"item", "value", "label"})


def score(instrument: Instrument, answers: object) -> Score:
    """Score the answers ``[{"item", "value", "label"?}, …]`` exactly.

    Raises MeasureValidationError naming each bad answer ("answers[2].value": why), nothing else.
    """
    if not isinstance(answers, Sequence) or isinstance(answers, str | bytes):
        raise MeasureValidationError({"answers": "send the answers as a list"})
    errors: dict[str, str] = {}
    seen: set[str] = set()
    item_scores: dict[str, Fraction] = {}
    labels: dict[str, str] = {}
    for index, answer in enumerate(answers):
        where = f"answers[{index}]"
        if not isinstance(answer, Mapping):
            errors[where] = 'each answer must be an object with "item" and "value"'
            continue
        for key in answer:
            if key not in _ANSWER_KEYS:
                errors[f"{where}.{key}"] = "is not a field of an answer"
        item_id = answer.get("item")
        if not isinstance(item_id, str) or item_id not in instrument.item_ids:
            errors[f"{where}.item"] = _unknown_item(instrument, item_id)
            continue
        if item_id in seen:
            errors[f"{where}.item"] = f'item "{item_id}" is answered twice'
            continue
        seen.add(item_id)
        if instrument.patient_named is not None:
            item_score, value_error, label, label_error = _named_answer(
                instrument.patient_named, answer, labels
            )
            if label is not None:
                labels[item_id] = label
        else:
            item = instrument.item(item_id)
            assert item is not None
            item_score, value_error = _item_score(item, answer.get("value"))
            label_error = None
            if answer.get("label") is not None:
                label_error = "this question does not take a label"
        if value_error is not None:
            errors[f"{where}.value"] = f'item "{item_id}": {value_error}'
        if label_error is not None:
            errors[f"{where}.label"] = f'item "{item_id}": {label_error}'
        if item_score is not None:
            item_scores[item_id] = item_score
    # Items answered with a bad value count as given here: their own error already names them.
    given = [item_id for item_id in instrument.item_ids if item_id in seen]
    errors.update(_count_errors(instrument, given, len(answers)))
    if errors:
        raise MeasureValidationError(errors)

    answered = [item_id for item_id in instrument.item_ids if item_id in item_scores]
    ordered = {item_id: item_scores[item_id] for item_id in answered}
    total = _combine(instrument, instrument.method, answered, ordered)
    assert total is not None  # min_answered ≥ 1 was checked above
    subscores: dict[str, Fraction] = {}
    for subscale in instrument.subscales:
        members = [item_id for item_id in subscale.items if item_id in ordered]
        value = _combine(instrument, subscale.method, members, ordered)
        if value is not None:
            subscores[subscale.name] = value
    return Score(
        instrument.slug,
        instrument.version,
        total,
        subscores,
        interpret(instrument, total, subscores),
        ordered,
        {item_id: labels[item_id] for item_id in answered if item_id in labels},
    )


def interpret(
    instrument: Instrument, total: Fraction, subscores: Mapping[str, Fraction]
) -> Interpretation | None:
    """Return the first band whose conditions all hold, or None (CLINICAL §8 banding)."""
    for band in instrument.bands:
        if all(condition.holds(total, subscores) for condition in band.when):
            return Interpretation(band.label, band.text)
    return None


def _named_answer(
    named: PatientNamed, answer: Mapping[str, Any], labels: Mapping[str, str]
) -> tuple[Fraction | None, str | None, str | None, str | None]:
    """Read a PSFS-style answer: (score, value error, activity, label error)."""
    value = answer.get("value")
    item_score = _scale_score(value, named.minimum, named.maximum)
    value_error = None
    if item_score is None:
        value_error = (
            f"rate the activity with a whole number from {named.minimum} to {named.maximum}, "
            f"got {value!r}"
        )
    raw = answer.get("label")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return item_score, value_error, None, "name the activity"
    if not isinstance(raw, str):
        return item_score, value_error, None, "the activity must be text"
    label = " ".join(raw.split())
    if len(label) > named.label_max_length:
        too_long = f"keep the activity to {named.label_max_length} characters"
        return item_score, value_error, None, too_long
    for other_id, other in labels.items():
        if other.casefold() == label.casefold():
            return item_score, value_error, None, f'this activity is already item "{other_id}"'
    return item_score, value_error, label, None


def _unknown_item(instrument: Instrument, item_id: object) -> str:
    """Say why ``item_id`` names no item of the instrument."""
    ids = instrument.item_ids
    listed = f'"{ids[0]}" to "{ids[-1]}"' if len(ids) > 1 else f'"{ids[0]}"'
    if item_id is None:
        return f"give the item id ({listed})"
    if not isinstance(item_id, str):
        return f'the item id must be a string such as "{ids[0]}", got {item_id!r}'
    return f'item "{item_id}" is not in this questionnaire (items {listed})'


def _scale_score(value: object, low: int, high: int) -> Fraction | None:
    """Return a scale answer's score, or None unless it is a whole number in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return None
    return Fraction(value)


def _item_score(item: Item, value: object) -> tuple[Fraction | None, str | None]:
    """Return (score, None) for a valid answer to a fixed item, else (None, why)."""
    if value is None:
        return None, "give an answer"
    if item.kind is ItemKind.SCALE:
        assert item.minimum is not None and item.maximum is not None
        result = _scale_score(value, item.minimum, item.maximum)
        if result is None:
            return None, (
                f"the answer must be a whole number from {item.minimum} to {item.maximum}, "
                f"got {value!r}"
            )
        return result, None
    option = item.option(value) if isinstance(value, str) else None
    if option is None:
        allowed = ", ".join(f'"{o.value}"' for o in item.options)
        return None, f"the answer must be one of {allowed}, got {value!r}"
    return option.score, None


def _count_errors(instrument: Instrument, answered: Sequence[str], sent: int) -> dict[str, str]:
    """Check that the right items, and enough of them, were answered (``sent`` answers in all)."""
    if instrument.patient_named is not None:
        named = instrument.patient_named
        # CLINICAL §8: the patient names 3–5 activities; a sixth answer is too many even though
        # its item id is also reported as unknown.
        count = len(answered) if len(answered) < named.min_items else sent
        if not named.min_items <= count <= named.max_items:
            return {
                "answers": f"name and rate between {named.min_items} and {named.max_items} "
                f"activities, got {count}"
            }
        return {}
    missing = [item.id for item in instrument.items if item.required and item.id not in answered]
    if missing:
        listed = ", ".join(f'"{item_id}"' for item_id in missing)
        noun = "item" if len(missing) == 1 else "items"
        return {"answers": f"answer every required question: {noun} {listed} missing"}
    if len(answered) < instrument.min_answered:
        return {
            "answers": f"answer at least {instrument.min_answered} of the "
            f"{len(instrument.items)} questions, got {len(answered)}"
        }
    return {}


def _combine(
    instrument: Instrument,
    method: Method,
    item_ids: Sequence[str],
    item_scores: Mapping[str, Fraction],
) -> Fraction | None:
    """Combine the scores of ``item_ids`` by ``method``; None when a mean has nothing to average."""
    values = [item_scores[item_id] for item_id in item_ids]
    if method is Method.SUM:
        return sum(values, Fraction(0))
    if method is Method.COUNT:
        return Fraction(sum(1 for value in values if value > 0))
    if not values:
        return None
    if method is Method.MEAN:
        # CLINICAL §8: the PSFS score is the mean of the activities, exactly.
        return sum(values, Fraction(0)) / len(values)
    # CLINICAL §8: ODI = sum ÷ (5 × answered) × 100, i.e. of the answered sections' maxima.
    highest = sum((_max_score(instrument, item_id) for item_id in item_ids), Fraction(0))
    return sum(values, Fraction(0)) / highest * 100


def _max_score(instrument: Instrument, item_id: str) -> Fraction:
    if instrument.patient_named is not None:
        return Fraction(instrument.patient_named.maximum)
    item = instrument.item(item_id)
    assert item is not None
    return item.max_score


def carried_activities(
    instrument: Instrument, previous: Score | None
) -> tuple[tuple[str, str], ...]:
    """Return the (item id, activity) pairs to re-rate, from the episode's previous response."""
    # CLINICAL §8 / DESIGN §4: PSFS re-rates the same activities the patient named before.
    named = instrument.patient_named
    if named is None or not named.carry_forward or previous is None:
        return ()
    return tuple(previous.labels.items())


# --------------------------------------------------------------------------- change


@dataclass(frozen=True)
class Change:
    """The change from the first to the latest score of an instrument in an episode.

    ``points`` = latest − first (signed); ``percent`` = points as a percentage of the first score
    (None when the first is 0); ``improvement`` is the change in the better direction (negative =
    worse) and ``mic_met`` whether it reaches the minimal important change — both None when the
    instrument defines no MIC (STarT Back stratifies risk, CLINICAL §8).
    """

    instrument: str
    first: Fraction
    latest: Fraction
    points: Fraction
    percent: Fraction | None
    improvement: Fraction | None
    mic_met: bool | None


def change(instrument: Instrument, first: Score, latest: Score) -> Change:
    """Compare the latest score with the first by the instrument's MIC (CLINICAL §2, §8)."""
    for which in (first, latest):
        if which.instrument != instrument.slug:
            raise ValueError(f"a {which.instrument!r} score is not a {instrument.slug!r} score")
    points = latest.score - first.score
    percent = points / abs(first.score) * 100 if first.score != 0 else None
    mic = instrument.mic
    if mic is None:
        return Change(instrument.slug, first.score, latest.score, points, percent, None, None)
    return Change(
        instrument.slug,
        first.score,
        latest.score,
        points,
        percent,
        mic.improvement(first.score, latest.score),
        mic.met(first.score, latest.score),
    )


Dated = tuple[date | datetime, Score]


def function_changes(
    instruments: Mapping[str, Instrument], results: Iterable[Dated]
) -> dict[str, Change]:
    """Return, per function measure with ≥ 2 results, the change from its first to its latest.

    ``results`` are the episode's (completed at, score) pairs, all dates or all datetimes;
    other episodes must be left out.
    """
    by_instrument: dict[str, list[Dated]] = {}
    for when, result in results:
        instrument = instruments.get(result.instrument)
        if instrument is not None and instrument.domain is Domain.FUNCTION and instrument.mic:
            by_instrument.setdefault(result.instrument, []).append((when, result))
    changes: dict[str, Change] = {}
    for slug, dated in by_instrument.items():
        if len(dated) < 2:
            continue
        # Stable sort: of two results at the same moment, the one given last is the latest.
        ordered = sorted(dated, key=lambda pair: pair[0])
        changes[slug] = change(instruments[slug], ordered[0][1], ordered[-1][1])
    return changes


def function_improved(instruments: Mapping[str, Instrument], results: Iterable[Dated]) -> bool:
    """Return whether a function measure's latest result beat its first by at least its MIC.

    CLINICAL §5: NON_RESPONSE_6W is medium instead of high when the PSFS (or any disability
    measure the clinic added) improved by its minimal important change within the episode.
    """
    return any(found.mic_met for found in function_changes(instruments, results).values())
