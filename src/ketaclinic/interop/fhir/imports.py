"""Importing patients' records from another system: a transaction or collection Bundle
with one or several Patients and their Conditions, MedicationStatements/Requests,
Observations (vital signs) and AllergyIntolerances (each entry belongs to the Patient it
is about).

Every entry is checked before anything is written (structure with fhir.resources' R4B
models, resource types, references inside the bundle, code systems); a bundle with any
fault is refused whole with an OperationOutcome naming the entry. The report says, per
entry, what is (or, in a dry run, would be) created, matched or skipped and why; the
import itself is one transaction owned by the caller (the request or the CLI command).
Imported facts are kept apart from what the clinic charted, marked with their source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.interop.fhir import codes
from ketaclinic.interop.fhir.outcome import FhirError, operation_outcome
from ketaclinic.interop.fhir.reads import Reader
from ketaclinic.interop.fhir.translators import (
    allergy_intolerance,
    condition,
    medication_statement,
    observation,
    patient,
)
from ketaclinic.interop.models import FhirImport, ImportedFact
from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit

IMPORTED = (
    "Patient",
    "Condition",
    "MedicationStatement",
    "MedicationRequest",
    "Observation",
    "AllergyIntolerance",
)
#: Resource types a bundle may carry that are not imported (skipped with the reason).
NOT_IMPORTED = "not part of the record ketaclinic imports"
#: Who may import: those who take an intake.
MAX_ENTRIES = 5000


@dataclass
class Line:
    index: int
    resource_type: str
    source: str
    outcome: str  # created|matched|skipped
    why: str
    location: str | None = None
    #: The bundle's Patient entry this entry belongs to (None: it refers to no patient).
    person: int | None = None


@dataclass
class PatientPart:
    """One patient of the bundle: its Patient entry, the record it is (or would be)
    imported into, created or matched."""

    index: int
    source: str
    patient_id: int | None
    outcome: str  # created|matched


@dataclass
class Report:
    dry_run: bool
    bundle_type: str
    people: list[PatientPart] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)

    @property
    def patient_id(self) -> int | None:
        """The (first) patient's record."""
        return self.people[0].patient_id if self.people else None

    @property
    def patient_outcome(self) -> str:
        return self.people[0].outcome if self.people else "skipped"

    def count(self, outcome: str, person: int | None | str = "all") -> int:
        return sum(
            1
            for line in self.lines
            if line.outcome == outcome and (person == "all" or line.person == person)
        )

    def patient_summary(self, part: PatientPart) -> str:
        """What is (or would be) done for one patient of the bundle."""
        verb = "would be" if self.dry_run else "were"
        where = f"Patient/{part.patient_id}" if part.patient_id else "a new record"
        return (
            f"entry {part.index} ({where}): {self.count('created', part.index)} {verb} created, "
            f"{self.count('matched', part.index)} matched, "
            f"{self.count('skipped', part.index)} skipped; the patient "
            f"{'would be' if self.dry_run else 'was'} {part.outcome}"
        )

    def summary(self) -> str:
        verb = "would be" if self.dry_run else "were"
        said = (
            f"{self.count('created')} {verb} created, {self.count('matched')} matched, "
            f"{self.count('skipped')} skipped; "
        )
        if len(self.people) == 1:
            return (
                said
                + f"the patient {'would be' if self.dry_run else 'was'} "
                + (self.patient_outcome)
            )
        made = sum(1 for p in self.people if p.outcome == "created")
        return said + (
            f"{len(self.people)} patients: {made} {'would be' if self.dry_run else 'were'} "
            f"created, {len(self.people) - made} matched"
        )

    def as_bundle(self) -> dict[str, Any]:
        """A transaction-response (batch-response for a collection) Bundle: one entry per
        entry sent, each with its status and the reason as an OperationOutcome; the
        summary, then one per patient, as ``meta.tag``."""
        status = {
            "created": "201 Created",
            "matched": "200 OK",
            "skipped": "422 Unprocessable Entity",
        }
        entries = []
        for line in self.lines:
            response: dict[str, Any] = {
                "status": status[line.outcome],
                "outcome": operation_outcome(
                    [
                        (
                            "information",
                            "informational",
                            f"{'dry run: ' if self.dry_run else ''}{line.outcome}: {line.why}",
                        )
                    ]
                ),
            }
            if line.location:
                response["location"] = line.location
            entries.append({"response": response})
        code = "dry-run" if self.dry_run else "imported"
        return {
            "resourceType": "Bundle",
            "type": "transaction-response"
            if self.bundle_type == "transaction"
            else "batch-response",
            "meta": {
                "tag": [
                    {"system": "urn:ketaclinic:import", "code": code, "display": self.summary()},
                    *(
                        {
                            "system": "urn:ketaclinic:import:patient",
                            "code": f"entry-{part.index}",
                            "display": self.patient_summary(part),
                        }
                        for part in self.people
                    ),
                ]
            },
            "entry": entries,
        }


