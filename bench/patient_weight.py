"""Benchmark: what a phone downloads on the first load of /today and of the player.

Budget (DESIGN §5): ≤ 60 KB of HTML, CSS, JS, icons and figures, every request to this origin.
Measured like tests/browser/test_patient_pages_budget.py (an empty cache, the service worker
blocked, bodies and headers as sent), against the demo clinic's Maria in the system Chromium.
The player loads a figure only for the screen it shows (issue 11): the first exercise screen's
figure is reported on its own. Run with `make bench`.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.db import sqlite_immediate, utcnow  # noqa: E402
from app.demo import DEMO_PASSWORD, seed_demo  # noqa: E402
from app.extensions import db  # noqa: E402
from tests.conftest import CHROMIUM_ARGS, start_live_server, system_chromium  # noqa: E402

EMAIL = "maria@example.com"
BUDGET = 60 * 1024


def load(browser: Browser, device: dict, url: str, path: str, first_exercise: bool = False):
    """Load `path` in a fresh phone context and list (url, bytes) of every response."""
    login = browser.new_context(**device, base_url=url, service_workers="block")
    page = login.new_page()
    page.goto("/auth/login")  # through the form, CSRF token and all; then an empty cache
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/today")
    state = login.storage_state()
    login.close()
    context = browser.new_context(
        **device, base_url=url, service_workers="block", storage_state=state
    )
    try:
        page = context.new_page()
        loaded: list[tuple[str, int]] = []

        def done(request) -> None:  # type: ignore[no-untyped-def]
            sizes = request.sizes()
            size = sizes["responseBodySize"] + sizes["responseHeadersSize"]
            loaded.append((request.url.removeprefix(url), size))

        page.on("requestfinished", done)
        page.goto(path, wait_until="networkidle")
        first = list(loaded)
        if not first_exercise:
            return first, []
        page.locator('input[name="pain_before"][value="3"]').check(force=True)
        page.get_by_role("button", name="Start", exact=True).click()
        page.wait_for_function(
            "() => [...document.querySelectorAll('.step.current .figure img')]"
            ".every((i) => i.complete && i.naturalWidth > 0)"
        )
        page.wait_for_load_state("networkidle")
        return first, loaded[len(first) :]
    finally:
        context.close()


def measure() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/demo.sqlite3"})
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            with sqlite_immediate():
                seed_demo(utcnow())
                db.session.commit()
            player = f"/session/{_program_id()}"
        server = start_live_server(app)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=system_chromium(), args=CHROMIUM_ARGS)
                device = {
                    k: v for k, v in p.devices["iPhone 13"].items() if k != "default_browser_type"
                }
                today, _ = load(browser, device, server.url, "/today")
                session, later = load(browser, device, server.url, player, first_exercise=True)
                # The same pages in Spanish (issue 16): longer words and the scripts' words.
                with app.app_context():
                    _set_language("es")
                today_es, _ = load(browser, device, server.url, "/today")
                session_es, _ = load(browser, device, server.url, player)
                browser.close()
        finally:
            server.stop()
    result: dict = {"budget_bytes": BUDGET}
    pages = (
        ("today", today),
        ("player", session),
        ("today_es", today_es),
        ("player_es", session_es),
    )
    for name, loaded in pages:
        total = sum(size for _, size in loaded)
        result[f"{name}_bytes"] = total
        result[f"{name}_kb"] = round(total / 1024, 1)
        result[f"{name}_responses"] = len(loaded)
        result[f"{name}_figure_bytes"] = sum(s for u, s in loaded if u.startswith("/figures/"))
        result[f"{name}_other_origins"] = sum(1 for u, _ in loaded if u.startswith("http"))
    result["player_first_exercise_figure_bytes"] = sum(
        s for u, s in later if u.startswith("/figures/")
    )
    return result


def _set_language(language: str) -> None:
    import sqlalchemy as sa

    from app.auth.models import User

    user = db.session.scalar(sa.select(User).where(User.email == EMAIL))
    with sqlite_immediate():
        user.patient.language = language
        db.session.commit()


def _program_id() -> int:
    import sqlalchemy as sa

    from app.auth.models import User
    from app.patient.models import Patient
    from app.programs.queries import current_program

    patient = db.session.scalar(
        sa.select(Patient).join(User, User.id == Patient.user_id).where(User.email == EMAIL)
    )
    program = current_program(patient)
    assert program is not None
    return program.id


def main() -> None:
    if system_chromium() is None:
        sys.exit("No system Chromium (apt-get install -y chromium).")
    result = measure()
    print(result)
    pages = ("today", "player", "today_es", "player_es")
    assert all(result[f"{page}_bytes"] <= BUDGET for page in pages), result
    from bench.results import record

    record("patient_first_load", result)


if __name__ == "__main__":
    main()
