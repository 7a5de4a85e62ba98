"""Take the README screenshots from the demo clinic, in the system Chromium.

Run with `make screenshots`: it seeds a throwaway SQLite database, serves it on a free local
port, and saves PNGs in docs/screenshots/. Name shots to take only those
(`python docs/screenshots.py player-figure-phone`).
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.db import sqlite_immediate, utcnow  # noqa: E402
from app.demo import DEMO_PASSWORD, seed_demo  # noqa: E402
from app.extensions import db  # noqa: E402
from tests.conftest import CHROMIUM_ARGS, start_live_server, system_chromium  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def main(only: set[str]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/demo.sqlite3"})
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            with sqlite_immediate():
                seed_demo(utcnow())
                db.session.commit()
            paths = demo_paths()
        server = start_live_server(app)
        app.config["PUBLIC_BASE_URL"] = server.url
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=system_chromium(), args=CHROMIUM_ARGS)
                url = server.url

                def shoot(*args, **kwargs) -> None:  # type: ignore[no-untyped-def]
                    if not only or args[-1] in only:
                        take(*args, **kwargs)

                shoot(
                    browser,
                    url,
                    p.devices["iPhone 13"],
                    "maria@example.com",
                    "/today",
                    "today-phone",
                )
                phone = p.devices["iPhone SE"]
                shoot(browser, url, phone, "maria@example.com", paths["player"], "player-phone")
                shoot(
                    browser,
                    url,
                    p.devices["iPhone 13"],
                    "maria@example.com",
                    paths["player"],
                    "player-figure-phone",
                    then=first_exercise,
                )
                desktop = {"viewport": {"width": 1280, "height": 760}}
                shoot(browser, url, desktop, "alex@example.com", "/caseload/", "caseload-desktop")
                shoot(browser, url, desktop, "alex@example.com", "/alerts/", "alerts-desktop")
                shoot(
                    browser, url, desktop, "alex@example.com", paths["builder"], "builder-desktop"
                )
                shoot(
                    browser, url, desktop, "alex@example.com", paths["referral"], "referral-desktop"
                )
                # The same patient's /today in Spanish (issue 16): her account's language.
                with app.app_context():
                    set_language_of("maria@example.com", "es")
                shoot(
                    browser,
                    url,
                    p.devices["iPhone 13"],
                    "maria@example.com",
                    "/today",
                    "today-phone-es",
                )
                browser.close()
        finally:
            server.stop()
    print(f"Screenshots saved in {OUT}")


def demo_paths() -> dict[str, str]:
    """Pages of the demo clinic to show: Maria's player, a program, and a referral letter made
    for the patient whose pain did not respond at six weeks."""
    import sqlalchemy as sa

    from app.alerts.models import Alert
    from app.alerts.services import ReferralData, resolve_alert
    from app.auth.models import User
    from app.enums import AlertKind
    from app.patient.models import Patient
    from app.programs.queries import current_program

    def program_of(email: str) -> int:
        patient = db.session.scalar(
            sa.select(Patient).join(User, User.id == Patient.user_id).where(User.email == email)
        )
        program = current_program(patient)
        assert program is not None, email
        return program.id

    alert = db.session.scalar(sa.select(Alert).where(Alert.kind == AlertKind.NON_RESPONSE_6W))
    assert alert is not None, "the demo clinic has a patient with no response at six weeks"
    therapist = alert.patient.therapist
    with sqlite_immediate():
        resolve_alert(
            alert,
            "referred",
            "Discussed imaging and injection options with the patient.",
            by=therapist,
            now=utcnow(),
            referral=ReferralData(
                "Dr Lee, interventional pain clinic", "Pain persists at 6/10 despite exercise"
            ),
        )
        db.session.commit()
    from app.alerts.models import Referral

    referral = db.session.scalar(sa.select(Referral))
    return {
        "player": f"/session/{program_of('maria@example.com')}",
        "builder": f"/programs/{program_of('maria@example.com')}",
        "referral": f"/alerts/referrals/{referral.id}",
    }


def set_language_of(email: str, language: str) -> None:
    import sqlalchemy as sa

    from app.auth.models import User

    user = db.session.scalar(sa.select(User).where(User.email == email))
    with sqlite_immediate():
        user.patient.language = language
        db.session.commit()


def first_exercise(page: Page) -> None:
    """The player's first exercise screen: its moving figure beside the running hold timer."""
    page.get_by_role("group", name=re.compile("right now")).get_by_role(
        "radio", name=re.compile("^3 ")
    ).check()
    page.get_by_role("button", name="Start", exact=True).click()
    step = page.locator("section.step.current")
    while step.locator(".timer .button-primary").inner_text() not in {"Start hold", "Start"}:
        step.get_by_role("radio", name="Skipped").check()  # to the first exercise with a timer
        step.locator(".nav-buttons .button-primary").click()
        step = page.locator("section.step.current")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.step.current .figure img')]"
        ".every((i) => i.complete && i.naturalWidth > 0)"
    )
    step.locator(".timer .button-primary").click()
    page.wait_for_timeout(1500)  # a moment into the movement and the count


def take(
    browser: Browser,
    url: str,
    profile: dict,
    email: str,
    path: str,
    name: str,
    then: Callable[[Page], None] | None = None,
) -> None:
    profile = {k: v for k, v in profile.items() if k != "default_browser_type"}
    context = browser.new_context(**profile, base_url=url)
    page = context.new_page()
    page.goto("/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(path)
    if then is not None:
        then(page)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=False)
    context.close()


if __name__ == "__main__":
    main(set(sys.argv[1:]))
