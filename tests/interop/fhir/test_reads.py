"""MedicationAdministration as given: an infusion's dose from the pump record (what
went in up to the stop, not the order's dose), the lot the controlled-substance ledger
drew from as the contained Medication's ``batch.lotNumber``; each nasal device its own."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from ketaclinic.interop.fhir import reads
from ketaclinic.sessions import service as sessions
from tests.controlled.factories import ledger, received
from tests.interop.fhir.validate import validated
from tests.sessions.conftest import ready_iv_session
from tests.sessions.factories import T0, staff
from tests.sessions.test_esketamine import open_session


def _given(db: Session, patient_id: int) -> list[dict[str, object]]:
    build = reads.KINDS["MedicationAdministration"].build
    return [validated(r) for r in build(db, [patient_id])]


def test_an_infusion_stopped_early_reports_the_mg_given_and_the_lot_drawn(db: Session) -> None:
    team = staff(db)
    setup = ledger(db, nurse=team.nurse, prescriber=team.prescriber)
    received(db, setup, lot_number="K-2291", quantity=3)
    row = ready_iv_session(db, team)
    sessions.chart_pump(db, actor=team.nurse, session_id=row.id, kind="start", at=T0, now=T0)
    stop = T0 + timedelta(minutes=20)
    sessions.chart_pump(
        db, actor=team.nurse, session_id=row.id, kind="stop", at=stop, reason="BP rose", now=stop
    )
    (given,) = _given(db, row.patient_id)
    # 35 mg ordered over 40 minutes, stopped at 20: about half went in, exactly what
    # the session's chart says was given.
    chart = sessions.get_session(db, actor=team.nurse, session_id=row.id, now=stop)
    assert given["dosage"]["dose"]["value"] == round(chart.mg_given, 2)  # type: ignore[index]
    assert abs(chart.mg_given - 17.5) < 0.1
    assert given["note"] == [{"text": "ordered dose 35 mg"}]
    assert given["medicationReference"] == {"reference": "#given"}
    assert "medicationCodeableConcept" not in given
    (medication,) = given["contained"]  # type: ignore[misc]
    assert medication["resourceType"] == "Medication"
    assert medication["batch"] == {"lotNumber": "K-2291"}


def test_without_a_ledger_an_infusion_names_its_drug_and_no_lot(db: Session) -> None:
    team = staff(db)
    row = ready_iv_session(db, team)
    sessions.chart_pump(db, actor=team.nurse, session_id=row.id, kind="start", at=T0, now=T0)
    (running,) = _given(db, row.patient_id)
    assert running["status"] == "in-progress" and "dose" not in running["dosage"]  # type: ignore[operator]
    stop = T0 + timedelta(minutes=40)
    sessions.chart_pump(
        db, actor=team.nurse, session_id=row.id, kind="stop", at=stop, reason="complete", now=stop
    )
    (given,) = _given(db, row.patient_id)
    assert given["dosage"]["dose"]["value"] == 35.0  # type: ignore[index]
    assert "contained" not in given and "note" not in given
    assert given["medicationCodeableConcept"]["text"]  # type: ignore[index]


def test_each_nasal_device_carries_the_lot_it_was_drawn_from(db: Session) -> None:
    team = staff(db)
    setup = ledger(db, nurse=team.nurse, prescriber=team.prescriber)
    received(db, setup, lot_number="E-511", quantity=1, product=setup.devices)
    received(db, setup, lot_number="E-622", quantity=3, product=setup.devices)
    sid = open_session(db, team)
    for minute in (1, 6):
        sessions.chart_device(
            db, actor=team.nurse, session_id=sid, now=T0 + timedelta(minutes=minute)
        )
    patient_id = sessions.session_records(db, ids=[sid])[0].patient_id
    devices = _given(db, patient_id)
    assert [d["dosage"]["dose"]["value"] for d in devices] == [28.0, 28.0]  # type: ignore[index]
    assert [d["contained"][0]["batch"]["lotNumber"] for d in devices] == ["E-511", "E-622"]  # type: ignore[index]
