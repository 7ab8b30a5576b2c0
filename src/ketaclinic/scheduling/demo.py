"""The demo clinic's calendar: four chairs, two nurses on duty on clinic days for the past
months and the next two weeks, and an appointment for every planned session of the
orders demo's courses up to two weeks ahead (past ones completed, future ones booked,
some confirmed). Past appointments go to ``clinic.extra["past_appointments"]`` for the
sessions area."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ketaclinic.demo import DemoClinic
from ketaclinic.orders import service as orders
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.errors import ClinicError
from ketaclinic.platform.settings import get_settings
from ketaclinic.scheduling import service
from ketaclinic.scheduling.models import Appointment
from ketaclinic.scheduling.schemas import AvailabilityIn, BookingIn, ChairIn, RescheduleIn

CHAIRS = ("Chair 1 (window)", "Chair 2", "Chair 3", "Chair 4 (quiet room)")
NURSES = ("nurse.okafor", "nurse.lind")
SHIFT = (time(7, 30), time(17, 30))
# Start times a front desk would offer: 08:00 to 15:00, so that even an esketamine visit
# (dosing plus two hours' observation) ends before the shift does.
SLOTS = [time(8 + m // 60, m % 60) for m in range(0, 7 * 60 + 1, 30)]
AHEAD = timedelta(days=14)
KIND_OF_PROTOCOL = {"iv_ketamine": "infusion", "in_esketamine": "esketamine"}


def build(db: Session, clinic: DemoClinic) -> None:
    zone = get_settings().zone
    desk = clinic.staff["desk.baker"]
    chairs = [service.add_chair(db, actor=desk, data=ChairIn(name=n)).id for n in CHAIRS]
    courses = list(clinic.extra.get("courses", []))
    first = min([c.started_on for c in courses if c.started_on] or [clinic.today])
    _rota(db, clinic, desk, first - timedelta(days=7), clinic.today + AHEAD)
    ctx = _Context(clinic, desk, chairs, zone)
    for course in courses:
        _book_course(db, ctx, course)
    _treatment_today(db, ctx)
    _consultations(db, ctx, [c.patient_id for c in courses])
    _finish(db, ctx)
    clinic.extra["past_appointments"] = ctx.past


class _Context:
    def __init__(self, clinic: DemoClinic, desk: Actor, chairs: list[int], zone: Any) -> None:
        self.clinic = clinic
        self.desk = desk
        self.chairs = chairs
        self.zone = zone
        self.nurses = [clinic.staff[n] for n in NURSES]
        self.booked: list[Appointment] = []
        self.past: list[Appointment] = []

    def booked_on(self, day: date) -> datetime:
        """Bookings are made a week ahead, at opening time."""
        return datetime.combine(day - timedelta(days=7), time(8, 0), tzinfo=self.zone)


def _rota(db: Session, clinic: DemoClinic, desk: Actor, start: date, end: date) -> None:
    day = start
    while day <= end:
        if day.weekday() < 5:
            for name in NURSES:
                nurse = clinic.staff[name]
                assert nurse.user_id is not None
                service.add_availability(
                    db,
                    actor=desk,
                    data=AvailabilityIn(
                        user_id=nurse.user_id,
                        starts_at=datetime.combine(day, SHIFT[0]),
                        ends_at=datetime.combine(day, SHIFT[1]),
                    ),
                )
        day += timedelta(days=1)


def _clinic_day(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _try_book(db: Session, ctx: _Context, day: date, **fields: Any) -> Appointment | None:
    """The first free chair, nurse and time of the day, as the front desk would find it."""
    rng = ctx.clinic.rng
    slots = list(SLOTS)
    rng.shuffle(slots)
    for slot in slots[:8]:
        for chair in rng.sample(ctx.chairs, len(ctx.chairs)):
            for nurse in rng.sample(ctx.nurses, len(ctx.nurses)):
                try:
                    with db.begin_nested():
                        return service.book(
                            db,
                            actor=ctx.desk,
                            data=BookingIn(
                                starts_at=datetime.combine(day, slot),
                                chair_id=chair,
                                nurse_user_id=nurse.user_id,
                                **fields,
                            ),
                            now=ctx.booked_on(day),
                            zone=ctx.zone,
                        )
                except ClinicError:
                    pass  # refused: the savepoint undid it
    return None


def _book_course(db: Session, ctx: _Context, course: Any) -> None:
    kind = KIND_OF_PROTOCOL.get(course.protocol_id)
    if kind is None or course.started_on is None:
        return
    sessions = orders.planned_sessions(db, actor=ctx.desk, course_id=course.id)
    day = _clinic_day(course.started_on)
    horizon = ctx.clinic.today + AHEAD
    for number, planned in enumerate(sessions):
        if day > horizon:
            break
        if planned.status != "planned":
            continue
        row = _try_book(
            db, ctx, day, patient_id=course.patient_id, kind=kind, planned_session_id=planned.id
        )
        if row is not None:
            ctx.booked.append(row)
        # Twice a week during induction (Mon/Thu or Tue/Fri rhythm), weekly afterwards.
        step = (3 if number % 2 == 0 else 4) if number < 7 else 7
        day = _clinic_day(day + timedelta(days=step))


def _treatment_today(db: Session, ctx: _Context) -> None:
    """On a clinic day, make sure today's calendar holds a treatment visit, so that a new
    user finds a session to start: the nearest later one moves to today."""
    today = ctx.clinic.today
    if today.weekday() >= 5:
        return
    treatments = sorted(
        (a for a in ctx.booked if a.kind != "consultation"), key=lambda a: a.starts_at
    )
    if any(a.starts_at.astimezone(ctx.zone).date() == today for a in treatments):
        return
    for row in treatments:
        if row.starts_at.astimezone(ctx.zone).date() <= today:
            continue
        for slot in (time(9, 0), time(10, 30), time(13, 0)):
            try:
                with db.begin_nested():
                    moved = service.reschedule(
                        db,
                        actor=ctx.desk,
                        appointment_id=row.id,
                        data=RescheduleIn(
                            reason="patient asked to come in earlier",
                            starts_at=datetime.combine(today, slot),
                        ),
                        now=ctx.booked_on(today),
                        zone=ctx.zone,
                    )
            except ClinicError:
                continue
            ctx.booked[ctx.booked.index(row)] = moved
            return


def _consultations(db: Session, ctx: _Context, treated: list[int]) -> None:
    """Review consultations over the coming days: end-of-series reviews for treated
    patients, first evaluations for the others."""
    prescriber = ctx.clinic.staff["dr.rivera"]
    others = [p.id for p in ctx.clinic.patients if p.id not in treated]
    chosen = [(pid, "end-of-series review") for pid in treated[-8:]]
    chosen += [(pid, "first evaluation") for pid in others[:4]]
    for offset, (patient_id, note) in enumerate(chosen):
        day = _clinic_day(ctx.clinic.today + timedelta(days=offset // 3))
        for slot in SLOTS[(offset % 3) * 4 :]:
            try:
                with db.begin_nested():
                    row = service.book(
                        db,
                        actor=prescriber,
                        data=BookingIn(
                            patient_id=patient_id,
                            kind="consultation",
                            starts_at=datetime.combine(day, slot),
                            notes=note,
                        ),
                        now=ctx.booked_on(day),
                        zone=ctx.zone,
                    )
            except ClinicError:
                continue
            ctx.booked.append(row)
            break


def _finish(db: Session, ctx: _Context) -> None:
    """Past visits happened; tomorrow's and later ones are partly confirmed; a couple of
    future visits were moved at the patient's request."""
    rng = ctx.clinic.rng
    today = ctx.clinic.today
    by_id = {a.user_id: a for a in ctx.nurses}
    moved = 0
    for row in sorted(ctx.booked, key=lambda a: a.starts_at):
        day = row.starts_at.astimezone(ctx.zone).date()
        if day < today:
            nurse = by_id.get(row.nurse_user_id, ctx.nurses[0])
            service.confirm(
                db,
                actor=ctx.desk,
                appointment_id=row.id,
                fasting=True,
                ride_home=True,
                no_nasal_decongestant=True if row.kind == "esketamine" else None,
                now=ctx.booked_on(day) + timedelta(days=6),
            )
            service.mark_appointment(db, actor=nurse, appointment_id=row.id, status="checked_in")
            service.mark_appointment(db, actor=nurse, appointment_id=row.id, status="completed")
            ctx.past.append(row)
        elif day > today + timedelta(days=2) and moved < 2 and rng.random() < 0.3:
            try:
                with db.begin_nested():
                    service.reschedule(
                        db,
                        actor=ctx.desk,
                        appointment_id=row.id,
                        data=RescheduleIn(
                            reason="patient asked for a later time (work)",
                            starts_at=datetime.combine(day, time(15, 0)),
                        ),
                        now=ctx.booked_on(day),
                        zone=ctx.zone,
                    )
                    moved += 1
            except ClinicError:
                pass  # refused: the savepoint undid it
        elif day == today or (day > today and rng.random() < 0.6):
            service.confirm(
                db,
                actor=ctx.desk,
                appointment_id=row.id,
                fasting=True,
                ride_home=rng.random() > 0.1,
                no_nasal_decongestant=True if row.kind == "esketamine" else None,
                note="called the patient",
            )
