"""Everything about one session, read once and derived from the stored rows: the
infusion's state from its events, the phase of every reading, the schedule, the
checklist and the discharge criteria. A reload or a restart rebuilds the same view."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from ketaclinic.clinical import dosing, monitoring
from ketaclinic.clinical.monitoring.schedule import TOLERANCE_MIN
from ketaclinic.clinical.overrides import Override, apply
from ketaclinic.configuration import service as configuration
from ketaclinic.consent import service as consent
from ketaclinic.controlled import service as controlled
from ketaclinic.orders import service as orders
from ketaclinic.patients import service as patients
from ketaclinic.platform import ports
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Invalid
from ketaclinic.platform.settings import get_settings
from ketaclinic.scheduling import service as scheduling
from ketaclinic.sessions import pump
from ketaclinic.sessions.models import (
    ChecklistEntry,
    InfusionSession,
    MonitoringRecord,
    PrescriberCall,
    RemsEnrolment,
    SessionAlarm,
    SessionEntry,
    SessionEvent,
    SessionNote,
    VitalSign,
)
from ketaclinic.sessions.service import calls
from ketaclinic.sessions.service import checklist as checklist_rules
from ketaclinic.sessions.service.common import minutes

ROUTES = {"intravenous": "iv", "intranasal": "esketamine_nasal"}
PUMP_KINDS = ("start", "pause", "resume", "rate_change", "stop")
PARAMETERS = ("heart_rate", "systolic_bp", "diastolic_bp", "spo2", "respiratory_rate")
# Charted and shown beside them, judged by no alarm rule (no sourced limit for either).
SHOWN_ONLY = ("mean_bp", "temperature")
RECORDED = PARAMETERS + SHOWN_ONLY


def route_of(order: orders.Order) -> str:
    route = ROUTES.get(order.route)
    if route is None:
        raise Invalid(
            f"sessions chart IV infusions and intranasal esketamine; this order is {order.route}",
            fields={"order_id": "route not charted here"},
        )
    return route


def valid(rows: list[SessionEvent]) -> list[SessionEvent]:
    return [r for r in rows if r.entered_in_error_at is None]


@dataclass
class Reading:
    row: VitalSign
    phase: str
    at_min: float | None  # minutes from the start of dosing; None before it

    def signs(self, at_min: float) -> monitoring.VitalSigns:
        return monitoring.VitalSigns(at_min=at_min, **{p: getattr(self.row, p) for p in PARAMETERS})


@dataclass
class DischargeView:
    ready: bool
    reasons: list[tuple[bool, str, str, str]]  # met, text, source, evidence
    missing: list[str] = field(default_factory=list)


@dataclass
class SessionView:
    session: InfusionSession
    # The patient record; None in a view of the dosing alone (``dosing_timeline``:
    # charting a reading, the kept summaries), which reads none: ``patient`` then reads
    # it from ``reader`` when first asked for.
    patient_record: patients.Patient | None
    order: orders.Order
    appointment: scheduling.Appointment | None
    now: datetime
    events: list[SessionEvent]
    vitals: list[VitalSign]
    alarms: list[SessionAlarm]
    entries: list[SessionEntry]
    notes: list[SessionNote]
    checklist_entries: list[ChecklistEntry]
    enrolment: RemsEnrolment | None
    monitoring_record: MonitoringRecord | None
    checklist: list[checklist_rules.ChecklistItem] = field(default_factory=list)
    dose_start: datetime | None = None
    dose_end: datetime | None = None
    pump: pump.PumpStatus | None = None
    devices: list[SessionEvent] = field(default_factory=list)
    readings: list[Reading] = field(default_factory=list)
    schedule: list[monitoring.ScheduledReading] = field(default_factory=list)
    discharge: DischargeView | None = None
    # The clinic's overrides of the monitoring tables (reviewed under Clinical defaults).
    limit_overrides: list[Override] = field(default_factory=list)
    discharge_overrides: list[Override] = field(default_factory=list)
    open_suicidality_alert: bool | None = None
    prescriber_calls: list[PrescriberCall] = field(default_factory=list)
    schedule_overrides: list[Override] = field(default_factory=list)
    # Nasal device size and spacing from the order's protocol row (``dosing.device_mg``,
    # ``dosing.device_interval_min``) with the clinic's overrides: None outside esketamine.
    device_mg: float | None = None
    device_interval_min: float | None = None
    # When this patient's previous dose (in another session) began, and the protocol's
    # minimum interval between sessions (with the clinic's overrides).
    previous_dose_at: datetime | None = None
    min_spacing_hours: float | None = None
    # True when ``vitals`` holds only the readings the derivations need (see
    # ``key_readings``), not the whole chart: the session screen reads the rest paged.
    bounded: bool = False
    reader: Session | None = None

    @property
    def patient(self) -> patients.Patient:
        if self.patient_record is None:
            if self.reader is None:
                raise RuntimeError("a session view without its patient or a unit of work")
            self.patient_record = patients.patient_by_id(self.reader, self.session.patient_id)
        return self.patient_record

    @property
    def route(self) -> str:
        return self.session.route

    @property
    def esketamine(self) -> bool:
        return self.session.route == "esketamine_nasal"

    @property
    def override(self) -> SessionEvent | None:
        found = [e for e in valid(self.events) if e.kind == "checklist_override"]
        return found[-1] if found else None

    @property
    def checklist_complete(self) -> bool:
        return all(item.met for item in self.checklist)

    @property
    def may_start(self) -> bool:
        return self.checklist_complete or self.override is not None

    @property
    def waiting_for_prescriber(self) -> list[PrescriberCall]:
        """Calls for the prescriber nobody has answered yet."""
        return [c for c in self.prescriber_calls if c.status == "open"]

    @property
    def unacknowledged(self) -> list[SessionAlarm]:
        return [a for a in self.alarms if a.acknowledged_at is None]

    @property
    def discharged(self) -> SessionEvent | None:
        found = [e for e in valid(self.events) if e.kind == "discharge"]
        return found[-1] if found else None

    @property
    def note(self) -> SessionNote | None:
        found = [n for n in self.notes if n.kind == "note"]
        return found[0] if found else None

    @property
    def devices_planned(self) -> int:
        if self.order.devices:
            return int(self.order.devices)
        if self.device_mg is None:
            return 0
        return int(round(self.order.dose_mg / self.device_mg))

    @property
    def mg_given(self) -> float:
        if self.esketamine:
            return self.order.dose_mg / max(1, self.devices_planned) * len(self.devices)
        return self.pump.mg if self.pump else 0.0

    def valid_entries(self, kind: str, code: str | None = None) -> list[SessionEntry]:
        return [
            e
            for e in self.entries
            if e.kind == kind and e.entered_in_error_at is None and (code is None or e.code == code)
        ]

    def minutes_from_start(self, moment: datetime) -> float | None:
        return None if self.dose_start is None else minutes(moment, self.dose_start)

    def baseline(self) -> Reading | None:
        before = [r for r in self.readings if r.phase == "pre_infusion"]
        with_bp = [r for r in before if r.row.systolic_bp is not None]
        found = with_bp or before
        return found[-1] if found else None


def _rows(db: Session, model: Any, order: tuple[Any, ...], session_id: int) -> list[Any]:
    return list(db.scalars(select(model).where(model.session_id == session_id).order_by(*order)))


def build(
    db: Session,
    *,
    actor: Actor,
    row: InfusionSession,
    now: datetime | None = None,
    reading: bool = False,
    bounded: bool = False,
) -> SessionView:
    """``reading``: a person reads the session, so the patient, order and appointment are
    read through their areas' services (each audits and commits). Acts that only check
    the session before writing read those rows by id instead: the act's own audit record
    names the patient, and nothing commits half-way through the act.

    ``bounded``: the vital signs read are only those the checklist, the schedule, the
    discharge criteria and the REMS form derive from (``key_readings``), a number that
    does not grow with the chart; every derivation comes out as from the whole chart."""
    now = now or utcnow()
    if reading:
        patient = patients.get_patient(
            db, actor=actor, patient_id=row.patient_id, purpose="session"
        )
        order = orders.get_order(db, actor=actor, order_id=row.order_id)
        appointment = (
            scheduling.get_appointment(db, actor=actor, appointment_id=row.appointment_id)
            if row.appointment_id
            else None
        )
    else:
        patient = patients.patient_by_id(db, row.patient_id)
        order = orders.order_by_id(db, row.order_id)
        appointment = (
            scheduling.appointment_by_id(db, row.appointment_id) if row.appointment_id else None
        )
    view = SessionView(
        session=row,
        patient_record=patient,
        order=order,
        appointment=appointment,
        now=now,
        events=_rows(db, SessionEvent, (SessionEvent.at, SessionEvent.id), row.id),
        vitals=(
            [] if bounded else _rows(db, VitalSign, (VitalSign.taken_at, VitalSign.id), row.id)
        ),
        alarms=_rows(db, SessionAlarm, (SessionAlarm.raised_at, SessionAlarm.id), row.id),
        entries=_rows(db, SessionEntry, (SessionEntry.at, SessionEntry.id), row.id),
        notes=_rows(db, SessionNote, (SessionNote.id,), row.id),
        checklist_entries=_rows(db, ChecklistEntry, (ChecklistEntry.id,), row.id),
        enrolment=current_enrolment(db, row.patient_id),
        monitoring_record=db.scalar(
            select(MonitoringRecord).where(MonitoringRecord.session_id == row.id)
        ),
        limit_overrides=configuration.overrides_for(db, "monitoring.limits"),
        discharge_overrides=configuration.clinic_overrides(
            db, "monitoring.discharge", "monitoring.limits"
        ),
        schedule_overrides=configuration.overrides_for(db, "monitoring.schedules"),
        previous_dose_at=_previous_dose_at(db, row),
        min_spacing_hours=_min_spacing_hours(db, row.protocol_id),
        bounded=bounded,
    )
    if view.esketamine:
        view.device_mg, view.device_interval_min = devices_of(db, order)
    derive_dosing(view)
    if bounded:
        view.vitals = key_readings(db, view)
    _derive_readings(view)
    _derive_checklist(view, db)
    view.checklist += consent_items(db, view)
    view.checklist += preparation_items(db, view)
    _derive_schedule(view)
    view.open_suicidality_alert = ports.open_suicidality_alert(db, patient_id=row.patient_id)
    view.prescriber_calls = calls.calls_of_session(db, row.id)
    view.discharge = discharge_view(view)
    return view


def for_charting(
    db: Session,
    *,
    row: InfusionSession,
    now: datetime | None = None,
    limit_overrides: list[Override] | None = None,
) -> SessionView:
    """The session's dosing timeline (start and end of dosing, so the phase of a moment)
    and the clinic's limit overrides, without its readings, alarms or entries: what
    charting a reading needs, at a cost that does not grow with the chart. Acts that
    show or judge the whole session use ``build``. ``limit_overrides``: the clinic's
    ``monitoring.limits`` overrides when the caller read them already."""
    return dosing_timeline(
        db,
        row=row,
        order=orders.order_by_id(db, row.order_id),
        events=_rows(db, SessionEvent, (SessionEvent.at, SessionEvent.id), row.id),
        now=now or utcnow(),
        limit_overrides=(
            configuration.overrides_for(db, "monitoring.limits")
            if limit_overrides is None
            else limit_overrides
        ),
    )


def dosing_timeline(
    db: Session,
    *,
    row: InfusionSession,
    order: orders.Order,
    events: list[SessionEvent],
    now: datetime,
    limit_overrides: list[Override] | None = None,
    protocol_overrides: list[Override] | None = None,
) -> SessionView:
    """A view of the session's dosing alone (the pump replayed from ``events``, the nasal
    devices of an esketamine order), with no readings, alarms or entries: what charting
    a reading and the kept summaries need of a session, read by their callers in bulk.
    Its patient is read only if asked for (dosing reads no patient detail)."""
    view = SessionView(
        session=row,
        patient_record=None,
        reader=db,
        order=order,
        appointment=None,
        now=now,
        events=events,
        vitals=[],
        alarms=[],
        entries=[],
        notes=[],
        checklist_entries=[],
        enrolment=None,
        monitoring_record=None,
        limit_overrides=limit_overrides or [],
    )
    if view.esketamine:
        view.device_mg, view.device_interval_min = devices_of(
            db, order, protocol_overrides=protocol_overrides
        )
    derive_dosing(view)
    return view


def for_charting_many(
    db: Session,
    *,
    rows: Sequence[InfusionSession],
    now: datetime,
    limit_overrides: list[Override],
) -> dict[int, SessionView]:
    """``for_charting`` for several sessions at once (a group of monitor messages): their
    orders and events read with one query each, whatever their number."""
    signed = orders.orders_by_id(db, {r.order_id for r in rows})
    events: dict[int, list[SessionEvent]] = {r.id: [] for r in rows}
    for event in db.scalars(
        select(SessionEvent)
        .where(SessionEvent.session_id.in_(sorted(events)))
        .order_by(SessionEvent.session_id, SessionEvent.at, SessionEvent.id)
    ):
        events[event.session_id].append(event)
    return {
        row.id: dosing_timeline(
            db,
            row=row,
            order=signed[row.order_id],
            events=events[row.id],
            now=now,
            limit_overrides=limit_overrides,
        )
        for row in rows
    }


def devices_of(
    db: Session, order: orders.Order, *, protocol_overrides: list[Override] | None = None
) -> tuple[float, float]:
    """The nasal device size (mg) and the minutes between devices of the order's protocol:
    the protocol row with the clinic's overrides, then the order's own (as when drafted).
    ``protocol_overrides``: the clinic's, when the caller read them already."""
    own = [
        Override(o["target"], o["field"], o["value"], by=o["by"], reason=o["reason"])
        for o in order.overrides
        if o["target"] == order.protocol_id
    ]
    if protocol_overrides is None:
        protocol_overrides = configuration.overrides_for(db, "dosing.protocols")
    overrides = protocol_overrides + own
    return (
        dosing.device_mg(order.protocol_id, overrides),
        dosing.device_interval_min(order.protocol_id, overrides),
    )


