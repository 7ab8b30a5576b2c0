"""What every translator shares: references, instants, codings, quantities."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from ketaclinic.interop.fhir.outcome import FhirError


def ref(resource_type: str, id_: object) -> dict[str, str]:
    return {"reference": f"{resource_type}/{id_}"}


def instant(moment: datetime) -> str:
    """An instant with its zone (stored times are UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def last_updated(*moments: datetime | None) -> str:
    """``meta.lastUpdated``: the latest moment the record behind a resource was written
    or changed (what a Bulk Data ``_since`` compares)."""
    return instant(max(m if m.tzinfo else m.replace(tzinfo=UTC) for m in moments if m))


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    found = {"system": system, "code": code}
    if display:
        found["display"] = display
    return found


def concept(*codings: dict[str, str], text: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if codings:
        found["coding"] = list(codings)
    if text:
        found["text"] = text
    return found


def quantity(value: float | int, unit: str, code: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": code}


def fhir_id(value: str) -> str:
    """Domain keys as FHIR ids ([A-Za-z0-9-.]{1,64}): underscores become hyphens."""
    return value.replace("_", "-")


def local_id(reference: Any, resource_type: str) -> str:
    """The id in ``{"reference": "Type/id"}``, or a FhirError naming the field."""
    text = reference.get("reference") if isinstance(reference, dict) else None
    if not isinstance(text, str) or "/" not in text:
        raise FhirError(f"expected a reference to a {resource_type}", status=400)
    kind, _, id_ = text.rpartition("/")
    if kind.rsplit("/", 1)[-1] != resource_type or not id_:
        raise FhirError(f"{text!r} is not a reference to a {resource_type}", status=400)
    return id_


def parse_instant(value: Any, what: str) -> datetime:
    if not isinstance(value, str):
        raise FhirError(f"{what} must be a dateTime", status=400)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FhirError(f"{what}: {value!r} is not a dateTime", status=400) from None
    if parsed.tzinfo is None:
        raise FhirError(f"{what} must carry a time zone", status=400)
    return parsed


def parse_date(value: Any, what: str) -> date:
    if not isinstance(value, str):
        raise FhirError(f"{what} must be a date", status=400)
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise FhirError(f"{what}: {value!r} is not a date", status=400) from None
