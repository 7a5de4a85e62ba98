"""Write benchmark results into bench/RESULTS.md (one section per benchmark, replaced on rerun)."""

from __future__ import annotations

import json
import os
import platform
import re
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
DATA = Path(__file__).resolve().parent / "results.json"


def record(name: str, result: dict) -> None:
    data = json.loads(DATA.read_text()) if DATA.exists() else {}
    result = {
        **result,
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.machine()}",
    }
    data[name] = result
    DATA.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    lines = [
        "# Benchmark results",
        "",
        "Written by the scripts in `bench/` (`make bench`); numbers are from the machine named in",
        "each section. Budgets are in DESIGN §5.",
        "",
    ]
    for key in sorted(data):
        lines.append(f"## {key}")
        lines.append("")
        for field, value in data[key].items():
            lines.append(f"- {field}: {value}")
        lines.append("")
    RESULTS.write_text(re.sub(r"\n{3,}", "\n\n", "\n".join(lines)))
