"""The export Bundle passes an independent FHIR R4 validator, which does catch broken ones.

`tools/fhir-validator/validate.mjs` (Node) checks the R4 StructureDefinitions and invariants,
the official R4 JSON Schema, required value sets and references (issue 15). Its packages come
from `npm ci --prefix tools/fhir-validator`; without Node or them the test skips on a laptop
and fails in CI.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from app.export.fhir import build_bundle
from app.export.records import AdherenceRecord, ExportRecords, PatientRecord
from tests.conftest import skip_or_fail
from tests.unit.test_fhir_bundle import BASE, GENERATED, sample_records

VALIDATOR = Path(__file__).resolve().parents[2] / "tools" / "fhir-validator"
SCRIPT = VALIDATOR / "validate.mjs"
MIN_NODE = (20, 19)

Bundle = dict[str, Any]


def node_or_skip() -> str:
    node = shutil.which("node")
    if node is None:
        skip_or_fail("no node found: the FHIR validator needs Node.js ≥ 20.19")
    assert node is not None
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
    found = tuple(int(part) for part in version.stdout.strip().lstrip("v").split(".")[:2])
    if found < MIN_NODE:
        skip_or_fail(f"node {version.stdout.strip()} is older than the validator needs (20.19)")
    if not (VALIDATOR / "node_modules" / "@medplum" / "core").is_dir():
        skip_or_fail("FHIR validator packages missing: run npm ci --prefix tools/fhir-validator")
    return node


def entry(bundle: Bundle, resource_type: str, n: int = 0) -> dict[str, Any]:
    found = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type
    ]
    return found[n]


def pain(bundle: Bundle) -> dict[str, Any]:
    return next(
        resource
        for resource in (e["resource"] for e in bundle["entry"])
        if resource["resourceType"] == "Observation" and "valueInteger" in resource
    )


def drop_status(bundle: Bundle) -> None:
    del pain(bundle)["status"]


def value_as_text(bundle: Bundle) -> None:
    pain(bundle)["valueInteger"] = "4"


def day_spelled_out(bundle: Bundle) -> None:
    detail = entry(bundle, "CarePlan")["activity"][0]["detail"]
    detail["scheduledTiming"]["repeat"]["dayOfWeek"] = ["monday"]


def dangling_subject(bundle: Bundle) -> None:
    pain(bundle)["subject"]["reference"] = "urn:uuid:00000000-0000-5000-8000-000000000000"


def flag_about_an_observation(bundle: Bundle) -> None:
    observation_url = next(
        e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
    )
    entry(bundle, "Flag")["subject"]["reference"] = observation_url


def value_and_absent_reason(bundle: Bundle) -> None:
    pain(bundle)["dataAbsentReason"] = {"text": "not asked"}


def empty_note(bundle: Bundle) -> None:
    pain(bundle)["note"][0]["text"] = ""


def unknown_element(bundle: Bundle) -> None:
    entry(bundle, "Patient")["nickname"] = "Ana"


# Each break, and the words the validator must answer with.
BROKEN: dict[str, tuple[Callable[[Bundle], None], str]] = {
    "observation_without_status": (drop_status, r"structure: .*\.status: Missing required"),
    "value_integer_as_text": (value_as_text, r"valueInteger: must be number"),
    "day_of_week_spelled_out": (day_spelled_out, r'terminology: .*dayOfWeek.*"monday"'),
    "dangling_reference": (dangling_subject, r"references: .*does not resolve"),
    "flag_about_an_observation": (
        flag_about_an_observation,
        r'Invalid reference: got "Observation"',
    ),
    "value_with_absent_reason": (value_and_absent_reason, r"Constraint obs-6 not met"),
    "empty_string": (empty_note, r"note\[0\]\.text: must match pattern"),
    "unknown_element": (unknown_element, r"additional propert"),
}


def valid_bundles() -> dict[str, Bundle]:
    records = sample_records()
    unknown = AdherenceRecord(None, date(2026, 1, 20), date(2026, 2, 2), GENERATED)
    return {
        "full": build_bundle(records, base_url=BASE, generated_at=GENERATED),
        "patient_only": build_bundle(
            ExportRecords(patient=PatientRecord(9, "New Patient")),
            base_url=BASE,
            generated_at=GENERATED,
        ),
        "adherence_unknown": build_bundle(
            dataclasses.replace(records, adherence=unknown), base_url=BASE, generated_at=GENERATED
        ),
    }


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[bool, str]]:
    """Run the validator once over every bundle; return name → (valid, its messages)."""
    node = node_or_skip()
    folder = tmp_path_factory.mktemp("fhir")
    bundles = valid_bundles()
    for name, (breaker, _expected) in BROKEN.items():
        broken = copy.deepcopy(bundles["full"])
        breaker(broken)
        bundles[f"broken_{name}"] = broken
    paths = {}
    for name, bundle in bundles.items():
        paths[name] = folder / f"{name}.json"
        paths[name].write_text(json.dumps(bundle), encoding="utf-8")
    result = subprocess.run(
        [node, str(SCRIPT), *map(str, paths.values())],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode in {0, 1}, result.stderr
    output = result.stdout + result.stderr
    found: dict[str, tuple[bool, str]] = {}
    for name, path in paths.items():
        lines = [line for line in output.splitlines() if str(path) in line]
        valid = any(line.startswith(f"valid {path}:") for line in lines)
        invalid = any(line.startswith(f"INVALID {path}:") for line in lines)
        assert valid != invalid, f"no verdict for {name}:\n{output}"
        found[name] = (valid, "\n".join(lines))
    return found


@pytest.mark.parametrize("name", ["full", "patient_only", "adherence_unknown"])
def test_exported_bundle_passes_the_independent_r4_validator(
    verdicts: dict[str, tuple[bool, str]], name: str
) -> None:
    valid, messages = verdicts[name]

    assert valid, messages


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_validator_rejects_a_deliberately_broken_bundle(
    verdicts: dict[str, tuple[bool, str]], name: str
) -> None:
    valid, messages = verdicts[f"broken_{name}"]

    assert not valid
    assert re.search(BROKEN[name][1], messages), messages


def test_validator_exits_non_zero_with_its_messages(tmp_path: Path) -> None:
    node = node_or_skip()
    bundle = build_bundle(sample_records(), base_url=BASE, generated_at=GENERATED)
    drop_status(bundle)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")

    result = subprocess.run(
        [node, str(SCRIPT), str(path)], capture_output=True, text=True, timeout=120, check=False
    )

    assert result.returncode == 1
    assert "Missing required property" in result.stderr
    assert f"INVALID {path}: " in result.stderr
