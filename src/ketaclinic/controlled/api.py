"""Controlled-substance ledger JSON routes under /api/controlled."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from ketaclinic.controlled import schemas as s
from ketaclinic.controlled import service
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.auth import allow, get_db
from ketaclinic.platform.ids import RecordId
from ketaclinic.platform.roles import Role

router = APIRouter(prefix="/api/controlled", tags=["controlled"])
DB = Annotated[Session, Depends(get_db)]
LICENSED = (Role.nurse, Role.prescriber)
SUPERVISORS = (Role.prescriber, Role.admin)
READERS = (Role.nurse, Role.prescriber, Role.admin)


def _entry(row: service.LedgerEntry) -> s.EntryOut:
    return s.EntryOut.model_validate(row)


def _counted(found: tuple[service.StockCount, service.Discrepancy | None]) -> s.CountResult:
    row, opened = found
    return s.CountResult(
        count=s.CountOut.model_validate(row),
        discrepancy=s.DiscrepancyOut.model_validate(opened) if opened else None,
    )


def _witness(w: s.WitnessIn) -> service.WitnessIn:
    return service.WitnessIn(w.username, w.password)


@router.post("/locations", status_code=201)
def add_location(body: s.LocationIn, db: DB, actor: Actor = allow(Role.admin)) -> s.LocationOut:
    return s.LocationOut.model_validate(service.add_location(db, actor=actor, **body.model_dump()))


@router.get("/locations")
def list_locations(db: DB, actor: Actor = allow(*READERS)) -> list[s.LocationOut]:
    return [s.LocationOut.model_validate(r) for r in service.locations(db)]


@router.post("/products", status_code=201)
def add_product(body: s.ProductIn, db: DB, actor: Actor = allow(Role.admin)) -> s.ProductOut:
    return s.ProductOut.model_validate(service.add_product(db, actor=actor, **body.model_dump()))


@router.get("/products")
def list_products(db: DB, actor: Actor = allow(*READERS)) -> list[s.ProductOut]:
    return [s.ProductOut.model_validate(r) for r in service.products(db)]


@router.get("/stock")
def read_stock(
    db: DB, location_id: RecordId | None = None, actor: Actor = allow(*READERS)
) -> list[s.StockOut]:
    return [
        s.StockOut(
            lot_id=line.lot.id,
            location=line.location.code,
            product=line.product.code,
            lot_number=line.lot.lot_number,
            expires_on=line.lot.expires_on,
            balance=service.units(line.lot.balance_milli),
            unit=line.product.count_unit,
        )
        for line in service.stock(db, actor=actor, location_id=location_id)
    ]


@router.post("/receipts", status_code=201)
def receive(body: s.ReceiptIn, db: DB, actor: Actor = allow(*LICENSED)) -> s.EntryOut:
    return _entry(service.receive(db, actor=actor, **body.model_dump()))


@router.post("/waste", status_code=201)
def waste(body: s.WasteIn, db: DB, actor: Actor = allow(*LICENSED)) -> s.EntryOut:
    fields = body.model_dump(exclude={"witness", "more_witnesses"})
    return _entry(
        service.waste(
            db,
            actor=actor,
            witness=_witness(body.witness),
            more_witnesses=[_witness(w) for w in body.more_witnesses],
            **fields,
        )
    )


@router.post("/destructions", status_code=201)
def destroy(body: s.DestroyIn, db: DB, actor: Actor = allow(*SUPERVISORS)) -> s.EntryOut:
    return _entry(
        service.destroy(
            db,
            actor=actor,
            lot_id=body.lot_id,
            quantity=body.quantity,
            method=body.method,
            reason=body.reason,
            witnesses=[_witness(w) for w in body.witnesses],
        )
    )


@router.post("/returns", status_code=201)
def return_stock(body: s.ReturnIn, db: DB, actor: Actor = allow(*LICENSED)) -> s.EntryOut:
    return _entry(service.return_to_supplier(db, actor=actor, **body.model_dump()))


@router.post("/transfers", status_code=201)
def transfer(body: s.TransferIn, db: DB, actor: Actor = allow(*LICENSED)) -> list[s.EntryOut]:
    return [_entry(e) for e in service.transfer(db, actor=actor, **body.model_dump())]


@router.post("/entries/{entry_id}/corrections", status_code=201)
def correct(
    entry_id: RecordId, body: s.CorrectionIn, db: DB, actor: Actor = allow(*READERS)
) -> s.EntryOut:
    return _entry(service.correct(db, actor=actor, entry_id=entry_id, reason=body.reason))


@router.post("/counts", status_code=201)
def count(body: s.CountIn, db: DB, actor: Actor = allow(*LICENSED)) -> s.CountResult:
    return _counted(service.count(db, actor=actor, **body.model_dump()))


@router.get("/discrepancies")
def open_discrepancies(db: DB, actor: Actor = allow(*READERS)) -> list[s.DiscrepancyOut]:
    return [
        s.DiscrepancyOut.model_validate(d) for d, _ in service.open_discrepancies(db, actor=actor)
    ]


@router.post("/discrepancies/{discrepancy_id}/resolve")
def resolve(
    discrepancy_id: RecordId, body: s.ResolveIn, db: DB, actor: Actor = allow(*SUPERVISORS)
) -> s.DiscrepancyOut:
    return s.DiscrepancyOut.model_validate(
        service.resolve(db, actor=actor, discrepancy_id=discrepancy_id, reason=body.reason)
    )


@router.post("/inventories", status_code=201)
def take_inventory(body: s.InventoryIn, db: DB, actor: Actor = allow(*READERS)) -> s.InventoryOut:
    return s.InventoryOut.model_validate(
        service.take_inventory(
            db,
            actor=actor,
            location_id=body.location_id,
            kind=body.kind,
            business_hours=body.business_hours,
            lines=[service.InventoryLine(x.lot_id, x.found, x.estimated) for x in body.lines],
            password=body.password,
        )
    )


@router.get("/inventories")
def list_inventories(
    db: DB, location_id: RecordId | None = None, actor: Actor = allow(*READERS)
) -> list[s.InventoryOut]:
    return [
        s.InventoryOut.model_validate(r)
        for r in service.inventories(db, actor=actor, location_id=location_id)
    ]


@router.post("/loss-reports", status_code=201)
def report_loss(body: s.LossIn, db: DB, actor: Actor = allow(*SUPERVISORS)) -> s.LossOut:
    return s.LossOut.model_validate(
        service.report_loss(
            db,
            actor=actor,
            location_id=body.location_id,
            kind=body.kind,
            discovered_on=body.discovered_on,
            circumstances=body.circumstances,
            lines=[service.LossLine(x.lot_id, x.quantity) for x in body.lines],
            police_report=body.police_report,
        )
    )


@router.get("/loss-reports/{report_id}/form-106")
def form_106(report_id: RecordId, db: DB, actor: Actor = allow(*SUPERVISORS)) -> dict[str, object]:
    return service.form_106(db, actor=actor, report_id=report_id)


@router.post("/loss-reports/{report_id}/notice")
def record_notice(
    report_id: RecordId, body: s.NoticeIn, db: DB, actor: Actor = allow(*SUPERVISORS)
) -> s.LossOut:
    return s.LossOut.model_validate(
        service.record_loss_notice(
            db,
            actor=actor,
            report_id=report_id,
            reference=body.reference,
            notified_at=body.notified_at,
        )
    )


@router.get("/locations/{location_id}/logs/{kind}")
def read_log(
    location_id: RecordId,
    kind: str,
    db: DB,
    start: Annotated[date | None, Query(description="first day; default today")] = None,
    end: Annotated[date | None, Query(description="last day; default the first")] = None,
    actor: Actor = allow(*READERS),
) -> list[s.EntryOut]:
    found = service.log(db, actor=actor, location_id=location_id, kind=kind, start=start, end=end)
    return [_entry(row.entry) for row in found.rows]