@dataclass(frozen=True)
class _Fact:
    kind: str
    text: str
    system: str | None
    code: str | None
    value: float | None
    second_value: float | None
    unit: str | None
    effective: str | None

    def key(self) -> tuple[Any, ...]:
        return (
            self.kind,
            self.text,
            self.system,
            self.code,
            self.value,
            self.second_value,
            self.effective,
        )


def _fail(index: int, what: str, *, code: str = "invalid", status: int = 400) -> FhirError:
    return FhirError(f"entry {index}: {what}; nothing was imported", status=status, code=code)


def _structure(body: Any) -> None:
    """fhir.resources' R4B models check the structure of every entry (a wrong
    resourceType, a misspelt element, a bad date)."""
    from fhir.resources.R4B.bundle import Bundle
    from pydantic import ValidationError

    try:
        Bundle.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise FhirError(
            f"not a valid FHIR R4 Bundle: {where}: {first['msg']}; nothing was imported",
            status=400,
            code="structure",
        ) from None
    except (ValueError, TypeError, KeyError) as exc:
        raise FhirError(
            f"not a valid FHIR R4 Bundle: {str(exc)[:300]}; nothing was imported",
            status=400,
            code="structure",
        ) from None


def _references(value: Any) -> list[str]:
    found: list[str] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "reference" and isinstance(inner, str):
                found.append(inner)
            else:
                found.extend(_references(inner))
    elif isinstance(value, list):
        for inner in value:
            found.extend(_references(inner))
    return found


def _systems(value: Any) -> list[str]:
    """Every Coding's system (CodeableConcept.coding, meta.security/tag, Coding fields)."""
    found: list[str] = []
    if isinstance(value, dict):
        if "code" in value and isinstance(value.get("system"), str) and "value" not in value:
            found.append(value["system"])
        for key, inner in value.items():
            if key in ("identifier", "text", "div"):
                continue  # identifier systems name registries, not code systems
            found.extend(_systems(inner))
    elif isinstance(value, list):
        for inner in value:
            found.extend(_systems(inner))
    return found


def _coded(resource: dict[str, Any], element: str = "code") -> tuple[str | None, str | None]:
    codings = (resource.get(element) or {}).get("coding") or []
    preferred = (codes.ICD10CM, codes.SNOMED, "http://www.nlm.nih.gov/research/umls/rxnorm")
    for system in preferred:
        for c in codings:
            if c.get("system") == system and c.get("code"):
                return system, str(c["code"])
    if codings and codings[0].get("code"):
        return codings[0].get("system"), str(codings[0]["code"])
    return None, None


