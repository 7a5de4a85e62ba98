"""QR codes as inline SVG (segno; no inline style, so the strict CSP allows them).

The SVG has a viewBox and no fixed size, so CSS sets its size and the whole code scales with
it, quiet zone (segno's 4-module border) included: a fixed 148 px drawing in a 112 px box
used to cut off two of the finder squares on the printed handout.
"""

import segno
from markupsafe import Markup, escape


def qr_svg(data: str, label: str, scale: int = 4) -> Markup:
    code = segno.make(data, error="m")
    svg = code.svg_inline(scale=scale, dark="#000", light="#fff", title=label, omitsize=True)
    # segno escapes the title it writes and the label is escaped here: nothing untrusted is
    # marked safe.
    labelled = svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)
    return Markup(labelled)  # nosec B704
