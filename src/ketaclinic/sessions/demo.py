"""Past sessions of the demo clinic, charted through the service as a nurse would.

Blood pressure rises modestly toward 30-40 minutes of a 40-minute infusion and settles
in recovery (Riva-Posse 2018; Yale series, Gen Hosp Psychiatry 2024: mean peak about
+16/+11 mmHg, severe surges in about 1% of infusions); now and then a surge raises an
alarm that the nurse acknowledges. Readings every 10 minutes during and 15 after.
The two latest esketamine sessions leave their monitoring record to sign or file,
which the filing dashboard shows.

One IV session is left in progress at the moment the demo is built, its infusion
running and a monitor bound (``DEMO_MONITOR``), so that ``ketaclinic hl7 simulate``
against a running ``serve --hl7-port`` charts readings to it on the live screen.
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.demo import PASSWORD, DemoClinic
from ketaclinic.orders import service as orders
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import ClinicError
from ketaclinic.sessions import service
from ketaclinic.sessions.models import InfusionSession, RemsEnrolment

log = logging.getLogger("ketaclinic.demo")
# Every past appointment would make the demo slow to build (each session is charted act
# by act through the service): the most recent ones show every feature.
RECENT = 80
# The simulator's monitors send for every bound session, whatever the device id; this
# one names the demo's chair.
DEMO_MONITOR = "DEMO-MON-1"
FULL_CHECKLIST = {"identity": "yes", "consent": "yes", "fasting": "yes", "driver": "yes"}
# The demo chair's pre-dose reading: an ordinary one, inside every go limit.
DEMO_PRE_DOSE = {
    "heart_rate": 74,
    "systolic_bp": 122,
    "diastolic_bp": 78,
    "spo2": 98,
    "respiratory_rate": 14,
}
ALDRETE_10 = {
    "activity": 2,
    "respiration": 2,
    "circulation": 2,
    "consciousness": 2,
    "oxygen_saturation": 2,
}


def build(db: Session, clinic: DemoClinic) -> None:
    made = 0
    appointments = sorted(clinic.extra.get("past_appointments", []), key=lambda a: a.starts_at)
    recent = appointments[-RECENT:]
    # The two latest esketamine sessions leave their monitoring record for the dashboard.
    nasal = [a.id for a in recent if a.kind == "esketamine"]
    clinic.extra["sessions_record_pending"] = {i: n for n, i in enumerate(reversed(nasal[-2:]))}
    for appointment in recent:
        made += _try(
            db,
            clinic,
            lambda now, a=appointment: service.start_session_for_appointment(
                db, actor=_nurse(clinic), appointment_id=a.id, now=now
            ),
            appointment.starts_at,
        )
    if made == 0:
        made = _walk_ins(db, clinic)
    log.info("sessions demo: %d past sessions", made)
    _in_progress(db, clinic)


def infusion_under_way(
    db: Session,
    *,
    nurse: Actor,
    patient_id: int,
    start: datetime,
    dose_at: datetime,
    pre_dose: dict[str, int],
    override_by: Actor | None = None,
) -> InfusionSession:
    """A walk-in IV session for the patient's signed order, as a nurse runs one: the
    checklist answered in full (a negative pregnancy test where one is asked), the
    pre-dose reading at ``start``, the pump started at ``dose_at``. The demo's chair,
    the monitor benchmarks and the live-screen tests start their infusions so.
    ``override_by``: a prescriber who lets the dose start with what the checklist still
    lacks (in a clinic whose checklist asks more than these answers: signed consents,
    a controlled-substance ledger entry), saying so. Raises ``ValueError`` when the
    patient's order is not for an IV infusion."""
    row = service.start_walk_in_session(db, actor=nurse, patient_id=patient_id, now=start)
    if row.route != "iv":
        raise ValueError("not an IV order")
    state = service.get_session(db, actor=nurse, session_id=row.id, now=start)
    answers = dict(FULL_CHECKLIST)
    if any(i.rule.id == "pregnancy_test" and not i.met for i in state.checklist):
        answers["pregnancy_test"] = "negative"
    service.answer_checklist(db, actor=nurse, session_id=row.id, answers=answers, now=start)
    service.record_vitals(
        db,
        actor=nurse,
        session_id=row.id,
        taken_at=start,
        heart_rate=pre_dose["heart_rate"],
        systolic_bp=pre_dose["systolic_bp"],
        diastolic_bp=pre_dose["diastolic_bp"],
        spo2=pre_dose["spo2"],
        respiratory_rate=pre_dose["respiratory_rate"],
        now=start,
    )
    if override_by is not None:
        state = service.get_session(db, actor=nurse, session_id=row.id, now=dose_at)
        if not all(i.met for i in state.checklist):
            service.override_checklist(
                db,
                actor=override_by,
                session_id=row.id,
                reason="benchmark or test chair: items not part of the set-up",
                now=dose_at,
            )
    service.chart_pump(db, actor=nurse, session_id=row.id, kind="start", at=dose_at, now=dose_at)
    return row