def current_enrolment(db: Session, patient_id: int) -> RemsEnrolment | None:
    return db.scalar(
        select(RemsEnrolment)
        .where(RemsEnrolment.patient_id == patient_id, RemsEnrolment.entered_in_error_at.is_(None))
        .order_by(RemsEnrolment.enrolled_on.desc(), RemsEnrolment.id.desc())
        .limit(1)
    )


def pump_events(view: SessionView) -> list[pump.PumpEvent]:
    origin = view.dose_start
    assert origin is not None
    return [
        pump.PumpEvent(e.kind, minutes(e.at, origin), e.rate_ml_per_h)  # type: ignore[arg-type]
        for e in valid(view.events)
        if e.kind in PUMP_KINDS
    ]


def derive_dosing(view: SessionView) -> None:
    events = valid(view.events)
    if view.esketamine:
        view.devices = [e for e in events if e.kind == "device"]
        if view.devices:
            view.dose_start = view.devices[0].at
            if len(view.devices) >= view.devices_planned or any(e.kind == "stop" for e in events):
                view.dose_end = view.devices[-1].at
        return
    starts = [e for e in events if e.kind == "start"]
    if not starts:
        return
    view.dose_start = starts[0].at
    order = view.order
    status = pump.replay(
        pump_events(view),
        now_min=minutes(view.now, view.dose_start),
        initial_rate_ml_per_h=order.rate_ml_per_h or 0.0,
        total_volume_ml=order.total_volume_ml or 0.0,
        dose_mg=order.dose_mg,
    )
    view.pump = status
    if status.ended_at_min is not None:
        view.dose_end = view.dose_start + timedelta(minutes=status.ended_at_min)


