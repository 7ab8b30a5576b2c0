"""Which requests a scoped API token permits (``platform.auth.scope_permits``)."""

from __future__ import annotations

import pytest

from ketaclinic.platform.auth import scope_permits


@pytest.mark.parametrize(
    ("scopes", "method", "path", "permitted"),
    [
        ({"fhir.read"}, "GET", "/fhir/Patient/1", True),
        ({"fhir.read"}, "POST", "/fhir/QuestionnaireResponse", False),
        ({"fhir.write"}, "POST", "/fhir/QuestionnaireResponse", True),
        ({"fhir.read"}, "GET", "/fhir/$export", False),
        ({"fhir.export"}, "GET", "/fhir/$export", True),
        ({"fhir.export"}, "GET", "/fhir/_bulk/3/Patient.ndjson", True),
        ({"fhir.export"}, "DELETE", "/fhir/_bulk/3", True),
        ({"fhir.export"}, "GET", "/fhir/Patient/1", False),
        ({"fhir.read", "fhir.write", "fhir.export"}, "GET", "/api/patients/1", False),
        ({"fhir.read"}, "GET", "/fhirish/Patient", False),
    ],
)
def test_scoped_tokens_serve_the_fhir_interface_only(
    scopes: set[str], method: str, path: str, permitted: bool
) -> None:
    assert scope_permits(frozenset(scopes), method, path) is permitted