def _fact(resource: dict[str, Any]) -> _Fact | str:
    """What an entry brings, or why it is skipped."""
    kind = resource["resourceType"]
    if kind == "Condition":
        text = condition.imported_text(resource)
        system, code = _coded(resource)
        status = ((resource.get("verificationStatus") or {}).get("coding") or [{}])[0].get("code")
        if status in ("refuted", "entered-in-error"):
            return f"its verification status is {status}"
        when = resource.get("onsetDateTime") or resource.get("recordedDate")
        return (
            _Fact("condition", text, system, code, None, None, None, when)
            if text
            else "no code or text"
        )
    if kind in ("MedicationStatement", "MedicationRequest"):
        if resource.get("status") in ("entered-in-error", "stopped", "cancelled", "completed"):
            return f"its status is {resource.get('status')}: not a current medication"
        text = medication_statement.imported_text(resource)
        system, code = _coded(resource, "medicationCodeableConcept")
        when = resource.get("authoredOn") or resource.get("dateAsserted")
        return (
            _Fact("medication", text, system, code, None, None, None, when)
            if text
            else "no medication named"
        )
    if kind == "AllergyIntolerance":
        verified = ((resource.get("verificationStatus") or {}).get("coding") or [{}])[0]
        if verified.get("code") in ("refuted", "entered-in-error"):
            return f"its verification status is {verified.get('code')}"
        clinical = ((resource.get("clinicalStatus") or {}).get("coding") or [{}])[0]
        if clinical.get("code") in ("inactive", "resolved"):
            return f"its clinical status is {clinical.get('code')}: not a current allergy"
        text = allergy_intolerance.imported_text(resource)
        system, code = _coded(resource)
        return (
            _Fact("allergy", text, system, code, None, None, None, resource.get("recordedDate"))
            if text
            else "no substance named"
        )
    if kind == "Observation":
        vital = observation.vital_of(resource)
        if vital is None:
            return "not a vital sign (BP, heart rate, SpO2, respiratory rate, weight, height)"
        if resource.get("status") in ("entered-in-error", "cancelled"):
            return f"its status is {resource.get('status')}"
        when = resource.get("effectiveDateTime") or (resource.get("effectivePeriod") or {}).get(
            "start"
        )
        spec = codes.VITALS[vital]
        if vital == "blood_pressure":
            parts = {
                ((c.get("code") or {}).get("coding") or [{}])[0].get("code"): (
                    c.get("valueQuantity") or {}
                ).get("value")
                for c in resource.get("component") or []
            }
            systolic, diastolic = parts.get(codes.SYSTOLIC[0]), parts.get(codes.DIASTOLIC[0])
            if systolic is None or diastolic is None:
                return "a blood pressure without both systolic and diastolic values"
            return _Fact(
                "vital",
                spec.codes[0][1],
                codes.LOINC,
                spec.codes[0][0],
                float(systolic),
                float(diastolic),
                spec.ucum,
                when,
            )
        quantity = resource.get("valueQuantity") or {}
        if quantity.get("value") is None:
            return "no value"
        unit = quantity.get("code") or quantity.get("unit")
        if unit != spec.ucum:
            return f"unit {unit!r}: ketaclinic records {spec.key.replace('_', ' ')} in {spec.ucum}"
        return _Fact(
            "vital",
            spec.codes[0][1],
            codes.LOINC,
            spec.codes[0][0],
            float(quantity["value"]),
            None,
            spec.ucum,
            when,
        )
    return NOT_IMPORTED


def _checked(body: Any, max_bytes: int, size: int) -> tuple[str, list[dict[str, Any]]]:
    if size > max_bytes:
        raise FhirError(
            f"the bundle is {size} bytes; at most {max_bytes} are imported at once: split it; "
            "nothing was imported",
            status=413,
            code="too-costly",
        )
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise FhirError("POST /fhir takes a Bundle; nothing was imported", status=400)
    kind = body.get("type")
    if kind not in ("transaction", "collection"):
        raise FhirError(
            f"a {kind!r} Bundle cannot be imported: send a transaction or a collection; "
            "nothing was imported",
            status=400,
            code="not-supported",
        )
    entries = body.get("entry") or []
    if len(entries) > MAX_ENTRIES:
        raise FhirError(
            f"at most {MAX_ENTRIES} entries per bundle; nothing was imported",
            status=413,
            code="too-costly",
        )
    for index, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            raise _fail(index, "an entry without a resource")
    _structure(body)
    return str(kind), entries


def _identities(entries: list[dict[str, Any]]) -> dict[str, int]:
    """Every name an entry answers to inside the bundle: its fullUrl and Type/id."""
    names: dict[str, int] = {}
    for index, entry in enumerate(entries):
        resource = entry["resource"]
        if entry.get("fullUrl"):
            names[str(entry["fullUrl"])] = index
        if resource.get("id"):
            names[f"{resource['resourceType']}/{resource['id']}"] = index
    return names


def collection(resources: list[Any]) -> dict[str, Any]:
    """Resources sent one by one (an NDJSON file, as Bulk Data writes them) as the
    collection Bundle that imports them; references by ``Type/id`` resolve inside it."""
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in resources],
    }


def _subject(resource: dict[str, Any]) -> str | None:
    value = (resource.get("subject") or resource.get("patient") or {}).get("reference")
    return value if isinstance(value, str) else None


def _same_person(demographics: dict[str, Any]) -> tuple[Any, ...]:
    """Who a Patient entry is, to find one person sent twice in a bundle."""
    if demographics.get("mrn"):
        return ("mrn", str(demographics["mrn"]))
    return (
        "name",
        demographics["family_name"].lower(),
        demographics["given_name"].lower(),
        demographics.get("date_of_birth"),
    )


