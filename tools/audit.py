"""Supply-chain checks for CI: bandit on the code, pip-audit on the pinned dependencies.

bandit fails on any finding of medium severity or more (low ones, such as type-narrowing
asserts, are listed in the README). pip-audit fails on any known vulnerability; when no
vulnerability database can be reached from the machine (this project's CI machine reaches only
package indexes), it says so plainly and does not pass that off as "no vulnerabilities".
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
UNREACHABLE = "Dependency not found on PyPI and could not be audited"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)


def main() -> int:
    bandit = run(str(BIN / "bandit"), "-q", "-r", "app", "--severity-level", "medium")
    print(bandit.stdout or "bandit: no finding of medium or high severity in app/")
    if bandit.returncode != 0:
        print(bandit.stderr, file=sys.stderr)
        return 1
    pinned = [
        line
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    audit = run(
        str(BIN / "pip-audit"),
        "--progress-spinner",
        "off",
        "--no-deps",
        "--disable-pip",
        "--desc",
        "-r",
        "constraints.txt",
    )
    output = audit.stdout + audit.stderr
    unreachable = [line for line in output.splitlines() if UNREACHABLE in line]
    if len(unreachable) * 2 > len(pinned):
        print(
            "pip-audit: NOT CHECKED — no vulnerability database is reachable from this machine "
            f"({len(unreachable)} pinned packages could not be looked up). Run `make audit` "
            "where pypi.org's JSON API or api.osv.dev can be reached."
        )
        return 0
    print(output)
    return audit.returncode


if __name__ == "__main__":
    sys.exit(main())
