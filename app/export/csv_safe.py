"""CSV for spreadsheets, safe from formula injection (issue 15, OWASP "CSV Injection").

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some programs,
one that starts with a tab or a carriage return) as a formula, so a patient's note such as
``=HYPERLINK(...)`` could act on the therapist's machine. Every text cell that starts with one of
those characters gets a leading apostrophe, which spreadsheets show as text. Numbers, dates and
booleans the app produces itself are written as they are. Output is UTF-8 with a header row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import TextIO

# OWASP's list, plus the full-width forms that some spreadsheet locales also read as formulas.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")

Cell = str | int | Decimal | Fraction | float | bool | date | datetime | Enum | None
Row = Sequence[Cell] | Mapping[str, Cell]


def neutralise(text: str) -> str:
    """Return the text with a leading apostrophe when a spreadsheet would run it as a formula."""
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def cell_text(value: Cell) -> str:
    """Return one cell as text: typed values as they are, any text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return neutralise(str(value.value))
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, (int, Decimal, float)):
        return str(value)
    if isinstance(value, Fraction):
        return format(Decimal(value.numerator) / Decimal(value.denominator), "f")
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return neutralise(str(value))


def write_csv(stream: TextIO, header: Sequence[str], rows: Iterable[Row]) -> int:
    """Write the header and the rows to `stream`; return the number of data rows.

    A row is a sequence in header order or a mapping keyed by the header; a row of another
    length, or with keys the header does not name, is refused rather than silently shifted.
    Open a file with ``newline=""`` and ``encoding="utf-8"``.
    """
    names = list(header)
    if not names or len(set(names)) != len(names):
        raise ValueError("the header needs distinct column names")
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow([cell_text(name) for name in names])
    count = 0
    for row in rows:
        if isinstance(row, Mapping):
            unknown = set(row) - set(names)
            if unknown:
                raise ValueError(
                    f"row {count + 1} has columns not in the header: {sorted(unknown)}"
                )
            values: Sequence[Cell] = [row.get(name) for name in names]
        else:
            values = row
        if len(values) != len(names):
            raise ValueError(f"row {count + 1} has {len(values)} cells, the header {len(names)}")
        writer.writerow([cell_text(value) for value in values])
        count += 1
    return count


def csv_text(header: Sequence[str], rows: Iterable[Row]) -> str:
    """Return the CSV as one string (encode it as UTF-8 for the response body)."""
    buffer = io.StringIO(newline="")
    write_csv(buffer, header, rows)
    return buffer.getvalue()
