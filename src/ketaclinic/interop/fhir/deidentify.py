"""HIPAA Safe Harbor de-identification of exported resources (45 CFR 164.514(b)(2)):
no names, identifiers (MRNs), contact details or free text; every id and reference
pseudonymised with a keyed hash; every date shifted by a per-patient offset (the same
for all of one patient's resources, so intervals survive); a birth date kept as its
shifted year only, and none at all above 89 years (ages over 89 are grouped as 90+).

The offset and the pseudonyms come from the clinic's secret key: they cannot be undone
without it, and the same patient gets the same ones in every export.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime, timedelta
from typing import Any

from ketaclinic.clinical.instruments import Source

SAFE_HARBOR = Source(
    citation="45 CFR 164.514(b)(2) (HIPAA Privacy Rule, Safe Harbor method): remove the 18 "
    "identifiers, all elements of dates except the year, and ages over 89 (aggregated "
    "into 90 or older)",
    evidence="confirmed",
)
#: Dates move by up to this many days either way (a convention of de-identification
#: practice: enough to break a link to a visit date, small enough for seasonality).
SHIFT_DAYS = 182
SHIFT_SOURCE = Source("date shifting within +/- 6 months per patient", "convention")
OLDEST_AGE = 89
AGE_GROUP = "urn:ketaclinic:age-group"
OLDEST_GROUP = "90 or older"
_DATE_ELEMENTS = {
    "effectiveDateTime",
    "authored",
    "recordedDate",
    "dateAsserted",
    "start",
    "end",
    "onsetDateTime",
    "issued",
}
_DROPPED = {"name", "identifier", "telecom", "address", "contact", "note", "text", "meta"}


def _digest(key: bytes, what: str) -> str:
    return hmac.new(key, what.encode(), hashlib.sha256).hexdigest()


def pseudonym(key: bytes, resource_type: str, id_: str) -> str:
    return _digest(key, f"{resource_type}/{id_}")[:32]


def offset(key: bytes, patient_id: str) -> timedelta:
    span = 2 * SHIFT_DAYS + 1
    return timedelta(days=int(_digest(key, f"shift:{patient_id}")[:8], 16) % span - SHIFT_DAYS)


def _shift(value: str, by: timedelta) -> str:
    if len(value) == 10:
        return (date.fromisoformat(value) + by).isoformat()
    if len(value) in (4, 7):
        return value[:4]
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (moment + by).isoformat(timespec="seconds")


def _walk(value: Any, key: bytes, by: timedelta) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for name, inner in value.items():
            if name in _DROPPED:
                continue
            if name == "reference" and isinstance(inner, str) and "/" in inner:
                kind, _, id_ = inner.rpartition("/")
                out[name] = f"{kind}/{pseudonym(key, kind, id_)}"
            elif name in _DATE_ELEMENTS and isinstance(inner, str):
                out[name] = _shift(inner, by)
            else:
                out[name] = _walk(inner, key, by)
        return out
    if isinstance(value, list):
        return [_walk(inner, key, by) for inner in value]
    return value


def deidentify(
    resource: dict[str, Any], *, patient_id: str, key: bytes, today: date
) -> dict[str, Any]:
    """One resource of the patient ``patient_id``, de-identified."""
    by = offset(key, patient_id)
    kind = resource["resourceType"]
    out = _walk(resource, key, by)
    out["id"] = pseudonym(key, kind, resource["id"])
    if kind == "Patient":
        year = birth_year(date.fromisoformat(resource["birthDate"]), by=by, today=today)
        out.pop("birthDate", None)
        if year is None:
            out["extension"] = [{"url": AGE_GROUP, "valueString": OLDEST_GROUP}]
        else:
            out["birthDate"] = year
    return out


def birth_year(born: date, *, by: timedelta, today: date) -> str | None:
    """The shifted year of birth, or None for a person over 89 (grouped as 90+)."""
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if age > OLDEST_AGE:
        return None
    return str((born + by).year)


def age_group(born: date, *, today: date) -> str:
    """The age in whole years, or the one group of everyone over 89."""
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return OLDEST_GROUP if age > OLDEST_AGE else str(age)