def plan(
    db: Session, reader: Reader, body: Any, *, size: int, max_bytes: int, dry_run: bool
) -> Report:
    """Check the whole bundle, then import it (or, with ``dry_run``, only report).

    A bundle may hold several patients: each entry belongs to the Patient entry it is
    about (``subject``/``patient``; an entry not imported, to the first bundle patient
    it refers to, if any). Every patient is matched or created, each with its own
    import record and audit row; any fault refuses the whole bundle."""
    kind, entries = _checked(body, max_bytes, size)
    names = _identities(entries)
    people = [i for i, e in enumerate(entries) if e["resource"]["resourceType"] == "Patient"]
    if not people:
        raise FhirError(
            "the bundle holds no Patient entry: the record it brings belongs to nobody; "
            "nothing was imported",
            status=422,
            code="business-rule",
        )
    person_of_name = {n: i for n, i in names.items() if i in people}
    facts: dict[int, _Fact | str] = {}
    owner: dict[int, int | None] = {}
    for index, entry in enumerate(entries):
        resource = entry["resource"]
        kind_of = resource["resourceType"]
        if kind_of not in IMPORTED:
            facts[index] = NOT_IMPORTED
            owner[index] = next(
                (person_of_name[r] for r in _references(resource) if r in person_of_name), None
            )
            continue
        for reference in _references(resource):
            if reference.startswith("#"):
                continue
            if reference not in names:
                raise _fail(index, f"{kind_of} refers to {reference!r}, which is not in the bundle")
        for system in _systems(resource):
            if system not in codes.KNOWN_SYSTEMS:
                raise _fail(index, f"unknown code system {system!r}", code="code-invalid")
        if kind_of == "Patient":
            owner[index] = index
            continue
        subject = _subject(resource)
        if subject not in person_of_name:
            raise _fail(index, f"{kind_of} is not about a patient in the bundle", code="invalid")
        owner[index] = person_of_name[subject]
        facts[index] = _fact(resource)

    report = Report(dry_run, kind)
    demographics: dict[int, dict[str, Any]] = {}
    data: dict[int, patients.PatientIn] = {}
    existing: dict[int, set[tuple[Any, ...]]] = {}
    seen: dict[tuple[Any, ...], int] = {}
    for person_index in people:
        about = patient.from_fhir(entries[person_index]["resource"])
        same = seen.setdefault(_same_person(about), person_index)
        if same != person_index:
            raise _fail(
                person_index,
                f"the same patient as entry {same}: send each patient once",
                status=422,
                code="business-rule",
            )
        matched_id = _match(db, about)
        if matched_id is not None:
            patients.check_patient(db, actor=reader.actor, patient_id=matched_id)
            if reader.bound_patient is not None and reader.bound_patient != matched_id:
                raise FhirError(
                    "this token is bound to another patient", status=403, code="forbidden"
                )
        elif reader.bound_patient is not None:
            raise FhirError(
                "a token bound to one patient cannot create another", status=403, code="forbidden"
            )
        if any(p.patient_id == matched_id for p in report.people if matched_id is not None):
            raise _fail(
                person_index,
                f"the same patient as another entry (Patient/{matched_id}): send each patient once",
                status=422,
                code="business-rule",
            )
        try:
            data[person_index] = patients.PatientIn(**about)
        except ValueError as exc:
            raise _fail(
                person_index,
                f"the Patient cannot become a record: {str(exc)[:300]}",
                status=422,
                code="business-rule",
            ) from None
        demographics[person_index] = about
        existing[person_index] = _existing(db, matched_id) if matched_id is not None else set()
        report.people.append(
            PatientPart(
                person_index,
                _source(entries[person_index]),
                matched_id,
                "matched" if matched_id else "created",
            )
        )
    part_of = {part.index: part for part in report.people}
    new: list[tuple[int, int, _Fact]] = []
    for index, entry in enumerate(entries):
        resource = entry["resource"]
        source = _source(entry)
        person = owner[index]
        if index in part_of:
            part = part_of[index]
            why = (
                (
                    "the patient with this MRN"
                    if demographics[index].get("mrn")
                    else "the patient with this name and date of birth"
                )
                if part.patient_id
                else "a new patient record"
            )
            report.lines.append(
                Line(
                    index,
                    "Patient",
                    source,
                    part.outcome,
                    why,
                    f"Patient/{part.patient_id}" if part.patient_id else None,
                    person=index,
                )
            )
            continue
        fact = facts[index]
        if isinstance(fact, str):
            outcome, why = "skipped", f"{resource['resourceType']}: {fact}"
        elif person is not None and fact.key() in existing[person]:
            outcome, why = "matched", f"{fact.kind} {fact.text!r} was imported before"
        else:
            assert person is not None  # every imported fact is about a bundle patient
            existing[person].add(fact.key())
            new.append((index, person, fact))
            outcome, why = "created", f"{fact.kind} {fact.text!r}, marked imported from {source}"
        report.lines.append(
            Line(index, resource["resourceType"], source, outcome, why, person=person)
        )
    if dry_run:
        for part in report.people:
            if part.patient_id is not None:
                _note(db, reader, part.patient_id, "import dry run")
        return report
    line_of = {line.index: line for line in report.lines}
    for part in report.people:
        if part.patient_id is None:
            made = patients.create_patient(db, actor=reader.actor, data=data[part.index])
            part.patient_id = made.id
            line_of[part.index].location = f"Patient/{made.id}"
        batch = FhirImport(
            patient_id=part.patient_id,
            source=str(body.get("id") or (body.get("identifier") or {}).get("value") or "bundle")[
                :200
            ],
            bundle_type=kind,
            created=report.count("created", part.index),
            matched=report.count("matched", part.index),
            skipped=report.count("skipped", part.index),
            imported_by=reader.actor.username,
        )
        db.add(batch)
        db.flush()
        for index, person, fact in new:
            if person != part.index:
                continue
            db.add(
                ImportedFact(
                    import_id=batch.id,
                    patient_id=part.patient_id,
                    source_entry=line_of[index].source,
                    **{
                        k: getattr(fact, k)
                        for k in (
                            "kind",
                            "text",
                            "system",
                            "code",
                            "value",
                            "second_value",
                            "unit",
                            "effective",
                        )
                    },
                )
            )
        audit.record(
            db,
            actor=reader.actor,
            action="patient.import",
            patient_id=part.patient_id,
            object_type="fhir_import",
            object_id=batch.id,
            detail=f"FHIR {kind} bundle: {report.patient_summary(part)}",
        )
    db.flush()
    return report


