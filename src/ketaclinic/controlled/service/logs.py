"""The inspector's logs of a location over a range of days (on screen, CSV, PDF) and the
day's entries of every location."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.controlled.models import (
    ControlledLocation,
    ControlledLot,
    ControlledProduct,
    Inventory,
    LedgerEntry,
)
from ketaclinic.controlled.service.common import READERS, _location, _require, show, units
from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.clock import clinic_today
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Invalid, NotFound
from ketaclinic.platform.settings import get_settings

LOG_KINDS = {
    "dispensing": ("draw", "administer"),
    "receipt": ("receive", "transfer_in"),
    "waste": ("waste", "destroy", "return", "transfer_out", "loss"),
    "corrections": ("correction", "adjustment"),
}
KIND_LABELS = {
    "receive": "Received",
    "draw": "Drawn for a dose",
    "administer": "Given (from the chart)",
    "waste": "Wasted",
    "destroy": "Destroyed (DEA Form 41)",
    "return": "Returned to supplier",
    "transfer_out": "Transferred out",
    "transfer_in": "Transferred in",
    "loss": "Theft or loss (DEA Form 106)",
    "adjustment": "Count reconciled",
    "correction": "Correction",
}


@dataclass(frozen=True)
class LogRow:
    entry: LedgerEntry
    lot: ControlledLot
    product: ControlledProduct
    patient: str | None

    def cells(self, zone: Any) -> list[str]:
        e, p = self.entry, self.product
        witnesses = "; ".join(f"{w['name']} ({w['username']})" for w in e.witnesses or [])
        other = e.supplier or ""
        if e.supplier_dea_number:
            other += f" DEA {e.supplier_dea_number}"
        return [
            e.at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            str(e.id),
            KIND_LABELS.get(e.kind, e.kind),
            p.name,
            self.lot.lot_number,
            self.lot.expires_on.isoformat(),
            f"{units(e.units_milli):g}",
            p.count_unit,
            "" if e.mg is None else f"{e.mg:g}",
            f"{units(e.balance_after_milli):g}",
            self.patient or "",
            str(e.session_id or ""),
            f"{e.recorded_by_name} ({e.recorded_by})",
            witnesses,
            other.strip(),
            e.reference or "",
            (e.method or "") + (" " if e.method and e.reason else "") + (e.reason or ""),
            str(e.refers_to_id or ""),
        ]


LOG_HEADINGS = [
    "Time",
    "Entry",
    "Act",
    "Product",
    "Lot",
    "Expires",
    "Change",
    "Unit",
    "mg",
    "Balance",
    "Patient",
    "Session",
    "Recorded by",
    "Witnesses",
    "Supplier",
    "Invoice / order form",
    "Reason",
    "Refers to",
]


@dataclass(frozen=True)
class Log:
    kind: str
    location: ControlledLocation
    start: date
    end: date
    rows: list[LogRow]
    inventories: list[Inventory]


def _day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    zone = get_settings().zone
    low = datetime.combine(start, time(0), tzinfo=zone).astimezone(UTC)
    high = datetime.combine(end + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return low, high


def log(
    db: Session,
    *,
    actor: Actor,
    location_id: int,
    kind: str,
    start: date | None,
    end: date | None,
) -> Log:
    """An inspector's log for a location and a date range (the clinic's days; today when
    no day is given, the first day alone when no last day is)."""
    _require(actor, READERS, "read the controlled-substance logs")
    location = _location(db, location_id)
    if kind not in LOG_KINDS and kind not in ("all", "inventory"):
        # The kind names the log itself (a path segment on the API): no such log.
        raise NotFound(
            "no such log: dispensing, receipt, waste, corrections, inventory or all",
            fields={"kind": "unknown"},
        )
    start = start or clinic_today()
    end = end or start
    if end < start:
        raise Invalid("the range ends before it starts", fields={"end": "before start"})
    if (end - start).days > 3 * 366:
        raise Invalid("ask for at most three years at once", fields={"end": "too long"})
    low, high = _day_bounds(start, end)
    rows: list[LogRow] = []
    if kind != "inventory":
        query = (
            select(LedgerEntry, ControlledLot, ControlledProduct)
            .join(ControlledLot, ControlledLot.id == LedgerEntry.lot_id)
            .join(ControlledProduct, ControlledProduct.id == ControlledLot.product_id)
            .where(
                LedgerEntry.location_id == location.id, LedgerEntry.at >= low, LedgerEntry.at < high
            )
            .order_by(LedgerEntry.at, LedgerEntry.id)
        )
        if kind == "dispensing":
            # Each dose's record: drawn, given, and the rest wasted (with its witness).
            query = query.where(
                LedgerEntry.kind.in_(LOG_KINDS[kind])
                | ((LedgerEntry.kind == "waste") & LedgerEntry.session_id.is_not(None))
            )
        elif kind in LOG_KINDS:
            query = query.where(LedgerEntry.kind.in_(LOG_KINDS[kind]))
        found = list(db.execute(query))
        ids = {e.patient_id for e, _, _ in found if e.patient_id is not None}
        names = patients.display_names(db, ids) if ids else {}
        for pid in sorted(ids):
            audit.note_read(
                db,
                actor=actor,
                action="controlled.log.read",
                patient_id=pid,
                object_type="controlled_log",
                object_id=f"{location.code}:{kind}",
            )
        rows = [
            LogRow(e, lot, p, names.get(e.patient_id) if e.patient_id else None)
            for e, lot, p in found
        ]
    invs: list[Inventory] = []
    if kind in ("inventory", "all"):
        invs = list(
            db.scalars(
                select(Inventory)
                .where(
                    Inventory.location_id == location.id,
                    Inventory.taken_at >= low,
                    Inventory.taken_at < high,
                )
                .order_by(Inventory.taken_at)
            )
        )
    return Log(kind, location, start, end, rows, invs)


def log_csv(found: Log) -> str:
    zone = get_settings().zone
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Location", "DEA registration"] + LOG_HEADINGS)
    for row in found.rows:
        writer.writerow([found.location.code, found.location.dea_number] + row.cells(zone))
    for inv in found.inventories:
        writer.writerow(
            [
                found.location.code,
                found.location.dea_number,
                inv.taken_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                f"inventory {inv.id}",
                f"{inv.kind} inventory",
            ]
            + [""] * (len(LOG_HEADINGS) - 4)
            + [inv.text.replace("\n", " | ")]
        )
    return out.getvalue()


LOG_TITLES = {
    "dispensing": "Dispensing log",
    "receipt": "Receipt log",
    "waste": "Waste, destruction, return and transfer log",
    "corrections": "Corrections and reconciliations",
    "inventory": "Inventories",
    "all": "Controlled-substance ledger",
}


def log_pdf(found: Log, *, clinic: str) -> bytes:
    from ketaclinic.platform.pdf import ClinicDocument

    zone = get_settings().zone
    doc = ClinicDocument(
        title=LOG_TITLES[found.kind],
        clinic=clinic,
        subtitle=f"{found.location.name} ({found.location.code}) · {found.start} to {found.end}",
        letterhead_lines=[f"DEA registration {found.location.dea_number}", found.location.address],
        printed_at=utcnow().astimezone(zone),
        landscape=True,
    )
    doc.fields([("DEA registration", found.location.dea_number), ("Entries", str(len(found.rows)))])
    if found.kind != "inventory":
        # Time, entry, act, product, lot, change, mg, balance, patient, by, witnesses,
        # supplier, invoice, reason: the unit goes with the change ("-1 vial").
        picked = [0, 1, 2, 3, 4, 6, 8, 9, 10, 12, 13, 14, 15, 16]
        table = []
        for row in found.rows:
            cells = row.cells(zone)
            cells[6] = show(row.entry.units_milli, row.product.count_unit)
            table.append([cells[i] for i in picked])
        doc.table(
            [LOG_HEADINGS[i] for i in picked],
            table,
            widths=[20, 10, 22, 30, 18, 14, 10, 12, 24, 26, 26, 28, 20, 28],
            align_right=(1, 6, 7),
        )
    for inv in found.inventories:
        doc.heading(f"Inventory {inv.id}")
        doc.paragraph(inv.text)
    return doc.output()


def day_entries(db: Session, *, actor: Actor, day: date) -> list[LogRow]:
    """Every location's entries of one clinic day (the ledger home's "today")."""
    _require(actor, READERS, "see controlled stock")
    low, high = _day_bounds(day, day)
    found = list(
        db.execute(
            select(LedgerEntry, ControlledLot, ControlledProduct)
            .join(ControlledLot, ControlledLot.id == LedgerEntry.lot_id)
            .join(ControlledProduct, ControlledProduct.id == ControlledLot.product_id)
            .where(LedgerEntry.at >= low, LedgerEntry.at < high)
            .order_by(LedgerEntry.at.desc(), LedgerEntry.id.desc())
            .limit(500)
        )
    )
    ids = {e.patient_id for e, _, _ in found if e.patient_id is not None}
    names = patients.display_names(db, ids) if ids else {}
    for pid in sorted(ids):
        audit.note_read(
            db,
            actor=actor,
            action="controlled.ledger.read",
            patient_id=pid,
            object_type="controlled_log",
            object_id=day.isoformat(),
        )
    return [
        LogRow(e, lot, p, names.get(e.patient_id) if e.patient_id else None) for e, lot, p in found
    ]
