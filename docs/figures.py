"""Draw the contact sheet of every built-in exercise figure, in the system Chromium.

Run with `.venv/bin/python docs/figures.py`: it renders each exercise's start and end frames with
its name into one HTML page and saves a screenshot as docs/figures.png (issue 11: review it for
anatomical plausibility). `--animated` adds a column of the moving figure, captured mid-move.
"""

from __future__ import annotations

import argparse
import html
import json
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.figures import builtin_figure, render_figure  # noqa: E402

CONTENT = ROOT / "app" / "content" / "low_back_core_stability.json"
OUT = ROOT / "docs" / "figures.png"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STYLE = """
body{margin:12px;font:13px/1.3 system-ui,sans-serif;color:#1f2a37;background:#fff}
h1{font-size:16px;margin:0 0 8px}
main{display:grid;grid-template-columns:repeat(COLUMNS,auto);gap:10px 18px}
section{border-top:1px solid #d5dbe3;padding-top:4px}
h2{font-size:13px;margin:0 0 2px;font-weight:600}
p{margin:0 0 2px;color:#5b6776;font-size:11px}
.frames{display:flex;gap:4px}
img,iframe{width:WIDTHpx;height:auto;border:1px solid #e4e8ee;border-radius:4px}
"""


def exercises() -> list[dict]:
    """Return the built-in exercises in the content file's order."""
    return json.loads(CONTENT.read_text(encoding="utf-8"))["exercises"]


def page(
    width: int, columns: int, animated: bool, dark: bool = False, only: tuple[str, ...] = ()
) -> str:
    """Write the contact sheet: per exercise its name, start and end frames (as data URIs)."""
    cells = []
    for exercise in exercises():
        if only and exercise["slug"] not in only:
            continue
        spec = builtin_figure(exercise["slug"])
        if spec is None:
            cells.append(f"<section><h2>{html.escape(exercise['name'])}</h2>no figure</section>")
            continue
        frames = [render_figure(spec, frame="start"), render_figure(spec, frame="end")]
        images = "".join(f'<img alt="" src="{_data_uri(svg)}">' for svg in frames)
        if animated:
            moving = render_figure(spec)
            frames.append(moving)
            # the moving figure, paused halfway through the move out (docs: main() seeks it)
            halfway = spec.pause_seconds if spec.hold == "end" else spec.hold_seconds
            halfway += spec.tempo_seconds / 2
            doc = f"<style>body{{margin:0}}svg{{width:100%;height:auto}}</style>{moving}"
            images += (
                f'<iframe name="seek-{halfway}" srcdoc="{html.escape(doc)}"'
                f' style="width:{width}px;height:{round(width * 2 / 3) + 4}px"></iframe>'
            )
        sizes = " · ".join(f"{len(svg.encode())} B" for svg in frames)
        cells.append(
            f"<section><h2>{html.escape(exercise['name'])}</h2>"
            f"<p>{html.escape(exercise['slug'])} · {sizes}</p>"
            f'<div class="frames">{images}</div></section>'
        )
    style = STYLE.replace("COLUMNS", str(columns)).replace("WIDTH", str(width))
    if dark:
        style += "body{background:#12171d;color:#e6ebf1}img{border-color:#2a323c}"
    title = "Homestretch exercise figures: start and end frames" + (
        ", then moving" if animated else ""
    )
    return (
        f'<!doctype html><html lang="en"><meta charset="utf-8"><title>{title}</title>'
        f"<style>{style}</style><h1>{title}</h1><main>{''.join(cells)}</main></html>"
    )


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml," + quote(svg)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--width", type=int, default=150, help="width of each frame in px")
    parser.add_argument("--columns", type=int, default=4)
    parser.add_argument("--animated", action="store_true", help="add the moving figure")
    parser.add_argument("--dark", action="store_true", help="render in dark mode")
    parser.add_argument("--reduced-motion", action="store_true")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before the shot")
    parser.add_argument("--only", default="", help="comma-separated slugs to draw")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sheet = Path(tmp) / "figures.html"
        sheet.write_text(
            page(
                args.width,
                args.columns,
                args.animated,
                args.dark,
                tuple(filter(None, args.only.split(","))),
            ),
            "utf-8",
        )
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            context = browser.new_context(
                viewport={"width": 1200, "height": 800},
                device_scale_factor=1,
                color_scheme="dark" if args.dark else "light",
                reduced_motion="reduce" if args.reduced_motion else "no-preference",
            )
            view = context.new_page()
            view.goto(sheet.as_uri())
            for frame in view.frames:
                if frame.name.startswith("seek-"):
                    seconds = float(frame.name.removeprefix("seek-"))
                    frame.evaluate(
                        "(ms) => document.getAnimations().forEach("
                        "a => { a.pause(); a.currentTime = ms; })",
                        seconds * 1000,
                    )
            if args.delay:
                view.wait_for_timeout(args.delay * 1000)
            view.screenshot(path=str(args.out), full_page=True)
            browser.close()
    print(f"Contact sheet saved in {args.out}")


if __name__ == "__main__":
    main()
