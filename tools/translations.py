"""The message catalogues (issue 16): `make translations` runs `extract` then `compile`.

    python tools/translations.py extract   # marked words → messages.pot → update es/messages.po
    python tools/translations.py compile   # es/messages.po → messages.mo and the scripts' words
    python tools/translations.py check     # exit 1 when a compiled file is not the .po's

The compiled files are committed, so an installed copy (a wheel, `make run` on a laptop) needs no
build step; tests/unit/test_translations.py fails when they are not what `compile` writes from
the .po, so they cannot drift from it. The scripts' dictionary (static/js/words/<lang>.js) holds
just the messages the scripts use (their extracted locations), so a phone loads no page's words.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "app" / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
WORDS = ROOT / "static" / "js" / "words"
LANGUAGES = ("es",)
# Beside Babel's own (_, gettext, ngettext…): Flask-Babel's lazy ones and the scripts' t().
KEYWORDS = {"_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2), "t": None}


def po_path(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def read_catalog(language: str) -> Catalog:
    with po_path(language).open("rb") as f:
        return read_po(f, locale=language)


def compiled(language: str) -> dict[Path, bytes]:
    """What `compile` writes for one language, as bytes (the catalogue test compares them)."""
    catalog = read_catalog(language)
    mo = io.BytesIO()
    write_mo(mo, catalog, use_fuzzy=False)
    words = {
        m.id: m.string
        for m in catalog
        if m.id
        and isinstance(m.id, str)
        and m.string
        and not m.fuzzy
        and any(path.startswith("static/js/") for path, _ in m.locations)
    }
    module = (
        "// Made by `make translations` from app/translations; do not edit.\n"
        f"export default {json.dumps(dict(sorted(words.items())), ensure_ascii=False, indent=0)};\n"
    )
    return {
        po_path(language).with_suffix(".mo"): mo.getvalue(),
        WORDS / f"{language}.js": module.encode(),
    }


def extract() -> None:
    pybabel = [sys.executable, "-m", "babel.messages.frontend"]
    keywords = [
        arg
        for name, spec in KEYWORDS.items()
        for arg in ("-k", name if spec is None else f"{name}:{','.join(map(str, spec))}")
    ]
    subprocess.run(
        [*pybabel, "extract", "-F", "babel.cfg", *keywords, "--no-wrap", "--sort-by-file",
         "--omit-header", "-o", str(TEMPLATE), "."],
        cwd=ROOT,
        check=True,
    )  # fmt: skip
    for language in LANGUAGES:
        command = "update" if po_path(language).exists() else "init"
        extra = ["--no-fuzzy-matching", "--ignore-obsolete"] if command == "update" else []
        subprocess.run(
            [*pybabel, command, "-i", str(TEMPLATE), "-d", str(TRANSLATIONS), "-l", language,
             "--no-wrap", *extra],
            cwd=ROOT,
            check=True,
        )  # fmt: skip


def compile_all() -> None:
    WORDS.mkdir(parents=True, exist_ok=True)
    for language in LANGUAGES:
        for path, content in compiled(language).items():
            path.write_bytes(content)


def stale() -> list[Path]:
    return [
        path
        for language in LANGUAGES
        for path, content in compiled(language).items()
        if not path.exists() or path.read_bytes() != content
    ]


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    if command == "extract":
        extract()
    elif command == "compile":
        compile_all()
    elif command == "check":
        old = stale()
        for path in old:
            print(f"{path.relative_to(ROOT)} is not compiled from its .po: run make translations")
        return 1 if old else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
