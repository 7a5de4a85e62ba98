"""The Spanish catalogue is complete and current (issue 16): every message marked in the code,
templates and scripts has a Spanish translation that is not empty or fuzzy and keeps its
placeholders, and the committed compiled files are exactly what the .po compiles to."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("translations", ROOT / "tools" / "translations.py")
translations = importlib.util.module_from_spec(spec)
spec.loader.exec_module(translations)

PYTHON_NAMED = re.compile(r"%\((\w+)\)[sd]")
SCRIPT_NAMED = re.compile(r"\{(\w+)\}")


def extracted() -> dict[str, list[str]]:
    """Every msgid marked anywhere, as `make translations` extracts them, with where it is."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = dict(DEFAULT_KEYWORDS)
    keywords.update(translations.KEYWORDS)
    found: dict[str, list[str]] = {}
    for filename, _, message, _, _ in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        ids = message if isinstance(message, tuple) else (message,)
        for msgid in ids:
            if msgid:
                found.setdefault(msgid, []).append(filename)
    return found


@pytest.fixture(scope="module")
def spanish():
    catalog = translations.read_catalog("es")
    return {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}


def test_every_marked_message_has_a_spanish_translation(spanish):
    marked = extracted()
    assert len(marked) > 300  # the patient's pages, messages and scripts are marked
    plural_ids = {
        plural for m in spanish.values() if isinstance(m.id, tuple) for plural in m.id[1:]
    }
    missing = sorted(
        f"{msgid!r} ({places[0]})"
        for msgid, places in marked.items()
        if msgid not in spanish and msgid not in plural_ids
    )
    assert not missing, "not in es/messages.po (run make translations): " + "; ".join(missing)
    empty = sorted(
        repr(msgid)
        for msgid, m in spanish.items()
        if m.fuzzy or not (all(m.string) if isinstance(m.string, tuple) else m.string)
    )
    assert not empty, "empty or fuzzy in es/messages.po: " + "; ".join(empty)


def test_spanish_keeps_every_placeholder(spanish):
    wrong = []
    for msgid, message in spanish.items():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for pattern in (PYTHON_NAMED, SCRIPT_NAMED):
            wanted = set(pattern.findall(msgid))
            if isinstance(message.id, tuple):
                wanted |= set(pattern.findall(message.id[1]))
            for string in strings:
                if set(pattern.findall(string)) - wanted or (
                    not isinstance(message.id, tuple) and wanted - set(pattern.findall(string))
                ):
                    wrong.append(f"{msgid!r} → {string!r}")
    assert not wrong, wrong


def test_no_spanish_entry_is_left_over_from_removed_words(spanish):
    marked = extracted()
    assert sorted(set(spanish) - set(marked)) == []


def test_compiled_catalogue_and_the_scripts_words_are_those_of_the_po():
    assert translations.stale() == [], "run make translations"


def test_the_scripts_words_hold_only_what_the_scripts_use():
    module = (ROOT / "static" / "js" / "words" / "es.js").read_text()
    script_ids = {
        msgid
        for msgid, places in extracted().items()
        if all(place.startswith("static/js/") for place in places)
    }
    assert script_ids, "the scripts mark their words with t()"
    for msgid in script_ids:
        assert f'"{msgid}":' in module or msgid.replace('"', '\\"') in module
    assert "Today's session" not in module  # a page's words stay in the page
