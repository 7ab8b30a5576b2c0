"""The ledger's acts, on both backends: balances that never go below zero, witnessed
waste, destruction, counts and discrepancies, inventories, losses, transfers,
corrections, and the rows the database itself refuses to change."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ketaclinic.controlled import service
from ketaclinic.controlled.models import LedgerEntry, StockCount
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.audit.models import AuditEvent
from ketaclinic.platform.db import begin_writing, make_session_factory
from ketaclinic.platform.errors import Conflict, Forbidden, Invalid
from ketaclinic.sessions import service as sessions
from tests.conftest import PASSWORD, committed, make_user
from tests.controlled.factories import DEA, SUPPLIER_DEA, Ledger, actor, ledger, received
from tests.sessions.conftest import ready_iv_session
from tests.sessions.factories import T0, Staff, staff
from tests.sessions.test_esketamine import open_session


@pytest.fixture
def setup(db: Session) -> Ledger:
    return ledger(db)


def _witness(username: str = "witness-nurse", password: str = PASSWORD) -> service.WitnessIn:
    return service.WitnessIn(username, password)


def test_a_receipt_keeps_the_fields_the_dea_asks_for_and_raises_the_balance(
    db: Session, setup: Ledger
) -> None:
    entry = received(db, setup, quantity=10)
    assert (entry.kind, entry.units_milli, entry.balance_after_milli) == ("receive", 10_000, 10_000)
    assert (entry.supplier, entry.supplier_dea_number, entry.reference) == (
        "Henry Schein",
        SUPPLIER_DEA,
        "INV-88121",
    )
    second = received(db, setup, quantity=2.5)
    assert second.lot_id == entry.lot_id and second.balance_after_milli == 12_500
    lines = service.stock(db, actor=setup.nurse)
    assert [(s.lot.lot_number, s.balance) for s in lines] == [("K2401", "12.5 vials")]


def test_malformed_dea_numbers_and_expired_lots_are_refused(db: Session, setup: Ledger) -> None:
    with pytest.raises(Invalid) as bad:
        service.add_location(db, actor=setup.admin, code="B", name="B", dea_number="AB1234560")
    assert "check digit" in bad.value.detail and bad.value.fields == {"dea_number": "invalid"}
    with pytest.raises(Invalid) as expired:
        service.receive(
            db,
            actor=setup.nurse,
            location_id=setup.location.id,
            product_id=setup.vials.id,
            lot_number="OLD",
            expires_on=date(2020, 1, 1),
            quantity=1,
            supplier="S",
            supplier_dea_number=SUPPLIER_DEA,
            reference="R",
        )
    assert expired.value.fields == {"expires_on": "expired"}
    with pytest.raises(Forbidden):
        service.add_location(db, actor=setup.nurse, code="C", name="C", dea_number=DEA)


def test_the_balance_never_goes_below_zero(db: Session, setup: Ledger) -> None:
    entry = received(db, setup, quantity=1)
    with pytest.raises(Conflict) as refused:
        service.waste(
            db,
            actor=setup.nurse,
            lot_id=entry.lot_id,
            quantity=2,
            reason="broken vials",
            witness=_witness(),
        )
    assert "never goes below zero" in refused.value.detail
    db.rollback()
    lot = service.lot_by_id(db, entry.lot_id)
    db.refresh(lot)
    assert lot.balance_milli == 1_000
    taken = service.waste(
        db, actor=setup.nurse, lot_id=entry.lot_id, quantity=1, reason="dropped", witness=_witness()
    )
    assert taken.balance_after_milli == 0
    with pytest.raises(Conflict):
        service.return_to_supplier(
            db,
            actor=setup.nurse,
            lot_id=entry.lot_id,
            quantity=0.001,
            supplier="S",
            supplier_dea_number=SUPPLIER_DEA,
            reference="RA-1",
            reason="recall",
        )


@pytest.fixture
def team(db: Session) -> Staff:
    return staff(db)


def test_an_iv_session_draws_whole_vials_at_the_start_and_the_chart_says_what_was_given(
    db: Session, team: Staff
) -> None:
    setup = ledger(db, nurse=team.nurse, prescriber=team.prescriber)
    first = received(db, setup, lot_number="K-LATE", quantity=3)
    row = ready_iv_session(db, team)
    state = sessions.get_session(db, actor=team.nurse, session_id=row.id, now=T0)
    item = next(i for i in state.checklist if i.rule.id == "controlled_ledger")
    assert item.met and "lot K-LATE" in item.text
    sessions.chart_pump(db, actor=team.nurse, session_id=row.id, kind="start", at=T0, now=T0)
    draw = db.scalar(select(LedgerEntry).where(LedgerEntry.session_id == row.id))
    assert draw is not None
    # 35 mg from 50 mg vials: one whole vial leaves stock.
    assert (draw.kind, draw.units_milli, draw.mg, draw.lot_id) == (
        "draw",
        -1000,
        50.0,
        first.lot_id,
    )
    assert draw.patient_id == row.patient_id
    stop = T0 + timedelta(minutes=20)
    sessions.chart_pump(
        db, actor=team.nurse, session_id=row.id, kind="stop", at=stop, reason="BP rose", now=stop
    )
    given = db.scalar(
        select(LedgerEntry).where(
            LedgerEntry.session_id == row.id, LedgerEntry.kind == "administer"
        )
    )
    assert given is not None and given.refers_to_id == draw.id
    # Half of the 40-minute infusion ran: the pump record's mg, not the order's.
    state = sessions.get_session(db, actor=team.nurse, session_id=row.id, now=stop)
    assert given.mg == pytest.approx(state.mg_given, abs=0.01)
    assert given.mg == pytest.approx(17.5, abs=0.1)
    waiting = service.awaiting_waste(db, actor=team.nurse)
    assert [w.remainder_mg for w in waiting] == [pytest.approx(50 - given.mg, abs=0.001)]
    wasted = service.waste(
        db,
        actor=team.nurse,
        draw_id=draw.id,
        mg=waiting[0].remainder_mg,
        reason="rest of the vial",
        witness=_witness(setup.nurse2.username),
    )
    assert wasted.units_milli == 0 and wasted.witnesses[0]["username"] == "witness-nurse"
    assert service.awaiting_waste(db, actor=team.nurse) == []


def test_each_nasal_device_is_drawn_from_a_lot_and_the_lot_goes_on_the_rems_record(
    db: Session, team: Staff
) -> None:
    setup = ledger(db, nurse=team.nurse, prescriber=team.prescriber)
    lot_id = received(db, setup, lot_number="E-511", quantity=3, product=setup.devices).lot_id
    sid = open_session(db, team)
    sessions.chart_device(db, actor=team.nurse, session_id=sid, now=T0 + timedelta(minutes=1))
    sessions.chart_device(db, actor=team.nurse, session_id=sid, now=T0 + timedelta(minutes=6))
    given = list(
        db.scalars(
            select(LedgerEntry).where(LedgerEntry.session_id == sid).order_by(LedgerEntry.id)
        )
    )
    assert [(e.kind, e.units_milli, e.mg, e.lot_id) for e in given] == [
        ("administer", -1000, 28.0, lot_id),
        ("administer", -1000, 28.0, lot_id),
    ]
    assert given[-1].balance_after_milli == 1000
    state = sessions.get_session(
        db, actor=team.nurse, session_id=sid, now=T0 + timedelta(minutes=7)
    )
    assert state.monitoring_record is not None
    assert state.monitoring_record.answers["lot_number"] == "E-511"


def test_without_a_ledger_the_checklist_says_so_and_the_session_still_runs(
    db: Session, team: Staff
) -> None:
    row = ready_iv_session(db, team)
    state = sessions.get_session(db, actor=team.nurse, session_id=row.id, now=T0)
    item = next(i for i in state.checklist if i.rule.id == "controlled_ledger")
    assert item.met and "No controlled-substance ledger is configured" in item.text
    sessions.chart_pump(db, actor=team.nurse, session_id=row.id, kind="start", at=T0, now=T0)
    assert db.scalar(select(func.count()).select_from(LedgerEntry)) == 0


def test_with_a_ledger_and_no_stock_the_checklist_item_is_unmet(db: Session, team: Staff) -> None:
    ledger(db, nurse=team.nurse, prescriber=team.prescriber)
    row = ready_iv_session(db, team)
    state = sessions.get_session(db, actor=team.nurse, session_id=row.id, now=T0)
    item = next(i for i in state.checklist if i.rule.id == "controlled_ledger")
    assert not item.met and "receive stock" in item.text
    with pytest.raises(Conflict):
        sessions.chart_pump(db, actor=team.nurse, session_id=row.id, kind="start", at=T0, now=T0)


def test_a_witness_is_another_licensed_user_who_types_their_own_password(
    db: Session, setup: Ledger
) -> None:
    lot_id = received(db, setup, quantity=3).lot_id
    desk = actor(db, "front_desk", "desk-one")
    cases = [
        (_witness(setup.nurse.username), "same user"),
        (_witness(password="wrong-password"), "not authenticated"),
        (_witness(desk.username), "not licensed"),
        (_witness("nobody-here"), "not authenticated"),
        (_witness(""), "required"),
    ]
    for witness, problem in cases:
        with pytest.raises(Invalid) as refused:
            service.waste(
                db, actor=setup.nurse, lot_id=lot_id, quantity=1, reason="spoiled", witness=witness
            )
        assert list(refused.value.fields.values()) == [problem]
        db.rollback()
    assert (
        db.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "waste"))
        == 0
    )
    done = service.waste(
        db, actor=setup.nurse, lot_id=lot_id, quantity=1, reason="spoiled", witness=_witness()
    )
    assert done.witnesses[0]["name"] == "Witness-Nurse"
    assert done.witnesses[0]["meaning"] == "witnessed this waste of a controlled substance"


def test_a_clinic_that_asks_two_waste_witnesses_gets_two_different_ones(
    db: Session, setup: Ledger
) -> None:
    from ketaclinic.configuration import service as configuration

    lot_id = received(db, setup, quantity=3).lot_id
    director = accounts.actor_for(make_user(db, ["prescriber", "admin"], username="director"))
    configuration.override(
        db,
        actor=director,
        table_key="controlled.rules",
        target="waste_witnesses",
        field="value",
        value="2",
        reason="state board asks two witnesses for a waste",
    )
    actor(db, "nurse", "third-nurse")

    def waste(*more: service.WitnessIn) -> object:
        return service.waste(
            db,
            actor=setup.nurse,
            lot_id=lot_id,
            quantity=1,
            reason="spoiled",
            witness=_witness(),
            more_witnesses=more,
        )

    with pytest.raises(Invalid) as one_only:
        waste()
    assert one_only.value.fields == {"witness_2_username": "required"}
    db.rollback()
    with pytest.raises(Invalid) as twice:
        waste(_witness())
    assert twice.value.fields == {"witness_2_username": "same witness"}
    db.rollback()
    done = waste(_witness("third-nurse"))
    assert [w["username"] for w in done.witnesses] == ["witness-nurse", "third-nurse"]


def test_destruction_needs_a_supervisor_and_two_different_witnesses(
    db: Session, setup: Ledger
) -> None:
    lot_id = received(db, setup, quantity=4).lot_id
    actor(db, "nurse", "third-nurse")
    two = [_witness(), _witness("third-nurse")]
    with pytest.raises(Forbidden):
        service.destroy(
            db,
            actor=setup.nurse,
            lot_id=lot_id,
            quantity=2,
            method="x",
            reason="expired",
            witnesses=two,
        )
    with pytest.raises(Invalid):
        service.destroy(
            db,
            actor=setup.prescriber,
            lot_id=lot_id,
            quantity=2,
            method="x",
            reason="expired",
            witnesses=[_witness()],
        )
    with pytest.raises(Invalid) as same:
        service.destroy(
            db,
            actor=setup.prescriber,
            lot_id=lot_id,
            quantity=2,
            method="x",
            reason="expired",
            witnesses=[_witness(), _witness()],
        )
    assert same.value.fields == {"witness_2": "same witness"}
    db.rollback()
    done = service.destroy(
        db,
        actor=setup.prescriber,
        lot_id=lot_id,
        quantity=2,
        method="chemical digestion kit (non-retrievable)",
        reason="expired",
        witnesses=two,
    )
    assert [w["username"] for w in done.witnesses] == ["witness-nurse", "third-nurse"]
    assert done.balance_after_milli == 2_000 and done.mg == 100


def test_a_count_that_differs_opens_a_discrepancy_a_prescriber_resolves_with_a_reason(
    db: Session, setup: Ledger
) -> None:
    lot_id = received(db, setup, quantity=10).lot_id
    same, none = service.count(db, actor=setup.nurse, lot_id=lot_id, found=10)
    assert none is None and same.expected_milli == same.found_milli == 10_000
    short, opened = service.count(
        db, actor=setup.nurse, lot_id=lot_id, found=9, occasion="shift_change"
    )
    assert opened is not None and opened.difference_milli == -1_000
    assert [d.id for d, _ in service.open_discrepancies(db, actor=setup.nurse)] == [opened.id]
    summary = service.discrepancy_summary(db, actor=setup.prescriber)
    assert (summary.open, summary.oldest_opened_at) == (1, opened.opened_at)
    with pytest.raises(Forbidden):
        service.resolve(db, actor=setup.nurse, discrepancy_id=opened.id, reason="miscount earlier")
    with pytest.raises(Invalid):
        service.resolve(db, actor=setup.prescriber, discrepancy_id=opened.id, reason="  ")
    done = service.resolve(
        db,
        actor=setup.prescriber,
        discrepancy_id=opened.id,
        reason="vial broken at 14:00, not logged",
    )
    assert done.status == "resolved" and done.resolved_by == setup.prescriber.username
    assert service.open_discrepancies(db, actor=setup.nurse) == []
    assert service.discrepancy_summary(db, actor=setup.prescriber).open == 0
    adjustment = db.get(LedgerEntry, done.adjustment_id)
    assert adjustment is not None and adjustment.balance_after_milli == 9_000
    with pytest.raises(Conflict):
        service.resolve(db, actor=setup.admin, discrepancy_id=opened.id, reason="again please")


def test_ledger_rows_cannot_be_updated_or_deleted(db: Session, setup: Ledger) -> None:
    entry = received(db, setup, quantity=5)
    service.count(db, actor=setup.nurse, lot_id=entry.lot_id, found=5)
    db.commit()
    statements = [
        "UPDATE controlled_ledger_entries SET units_milli = 99000",
        "DELETE FROM controlled_ledger_entries",
        "UPDATE controlled_counts SET found_milli = 0",
        "DELETE FROM controlled_counts",
    ]
    for statement in statements:
        with pytest.raises(DBAPIError) as refused, db.begin_nested():
            db.execute(text(statement))
        assert "append-only" in str(refused.value.orig)
    db.rollback()
    assert db.scalar(select(LedgerEntry.units_milli).where(LedgerEntry.id == entry.id)) == 5_000
    assert db.scalar(select(func.count()).select_from(StockCount)) == 1


def test_a_correction_is_a_new_entry_naming_the_wrong_one(db: Session, setup: Ledger) -> None:
    wrong = received(db, setup, quantity=20)
    fixed = service.correct(
        db, actor=setup.nurse, entry_id=wrong.id, reason="keyed 20 for 2: the invoice says 2"
    )
    assert (fixed.kind, fixed.refers_to_id, fixed.units_milli, fixed.balance_after_milli) == (
        "correction",
        wrong.id,
        -20_000,
        0,
    )
    with pytest.raises(Conflict):
        service.correct(db, actor=setup.nurse, entry_id=wrong.id, reason="twice over")


def test_a_transfer_is_recorded_at_both_locations(db: Session, setup: Ledger) -> None:
    lot_id = received(db, setup, quantity=6).lot_id
    other = service.add_location(
        db, actor=setup.admin, code="WEST", name="West clinic", dea_number="BC2345672"
    )
    out, into = service.transfer(
        db, actor=setup.nurse, lot_id=lot_id, to_location_id=other.id, quantity=2, reference="T-7"
    )
    assert (out.location_id, out.units_milli, out.counterpart_location_id) == (
        setup.location.id,
        -2_000,
        other.id,
    )
    assert (into.location_id, into.units_milli, into.refers_to_id) == (other.id, 2_000, out.id)
    there = service.stock(db, actor=setup.nurse, location_id=other.id)
    assert [(s.lot.lot_number, s.balance) for s in there] == [("K2401", "2 vials")]


def test_the_inventory_counts_every_lot_signs_and_estimates_only_where_allowed(
    db: Session, setup: Ledger
) -> None:
    vials = received(db, setup, quantity=10).lot_id
    devices = received(db, setup, lot_number="E77", quantity=6, product=setup.devices).lot_id
    with pytest.raises(Invalid) as incomplete:
        service.take_inventory(
            db,
            actor=setup.nurse,
            location_id=setup.location.id,
            kind="initial",
            business_hours="opening",
            lines=[service.InventoryLine(vials, 10)],
            password=PASSWORD,
        )
    assert "E77" in incomplete.value.detail
    with pytest.raises(Invalid):
        service.take_inventory(
            db,
            actor=setup.nurse,
            location_id=setup.location.id,
            kind="initial",
            business_hours="opening",
            lines=[service.InventoryLine(vials, 10), service.InventoryLine(devices, 6)],
            password="not-my-password",
        )
    db.rollback()
    at = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
    record = service.take_inventory(
        db,
        actor=setup.nurse,
        location_id=setup.location.id,
        kind="initial",
        business_hours="opening",
        lines=[
            service.InventoryLine(vials, 9.5, estimated=True),
            service.InventoryLine(devices, 6),
        ],
        password=PASSWORD,
        now=at,
    )
    assert "DEA registration: AB1234563" in record.text
    assert "lot K2401, expires 2028-06-30: 9.5 vials (estimated, opened container)" in record.text
    assert (
        "Signed: Ledger-Nurse (ledger-nurse), took and attests this initial inventory"
        in record.text
    )
    # 9.5 found against 10 on the books: a discrepancy, as for any count.
    assert len(service.open_discrepancies(db, actor=setup.nurse)) == 1
    assert service.inventory_due(
        db, location_id=setup.location.id, today=date(2026, 12, 2)
    ) == date(2028, 12, 1)


def test_a_loss_report_has_the_form_106_data_and_a_notice_due_the_next_business_day(
    db: Session, setup: Ledger
) -> None:
    lot_id = received(db, setup, quantity=10).lot_id
    friday = date(2026, 11, 27)
    report = service.report_loss(
        db,
        actor=setup.prescriber,
        location_id=setup.location.id,
        kind="theft",
        discovered_on=friday,
        circumstances="safe found open at opening",
        lines=[service.LossLine(lot_id, 3)],
        police_report="PD-2026-1188",
    )
    # Discovered on a Friday: one business day later is the Monday.
    assert report.notice_due_on == date(2026, 11, 30)
    form = service.form_106(db, actor=setup.prescriber, report_id=report.id)
    assert form["dea_number"] == DEA and form["lost"][0]["quantity"] == 3.0
    assert form["lost"][0]["mg"] == 150.0
    assert service.stock(db, actor=setup.nurse)[0].lot.balance_milli == 7_000
    noted = service.record_loss_notice(
        db, actor=setup.admin, report_id=report.id, reference="e-mail to the Field Division"
    )
    assert noted.notified_by == setup.admin.username


def test_a_loss_discovered_the_day_before_thanksgiving_is_due_on_the_friday_after(
    db: Session, setup: Ledger
) -> None:
    lot_id = received(db, setup, quantity=10).lot_id
    report = service.report_loss(
        db,
        actor=setup.prescriber,
        location_id=setup.location.id,
        kind="significant_loss",
        discovered_on=date(2026, 11, 25),
        circumstances="count short at closing",
        lines=[service.LossLine(lot_id, 1)],
    )
    # Wednesday 25 November 2026; Thursday 26 is Thanksgiving: Friday 27 (by hand).
    assert report.notice_due_on == date(2026, 11, 27)


def test_every_act_is_audited(db: Session, setup: Ledger) -> None:
    lot_id = received(db, setup, quantity=2).lot_id
    service.count(db, actor=setup.nurse, lot_id=lot_id, found=2)
    actions = set(
        db.scalars(select(AuditEvent.action).where(AuditEvent.action.like("controlled.%")))
    )
    assert {
        "controlled.location.add",
        "controlled.product.add",
        "controlled.receive",
        "controlled.count",
    } <= actions


@committed
def _last_vial(db: Session, team: Staff) -> tuple[int, int, int]:
    setup = ledger(db, nurse=team.nurse, prescriber=team.prescriber)
    lot_id = received(db, setup, quantity=1).lot_id
    a = ready_iv_session(db, team)
    # A second patient's session: ready_iv_session makes a new patient each time.
    b = ready_iv_session(db, team)
    return lot_id, a.id, b.id


@pytest.mark.real_commits
def test_two_concurrent_draws_of_the_last_vial_cannot_both_succeed(
    db: Session, engine: Engine, team: Staff
) -> None:
    lot_id, first_id, second_id = _last_vial(db, team)
    factory = make_session_factory(engine)
    outcome: dict[str, object] = {}

    drawn = threading.Event()

    def draw(session_id: int, key: str, hold: threading.Event | None = None) -> None:
        with factory() as other:
            begin_writing(other)
            row = sessions.get_session(other, actor=team.nurse, session_id=session_id, now=T0)
            try:
                service.draw_for_dose(
                    other,
                    actor=team.nurse,
                    session_id=session_id,
                    patient_id=row.session.patient_id,
                    route="iv",
                    mg=35,
                    lot_id=lot_id,
                    at=T0,
                )
            except Conflict as exc:
                outcome[key] = exc
                other.rollback()
                return
            if hold is not None:
                drawn.set()  # its UPDATE holds the lot row (PostgreSQL) or the write lock
                hold.wait(10)
            other.commit()
            outcome[key] = "drawn"

    release = threading.Event()
    first = threading.Thread(target=draw, args=(first_id, "first", release))
    first.start()
    assert drawn.wait(10)
    second = threading.Thread(target=draw, args=(second_id, "second"))
    second.start()
    time.sleep(0.2)  # the second reaches its UPDATE (or BEGIN IMMEDIATE) and waits
    release.set()
    first.join(10)
    second.join(10)
    assert outcome["first"] == "drawn"
    assert isinstance(outcome["second"], Conflict)
    with factory() as check:
        assert (
            check.scalar(
                select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "draw")
            )
            == 1
        )
        lot = service.lot_by_id(check, lot_id)
        assert lot.balance_milli == 0