def _in_progress(db: Session, clinic: DemoClinic) -> None:
    """An IV infusion running now (ten minutes in), monitor bound: the chair the
    simulator sends for. At the real clock, as monitor readings are charted at arrival."""
    nurse = clinic.staff["nurse.okafor"]
    current = [
        orders.current_order(db, actor=nurse, course_id=course.id)
        for course in clinic.extra.get("courses", [])
    ]
    signed = sorted((o for o in current if o is not None), key=lambda o: o.id)
    start = utcnow() - timedelta(minutes=14)
    for order in reversed(signed):
        try:
            with db.begin_nested():
                dose = start + timedelta(minutes=4)
                # A ValueError (not an IV order) rolls the savepoint back.
                row = infusion_under_way(
                    db,
                    nurse=nurse,
                    patient_id=order.patient_id,
                    start=start,
                    dose_at=dose,
                    pre_dose=DEMO_PRE_DOSE,
                )
                service.bind_device(
                    db, actor=nurse, session_id=row.id, device_id=DEMO_MONITOR, now=dose
                )
        except (ClinicError, ValueError) as exc:
            log.info("sessions demo: no session in progress for one order (%s)", exc)
            continue
        clinic.extra["session_in_progress"] = row.id
        log.info("sessions demo: session %d in progress, monitor %s", row.id, DEMO_MONITOR)
        return


def _nurse(clinic: DemoClinic) -> Actor:
    return clinic.staff[clinic.rng.choice(["nurse.okafor", "nurse.lind"])]


def _walk_ins(db: Session, clinic: DemoClinic) -> int:
    """Without past appointments: a few sessions for patients who have a signed order."""
    reader = clinic.staff["nurse.okafor"]
    current = [
        orders.current_order(db, actor=reader, course_id=course.id)
        for course in clinic.extra.get("courses", [])
    ]
    signed = sorted((o for o in current if o is not None), key=lambda o: o.id)
    made = 0
    for order in signed[:6]:
        for back in (21, 17, 14, 10):
            start = datetime.combine(clinic.today - timedelta(days=back), time(14, 30), UTC)
            made += _try(
                db,
                clinic,
                lambda now, o=order: service.start_walk_in_session(
                    db, actor=_nurse(clinic), patient_id=o.patient_id, now=now
                ),
                start,
            )
    return made


def _try(db: Session, clinic: DemoClinic, open_it: Any, starts_at: datetime) -> int:
    if starts_at.date() >= clinic.today:
        return 0
    try:
        with db.begin_nested():
            row = open_it(starts_at)
            if row.status != "open":
                return 0
            _chart(db, clinic, row, starts_at)
    except (ClinicError, ValueError) as exc:
        log.info("sessions demo: skipped one session (%s)", exc)
        return 0
    return 1


