"""Every resource the server holds for the grown demo clinic, of every type it serves,
meets FHIR R4 and the US Core profiles it claims: one offline batch per backend."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from ketaclinic.interop.fhir import reads
from tests import demo_clinic
from tests.conftest import BACKENDS
from tests.interop.fhir import profiles


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A copy of the demo clinic built once per run (as the tests under tests/demo)."""
    return demo_clinic.copy(request, request.param, tmp_path)


#: Resources of one shape checked (the demo holds thousands of alike vital signs).
PER_SHAPE = 40


def _shape(resource: dict[str, Any]) -> tuple[str, ...]:
    """Type, claimed profiles and code: resources alike but for their values."""
    code = resource.get("code")
    codings = code.get("coding", []) if isinstance(code, dict) else code or []
    codes = [c.get("code", "") for c in codings]
    return (resource["resourceType"], *resource.get("meta", {}).get("profile", []), *codes)


def test_every_resource_of_the_demo_clinic_meets_the_profiles_it_claims(db: Session) -> None:
    # What a system $export writes: each type's resources for every patient; every
    # resource of a shape up to PER_SHAPE of them, every shape there is.
    served = [r for kind in reads.KINDS.values() for r in kind.build(db, None)]
    served += reads.questionnaires()
    kinds = Counter(r["resourceType"] for r in served)
    assert set(kinds) == {*reads.KINDS, "Questionnaire"}, kinds  # a grown clinic
    seen: Counter[tuple[str, ...]] = Counter()
    batch = []
    for resource in served:
        seen[_shape(resource)] += 1
        if seen[_shape(resource)] <= PER_SHAPE:
            batch.append(resource)
    findings = profiles.check(batch)
    assert profiles.failures(findings)[:20] == []
    claimed = {u for r in batch for u in r.get("meta", {}).get("profile", [])}
    checked = {u for f in findings for u in f.checked}
    assert claimed - checked <= profiles.NO_OFFLINE_DEFINITION