def phase_at(view: SessionView, moment: datetime) -> str:
    if view.dose_start is None or moment < view.dose_start:
        return "pre_infusion"
    if view.esketamine:
        # Nasal dosing takes minutes: from the first device on, the patient is observed
        # against the recovery rows (the infusion rows speak of pausing a pump).
        return "recovery"
    if view.dose_end is None or moment < view.dose_end:
        return "infusion"
    return "recovery"


def _derive_readings(view: SessionView) -> None:
    view.readings = [
        Reading(v, phase_at(view, v.taken_at), view.minutes_from_start(v.taken_at))
        for v in view.vitals
        if v.entered_in_error_at is None
    ]


def pre_dose_signs(view: SessionView) -> monitoring.VitalSigns | None:
    base = view.baseline()
    return base.signs(0.0) if base else None


def _previous_dose_at(db: Session, row: InfusionSession) -> datetime | None:
    """The latest start of dosing (infusion start or nasal device) of this patient's
    other sessions."""
    return db.scalar(
        select(func.max(SessionEvent.at))
        .join(InfusionSession, InfusionSession.id == SessionEvent.session_id)
        .where(
            InfusionSession.patient_id == row.patient_id,
            InfusionSession.id != row.id,
            InfusionSession.status != "cancelled",
            SessionEvent.kind.in_(("start", "device")),
            SessionEvent.entered_in_error_at.is_(None),
        )
    )


