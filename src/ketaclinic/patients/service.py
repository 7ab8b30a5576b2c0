"""What people do with patient records. Every read and write is audited.

Other areas name the types they get and give through this module (``Patient``,
``BodyMeasurement``, ``PatientIn``, ``MeasurementIn``), never through ``models`` or
``schemas``. ``patient_by_id`` and ``display_names`` are for another area's act that
audits itself (its own audit row names the patient): they note no read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ketaclinic.patients.models import BodyMeasurement, Patient, PatientVersion
from ketaclinic.patients.schemas import MeasurementIn, PatientIn, PatientUpdate
from ketaclinic.platform import ports
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import rows_by_id, utcnow
from ketaclinic.platform.errors import Conflict, Forbidden, Invalid, NotFound
from ketaclinic.platform.roles import care_team_only

DEMOGRAPHIC_FIELDS = (
    "mrn",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "phone",
    "email",
    "address",
    "emergency_contact_name",
    "emergency_contact_phone",
    "emergency_contact_relation",
)


#: How a patient may want to hear from the clinic; a text message needs consent too.
CONTACT_PREFERENCES: dict[str, str] = {
    "email": "E-mail",
    "text": "Text message",
    "both": "E-mail and text message",
}
#: What a patient agrees to when they consent to text messages, shown where consent is
#: recorded: the texts themselves are the declared templates of ``outcomes`` (a test
#: checks they name no questionnaire, score, diagnosis or treatment).
TEXT_CONSENT_WORDING = (
    "I agree to receive text messages from the clinic at this number: links to "
    "questionnaires, appointment confirmations and reminders. Texts name the clinic and "
    "hold a link, never my health information. I can withdraw at any time."
)


def _snapshot(patient: Patient) -> dict[str, Any]:
    data = {name: getattr(patient, name) for name in DEMOGRAPHIC_FIELDS}
    data["date_of_birth"] = patient.date_of_birth.isoformat()
    data["contact_preference"] = patient.contact_preference
    data["text_consent_at"] = (
        patient.text_consent_at.isoformat() if patient.text_consent_at else None
    )
    data["text_consent_by"] = patient.text_consent_by
    return data


def _check_access(db: Session, actor: Actor, patient_id: int) -> None:
    # Routes check roles; this is the second wall for patient accounts, and for
    # therapists, who reach only the patients on their care teams.
    if actor.patient_only and actor.patient_id != patient_id:
        raise NotFound("no such patient")
    if care_team_only(actor.roles) and patient_id not in _team_patients(db, actor):
        raise NotFound("no such patient on your care teams")


def _team_patients(db: Session, actor: Actor) -> frozenset[int]:
    return ports.care_team_patient_ids(db, user_id=actor.user_id)


def check_patient(db: Session, *, actor: Actor, patient_id: int) -> None:
    """The access check every area makes before it reads or writes for a patient: the
    actor may reach the record and the record exists, so that an unknown id is a 404 and
    never reaches a query's audit row or a foreign key. Notes no read by itself."""
    _check_access(db, actor, patient_id)
    if db.get(Patient, patient_id) is None:
        raise NotFound(f"no patient with id {patient_id}")


def _next_mrn(db: Session) -> str:
    highest = db.scalar(select(func.max(Patient.id))) or 0
    candidate = highest + 1
    while db.scalar(select(Patient.id).where(Patient.mrn == f"KC{candidate:06d}")):
        candidate += 1
    return f"KC{candidate:06d}"


def create_patient(db: Session, *, actor: Actor, data: PatientIn) -> Patient:
    values = data.model_dump()
    mrn = values.pop("mrn") or _next_mrn(db)
    if db.scalar(select(Patient.id).where(Patient.mrn == mrn)):
        raise Conflict(f"MRN {mrn} belongs to another patient", fields={"mrn": "taken"})
    patient = Patient(mrn=mrn, **values)
    db.add(patient)
    db.flush()
    db.add(
        PatientVersion(
            patient_id=patient.id,
            version=1,
            data=_snapshot(patient),
            changed_by=actor.username,
            reason="created",
        )
    )
    audit.record(
        db,
        actor=actor,
        action="patient.create",
        patient_id=patient.id,
        object_type="patient",
        object_id=patient.id,
    )
    db.flush()
    return patient


