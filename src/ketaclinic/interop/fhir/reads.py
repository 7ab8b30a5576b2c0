"""Reading the record as FHIR resources: who may read what, one audit row per patient
per request (``audit.note_read`` keeps one per reader and patient), and the search
parameters each resource type supports.

Other areas are read through their services' functions "for an act that audits
itself"; this module is that act: it checks access (``patients.check_patient``: a
patient account, or a token bound to one patient, reaches only that record) and notes
the read before it returns anything.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ketaclinic.candidacy import service as candidacy
from ketaclinic.clinical import instruments
from ketaclinic.controlled import service as controlled
from ketaclinic.interop.fhir import search
from ketaclinic.interop.fhir.outcome import FhirError
from ketaclinic.interop.fhir.translators import (
    allergy_intolerance,
    condition,
    encounter,
    medication_administration,
    medication_statement,
    observation,
    patient,
    questionnaire,
    questionnaire_response,
)
from ketaclinic.interop.fhir.translators.common import fhir_id
from ketaclinic.orders import service as orders
from ketaclinic.outcomes import service as outcomes
from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.errors import NotFound
from ketaclinic.sessions import service as sessions


@dataclass(frozen=True)
class Reader:
    """Who reads: the actor, and the one patient a scoped token (or a patient's own
    account) is limited to."""

    actor: Actor
    only_patient: int | None = None

    @property
    def bound_patient(self) -> int | None:
        if self.only_patient is not None:
            return self.only_patient
        return self.actor.patient_id if self.actor.patient_only else None


Builder = Callable[[Session, Collection[int] | None], list[dict[str, Any]]]


def _patients(db: Session, ids: Collection[int] | None) -> list[dict[str, Any]]:
    return [patient.to_fhir(p) for p in patients.patients_matching(db, ids=ids)]


def _observations(db: Session, ids: Collection[int] | None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for p in patients.patients_matching(db, ids=ids):
        for m in p.measurements:
            if m.entered_in_error_at is None:
                found.extend(observation.from_measurement(p.id, m))
    for reading in sessions.vital_readings(db, patient_ids=ids):
        found.extend(observation.from_reading(reading))
    for stored in outcomes.stored_responses(db, patient_ids=ids):
        found.extend(observation.from_response(stored.response, stored.observations))
    return found


def _responses(db: Session, ids: Collection[int] | None) -> list[dict[str, Any]]:
    return [
        questionnaire_response.to_fhir(s.response)
        for s in outcomes.stored_responses(db, patient_ids=ids)
    ]


def _conditions(db: Session, ids: Collection[int] | None) -> list[dict[str, Any]]:
    return [condition.to_fhir(c) for c in orders.courses_of_patients(db, ids)]


def _medication_statements(db: Session, ids: Collection[int] | None) -> list[dict[str, Any]]:
    return [
        medication_statement.to_fhir(intake, n, med)
        for intake in candidacy.latest_intakes(db, ids).values()
        for n, med in enumerate(intake.medications or [], start=1)
    ]


def _allergies(db: Session, ids: Collection[int] | None) -> list[dict[str, Any]]:
    return [
        allergy_intolerance.to_fhir(intake, n, text)
        for intake in candidacy.latest_intakes(db, ids).values()
        for n, text in enumerate(intake.allergies or [], start=1)
    ]


def _administrations(db: Session, ids: Collection[int] | None) -> list[dict[str, Any]]:
    doses = sessions.doses_given(db, patient_ids=ids)
    drawn = controlled.lots_of_sessions(db, {d.session_id for d in doses})
    return [
        medication_administration.to_fhir(d, _lot(d, drawn.get(d.session_id, []))) for d in doses
    ]


def _lot(dose: Any, drawn: list[tuple[Any, str]]) -> str | None:
    """The ledger lot a dose came from: an infusion's draw; a nasal device's own
    administration (drawn at the device's moment), else the session's one lot."""
    if dose.route == "iv":
        return drawn[0][1] if drawn else None
    at_device = [lot for at, lot in drawn if at == dose.started_at]
    if at_device:
        return at_device[0]
    lots = {lot for _, lot in drawn}
    return lots.pop() if len(lots) == 1 else None


def _encounters(db: Session, ids: Collection[int] | None) -> list[dict[str, Any]]:
    return [encounter.to_fhir(s) for s in sessions.session_records(db, patient_ids=ids)]


#: Each patient-data resource type: how to build a patient's resources, the element
#: that names its patient, its ``date`` element(s), and its categories.
@dataclass(frozen=True)
class Kind:
    build: Builder
    subject: str
    dates: tuple[str, ...]
    has_category: bool = False


KINDS: dict[str, Kind] = {
    "Patient": Kind(_patients, "", ()),
    "Observation": Kind(_observations, "subject", ("effectiveDateTime",), has_category=True),
    "QuestionnaireResponse": Kind(_responses, "subject", ("authored",)),
    "Condition": Kind(_conditions, "subject", ("recordedDate",), has_category=True),
    "MedicationStatement": Kind(_medication_statements, "subject", ("dateAsserted",)),
    "MedicationAdministration": Kind(
        _administrations, "subject", ("effectiveDateTime", "effectivePeriod")
    ),
    "Encounter": Kind(_encounters, "subject", ("period",)),
    "AllergyIntolerance": Kind(_allergies, "patient", ("recordedDate",)),
}
#: Search parameters per type (beyond ``_count``, ``_offset``, ``_include``).
PARAMS: dict[str, tuple[str, ...]] = {
    "Patient": ("_id", "identifier", "name", "family", "given", "birthdate"),
    "Observation": ("_id", "patient", "subject", "category", "code", "date"),
    "QuestionnaireResponse": ("_id", "patient", "subject", "questionnaire", "authored"),
    "Condition": ("_id", "patient", "subject", "category", "code"),
    "MedicationStatement": ("_id", "patient", "subject"),
    "MedicationAdministration": ("_id", "patient", "subject", "effective-time"),
    "Encounter": ("_id", "patient", "subject", "date"),
    "AllergyIntolerance": ("_id", "patient"),
    "Questionnaire": ("_id", "url", "code"),
}
#: ``_include`` values served (each one cheap: the referenced resources of the page).
INCLUDES: dict[str, dict[str, str]] = {
    "Observation": {
        "Observation:patient": "Patient",
        "Observation:subject": "Patient",
        "Observation:derived-from": "QuestionnaireResponse",
    },
    "QuestionnaireResponse": {
        "QuestionnaireResponse:patient": "Patient",
        "QuestionnaireResponse:subject": "Patient",
        "QuestionnaireResponse:questionnaire": "Questionnaire",
    },
    "Condition": {"Condition:patient": "Patient", "Condition:subject": "Patient"},
    "MedicationStatement": {"MedicationStatement:patient": "Patient"},
    "MedicationAdministration": {
        "MedicationAdministration:patient": "Patient",
        "MedicationAdministration:context": "Encounter",
    },
    "Encounter": {"Encounter:patient": "Patient", "Encounter:subject": "Patient"},
    "AllergyIntolerance": {"AllergyIntolerance:patient": "Patient"},
}


def _note(db: Session, reader: Reader, patient_ids: Collection[int], what: str) -> None:
    for pid in sorted(set(patient_ids)):
        audit.note_read(
            db,
            actor=reader.actor,
            action="fhir.read",
            patient_id=pid,
            object_type="fhir",
            detail=what[:200],
        )
    db.flush()


def _allowed(db: Session, reader: Reader, patient_id: int) -> None:
    """An unknown patient, or one the reader may not reach, is the same 404."""
    bound = reader.bound_patient
    if bound is not None and bound != patient_id:
        raise NotFound("no such patient")
    patients.check_patient(db, actor=reader.actor, patient_id=patient_id)


def _patient_of(reference: str) -> int:
    tail = reference.rsplit("/", 1)[-1] if "/" in reference else reference
    if reference.count("/") and not reference.rsplit("/", 2)[-2] == "Patient":
        raise FhirError(f"patient: {reference!r} is not a Patient reference", status=400)
    if not tail.isdigit() or len(tail) > 18:
        raise NotFound(f"no patient {tail!r}")
    return int(tail)


def _owner(db: Session, resource_type: str, id_: str) -> int | None:
    """The patient a resource id belongs to, or None (unknown id)."""
    head, _, rest = id_.partition("-")
    if resource_type in ("Patient",):
        return int(id_) if id_.isdigit() else None
    if resource_type == "Observation":
        matched = observation.ID_PATTERN.match(id_)
        if not matched:
            return None
        number = int(matched.group(2))
        if matched.group(1) == "vs":
            found = sessions.vital_readings(db, ids=[number])
            return found[0].patient_id if found else None
        if matched.group(1) == "bm":
            return patients.measurement_patient(db, number)
        stored = outcomes.stored_responses(db, ids=[number])
        return stored[0].response.patient_id if stored else None
    if not head.isdigit() or len(head) > 18:
        return None
    number = int(head)
    if resource_type == "QuestionnaireResponse":
        stored = outcomes.stored_responses(db, ids=[number])
        return stored[0].response.patient_id if stored else None
    if resource_type == "Condition":
        courses = orders.courses_of_patients(db, ids=[number])
        return courses[0].patient_id if courses else None
    if resource_type in ("MedicationStatement", "AllergyIntolerance"):
        return candidacy.intake_patient(db, number)
    if resource_type in ("MedicationAdministration", "Encounter"):
        held = sessions.session_records(db, ids=[number])
        return held[0].patient_id if held else None
    return None


def questionnaires() -> list[dict[str, Any]]:
    return [questionnaire.to_fhir(i) for i in instruments.all()]


def read(db: Session, reader: Reader, resource_type: str, id_: str) -> dict[str, Any]:
    """One resource by id; an unknown id, or one the reader may not reach, is a 404."""
    if resource_type == "Questionnaire":
        for found in questionnaires():
            if found["id"] == id_:
                return found
        raise NotFound(f"no Questionnaire {id_!r}")
    kind = KINDS[resource_type]
    owner = _owner(db, resource_type, id_)
    if owner is None:
        raise NotFound(f"no {resource_type} {id_!r}")
    _allowed(db, reader, owner)
    for found in kind.build(db, [owner]):
        if found["id"] == id_:
            _note(db, reader, [owner], f"{resource_type}/{id_}")
            return found
    raise NotFound(f"no {resource_type} {id_!r}")


def _dates(resource: dict[str, Any], elements: tuple[str, ...]) -> tuple[Any, Any] | None:
    for element in elements:
        value = resource.get(element)
        if isinstance(value, str):
            at = search.moment(value)
            return at, at
        if isinstance(value, dict) and value.get("start"):
            start = search.moment(value["start"])
            return start, search.moment(value["end"]) if value.get("end") else None
    return None


def _filter(
    resource_type: str, resources: list[dict[str, Any]], params: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    kind = KINDS.get(resource_type)
    kept = resources
    for name, value in params:
        if name == "_id":
            kept = [r for r in kept if r["id"] in value.split(",")]
        elif name == "code":
            kept = [r for r in kept if _codes_match(r, value)]
        elif name == "category":
            kept = [
                r
                for r in kept
                if search.token_matches(
                    value, [c for cat in r.get("category", []) for c in cat.get("coding", [])]
                )
            ]
        elif name in ("date", "authored", "effective-time") and kind is not None:
            bound = search.parse_date(value)
            kept = [
                r
                for r in kept
                if (span := _dates(r, kind.dates)) is not None and bound.admits(*span)
            ]
        elif name == "questionnaire":
            kept = [r for r in kept if r.get("questionnaire") == value.split("|", 1)[0]]
        elif name == "url":
            kept = [r for r in kept if r.get("url") == value.split("|", 1)[0]]
    return kept


def _codes_match(resource: dict[str, Any], value: str) -> bool:
    code = resource.get("code")
    if isinstance(code, list):  # Questionnaire.code
        return search.token_matches(value, code)
    return search.token_matches(value, (code or {}).get("coding", []))


def _patient_params(db: Session, params: list[tuple[str, str]]) -> list[int] | None:
    ids: list[int] | None = None
    for name, value in params:
        if name in ("identifier",):
            mrn = value.split("|", 1)[-1]
            found = [p.id for p in patients.patients_matching(db, mrn=mrn)]
            ids = found if ids is None else [i for i in ids if i in found]
        elif name in ("name", "family", "given"):
            found = [p.id for p in patients.patients_matching(db, name=value)]
            ids = found if ids is None else [i for i in ids if i in found]
        elif name == "birthdate":
            bound = search.parse_date(value)
            found = [
                p.id
                for p in patients.patients_matching(db, ids=ids)
                if bound.admits(search.moment(p.date_of_birth.isoformat()))
            ]
            ids = found
    return ids


@dataclass(frozen=True)
class Found:
    matches: list[dict[str, Any]]
    included: list[dict[str, Any]]
    #: Set when the search was paged in SQL: ``matches`` is the page, this the total.
    total: int | None = None


Pager = Callable[[Session, int, int, int], tuple[list[dict[str, Any]], int]]


def _observation_page(
    db: Session, patient_id: int, offset: int, count: int
) -> tuple[list[dict[str, Any]], int]:
    """A page of the patient's Observations in the order ``_observations`` builds them:
    weight and height, then the session readings, then the scored questionnaires. The
    readings, the bulk of a long record, are paged in SQL (``sessions.reading_window``);
    the few body measurements and responses are built whole."""
    measured = [
        obs
        for p in patients.patients_matching(db, ids=[patient_id])
        for m in p.measurements
        if m.entered_in_error_at is None
        for obs in observation.from_measurement(p.id, m)
    ]
    surveys = [
        obs
        for s in outcomes.stored_responses(db, patient_ids=[patient_id])
        for obs in observation.from_response(s.response, s.observations)
    ]
    start, stop = offset, offset + count
    first = len(measured)
    low, high = max(0, start - first), max(0, stop - first)
    window = sessions.reading_window(db, patient_id=patient_id, start=low, stop=high)
    read = [obs for r in window.readings for obs in observation.from_reading(r)]
    last = first + window.total
    page = (
        measured[start:stop]
        + read[window.skip : window.skip + (high - low)]
        + surveys[max(0, start - last) : max(0, stop - last)]
    )
    return page, last + len(surveys)


def _response_page(
    db: Session, patient_id: int, offset: int, count: int
) -> tuple[list[dict[str, Any]], int]:
    stored = outcomes.stored_responses(db, patient_ids=[patient_id], offset=offset, limit=count)
    return (
        [questionnaire_response.to_fhir(s.response) for s in stored],
        outcomes.count_responses(db, patient_id=patient_id),
    )


def _encounter_page(
    db: Session, patient_id: int, offset: int, count: int
) -> tuple[list[dict[str, Any]], int]:
    held = sessions.session_records(db, patient_ids=[patient_id], offset=offset, limit=count)
    return [encounter.to_fhir(s) for s in held], sessions.count_sessions(db, patient_id=patient_id)


#: Types whose search for one patient, with no filter but paging, pages in SQL.
PAGERS: dict[str, Pager] = {
    "Observation": _observation_page,
    "QuestionnaireResponse": _response_page,
    "Encounter": _encounter_page,
}
_PAGING_ONLY = {"patient", "subject", "_count", "_offset", "_include", "_format"}


def find(
    db: Session,
    reader: Reader,
    resource_type: str,
    params: list[tuple[str, str]],
    *,
    offset: int = 0,
    count: int | None = None,
) -> Found:
    """A search: every parameter known for the type (400 otherwise), all of them
    applied (AND). Staff search clinical types for one patient at a time. With a page
    asked for (``offset``, ``count``) and no filter beyond the patient, the types in
    ``PAGERS`` fetch only that page from the database; otherwise the patient's
    resources are filtered here and the caller pages them."""
    allowed = PARAMS[resource_type]
    for name, value in params:
        if name in ("_count", "_offset", "_include", "_format"):
            continue
        if name not in allowed:
            raise FhirError(
                f"{resource_type} does not support the search parameter {name!r}; "
                f"supported: {', '.join(allowed)}",
                status=400,
            )
        if not value:
            raise FhirError(f"{name}: empty value", status=400)
    if resource_type == "Questionnaire":
        return Found(_filter(resource_type, questionnaires(), params), [])
    kind = KINDS[resource_type]
    named = [v for k, v in params if k in ("patient", "subject")]
    if resource_type == "Patient":
        bound = reader.bound_patient
        ids = _patient_params(db, params)
        if bound is not None:
            ids = [i for i in (ids if ids is not None else [bound]) if i == bound]
        elif reader.actor.patient_only:
            ids = []
    else:
        if len(set(named)) > 1:
            raise FhirError("name one patient", status=400)
        if named:
            ids = [_patient_of(named[0])]
        elif reader.bound_patient is not None:
            ids = [reader.bound_patient]
        else:
            raise FhirError(
                f"{resource_type} is searched for one patient: add patient=Patient/{{id}}",
                status=400,
            )
        try:
            _allowed(db, reader, ids[0])
        except NotFound:
            # A search names no resource: an unreachable patient matches nothing.
            ids = []
    total: int | None = None
    if (
        count is not None
        and resource_type in PAGERS
        and {name for name, _ in params} <= _PAGING_ONLY
        and len(ids or []) == 1
    ):
        assert ids is not None
        matches, total = PAGERS[resource_type](db, ids[0], offset, count)
    else:
        built = kind.build(db, ids) if ids != [] else []
        matches = _filter(resource_type, built, params)
    included = _includes(db, reader, resource_type, matches, params)
    touched = {_subject_id(r, kind.subject) for r in matches} - {None}
    if resource_type == "Patient":
        touched = {int(r["id"]) for r in matches}
    if total is not None and ids:
        touched = set(ids)  # the patient's record was searched, even past its last page
    _note(db, reader, [t for t in touched if t is not None], f"search {resource_type}")
    return Found(matches, included, total)


def _subject_id(resource: dict[str, Any], element: str) -> int | None:
    reference = (resource.get(element) or {}).get("reference", "")
    tail = reference.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else None


def _includes(
    db: Session,
    reader: Reader,
    resource_type: str,
    matches: list[dict[str, Any]],
    params: list[tuple[str, str]],
) -> list[dict[str, Any]]:
    wanted = [v for k, v in params if k == "_include"]
    if not wanted:
        return []
    served = INCLUDES.get(resource_type, {})
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for value in wanted:
        target = served.get(value)
        if target is None:
            raise FhirError(
                f"_include {value!r} is not supported; supported: {', '.join(served) or 'none'}",
                status=400,
            )
        element = value.split(":", 1)[1]
        element = {
            "patient": KINDS[resource_type].subject or "subject",
            "derived-from": "derivedFrom",
        }.get(element, element)
        references: set[str] = set()
        for resource in matches:
            value_at = resource.get(element)
            for item in value_at if isinstance(value_at, list) else [value_at]:
                if isinstance(item, dict) and item.get("reference"):
                    references.add(item["reference"].rsplit("/", 1)[-1])
                elif isinstance(item, str):
                    references.add(item)
        if target == "Questionnaire":
            for q in questionnaires():
                if q["url"] in references:
                    found[("Questionnaire", q["id"])] = q
            continue
        patient_ids = sorted({_subject_id(r, KINDS[resource_type].subject) or 0 for r in matches})
        for resource in KINDS[target].build(db, [p for p in patient_ids if p]):
            if resource["id"] in references:
                found[(target, resource["id"])] = resource
    return list(found.values())


def instrument_ids() -> list[str]:
    return [fhir_id(i) for i in instruments.ids()]


def everything(db: Session, reader: Reader, patient_id: int) -> dict[str, Any]:
    """The patient's whole record as one collection Bundle (``Patient/{id}/$everything``
    and ``ketaclinic export fhir``): the Patient first, then each type in turn."""
    _allowed(db, reader, patient_id)
    resources = [r for kind in KINDS.values() for r in kind.build(db, [patient_id])]
    _note(db, reader, [patient_id], "everything")
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r} for r in resources],
    }