def _min_spacing_hours(db: Session, protocol_id: str) -> float | None:
    overrides = configuration.clinic_overrides(db, "dosing.protocols")
    found = [p for p in dosing.protocols(overrides) if p.id == protocol_id]
    return found[0].min_spacing_hours if found else None


def _derive_checklist(view: SessionView, db: Session | None = None) -> None:
    today = view.now.date()
    base = view.baseline()
    # The reading's age at the start of dosing (or now, before it).
    age = minutes(view.dose_start or view.now, base.row.taken_at) if base else None
    view.checklist = checklist_rules.evaluate(
        route=view.route,
        entries=view.checklist_entries,
        sex=view.patient.sex,
        date_of_birth=view.patient.date_of_birth,
        on=today,
        order_signed=view.order.status == "signed",
        pre_dose_vitals=pre_dose_signs(view),
        enrolled=view.enrolment is not None and view.enrolment.enrolled_on <= today,
        limit_overrides=view.limit_overrides,
        pre_dose_age_min=age,
        previous_dose_at=view.previous_dose_at,
        dose_at=view.dose_start or view.now,
        min_spacing_hours=view.min_spacing_hours,
        pre_dose_window=monitoring.pre_dose_window(view.route, view.schedule_overrides),
        zone=get_settings().zone,
        ledger=_ledger_item(db, view, today) if db is not None else None,
    )


