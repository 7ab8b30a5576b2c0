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
