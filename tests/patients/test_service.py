"""Patient records: versions instead of overwrites, measurements marked not deleted."""

from __future__ import annotations

import os
from datetime import date

import pytest
from sqlalchemy.orm import Session

from ketaclinic.patients import service
from ketaclinic.patients.schemas import MeasurementIn, PatientUpdate
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.errors import Conflict, Forbidden, Invalid, NotFound
from ketaclinic.platform.roles import Role
from tests.conftest import TEST_ACTOR
from tests.patients.factories import a_patient

NURSE = Actor(user_id=None, username="ada", roles=frozenset({Role.nurse}))


def _update(patient, **changes) -> PatientUpdate:
    data = {k: getattr(patient, k) for k in service.DEMOGRAPHIC_FIELDS}
    data.update(changes)
    return PatientUpdate(**data)


def test_a_new_patient_gets_the_next_free_mrn_and_a_first_version(db: Session) -> None:
    patient = a_patient(db)
    assert patient.mrn == "KC000001"
    versions = service.versions(db, actor=TEST_ACTOR, patient_id=patient.id)
    assert [(v.version, v.reason) for v in versions] == [(1, "created")]


def test_it_refuses_an_mrn_that_belongs_to_another_patient(db: Session) -> None:
    a_patient(db, mrn="A-1")
    with pytest.raises(Conflict, match="MRN A-1"):
        a_patient(db, mrn="A-1", given_name="Other")


def test_an_edit_keeps_the_old_version_with_who_and_why(db: Session) -> None:
    patient = a_patient(db)
    service.update_patient(
        db,
        actor=NURSE,
        patient_id=patient.id,
        data=_update(patient, phone="+1 555 000 1111", reason="new phone"),
    )
    versions = service.versions(db, actor=TEST_ACTOR, patient_id=patient.id)
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].data["phone"] == "+1 555 201 3344"
    assert (versions[1].data["phone"], versions[1].changed_by, versions[1].reason) == (
        "+1 555 000 1111",
        "ada",
        "new phone",
    )


def test_an_edit_based_on_an_old_version_is_refused(db: Session) -> None:
    patient = a_patient(db)
    service.update_patient(
        db,
        actor=NURSE,
        patient_id=patient.id,
        data=_update(patient, phone="+1 555 000 1111", reason="new phone"),
    )
    with pytest.raises(Conflict, match="someone else changed"):
        service.update_patient(
            db,
            actor=NURSE,
            patient_id=patient.id,
            expected_version=1,
            data=_update(patient, email="a@b.org", reason="email"),
        )


def test_an_edit_that_changes_nothing_is_refused(db: Session) -> None:
    patient = a_patient(db)
    with pytest.raises(Invalid, match="nothing changed"):
        service.update_patient(
            db, actor=NURSE, patient_id=patient.id, data=_update(patient, reason="no change")
        )


def test_a_wrong_weight_is_marked_in_error_and_the_previous_one_counts(db: Session) -> None:
    patient = a_patient(db)
    service.add_measurement(
        db,
        actor=NURSE,
        patient_id=patient.id,
        data=MeasurementIn(measured_on=date(2026, 1, 5), weight_kg=72.5, height_cm=168),
    )
    wrong = service.add_measurement(
        db,
        actor=NURSE,
        patient_id=patient.id,
        data=MeasurementIn(measured_on=date(2026, 2, 5), weight_kg=27.25 * 10),
    )
    service.mark_measurement_in_error(
        db,
        actor=NURSE,
        patient_id=patient.id,
        measurement_id=wrong.id,
        reason="typed 272.5 for 72.5",
    )
    db.refresh(patient)
    assert len(patient.measurements) == 2
    assert service.current_body(patient) == (72.5, 168.0)


def test_a_measurement_needs_a_weight_or_a_height(db: Session) -> None:
    patient = a_patient(db)
    with pytest.raises(Invalid, match="weight, a height or both"):
        service.add_measurement(
            db, actor=NURSE, patient_id=patient.id, data=MeasurementIn(measured_on=date(2026, 1, 5))
        )


def test_search_finds_by_name_or_mrn_case_insensitively(db: Session) -> None:
    first = a_patient(db)
    second = a_patient(db, given_name="John", family_name="Okafor")
    assert [p.family_name for p in service.search_patients(db, actor=NURSE, query="lop")] == [
        "Lopez"
    ]
    # The two MRNs' common start, in lower case (ids depend on what ran before).
    shared = os.path.commonprefix([first.mrn, second.mrn]).lower()
    assert len(service.search_patients(db, actor=NURSE, query=shared)) == 2
    assert [
        p.given_name for p in service.search_patients(db, actor=NURSE, query="john okafor")
    ] == ["John"]


def test_a_patient_account_reaches_only_its_own_record(db: Session) -> None:
    own = a_patient(db)
    other = a_patient(db, given_name="Other")
    me = Actor(user_id=None, username="p", roles=frozenset({Role.patient}), patient_id=own.id)
    assert service.get_patient(db, actor=me, patient_id=own.id).id == own.id
    with pytest.raises(NotFound):
        service.get_patient(db, actor=me, patient_id=other.id)
    with pytest.raises(Forbidden):
        service.search_patients(db, actor=me, query="")


def test_the_research_summary_holds_counts_only(db: Session) -> None:
    a_patient(db, date_of_birth=date(1990, 6, 1))
    a_patient(db, given_name="B", sex="male", date_of_birth=date(1950, 1, 1))
    summary = service.deidentified_summary(db, actor=TEST_ACTOR, today=date(2026, 11, 26))
    assert summary == {
        "total": 2,
        "by_sex": {"female": 1, "male": 1},
        "by_age_band": {"30-44": 1, "65+": 1},
    }