def _ledger_item(db: Session, view: SessionView, today: date) -> tuple[bool, str]:
    found = controlled.checklist_item(db, route=view.route, session_id=view.session.id, on=today)
    return found.met, found.text


def consent_items(db: Session, view: SessionView) -> list[checklist_rules.ChecklistItem]:
    """The checklist items the consent area adds: the current signed consents the
    protocol requires, and the patient's own day-before readiness answers."""
    return [
        checklist_rules.ChecklistItem(
            checklist_rules.ChecklistRule(
                c.id,
                c.label,
                (),
                (),
                (view.route,),
                c.basis,
                c.evidence,  # type: ignore[arg-type]
            ),
            c.met,
            None,
            c.text,
        )
        for c in consent.chair_checks(
            db,
            patient_id=view.session.patient_id,
            protocol_id=view.session.protocol_id,
            route=view.route,
            appointment_id=view.session.appointment_id,
        )
    ]


def _first_dose_of_course(db: Session, row: InfusionSession) -> bool:
    """No other session of the course has started dosing (infusion start or a nasal
    device), so that this one gives the course's first dose."""
    if row.course_id is None:
        return False
    earlier = db.scalar(
        select(SessionEvent.id)
        .join(InfusionSession, InfusionSession.id == SessionEvent.session_id)
        .where(
            InfusionSession.course_id == row.course_id,
            InfusionSession.id != row.id,
            InfusionSession.status != "cancelled",
            SessionEvent.kind.in_(("start", "device")),
            SessionEvent.entered_in_error_at.is_(None),
        )
        .limit(1)
    )
    return earlier is None