def update_patient(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    data: PatientUpdate,
    expected_version: int | None = None,
) -> Patient:
    patient = _load(db, patient_id)
    if expected_version is not None and expected_version != patient.version:
        raise Conflict(
            f"someone else changed this record (now version {patient.version}); "
            "reload it and apply your change again"
        )
    values = data.model_dump(exclude={"reason"})
    if (
        values.get("mrn")
        and values["mrn"] != patient.mrn
        and db.scalar(select(Patient.id).where(Patient.mrn == values["mrn"]))
    ):
        raise Conflict(f"MRN {values['mrn']} belongs to another patient", fields={"mrn": "taken"})
    values["mrn"] = values.get("mrn") or patient.mrn
    changed = [k for k, v in values.items() if getattr(patient, k) != v]
    if not changed:
        raise Invalid("nothing changed")
    for key in changed:
        setattr(patient, key, values[key])
    if "phone" in changed and patient.text_consent_at is not None:
        # Consent to texts was given for the old number, not for whoever has the new one.
        patient.text_consent_at, patient.text_consent_by = None, actor.username
        changed.append("text consent withdrawn with the old number")
    patient.version += 1
    patient.updated_at = utcnow()
    db.add(
        PatientVersion(
            patient_id=patient.id,
            version=patient.version,
            data=_snapshot(patient),
            changed_by=actor.username,
            reason=data.reason,
        )
    )
    audit.record(
        db,
        actor=actor,
        action="patient.update",
        patient_id=patient.id,
        object_type="patient",
        object_id=patient.id,
        detail=f"version {patient.version}: {', '.join(changed)}",
    )
    db.flush()
    return patient


def set_contact_preferences(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    preference: str,
    text_consent: bool,
    now: datetime | None = None,
) -> Patient:
    """Record how the patient wants to hear from the clinic and whether they consent to
    text messages (when and who recorded it: the patient in the portal, or staff who
    heard them say so), as a new version of the record, audited."""
    _check_access(db, actor, patient_id)
    patient = _load(db, patient_id)
    if preference not in CONTACT_PREFERENCES:
        raise Invalid(
            "choose e-mail, text message or both", fields={"contact_preference": "unknown"}
        )
    if preference in ("text", "both") and not text_consent:
        raise Invalid(
            "text messages need the patient's consent: tick the consent box or choose e-mail",
            fields={"text_consent": "required for text messages"},
        )
    if text_consent and not patient.phone:
        raise Invalid(
            "add a phone number before recording consent to text messages",
            fields={"text_consent": "no phone number"},
        )
    if preference in ("email", "both") and not patient.email:
        raise Invalid(
            "add an e-mail address before choosing e-mail",
            fields={"contact_preference": "no e-mail address"},
        )
    changes = []
    if preference != patient.contact_preference:
        patient.contact_preference = preference
        changes.append(f"prefers {preference}")
    if text_consent and patient.text_consent_at is None:
        patient.text_consent_at = now or utcnow()
        patient.text_consent_by = actor.username
        changes.append("consented to text messages")
    elif not text_consent and patient.text_consent_at is not None:
        patient.text_consent_at = None
        patient.text_consent_by = actor.username
        changes.append("withdrew consent to text messages")
    if not changes:
        raise Invalid("nothing changed")
    patient.version += 1
    patient.updated_at = utcnow()
    db.add(
        PatientVersion(
            patient_id=patient.id,
            version=patient.version,
            data=_snapshot(patient),
            changed_by=actor.username,
            reason="contact preferences: " + ", ".join(changes),
        )
    )
    audit.record(
        db,
        actor=actor,
        action="patient.contact_preferences",
        patient_id=patient.id,
        object_type="patient",
        object_id=patient.id,
        detail=", ".join(changes),
    )
    db.flush()
    return patient


@dataclass(frozen=True)
class Contact:
    """Where messages for a patient may go, for the outbox (whose act audits itself)."""

    email: str | None
    phone: str | None
    preference: str
    may_text: bool

    @property
    def channels(self) -> list[tuple[str, str]]:
        """(channel, recipient) pairs the patient wants and allows, e-mail first; a text
        only with consent; e-mail when a wanted text is impossible but e-mail is not."""
        found: list[tuple[str, str]] = []
        if self.preference in ("email", "both") and self.email:
            found.append(("email", self.email))
        if self.preference in ("text", "both") and self.may_text and self.phone:
            found.append(("sms", self.phone))
        if not found and self.email:
            found.append(("email", self.email))
        return found


def contact_for(db: Session, patient_id: int) -> Contact:
    patient = _load(db, patient_id)
    return Contact(
        email=patient.email,
        phone=patient.phone,
        preference=patient.contact_preference,
        may_text=patient.text_consent_at is not None and bool(patient.phone),
    )


def _load(db: Session, patient_id: int) -> Patient:
    patient = db.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"no patient with id {patient_id}")
    return patient


