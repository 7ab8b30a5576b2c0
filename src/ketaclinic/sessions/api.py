"""Session JSON routes under /api/sessions: nurses and prescribers run sessions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from ketaclinic.platform.actors import Actor
from ketaclinic.platform.auth import allow, get_db
from ketaclinic.platform.errors import Conflict, Invalid
from ketaclinic.platform.ids import BigRecordId, RecordId
from ketaclinic.platform.roles import Role
from ketaclinic.sessions import schemas as s
from ketaclinic.sessions import service
from ketaclinic.sessions.models import SessionEntry, SessionEvent, SessionNote, VitalSign
from ketaclinic.sessions.service import esketamine
from ketaclinic.sessions.service.view import SessionView, phase_at

router = APIRouter(prefix="/api/sessions", tags=["sessions"])
DB = Annotated[Session, Depends(get_db)]
RUN = (Role.nurse, Role.prescriber)


def event_out(e: SessionEvent) -> s.EventOut:
    return s.EventOut(
        id=e.id,
        kind=e.kind,
        at=e.at,
        rate_ml_per_h=e.rate_ml_per_h,
        reason=e.reason,
        recorded_by=e.recorded_by,
        entered_in_error=e.entered_in_error_at is not None,
    )


def vital_out(v: VitalSign, phase: str | None = None) -> s.VitalOut:
    return s.VitalOut(
        id=v.id,
        taken_at=v.taken_at,
        heart_rate=v.heart_rate,
        systolic_bp=v.systolic_bp,
        diastolic_bp=v.diastolic_bp,
        spo2=v.spo2,
        respiratory_rate=v.respiratory_rate,
        mean_bp=v.mean_bp,
        temperature=v.temperature,
        source=v.source,
        phase=phase,
        entered_in_error=v.entered_in_error_at is not None,
    )


def entry_out(e: SessionEntry) -> s.EntryOut:
    return s.EntryOut(
        id=e.id,
        kind=e.kind,
        code=e.code,
        at=e.at,
        value=e.value,
        data=dict(e.data or {}),
        text=e.text,
        recorded_by=e.recorded_by,
        entered_in_error=e.entered_in_error_at is not None,
    )


def note_out(n: SessionNote) -> s.NoteOut:
    return s.NoteOut(
        id=n.id,
        kind=n.kind,
        body=n.body,
        signed_by=n.signed_by,
        signed_by_name=n.signed_by_name,
        signed_at=n.signed_at,
        signature_meaning=n.signature_meaning,
        cosigned_by=n.cosigned_by,
        cosigned_by_name=n.cosigned_by_name,
        cosigned_at=n.cosigned_at,
        cosignature_meaning=n.cosignature_meaning,
    )


def session_out(v: SessionView) -> s.SessionOut:
    p = v.pump
    d = v.discharge
    return s.SessionOut(
        id=v.session.id,
        patient_id=v.session.patient_id,
        order_id=v.session.order_id,
        appointment_id=v.session.appointment_id,
        number=v.session.number,
        protocol_id=v.session.protocol_id,
        route=v.session.route,
        status=v.session.status,
        checklist=[
            s.ChecklistItemOut(
                id=i.rule.id,
                label=i.rule.label,
                met=i.met,
                answer=i.answer,
                text=i.text,
                basis=i.rule.basis,
                evidence=i.rule.evidence,
            )
            for i in v.checklist
        ],
        checklist_overridden=v.override is not None,
        dose_start=v.dose_start,
        dose_end=v.dose_end,
        pump=s.PumpOut(
            state=p.state,
            rate_ml_per_h=p.rate_ml_per_h,
            elapsed_min=p.elapsed_min,
            running_min=p.running_min,
            volume_ml=p.volume_ml,
            volume_left_ml=p.volume_left_ml,
            mg=p.mg,
        )
        if p
        else None,
        devices_given=len(v.devices),
        mg_given=round(v.mg_given, 2),
        events=[event_out(e) for e in v.events],
        vitals=[
            vital_out(r, phase_at(v, r.taken_at) if r.entered_in_error_at is None else None)
            for r in v.vitals
        ],
        alarms=[
            s.AlarmOut(
                id=a.id,
                vital_sign_id=a.vital_sign_id,
                entry_id=a.entry_id,
                parameter=a.parameter,
                rule_id=a.rule_id,
                level=a.level,
                message=a.message,
                action=a.action,
                raised_at=a.raised_at,
                acknowledged_by=a.acknowledged_by,
                acknowledged_at=a.acknowledged_at,
                acknowledgement_note=a.acknowledgement_note,
            )
            for a in v.alarms
        ],
        prescriber_calls=[
            s.PrescriberCallOut.model_validate(c, from_attributes=True) for c in v.prescriber_calls
        ],
        waiting_for_prescriber=bool(v.waiting_for_prescriber),
        entries=[entry_out(e) for e in v.entries],
        discharge_ready=bool(d and d.ready),
        discharge_criteria=[
            s.CriterionOut(met=m, text=t, source=src, evidence=ev)
            for m, t, src, ev in (d.reasons if d else [])
        ],
        discharge_missing=list(d.missing) if d else [],
        note_signed_by=v.note.signed_by if v.note else None,
        note_cosigned_by=v.note.cosigned_by if v.note else None,
    )


def _view(db: Session, actor: Actor, session_id: int) -> s.SessionOut:
    return session_out(service.get_session(db, actor=actor, session_id=session_id))


@router.post("", status_code=201)
def start(body: s.SessionStart, db: DB, actor: Actor = allow(*RUN)) -> s.SessionOut:
    if (body.appointment_id is None) == (body.patient_id is None):
        raise Invalid(
            "give an appointment_id, or a patient_id for a walk-in (not both)",
            fields={"appointment_id": "one of the two"},
        )
    if body.appointment_id is not None:
        row = service.start_session_for_appointment(
            db, actor=actor, appointment_id=body.appointment_id
        )
    else:
        assert body.patient_id is not None
        row = service.start_walk_in_session(db, actor=actor, patient_id=body.patient_id)
    return _view(db, actor, row.id)


@router.get("")
def list_for_patient(
    patient_id: RecordId, db: DB, completed: bool = False, actor: Actor = allow(*RUN)
) -> list[s.SummaryOut]:
    rows = service.sessions_of_patient(
        db, actor=actor, patient_id=patient_id, only_completed=completed
    )
    return [s.SummaryOut(**r.__dict__) for r in rows]


@router.get("/rems/to-file")
def to_file(db: DB, actor: Actor = allow(*RUN)) -> list[s.ToFileOut]:
    return [
        s.ToFileOut(
            session_id=r.session_id,
            patient_id=r.patient_id,
            patient_name=r.patient_name,
            session_on=r.session_on,
            due_on=r.due_on,
            days_left=r.days_left,
            signed=r.signed,
        )
        for r in service.records_to_file(db, actor=actor)
    ]


@router.post("/rems/enrolments", status_code=201)
def enrol(body: s.EnrolmentIn, db: DB, actor: Actor = allow(*RUN)) -> s.EnrolmentOut:
    row = service.record_enrolment(
        db,
        actor=actor,
        patient_id=body.patient_id,
        enrolment_id=body.enrolment_id,
        enrolled_on=body.enrolled_on,
    )
    return s.EnrolmentOut(
        id=row.id,
        patient_id=row.patient_id,
        enrolment_id=row.enrolment_id,
        enrolled_on=row.enrolled_on,
        recorded_by=row.recorded_by,
    )


@router.get("/{session_id}")
def read(session_id: RecordId, db: DB, actor: Actor = allow(*RUN)) -> s.SessionOut:
    return _view(db, actor, session_id)


@router.post("/{session_id}/checklist")
def checklist(
    session_id: RecordId, body: s.ChecklistIn, db: DB, actor: Actor = allow(*RUN)
) -> s.SessionOut:
    service.answer_checklist(
        db, actor=actor, session_id=session_id, answers=dict(body.answers), notes=body.notes
    )
    return _view(db, actor, session_id)


@router.post("/{session_id}/checklist/override")
def override(
    session_id: RecordId, body: s.OverrideIn, db: DB, actor: Actor = allow(Role.prescriber)
) -> s.SessionOut:
    service.override_checklist(db, actor=actor, session_id=session_id, reason=body.reason)
    return _view(db, actor, session_id)


@router.post("/{session_id}/infusion", status_code=201)
def infusion(
    session_id: RecordId, body: s.PumpIn, db: DB, actor: Actor = allow(*RUN)
) -> s.EventOut:
    return event_out(
        service.chart_pump(
            db,
            actor=actor,
            session_id=session_id,
            kind=body.kind,
            at=body.at,
            rate_ml_per_h=body.rate_ml_per_h,
            reason=body.reason,
            lot_id=body.lot_id,
        )
    )


@router.post("/{session_id}/devices", status_code=201)
def device(
    session_id: RecordId, body: s.DeviceIn, db: DB, actor: Actor = allow(*RUN)
) -> s.EventOut:
    return event_out(
        service.chart_device(db, actor=actor, session_id=session_id, at=body.at, lot_id=body.lot_id)
    )


@router.post("/{session_id}/events/{event_id}/entered-in-error")
def event_error(
    session_id: RecordId, event_id: RecordId, body: s.ErrorIn, db: DB, actor: Actor = allow(*RUN)
) -> s.EventOut:
    return event_out(
        service.mark_event_in_error(
            db, actor=actor, session_id=session_id, event_id=event_id, reason=body.reason
        )
    )


@router.post("/{session_id}/vitals", status_code=201)
def vitals(
    session_id: RecordId, body: s.VitalsIn, db: DB, actor: Actor = allow(*RUN)
) -> s.VitalOut:
    row = service.record_vitals(
        db,
        actor=actor,
        session_id=session_id,
        taken_at=body.taken_at,
        heart_rate=body.heart_rate,
        systolic_bp=body.systolic_bp,
        diastolic_bp=body.diastolic_bp,
        spo2=body.spo2,
        respiratory_rate=body.respiratory_rate,
        source=body.source,
    )
    return vital_out(row)


@router.post("/{session_id}/vitals/{vital_sign_id}/entered-in-error")
def vitals_error(
    session_id: RecordId,
    vital_sign_id: BigRecordId,
    body: s.ErrorIn,
    db: DB,
    actor: Actor = allow(*RUN),
) -> s.VitalOut:
    return vital_out(
        service.mark_vitals_in_error(
            db, actor=actor, session_id=session_id, vital_sign_id=vital_sign_id, reason=body.reason
        )
    )


@router.post("/{session_id}/alarms/{alarm_id}/acknowledge")
def acknowledge(
    session_id: RecordId,
    alarm_id: RecordId,
    body: s.AcknowledgeIn,
    db: DB,
    actor: Actor = allow(*RUN),
) -> s.SessionOut:
    service.acknowledge_alarm(
        db, actor=actor, session_id=session_id, alarm_id=alarm_id, note=body.note
    )
    return _view(db, actor, session_id)


@router.post("/{session_id}/prescriber-calls/{call_id}/answer")
def answer_prescriber_call(
    session_id: RecordId,
    call_id: RecordId,
    body: s.PrescriberAnswerIn,
    db: DB,
    actor: Actor = allow(Role.prescriber),
) -> s.SessionOut:
    service.answer_prescriber_call(
        db,
        actor=actor,
        session_id=session_id,
        call_id=call_id,
        decision=body.decision,
        note=body.note,
    )
    return _view(db, actor, session_id)


@router.post("/{session_id}/scores", status_code=201)
def score(session_id: RecordId, body: s.ScoreIn, db: DB, actor: Actor = allow(*RUN)) -> s.EntryOut:
    return entry_out(
        service.record_score(
            db,
            actor=actor,
            session_id=session_id,
            instrument_id=body.instrument_id,
            answers=body.answers,
            at=body.at,
        )
    )


@router.post("/{session_id}/side-effects", status_code=201)
def side_effect(
    session_id: RecordId, body: s.SideEffectIn, db: DB, actor: Actor = allow(*RUN)
) -> s.EntryOut:
    return entry_out(
        service.record_side_effect(
            db,
            actor=actor,
            session_id=session_id,
            effect_id=body.effect_id,
            severity=body.severity,
            note=body.note,
            at=body.at,
        )
    )


@router.post("/{session_id}/symptoms", status_code=201)
def symptom(
    session_id: RecordId, body: s.SymptomIn, db: DB, actor: Actor = allow(*RUN)
) -> s.EntryOut:
    return entry_out(
        service.record_symptom(
            db,
            actor=actor,
            session_id=session_id,
            symptom_id=body.symptom_id,
            note=body.note,
            at=body.at,
        )
    )


@router.post("/{session_id}/interventions", status_code=201)
def intervention(
    session_id: RecordId, body: s.InterventionIn, db: DB, actor: Actor = allow(*RUN)
) -> s.EntryOut:
    return entry_out(
        service.record_intervention(
            db,
            actor=actor,
            session_id=session_id,
            drug=body.drug,
            dose=body.dose,
            unit=body.unit,
            route=body.route,
            reason=body.reason,
            at=body.at,
        )
    )


@router.post("/{session_id}/notes", status_code=201)
def note(session_id: RecordId, body: s.NoteIn, db: DB, actor: Actor = allow(*RUN)) -> s.EntryOut:
    return entry_out(
        service.record_note(db, actor=actor, session_id=session_id, text=body.text, at=body.at)
    )


@router.post("/{session_id}/entries/{entry_id}/entered-in-error")
def entry_error(
    session_id: RecordId, entry_id: RecordId, body: s.ErrorIn, db: DB, actor: Actor = allow(*RUN)
) -> s.EntryOut:
    return entry_out(
        service.mark_entry_in_error(
            db, actor=actor, session_id=session_id, entry_id=entry_id, reason=body.reason
        )
    )


@router.get("/{session_id}/prediction")
def prediction(session_id: RecordId, db: DB, actor: Actor = allow(*RUN)) -> s.PredictionOut:
    try:
        p = service.predict(service.get_session(db, actor=actor, session_id=session_id))
    except service.PredictionUnavailable as exc:
        raise Conflict(f"no prediction: {exc}") from exc
    return s.PredictionOut(
        model_id=p.model_id,
        threshold_ng_ml=p.threshold_ng_ml,
        peak_ng_ml=p.peak_ng_ml,
        below_threshold_at=p.below_at,
        notes=p.notes,
    )


@router.post("/{session_id}/discharge")
def discharge(
    session_id: RecordId, data: s.DischargeIn, db: DB, actor: Actor = allow(*RUN)
) -> s.SessionOut:
    service.discharge(
        db,
        actor=actor,
        session_id=session_id,
        escort_recorded=data.escort_recorded,
        no_driving_instruction_given=data.no_driving_instruction_given,
    )
    return _view(db, actor, session_id)


@router.post("/{session_id}/note/sign", status_code=201)
def sign(
    session_id: RecordId,
    body: s.SignIn,
    request: Request,
    db: DB,
    actor: Actor = allow(Role.nurse),
) -> s.NoteOut:
    zone = request.app.state.settings.zone
    return note_out(
        service.sign_note(db, actor=actor, session_id=session_id, password=body.password, zone=zone)
    )


@router.post("/{session_id}/note/cosign")
def cosign(
    session_id: RecordId, body: s.SignIn, db: DB, actor: Actor = allow(Role.prescriber)
) -> s.NoteOut:
    return note_out(
        service.cosign_note(db, actor=actor, session_id=session_id, password=body.password)
    )


@router.post("/{session_id}/addenda", status_code=201)
def addendum(
    session_id: RecordId, body: s.AddendumIn, db: DB, actor: Actor = allow(*RUN)
) -> s.NoteOut:
    return note_out(
        service.add_addendum(
            db, actor=actor, session_id=session_id, text=body.text, password=body.password
        )
    )


@router.get("/{session_id}/monitoring-record")
def monitoring_record(session_id: RecordId, db: DB, actor: Actor = allow(*RUN)) -> s.RecordOut:
    return _record(db, actor, session_id)


@router.put("/{session_id}/monitoring-record")
def answer_record(
    session_id: RecordId, body: s.RecordAnswersIn, db: DB, actor: Actor = allow(*RUN)
) -> s.RecordOut:
    service.answer_record(db, actor=actor, session_id=session_id, answers=body.answers)
    return _record(db, actor, session_id)


@router.post("/{session_id}/monitoring-record/sign")
def sign_record(
    session_id: RecordId, body: s.SignIn, db: DB, actor: Actor = allow(*RUN)
) -> s.RecordOut:
    service.sign_record(db, actor=actor, session_id=session_id, password=body.password)
    return _record(db, actor, session_id)


@router.post("/{session_id}/monitoring-record/file")
def file_record(
    session_id: RecordId, body: s.FileIn, db: DB, actor: Actor = allow(*RUN)
) -> s.RecordOut:
    service.file_record(db, actor=actor, session_id=session_id, reference=body.reference)
    return _record(db, actor, session_id)


def _record(db: Session, actor: Actor, session_id: int) -> s.RecordOut:
    v = service.get_session(db, actor=actor, session_id=session_id)
    r = v.monitoring_record
    if r is None:
        raise Invalid(
            "this session has no monitoring record (not an esketamine session)",
            fields={"session_id": "not esketamine"},
        )
    values = esketamine.form_values(v)
    return s.RecordOut(
        session_id=session_id,
        template_version=r.template_version,
        session_on=r.session_on,
        due_on=r.due_on,
        values=values,
        missing=esketamine.missing_fields(values),
        signed_by=r.signed_by,
        signed_by_name=r.signed_by_name,
        signed_at=r.signed_at,
        signature_meaning=r.signature_meaning,
        filed_by=r.filed_by,
        filed_at=r.filed_at,
    )