def _source(entry: dict[str, Any]) -> str:
    resource = entry["resource"]
    return str(entry.get("fullUrl") or f"{resource['resourceType']}/{resource.get('id', '')}")[:200]


def _note(db: Session, reader: Reader, patient_id: int, what: str) -> None:
    audit.note_read(
        db,
        actor=reader.actor,
        action="fhir.read",
        patient_id=patient_id,
        object_type="fhir",
        detail=what,
    )


def _match(db: Session, demographics: dict[str, Any]) -> int | None:
    """Our MRN if the sender echoes it, else exactly one patient with the same family
    name, given name and date of birth (two or more: a new record, never a guess)."""
    if demographics.get("mrn"):
        found = patients.patient_id_for_mrn(db, str(demographics["mrn"]))
        if found is not None:
            return found
    try:
        born = date.fromisoformat(str(demographics.get("date_of_birth")))
    except ValueError:
        return None
    same = [
        p.id
        for p in patients.patients_matching(db, name=demographics["family_name"], born_on=born)
        if p.family_name.lower() == demographics["family_name"].lower()
        and p.given_name.lower() == demographics["given_name"].lower()
    ]
    return same[0] if len(same) == 1 else None


def _existing(db: Session, patient_id: int) -> set[tuple[Any, ...]]:
    return {
        (f.kind, f.text, f.system, f.code, f.value, f.second_value, f.effective)
        for f in db.scalars(select(ImportedFact).where(ImportedFact.patient_id == patient_id))
    }


def imported_facts(db: Session, *, actor: Actor, patient_id: int) -> list[ImportedFact]:
    """What was imported for the patient (for the intake to offer), oldest first."""
    patients.check_patient(db, actor=actor, patient_id=patient_id)
    audit.note_read(
        db, actor=actor, action="patient.imported", patient_id=patient_id, object_type="fhir"
    )
    return list(
        db.scalars(
            select(ImportedFact)
            .where(ImportedFact.patient_id == patient_id)
            .order_by(ImportedFact.id)
        )
    )