def get_patient(db: Session, *, actor: Actor, patient_id: int, purpose: str = "view") -> Patient:
    _check_access(db, actor, patient_id)
    patient = _load(db, patient_id)
    audit.note_read(
        db,
        actor=actor,
        action=f"patient.{purpose}",
        patient_id=patient.id,
        object_type="patient",
        object_id=patient.id,
    )
    db.flush()
    return patient


def get_patients(
    db: Session, *, actor: Actor, patient_ids: Iterable[int], purpose: str = "view"
) -> dict[int, Patient]:
    """``get_patient`` of several patients in one statement (a list page that shows
    each): every read is noted, one audit row per patient as for ``get_patient``."""
    wanted = set(patient_ids)
    if care_team_only(actor.roles) and wanted - _team_patients(db, actor):
        raise NotFound("no such patient on your care teams")
    for pid in wanted:
        if actor.patient_only and actor.patient_id != pid:
            raise NotFound("no such patient")
    if not wanted:
        return {}
    found = {p.id: p for p in db.scalars(select(Patient).where(Patient.id.in_(wanted)))}
    missing = wanted - set(found)
    if missing:
        raise NotFound(f"no patient with id {min(missing)}")
    for patient in found.values():
        audit.note_read(
            db,
            actor=actor,
            action=f"patient.{purpose}",
            patient_id=patient.id,
            object_type="patient",
            object_id=patient.id,
        )
    db.flush()
    return found


def patient_by_id(db: Session, patient_id: int) -> Patient:
    """The patient record for an act of another area that audits itself."""
    return _load(db, patient_id)


def patient_id_for_mrn(db: Session, mrn: str) -> int | None:
    """The patient a medical record number names, for another area's interface that
    matches incoming messages (its act audits itself)."""
    return db.scalar(select(Patient.id).where(Patient.mrn == mrn))


def patients_by_id(db: Session, patient_ids: Iterable[int]) -> dict[int, Patient]:
    """Several patient records in one query, for an act of another area that audits
    itself."""
    return rows_by_id(db, Patient, patient_ids)


def mrns(db: Session, patient_ids: Iterable[int]) -> dict[int, str]:
    """The medical record numbers of several patients in one query, for another area's
    interface that matches incoming messages (its act audits itself)."""
    wanted = set(patient_ids)
    if not wanted:
        return {}
    return dict(db.execute(select(Patient.id, Patient.mrn).where(Patient.id.in_(wanted))).all())


def sort_names(db: Session, patient_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """(family name, given name) of several patients, to put another area's list in
    order before it pages it: only the two columns, no record loaded. Not shown, so not
    a read of the record; the page audits the patients it then shows (``get_patients``)."""
    wanted = set(patient_ids)
    if not wanted:
        return {}
    rows = db.execute(
        select(Patient.id, Patient.family_name, Patient.given_name).where(Patient.id.in_(wanted))
    )
    return {pid: (family, given) for pid, family, given in rows}


def display_names(db: Session, patient_ids: Iterable[int]) -> dict[int, str]:
    """Names to show beside another area's rows (its act audits what it shows)."""
    wanted = set(patient_ids)
    if not wanted:
        return {}
    return {p.id: p.display_name for p in db.scalars(select(Patient).where(Patient.id.in_(wanted)))}


def search_patients(
    db: Session, *, actor: Actor, query: str = "", limit: int = 50
) -> list[Patient]:
    if actor.patient_only:
        raise Forbidden("patients cannot search the register")
    stmt = select(Patient).order_by(Patient.family_name, Patient.given_name).limit(limit)
    if care_team_only(actor.roles):
        stmt = stmt.where(Patient.id.in_(_team_patients(db, actor)))
    term = query.strip()
    if term:
        like = f"%{term.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Patient.family_name).like(like),
                func.lower(Patient.given_name).like(like),
                func.lower(Patient.mrn).like(like),
                func.lower(Patient.given_name + " " + Patient.family_name).like(like),
            )
        )
    found = list(db.scalars(stmt))
    audit.note_read(
        db,
        actor=actor,
        action="patient.search",
        object_type="patient",
        detail=f"query={term!r} results={len(found)}",
    )
    db.flush()
    return found


def recently_updated(db: Session, *, actor: Actor, limit: int = 10) -> list[Patient]:
    stmt = select(Patient).order_by(Patient.updated_at.desc()).limit(limit)
    if care_team_only(actor.roles):
        stmt = stmt.where(Patient.id.in_(_team_patients(db, actor)))
    found = list(db.scalars(stmt))
    audit.note_read(
        db,
        actor=actor,
        action="patient.list",
        object_type="patient",
        detail=f"recently updated, {len(found)} shown",
    )
    db.flush()
    return found


