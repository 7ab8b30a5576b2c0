"""The demo clinic's ledger: one location with its DEA number, racemic ketamine vials and
esketamine devices, two ketamine lots and one esketamine lot received before the first
demo session, every demo session's dose drawn from a lot (the rest of each vial wasted
with a second nurse as witness), the initial inventory, a vial dropped and wasted with a
witness, yesterday's end-of-day count, and today's count that found one vial short, left
open for a prescriber to resolve."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy.orm import Session

from ketaclinic.controlled import service
from ketaclinic.demo import PASSWORD, DemoClinic
from ketaclinic.platform.errors import ClinicError
from ketaclinic.sessions import service as sessions

# Not a registration of any real clinic: a number of the right shape (check digit 3).
DEMO_DEA = "AH1234563"
SUPPLIER_DEA = "PM7654329"


def build(db: Session, clinic: DemoClinic) -> None:
    admin, nurse = clinic.staff["admin"], clinic.staff["nurse.okafor"]
    witness = service.WitnessIn("nurse.lind", PASSWORD)
    location = service.add_location(
        db,
        actor=admin,
        code="MAIN",
        name="Harbor Ketamine Clinic, main site",
        dea_number=DEMO_DEA,
        address="12 Harbor Street",
    )
    vials = service.add_product(
        db,
        actor=admin,
        code="KET-10-5",
        name="Ketamine HCl 10 mg/mL, 5 mL vial",
        substance="ketamine",
        count_unit="vial",
        strength_mg_per_ml=10,
        volume_ml=5,
    )
    devices = service.add_product(
        db,
        actor=admin,
        code="ESK-28",
        name="Esketamine 28 mg nasal device",
        substance="esketamine",
        count_unit="device",
        mg_per_device=28,
    )
    given = _given_sessions(db, clinic)
    first = min((s.started_at for s in given if s.started_at), default=None)
    received_on = (first.date() if first else clinic.today) - timedelta(days=2)
    received_on = min(received_on, clinic.today)
    lots = {}
    for product, lot_number, days, quantity in (
        (vials, "KA24117", 240, 150),
        (vials, "KA25032", 420, 60),
        (devices, "ES24090", 300, 300),
    ):
        entry = service.receive(
            db,
            actor=nurse,
            location_id=location.id,
            product_id=product.id,
            lot_number=lot_number,
            expires_on=clinic.today + timedelta(days=days),
            quantity=quantity,
            supplier="Meridian Medical Supply",
            supplier_dea_number=SUPPLIER_DEA,
            reference=f"INV-{lot_number[-4:]}",
            received_on=received_on,
        )
        lots[lot_number] = entry.lot_id
    opening = datetime.combine(received_on, time(13), tzinfo=UTC)
    service.take_inventory(
        db,
        actor=nurse,
        location_id=location.id,
        kind="initial",
        business_hours="opening",
        lines=[
            service.InventoryLine(lot_id, line.lot.balance_milli / 1000)
            for lot_id, line in ((i, service.lot_stock(db, i)) for i in lots.values())
        ],
        password=PASSWORD,
        now=opening,
    )
    for summary in given:
        _draw(db, clinic, summary, witness)
    # A vial dropped on the floor last week: wasted from stock, with a witness.
    dropped = datetime.combine(clinic.today - timedelta(days=6), time(16), tzinfo=UTC)
    service.waste(
        db,
        actor=nurse,
        reason="vial dropped and broken while preparing the tray",
        witness=witness,
        lot_id=lots["KA24117"],
        quantity=1,
        now=max(dropped, opening + timedelta(hours=1)),
    )
    yesterday = datetime.combine(clinic.today - timedelta(days=1), time(23), tzinfo=UTC)
    lot_a = service.lot_by_id(db, lots["KA24117"])
    service.count(db, actor=nurse, lot_id=lot_a.id, found=lot_a.balance_milli / 1000, now=yesterday)
    lot_b = service.lot_by_id(db, lots["KA25032"])
    service.count(
        db,
        actor=clinic.staff["nurse.lind"],
        lot_id=lot_b.id,
        found=max(0, lot_b.balance_milli / 1000 - 1),
        occasion="shift_change",
        note="one vial fewer than the balance",
    )


def _given_sessions(db: Session, clinic: DemoClinic) -> list[sessions.SessionSummary]:
    nurse = clinic.staff["nurse.okafor"]
    found = []
    for patient in clinic.patients:
        found += sessions.given_sessions(db, actor=nurse, patient_id=patient.id)
    progress = clinic.extra.get("session_in_progress")
    if progress is not None:
        state = sessions.get_session(db, actor=nurse, session_id=progress)
        if state.dose_start is not None:
            found.append(
                sessions.SessionSummary(
                    session_id=state.session.id,
                    number=state.session.number,
                    started_at=state.dose_start,
                    ended_at=None,
                    protocol_id=state.session.protocol_id,
                    dose_mg=state.order.dose_mg,
                    peak_systolic=None,
                    peak_diastolic=None,
                    cadss_total=None,
                    side_effects=[],
                    status=state.session.status,
                )
            )
    return sorted(found, key=lambda s: s.started_at or datetime.min.replace(tzinfo=UTC))


def _draw(
    db: Session,
    clinic: DemoClinic,
    summary: sessions.SessionSummary,
    witness: service.WitnessIn,
) -> None:
    """What the nurse would have done at the chair: the dose drawn at its start, the
    chart's given amount at its end, the rest wasted with a witness."""
    nurse = clinic.staff["nurse.okafor"]
    state = sessions.get_session(db, actor=nurse, session_id=summary.session_id)
    if state.dose_start is None:
        return
    try:
        with db.begin_nested():
            if state.esketamine:
                for device in state.devices:
                    service.draw_for_dose(
                        db,
                        actor=nurse,
                        session_id=state.session.id,
                        patient_id=state.session.patient_id,
                        route=state.route,
                        mg=state.device_mg or 28,
                        administered=True,
                        at=device.at,
                    )
                return
            draw = service.draw_for_dose(
                db,
                actor=nurse,
                session_id=state.session.id,
                patient_id=state.session.patient_id,
                route=state.route,
                mg=state.order.dose_mg,
                at=state.dose_start,
            )
            if draw is None or state.dose_end is None:
                return
            service.record_given(
                db, actor=nurse, session_id=state.session.id, mg=state.mg_given, at=state.dose_end
            )
            rest = round((draw.mg or 0) - state.mg_given, 3)
            if rest > 0:
                service.waste(
                    db,
                    actor=nurse,
                    reason="rest of the vial after the dose",
                    witness=witness,
                    draw_id=draw.id,
                    mg=rest,
                    now=state.dose_end + timedelta(minutes=5),
                )
    except ClinicError:
        # Out of stock for an old session: the demo leaves it undrawn, as a clinic
        # starting its ledger mid-course would.
        return