def preparation_items(db: Session, view: SessionView) -> list[checklist_rules.ChecklistItem]:
    """The item the care plan adds to a course's first dosing session when its protocol
    asks for preparation before the first dose (ketamine-assisted psychotherapy)."""
    row = view.session
    if row.course_id is None or not _first_dose_of_course(db, row):
        return []
    check = ports.preparation_check(
        db, patient_id=row.patient_id, protocol_id=row.protocol_id, course_id=row.course_id
    )
    if check is None:
        return []
    rule = checklist_rules.ChecklistRule(
        check.id,
        check.label,
        (),
        (),
        (view.route,),
        check.basis,
        check.evidence,  # type: ignore[arg-type]
    )
    return [checklist_rules.ChecklistItem(rule, check.met, None, check.text)]


def observation_min(route: str, overrides: Sequence[Override] = ()) -> float:
    key = "observation_iv_min" if route == "iv" else "observation_esketamine_min"
    own = [o for o in overrides if o.target in monitoring.DISCHARGE_CRITERIA]
    return float(apply(monitoring.DISCHARGE_CRITERIA, own)[key].minimum or 0)


def dosing_minutes(view: SessionView) -> float:
    if view.dose_start is not None and view.dose_end is not None:
        return minutes(view.dose_end, view.dose_start)
    if view.esketamine:
        return (view.device_interval_min or 0.0) * max(0, view.devices_planned - 1)
    if view.pump is not None and view.pump.finishes_at_min is not None:
        return view.pump.finishes_at_min
    return float(view.order.duration_min or 0)


def due_times(view: SessionView) -> list[float]:
    """Minutes from the start of dosing at which a reading is due (none before it)."""
    if view.dose_start is None:
        return []
    return monitoring.reading_schedule(
        view.route,
        infusion_min=dosing_minutes(view),
        observation_min=observation_min(view.route, view.discharge_overrides),
        overrides=view.schedule_overrides,
    )


# A pre-dose reading taken in this quarter hour before the start satisfies the reading
# due at minute 0 (``_derive_schedule``).
PRE_DOSE_COUNTS_MIN = 15.0


def _derive_schedule(view: SessionView) -> None:
    if view.dose_start is None:
        return
    due = due_times(view)
    charted = [
        r.at_min
        for r in view.readings
        if r.at_min is not None and r.row.systolic_bp is not None and r.at_min >= -15
    ]
    # The pre-dose reading is due at minute 0; one taken in the quarter hour before
    # the start satisfies it.
    charted = [max(0.0, t) if t > -15 else t for t in charted]
    view.schedule = monitoring.schedule_status(
        due, charted, minutes(view.now, view.dose_start), tolerance_min=TOLERANCE_MIN
    )


def key_readings(db: Session, view: SessionView) -> list[VitalSign]:
    """The few valid readings every derivation of the view needs, read in one statement:
    the latest, the latest with a blood pressure, the last before dosing (with and
    without a blood pressure: the baseline), and for each due time of the schedule the
    earliest blood-pressure readings within its tolerance, as many as the earlier due
    times that could have used one of them, plus one. The schedule then matches exactly
    as over every reading: each due time takes the earliest unused reading in its
    window, and earlier due times use at most that many of this window's readings."""
    valid_row = (VitalSign.session_id == view.session.id, VitalSign.entered_in_error_at.is_(None))
    with_bp = VitalSign.systolic_bp.is_not(None)
    newest = (VitalSign.taken_at.desc(), VitalSign.id.desc())
    picks = [
        select(VitalSign.id).where(*valid_row).order_by(*newest).limit(1),
        select(VitalSign.id).where(*valid_row, with_bp).order_by(*newest).limit(1),
    ]
    start = view.dose_start
    if start is not None:
        before = VitalSign.taken_at < start
        picks.append(select(VitalSign.id).where(*valid_row, before).order_by(*newest).limit(1))
        picks.append(
            select(VitalSign.id).where(*valid_row, before, with_bp).order_by(*newest).limit(1)
        )
        due = due_times(view)
        tol = TOLERANCE_MIN
        for i, at in enumerate(due):
            overlapping = sum(1 for earlier in due[:i] if at - earlier <= 2 * tol)
            high = VitalSign.taken_at <= start + timedelta(minutes=at + tol)
            if at - tol <= 0:
                # Readings of the quarter hour before the start count as minute 0.
                low = VitalSign.taken_at > start - timedelta(minutes=PRE_DOSE_COUNTS_MIN)
            else:
                low = VitalSign.taken_at >= start + timedelta(minutes=at - tol)
            picks.append(
                select(VitalSign.id)
                .where(*valid_row, with_bp, low, high)
                .order_by(VitalSign.taken_at, VitalSign.id)
                .limit(overlapping + 1)
            )
    wrapped = [select(q.subquery().c.id) for q in picks]
    ids = union_all(*wrapped).subquery()
    return list(
        db.scalars(
            select(VitalSign)
            .where(VitalSign.id.in_(select(ids.c.id)))
            .order_by(VitalSign.taken_at, VitalSign.id)
        )
    )