def _chart(db: Session, clinic: DemoClinic, row: InfusionSession, t0: datetime) -> None:
    rng = clinic.rng
    nurse = _nurse(clinic)
    prescriber = clinic.staff[rng.choice(["dr.rivera", "dr.chen"])]
    sid = row.id
    state = service.get_session(db, actor=nurse, session_id=sid, now=t0)
    answers = dict(FULL_CHECKLIST)
    if any(i.rule.id == "pregnancy_test" and not i.met for i in state.checklist):
        answers["pregnancy_test"] = "negative"
    service.answer_checklist(db, actor=nurse, session_id=sid, answers=answers, now=t0)
    if row.route == "esketamine_nasal":
        _enrol(db, nurse, row.patient_id, t0.date())
    base_s, base_d = rng.randint(108, 132), rng.randint(68, 82)
    base_hr = rng.randint(62, 84)

    def at(m: float) -> datetime:
        return t0 + timedelta(minutes=m)

    def vitals(m: float, rise: float, hr_rise: float = 0) -> Any:
        sbp = int(base_s + rise + rng.randint(-4, 4))
        dbp = int(base_d + rise * 0.7 + rng.randint(-3, 3))
        return service.record_vitals(
            db,
            actor=nurse,
            session_id=sid,
            taken_at=at(m),
            heart_rate=int(base_hr + hr_rise),
            systolic_bp=sbp,
            diastolic_bp=min(dbp, sbp - 20),
            spo2=rng.randint(96, 99),
            respiratory_rate=rng.randint(12, 17),
            now=at(m),
        )

    vitals(2, 0)
    if row.route == "iv":
        dose_end = _iv(db, rng, nurse, sid, at, vitals)
    else:
        dose_end = _nasal(db, rng, nurse, sid, at, vitals, state.devices_planned)
    _observations(db, rng, nurse, sid, at)
    leave = dose_end + (32 if row.route == "iv" else 122)
    service.record_score(
        db,
        actor=nurse,
        session_id=sid,
        instrument_id="aldrete",
        answers=ALDRETE_10,
        now=at(leave - 2),
    )
    service.record_score(
        db,
        actor=nurse,
        session_id=sid,
        instrument_id="moaas",
        answers={"rating": 5},
        now=at(leave - 2),
    )
    vitals(leave - 1, rng.uniform(-2, 6))
    _settle(db, nurse, prescriber, sid, at(leave - 1), iv=row.route == "iv")
    service.discharge(
        db,
        actor=nurse,
        session_id=sid,
        escort_recorded=True,
        no_driving_instruction_given=True,
        now=at(leave),
    )
    service.sign_note(db, actor=nurse, session_id=sid, password=PASSWORD, now=at(leave + 8))
    service.cosign_note(
        db, actor=prescriber, session_id=sid, password=PASSWORD, now=at(leave + 180)
    )
    if row.route == "esketamine_nasal":
        service.answer_record(
            db,
            actor=nurse,
            session_id=sid,
            answers={
                "benzodiazepines": "no",
                "non_benzodiazepine_hypnotics": rng.choice(["no", "no", "yes"]),
                "psychostimulants": "no",
                "maois": "no",
                "lot_number": f"EK{rng.randint(10000, 99999)}",
                "respiratory_depression": "no",
                "serious_adverse_events": "none",
            },
        )
        pending = clinic.extra.get("sessions_record_pending", {}).get(row.appointment_id)
        if pending == 0:
            return  # the latest: still to sign and file
        service.sign_record(db, actor=nurse, session_id=sid, password=PASSWORD, now=at(leave + 10))
        if pending == 1:
            return  # signed, still to file
        service.file_record(
            db,
            actor=nurse,
            session_id=sid,
            reference=f"PMF-{sid:05d}",
            now=at(leave + 60 * 24 * rng.randint(1, 5)),
        )


def _iv(db: Session, rng: random.Random, nurse: Actor, sid: int, at: Any, vitals: Any) -> float:
    service.chart_pump(db, actor=nurse, session_id=sid, kind="start", now=at(5))
    surge = rng.random() < 0.12
    for m, rise in ((15, 5), (25, 10), (35, 15), (45, 13)):
        extra = 52 if surge and m == 35 else 0
        reading = vitals(m, rise * rng.uniform(0.6, 1.3) + extra, hr_rise=rise / 2)
        if extra:
            _acknowledge(
                db,
                nurse,
                sid,
                at(m + 2),
                "rechecked after 5 minutes' rest: settled; prescriber informed",
            )
            assert reading is not None
    state = service.get_session(db, actor=nurse, session_id=sid, now=at(47))
    assert state.dose_end is not None and state.dose_start is not None
    end = (state.dose_end - state.dose_start).total_seconds() / 60 + 5
    service.chart_pump(
        db, actor=nurse, session_id=sid, kind="stop", reason="infusion complete", now=at(end + 1)
    )
    for after in (end + 15, end + 30):
        vitals(after, 6 * rng.uniform(0, 1))
    return end


