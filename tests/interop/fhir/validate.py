"""Every resource the server returns is validated with fhir.resources' R4B models."""

from __future__ import annotations

import importlib
import re
from typing import Any


def _module(resource_type: str) -> Any:
    return importlib.import_module(f"fhir.resources.R4B.{resource_type.lower()}")


def validated(resource: dict[str, Any]) -> dict[str, Any]:
    """``resource`` validated (a Bundle's entries each by their own model too)."""
    kind = resource["resourceType"]
    model = getattr(_module(kind), kind)
    model.model_validate(resource)
    for entry in resource.get("entry", []) if kind == "Bundle" else []:
        if "resource" in entry:
            validated(entry["resource"])
        if "outcome" in entry.get("response", {}):
            validated(entry["response"]["outcome"])
    assert re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", resource.get("id", "x")), resource.get("id")
    return resource
