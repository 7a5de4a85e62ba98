"""The one input guard: every request's input passes through here before any view sees it.

DESIGN §6: no input of any shape answers 5xx, on SQLite or PostgreSQL —

- bodies over ``MAX_CONTENT_LENGTH`` (1 MB) are 413 (Flask refuses them before reading);
- ids beyond the database's integer range are 404 in URLs (the ``int`` converter) and 422 in
  bodies and query strings (``Id``, ``query_int``);
- instants outside the years 2000–2100 are 422 (``Instant``, ``check_instant``), before any
  arithmetic on them can overflow;
- text with control characters (NUL and the like; tab, newline and carriage return are fine) is
  422 in any form or JSON body; searches and the login treat it as matching nothing;
- a JSON body that cannot be parsed for any reason (syntax, nesting too deep) is 400.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from flask import Flask, Request, render_template, request
from flask_babel import gettext as _
from pydantic import AfterValidator, AwareDatetime, Field, StrictInt, StrictStr
from werkzeug.routing import IntegerConverter

from app.i18n import N_
from app.problems import problem

# PostgreSQL's integer (and every id column): anything larger cannot name a row.
DB_INT_MAX = 2**31 - 1
# The instants any reading, session or schedule may carry (DESIGN §6).
FIRST_YEAR, LAST_YEAR = 2000, 2100
# C0 controls and DEL, but tab, line feed and carriage return (free text keeps its lines).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# JSON deeper than this is refused before parsing (no API body needs more than a few levels).
MAX_JSON_DEPTH = 32
# Endpoints that read text with control characters as "matches nothing" instead of refusing.
NO_MATCH_ENDPOINTS = frozenset({"auth.login"})
CONTROL_MESSAGE = N_("Remove the invisible control characters from this text.")


def has_control(text: str) -> bool:
    return CONTROL.search(text) is not None


def search_text(value: str | None, limit: int = 80) -> str | None:
    """Return a search term, or None when it can match nothing (it holds control characters)."""
    text = (value or "").strip()[:limit]
    return None if has_control(text) else text


def query_int(name: str) -> int | None:
    """Read a whole number from the query string; anything else or out of range is None."""
    value = request.args.get(name, type=int)
    return value if value is not None and 0 <= value <= DB_INT_MAX else None


def check_instant(value: datetime) -> datetime:
    """Refuse instants outside 2000–2100 (their own calendar year, before any conversion)."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"Give a time between the years {FIRST_YEAR} and {LAST_YEAR}.")
    return value


def parse_instant(text: str | None) -> datetime | None:
    """Read an ISO 8601 instant with its offset, within 2000–2100; anything else is None."""
    try:
        value = datetime.fromisoformat(text or "")
        return check_instant(value) if value.tzinfo is not None else None
    except ValueError:
        return None


def _check_text(value: str) -> str:
    if has_control(value):
        raise ValueError(_(CONTROL_MESSAGE))
    return value


# Types the JSON API's bodies are built from (DESIGN §6).
Id = Annotated[StrictInt, Field(ge=1, le=DB_INT_MAX)]
QueryId = Annotated[int, Field(ge=1, le=DB_INT_MAX)]  # query strings carry numbers as text
Instant = Annotated[AwareDatetime, AfterValidator(check_instant)]
Text = Annotated[StrictStr, AfterValidator(_check_text)]


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` in a URL: a whole number the database can hold, else the route is a 404."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", DB_INT_MAX)
        super().__init__(map, *args, **kwargs)


def _depth_ok(raw: bytes) -> bool:
    """Return whether JSON text nests no deeper than MAX_JSON_DEPTH (strings skipped)."""
    depth, in_string, escaped = 0, False, False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return False
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return True


def json_body(req: Request) -> Any:
    """Parse the request's JSON body once; raise ValueError for anything that is not JSON."""
    raw = req.get_data(cache=True)
    if not _depth_ok(raw):
        raise ValueError("The JSON is nested too deeply.")
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ValueError("The body is not valid JSON.") from exc


def control_characters(value: Any, path: str = "") -> Iterator[str]:
    """Yield the path of every string (or key) in a JSON value that holds control characters."""
    if isinstance(value, str):
        if has_control(value):
            yield path or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if has_control(str(key)):
                yield where
            yield from control_characters(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from control_characters(item, f"{path}[{index}]")


def guard() -> Any:
    """Refuse a body the app cannot use: bad JSON (400), control characters in text (422)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    api = request.path.startswith("/api/")
    if request.is_json and request.get_data(cache=True):
        try:
            body = json_body(request)
        except ValueError as exc:
            return problem(400, "Bad request", str(exc))
        fields = list(control_characters(body))
        if fields:
            return problem(
                422,
                "Invalid fields",
                _("Some text holds control characters."),
                dict.fromkeys(fields, _(CONTROL_MESSAGE)),
            )
        return None
    if request.endpoint in NO_MATCH_ENDPOINTS:
        return None
    fields = sorted({name for name, value in request.form.items(multi=True) if has_control(value)})
    if not fields:
        return None
    if api:
        return problem(
            422, "Invalid fields", _(CONTROL_MESSAGE), dict.fromkeys(fields, _(CONTROL_MESSAGE))
        )
    page = render_template(
        "errors/error.html",
        status=422,
        title=_("Some text could not be used"),
        text=_(
            "It holds invisible control characters (perhaps from a copy and paste). Go back, "
            "retype it and send it again; nothing was saved."
        ),
    )
    return page, 422


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(guard)