def latest(view: SessionView, code: str) -> SessionEntry | None:
    rows = view.valid_entries("score", code)
    return rows[-1] if rows else None


# Criteria the nurse answers on the discharge form itself.
ASKED_AT_DISCHARGE = ("escort_recorded", "no_driving_instruction")


def discharge_view(
    view: SessionView,
    *,
    escort_recorded: bool | None = None,
    no_driving_instruction_given: bool | None = None,
) -> DischargeView:
    """The discharge criteria from the chart. The escort and the no-driving instruction
    are the nurse's answers at discharge: until given they show as not yet recorded."""
    missing: list[str] = []
    aldrete = latest(view, "aldrete")
    moaas = latest(view, "moaas")
    if view.dose_end is None:
        missing.append("Dosing has not ended")
    if aldrete is None:
        missing.append("Chart a modified Aldrete score")
    after = [r for r in view.readings if r.phase == "recovery" and r.at_min is not None]
    if not after:
        missing.append("Chart vital signs after dosing")
    if missing:
        return DischargeView(False, [], missing)
    assert view.dose_end is not None and aldrete is not None
    last = after[-1]
    base = view.baseline()
    items = (aldrete.data or {}).get("answers")
    aldrete_items = (
        {k: int(items[k]) for k in monitoring.ALDRETE_ITEMS}
        if isinstance(items, dict) and set(monitoring.ALDRETE_ITEMS) <= set(items)
        else None
    )
    cadss_pre, cadss_latest = _cadss(view)
    decision = monitoring.discharge_ready(
        route=view.route,
        aldrete_total=int(aldrete.value or 0),
        minutes_since_dose_end=float(int(max(0.0, minutes(view.now, view.dose_end)))),
        latest_vitals=last.signs(last.at_min or 0.0),
        baseline=base.signs(0.0) if base else None,
        moaas=int(moaas.value) if moaas and moaas.value is not None else None,
        aldrete_items=aldrete_items,
        cadss_pre_dose=cadss_pre,
        cadss_latest=cadss_latest,
        escort_recorded=escort_recorded,
        no_driving_instruction_given=no_driving_instruction_given,
        open_suicidality_alert=view.open_suicidality_alert,
        overrides=view.discharge_overrides,
    )
    # Before the nurse answers (the page), the escort and the instruction are asked on the
    # discharge form rather than shown as unmet.
    answered = escort_recorded is not None or no_driving_instruction_given is not None
    reasons: list[tuple[bool, str, str, str]] = [
        (r.met, r.text, r.source, str(r.evidence))
        for r in decision.reasons
        if answered or r.criterion_id not in ASKED_AT_DISCHARGE
    ]
    if moaas is None:
        reasons.append((False, "Chart a MOAA/S rating before discharge", "", "convention"))
    return DischargeView(all(r[0] for r in reasons), reasons)


def _cadss(view: SessionView) -> tuple[float | None, float | None]:
    """The last CADSS total before dosing and the latest after it."""
    start = view.dose_start
    scores = [e for e in view.entries if e.kind == "score" and e.code in ("cadss", "cadss6")]
    scores = [e for e in scores if e.entered_in_error_at is None and e.value is not None]
    before = [e.value for e in scores if start is None or e.at < start]
    after = [e.value for e in scores if start is not None and e.at >= start]
    return (before[-1] if before else None, after[-1] if after else None)