def versions(db: Session, *, actor: Actor, patient_id: int) -> list[PatientVersion]:
    _check_access(db, actor, patient_id)
    _load(db, patient_id)
    rows = list(
        db.scalars(
            select(PatientVersion)
            .where(PatientVersion.patient_id == patient_id)
            .order_by(PatientVersion.version)
        )
    )
    audit.note_read(
        db,
        actor=actor,
        action="patient.history",
        patient_id=patient_id,
        object_type="patient",
        object_id=patient_id,
    )
    db.flush()
    return rows


def add_measurement(
    db: Session, *, actor: Actor, patient_id: int, data: MeasurementIn
) -> BodyMeasurement:
    if data.weight_kg is None and data.height_cm is None:
        raise Invalid("give a weight, a height or both", fields={"weight_kg": "required"})
    _load(db, patient_id)
    row = BodyMeasurement(
        patient_id=patient_id,
        measured_on=data.measured_on,
        weight_kg=data.weight_kg,
        height_cm=data.height_cm,
        recorded_by=actor.username,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="measurement.add",
        patient_id=patient_id,
        object_type="body_measurement",
        object_id=row.id,
        detail=f"on {data.measured_on}",
    )
    db.flush()
    return row


def mark_measurement_in_error(
    db: Session, *, actor: Actor, patient_id: int, measurement_id: int, reason: str
) -> BodyMeasurement:
    row = db.get(BodyMeasurement, measurement_id)
    if row is None or row.patient_id != patient_id:
        raise NotFound(f"no measurement {measurement_id} for this patient")
    if row.entered_in_error_at is not None:
        raise Conflict("this measurement is already marked entered in error")
    if len(reason.strip()) < 3:
        raise Invalid("say why the measurement is wrong", fields={"reason": "required"})
    row.entered_in_error_at = utcnow()
    row.entered_in_error_by = actor.username
    row.error_reason = reason.strip()
    audit.record(
        db,
        actor=actor,
        action="measurement.entered_in_error",
        patient_id=patient_id,
        object_type="body_measurement",
        object_id=row.id,
        detail=reason.strip(),
    )
    db.flush()
    return row


def current_body(patient: Patient) -> tuple[float | None, float | None]:
    """Latest valid weight and height, each from the newest measurement that has it."""
    weight = height = None
    for row in sorted(patient.measurements, key=lambda m: (m.measured_on, m.id), reverse=True):
        if row.entered_in_error_at is not None:
            continue
        weight = weight if weight is not None else row.weight_kg
        height = height if height is not None else row.height_cm
    return weight, height


def age_on(date_of_birth: date, on: date) -> int:
    before_birthday = (on.month, on.day) < (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - before_birthday


AGE_BANDS = ((18, "18-29"), (30, "30-44"), (45, "45-64"), (65, "65+"))


def deidentified_summary(db: Session, *, actor: Actor, today: date) -> dict[str, Any]:
    """Counts by sex and age band only: nothing that names or dates a person."""
    rows = db.execute(select(Patient.sex, Patient.date_of_birth)).all()
    by_sex = Counter(sex for sex, _ in rows)
    by_band: Counter[str] = Counter()
    for _, dob in rows:
        age = age_on(dob, today)
        label = "under 18"
        for lower, band in AGE_BANDS:
            if age >= lower:
                label = band
        by_band[label] += 1
    audit.note_read(
        db, actor=actor, action="research.cohort_summary", detail=f"{len(rows)} patients aggregated"
    )
    db.flush()
    return {
        "total": len(rows),
        "by_sex": dict(sorted(by_sex.items())),
        "by_age_band": dict(sorted(by_band.items())),
    }


def patients_matching(
    db: Session,
    *,
    ids: Iterable[int] | None = None,
    mrn: str | None = None,
    name: str | None = None,
    born_on: date | None = None,
) -> list[Patient]:
    """Patients by id, MRN, part of a name or date of birth, in id order, for another
    area's act that audits itself (the interop area's FHIR search notes a read of each
    patient it returns)."""
    stmt = select(Patient).order_by(Patient.id)
    if ids is not None:
        stmt = stmt.where(Patient.id.in_(sorted(set(ids))))
    if mrn is not None:
        stmt = stmt.where(Patient.mrn == mrn)
    if born_on is not None:
        stmt = stmt.where(Patient.date_of_birth == born_on)
    if name:
        like = f"%{name.strip().lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Patient.family_name).like(like),
                func.lower(Patient.given_name).like(like),
            )
        )
    return list(db.scalars(stmt))


def measurement_patient(db: Session, measurement_id: int) -> int | None:
    """The patient a body measurement belongs to, for another area's act that audits
    itself."""
    row = db.get(BodyMeasurement, measurement_id)
    return row.patient_id if row else None