def _nasal(
    db: Session, rng: random.Random, nurse: Actor, sid: int, at: Any, vitals: Any, devices: int
) -> float:
    for n in range(devices):
        service.chart_device(db, actor=nurse, session_id=sid, now=at(5 + 5 * n))
    end = 5 + 5 * (devices - 1)
    vitals(end + 40, rng.uniform(6, 18))
    vitals(end + 90, rng.uniform(0, 6))
    service.record_score(
        db,
        actor=nurse,
        session_id=sid,
        instrument_id="cadss6",
        answers={"item1": 0, "item2": 0, "item6": 0, "item7": 0, "item15": 0, "item22": 0},
        now=at(end + 110),
    )
    return end


def _observations(db: Session, rng: random.Random, nurse: Actor, sid: int, at: Any) -> None:
    cadss = {
        k: rng.choice([0, 1, 1, 2, 2, 3])
        for k in ("item1", "item2", "item6", "item7", "item15", "item22")
    }
    service.record_score(
        db, actor=nurse, session_id=sid, instrument_id="cadss6", answers=cadss, now=at(28)
    )
    service.record_score(
        db,
        actor=nurse,
        session_id=sid,
        instrument_id="moaas",
        answers={"rating": rng.choice([5, 4, 4, 3])},
        now=at(28),
    )
    if rng.random() < 0.25:
        service.record_side_effect(
            db,
            actor=nurse,
            session_id=sid,
            effect_id="nausea",
            severity="mild",
            note="settled after antiemetic",
            now=at(31),
        )
        service.record_intervention(
            db,
            actor=nurse,
            session_id=sid,
            drug="Ondansetron",
            dose=4,
            unit="mg",
            route="iv",
            reason="nausea",
            now=at(32),
        )
    if rng.random() < 0.2:
        service.record_side_effect(
            db, actor=nurse, session_id=sid, effect_id="headache", severity="mild", now=at(50)
        )
    if rng.random() < 0.3:
        service.record_side_effect(
            db,
            actor=nurse,
            session_id=sid,
            effect_id="dissociation",
            severity=rng.choice(["mild", "moderate"]),
            note="coached; eye mask and music",
            now=at(24),
        )


def _settle(
    db: Session, nurse: Actor, prescriber: Actor, sid: int, now: datetime, *, iv: bool
) -> None:
    """What a nurse does before discharge, as the rules ask: a recovery dissociation
    score back at baseline (IV: the nasal walk records its own), every alarm
    acknowledged, and any call for the prescriber answered."""
    if iv:
        service.record_score(
            db,
            actor=nurse,
            session_id=sid,
            instrument_id="cadss6",
            answers=dict.fromkeys(("item1", "item2", "item6", "item7", "item15", "item22"), 0),
            now=now,
        )
    _acknowledge(db, nurse, sid, now, "reviewed at the chair: settled on recheck")
    state = service.get_session(db, actor=nurse, session_id=sid, now=now)
    for call in state.waiting_for_prescriber:
        service.answer_prescriber_call(
            db,
            actor=prescriber,
            session_id=sid,
            call_id=call.id,
            decision="continue",
            note="seen at the chair; settled on recheck, continue monitoring",
            now=now,
        )


def _acknowledge(db: Session, nurse: Actor, sid: int, now: datetime, note: str) -> None:
    state = service.get_session(db, actor=nurse, session_id=sid, now=now)
    for alarm in state.unacknowledged:
        service.acknowledge_alarm(
            db, actor=nurse, session_id=sid, alarm_id=alarm.id, note=note, now=now
        )


def _enrol(db: Session, nurse: Actor, patient_id: int, on: date) -> None:
    if db.scalar(select(RemsEnrolment.id).where(RemsEnrolment.patient_id == patient_id)):
        return
    service.record_enrolment(
        db,
        actor=nurse,
        patient_id=patient_id,
        enrolment_id=f"REMS-{patient_id:06d}",
        enrolled_on=on - timedelta(days=3),
    )
