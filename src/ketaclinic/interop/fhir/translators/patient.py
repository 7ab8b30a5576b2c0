"""Patient <-> the patients area's record (demographics and MRN)."""

from __future__ import annotations

from typing import Any

from ketaclinic.interop.fhir import codes
from ketaclinic.interop.fhir.translators.common import coding, concept, instant

PROFILE = codes.US_CORE + "us-core-patient"
# Administrative gender (FHIR R4 required binding): the clinic records these words.
_GENDER = {"female": "female", "male": "male", "other": "other", "unknown": "unknown"}


def to_fhir(patient: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(patient.id),
        "meta": {"profile": [PROFILE], "lastUpdated": instant(patient.updated_at)},
        "identifier": [
            {
                "use": "usual",
                "type": concept(coding(codes.MRN_TYPE, "MR", "Medical record number")),
                "system": codes.MRN_SYSTEM,
                "value": patient.mrn,
            }
        ],
        "name": [{"use": "official", "family": patient.family_name, "given": [patient.given_name]}],
        "gender": _GENDER.get(str(patient.sex).lower(), "unknown"),
        "birthDate": patient.date_of_birth.isoformat(),
    }
    telecom = []
    if patient.phone:
        telecom.append({"system": "phone", "value": patient.phone})
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    if telecom:
        resource["telecom"] = telecom
    if patient.address:
        resource["address"] = [{"text": patient.address}]
    if patient.emergency_contact_name:
        contact: dict[str, Any] = {"name": {"text": patient.emergency_contact_name}}
        if patient.emergency_contact_phone:
            contact["telecom"] = [{"system": "phone", "value": patient.emergency_contact_phone}]
        if patient.emergency_contact_relation:
            contact["relationship"] = [concept(text=patient.emergency_contact_relation)]
        resource["contact"] = [contact]
    return resource


def mrn_of(resource: dict[str, Any]) -> str | None:
    """The clinic's own MRN, if the sender echoes one of ours."""
    for identifier in resource.get("identifier") or []:
        if identifier.get("system") == codes.MRN_SYSTEM and identifier.get("value"):
            return str(identifier["value"])
    return None


def from_fhir(resource: dict[str, Any]) -> dict[str, Any]:
    """The demographics a new patient record takes from a Patient (PatientIn's fields);
    the sender's identifiers are not our MRNs, so a new record gets a new MRN."""
    names = resource.get("name") or [{}]
    name = next((n for n in names if n.get("use") == "official"), names[0])
    telecom = {t.get("system"): t.get("value") for t in resource.get("telecom") or []}
    address = (resource.get("address") or [{}])[0]
    lines = address.get("text") or ", ".join(
        [
            *address.get("line", []),
            *(address.get(k) for k in ("city", "state", "postalCode") if address.get(k)),
        ]
    )
    gender = resource.get("gender")
    return {
        "given_name": " ".join(name.get("given") or [])[:100],
        "family_name": str(name.get("family") or "")[:100],
        "date_of_birth": resource.get("birthDate"),
        "sex": gender if gender in _GENDER else "unknown",
        "mrn": mrn_of(resource),
        "phone": telecom.get("phone"),
        "email": telecom.get("email"),
        "address": lines or None,
    }
