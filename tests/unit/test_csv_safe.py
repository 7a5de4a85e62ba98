"""Spreadsheet-safe CSV: formula cells neutralised, UTF-8, a header row (issue 15)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from pathlib import Path

import pytest

from app.export.csv_safe import cell_text, csv_text, neutralise, write_csv

HEADER = ["session_id", "exercise", "status", "pain_during", "notes"]


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ("-2", "'-2"),
        ("+x", "'+x"),
        ("@x", "'@x"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        (
            '=HYPERLINK("http://evil.example","click")',
            '\'=HYPERLINK("http://evil.example","click")',
        ),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("＝1+1", "'＝1+1"),  # full-width equals sign
    ],
)
def test_formula_cells_get_a_leading_apostrophe(cell: str, written: str) -> None:
    assert neutralise(cell) == written
    assert parse(csv_text(["notes"], [[cell]]))[1] == [written]


@pytest.mark.parametrize(
    "cell", ["Bird dog", "felt fine", "a=b", "2-3", "x+y", "mail@example.org", "'quoted", "", " "]
)
def test_plain_text_is_untouched(cell: str) -> None:
    assert neutralise(cell) == cell
    assert parse(csv_text(["notes"], [[cell]]))[1] == [cell]


def test_header_and_row_counts_match_the_data() -> None:
    rows = [
        ["s-1", "Bird dog", "done", 3, "felt fine"],
        ["s-1", "McGill curl-up", "partial", None, "=cmd|' /C calc'!A0"],
        ["s-2", "Glute bridge", "skipped", None, "-too sore"],
    ]

    text = csv_text(HEADER, rows)

    lines = parse(text)
    assert lines[0] == HEADER
    assert len(lines) == 1 + len(rows)
    assert all(len(line) == len(HEADER) for line in lines)
    assert lines[2][4] == "'=cmd|' /C calc'!A0"
    assert lines[3][4] == "'-too sore"
    assert text.endswith("\r\n")


def test_write_csv_returns_the_number_of_data_rows(tmp_path: Path) -> None:
    path = tmp_path / "sessions.csv"
    rows = [["s-1", "Bird dog", "done", 3, ""]] * 4

    with path.open("w", encoding="utf-8", newline="") as stream:
        count = write_csv(stream, HEADER, rows)

    assert count == 4
    assert len(parse(path.read_text(encoding="utf-8"))) == 5


def test_output_is_utf8_and_keeps_accents_and_dashes() -> None:
    text = csv_text(["name", "note"], [["Ana Muñoz", "pain 5–6 · ça va"]])

    body = text.encode("utf-8")

    assert parse(body.decode("utf-8"))[1] == ["Ana Muñoz", "pain 5–6 · ça va"]
    assert not body.startswith(b"\xef\xbb\xbf")  # plain UTF-8, no byte-order mark


def test_quotes_commas_and_line_breaks_survive_a_round_trip() -> None:
    note = 'said "ouch", then\nstopped'

    assert parse(csv_text(["note"], [[note]]))[1] == [note]


class Status(StrEnum):
    DONE = "done"


def test_typed_values_are_written_as_values_not_neutralised() -> None:
    """Numbers the app computes cannot carry a formula, so a negative one stays a number."""
    assert cell_text(-2) == "-2"
    assert cell_text(Decimal("-0.5")) == "-0.5"
    assert cell_text(Fraction(6, 7)) == "0.8571428571428571428571428571"
    assert cell_text(None) == ""
    assert cell_text(True) == "true"
    assert cell_text(date(2026, 1, 28)) == "2026-01-28"
    assert cell_text(datetime(2026, 1, 28, 18, 0, tzinfo=UTC)) == "2026-01-28T18:00:00+00:00"
    assert cell_text(Status.DONE) == "done"


def test_mapping_rows_follow_the_header_order() -> None:
    rows = [{"notes": "=1+1", "session_id": "s-1", "exercise": "Bird dog", "status": "done"}]

    lines = parse(csv_text(HEADER, rows))

    assert lines[1] == ["s-1", "Bird dog", "done", "", "'=1+1"]


def test_rows_that_do_not_fit_the_header_are_refused() -> None:
    with pytest.raises(ValueError, match="row 2 has 2 cells"):
        csv_text(["a", "b", "c"], [[1, 2, 3], [1, 2]])
    with pytest.raises(ValueError, match="not in the header"):
        csv_text(["a"], [{"a": 1, "b": 2}])
    with pytest.raises(ValueError, match="distinct"):
        csv_text(["a", "a"], [])


def test_header_cells_are_neutralised_too() -> None:
    assert parse(csv_text(["=x", "ok"], []))[0] == ["'=x", "ok"]
