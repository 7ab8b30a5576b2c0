"""The CapabilityStatement: exactly what this server does, and what it does not
(SMART on FHIR authorization, XML, writes other than those listed)."""

from __future__ import annotations

from typing import Any

from ketaclinic.interop.fhir import codes
from ketaclinic.interop.fhir.reads import INCLUDES, KINDS, PARAMS
from ketaclinic.interop.fhir.translators import (
    condition,
    encounter,
    patient,
    questionnaire_response,
)
from ketaclinic.interop.fhir.translators import questionnaire as questionnaire_translator

_TYPES = {
    "_id": "token",
    "identifier": "token",
    "name": "string",
    "family": "string",
    "given": "string",
    "birthdate": "date",
    "patient": "reference",
    "subject": "reference",
    "category": "token",
    "code": "token",
    "date": "date",
    "authored": "date",
    "effective-time": "date",
    "questionnaire": "reference",
    "url": "uri",
}
_PROFILES = {
    "Patient": [patient.PROFILE],
    "Observation": sorted({v.profile for v in codes.VITALS.values()} | {codes.SCREENING_PROFILE}),
    "QuestionnaireResponse": [questionnaire_response.PROFILE],
    "Questionnaire": [questionnaire_translator.SDC_PROFILE],
    "Condition": [condition.PROFILE],
    "Encounter": [encounter.PROFILE],
    "AllergyIntolerance": [codes.US_CORE + "us-core-allergyintolerance"],
}
#: Writes served, per type (``create`` = POST /fhir/{type}).
WRITES = {"QuestionnaireResponse": ("create",)}
SECURITY = (
    "Bearer API tokens of ketaclinic accounts (Authorization: Bearer kc_...), issued by "
    "an administrator; a token may be limited to FHIR reads, to one patient, or to bulk "
    "export. The account's roles apply as everywhere in ketaclinic, and every read of "
    "patient data is audited. SMART on FHIR (OAuth2 launch, scopes, "
    ".well-known/smart-configuration) is NOT supported. No CORS."
)


def capability_statement(*, base: str, version: str, now: str, extra: Any = None) -> dict[str, Any]:
    resources = []
    for resource_type in [*KINDS, "Questionnaire"]:
        entry: dict[str, Any] = {
            "type": resource_type,
            "interaction": [{"code": "read"}, {"code": "search-type"}]
            + [{"code": c} for c in WRITES.get(resource_type, ())],
            "versioning": "no-version",
            "readHistory": False,
            "updateCreate": False,
            "searchParam": [{"name": name, "type": _TYPES[name]} for name in PARAMS[resource_type]],
        }
        if resource_type in _PROFILES:
            entry["supportedProfile"] = _PROFILES[resource_type]
        if resource_type in INCLUDES:
            entry["searchInclude"] = list(INCLUDES[resource_type])
        resources.append(entry)
    rest: dict[str, Any] = {
        "mode": "server",
        "documentation": "Search also takes _count (at most 500) with next/previous links. "
        "Unknown search parameters are refused (400) rather than ignored.",
        "security": {"cors": False, "description": SECURITY},
        "resource": resources,
        "interaction": [
            {
                "code": "transaction",
                "documentation": "POST /fhir with a transaction or collection Bundle of one "
                "patient's record (Patient, Condition, MedicationStatement/MedicationRequest, "
                "vital-sign Observations, AllergyIntolerance): imported all-or-nothing into "
                "a new or matched patient; ?dry-run=true only reports. The response is a "
                "transaction-response Bundle with each entry's outcome.",
            }
        ],
        "operation": [
            {
                "name": "everything",
                "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
            },
            {
                "name": "export",
                "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
                "documentation": "Bulk Data at system (/$export), patient (/Patient/$export) "
                "and group (/Group/{active-course|any-course}/$export) level: 202 with "
                "Content-Location, poll for the manifest, NDJSON files for the same client, "
                "DELETE to discard. _type, _since (resources whose meta.lastUpdated is "
                "later) and _outputFormat=application/fhir+ndjson only. Files expire after "
                "the clinic's retention (Expires header; 410 Gone after); a failing export "
                "is retried a few times, then polling answers 500 with an OperationOutcome. "
                "A researcher's export is de-identified (HIPAA Safe Harbor).",
            },
        ],
    }
    if extra:
        rest.update(extra)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": now,
        "kind": "instance",
        "software": {"name": "ketaclinic", "version": version},
        "implementation": {"description": "ketaclinic FHIR R4 interface", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "implementationGuide": ["http://hl7.org/fhir/us/core/ImplementationGuide/hl7.fhir.us.core"],
        "rest": [rest],
    }
