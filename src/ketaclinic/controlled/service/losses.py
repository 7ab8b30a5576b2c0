"""Theft or significant loss: the stock leaves the ledger and the report keeps DEA Form
106's data and when the notice is due."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.clinical import calendar
from ketaclinic.configuration import service as configuration
from ketaclinic.controlled.models import LossReport
from ketaclinic.controlled.service.common import (
    SUPERVISORS,
    _audit,
    _entry,
    _location,
    _product,
    _require,
    _text,
    lot_by_id,
    rules,
    to_milli,
    units,
)
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.clock import clinic_today
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Conflict, Invalid, NotFound


@dataclass(frozen=True)
class LossLine:
    lot_id: int
    quantity: float


def report_loss(
    db: Session,
    *,
    actor: Actor,
    location_id: int,
    kind: str,
    discovered_on: date,
    circumstances: str,
    lines: Sequence[LossLine],
    police_report: str | None = None,
    now: datetime | None = None,
) -> LossReport:
    """A theft or significant loss: the stock leaves the ledger (``loss`` entries) and the
    report keeps DEA Form 106's data, with the written notice due one business day after
    discovery (21 CFR 1301.76(b))."""
    _require(actor, SUPERVISORS, "report a theft or loss (prescribers and administrators)")
    location = _location(db, location_id)
    if kind not in ("theft", "significant_loss"):
        raise Invalid("a theft or a significant loss", fields={"kind": "invalid"})
    if not lines:
        raise Invalid("list what was lost", fields={"lines": "required"})
    moment = now or utcnow()
    if discovered_on > clinic_today(moment):
        raise Invalid("discovered in the future?", fields={"discovered_on": "future"})
    text = _text(circumstances, "what happened", field="circumstances", minimum=5)
    kept = []
    for line in lines:
        lot = lot_by_id(db, line.lot_id)
        if lot.location_id != location.id:
            raise Invalid("a lot is not at this location", fields={"lines": "unknown lot"})
        product = _product(db, lot.product_id)
        milli = to_milli(line.quantity)
        entry = _entry(db, actor, lot, "loss", -milli, at=moment, reason=f"{kind}: {text}"[:2000])
        kept.append(
            {
                "entry_id": entry.id,
                "product": product.name,
                "lot": lot.lot_number,
                "quantity": units(milli),
                "unit": product.count_unit,
                "mg": round(units(milli) * product.mg_per_unit, 3),
            }
        )
    days = int(rules(db)["loss_notice_business_days"].value)
    row = LossReport(
        location_id=location.id,
        kind=kind,
        discovered_on=discovered_on,
        notice_due_on=calendar.add_business_days(discovered_on, days, configuration.holidays(db)),
        circumstances=text,
        police_report=(police_report or "").strip()[:120] or None,
        lines=kept,
        reported_by=actor.username,
        created_at=moment,
    )
    db.add(row)
    db.flush()
    _audit(
        db, actor, "loss.report", "controlled_loss_report", row.id, detail=f"{location.code} {kind}"
    )
    return row


def record_loss_notice(
    db: Session,
    *,
    actor: Actor,
    report_id: int,
    reference: str,
    notified_at: datetime | None = None,
) -> LossReport:
    _require(actor, SUPERVISORS, "record the DEA notice (prescribers and administrators)")
    row = db.get(LossReport, report_id)
    if row is None:
        raise NotFound(f"no loss report {report_id}")
    if row.notified_at is not None:
        raise Conflict("the notice is already recorded")
    row.notified_at = notified_at or utcnow()
    row.notified_by = actor.username
    row.notice_reference = _text(
        reference, "how the DEA was notified (reference)", field="reference", most=120
    )
    db.flush()
    _audit(db, actor, "loss.notice", "controlled_loss_report", row.id, detail=row.notice_reference)
    return row


def form_106(db: Session, *, actor: Actor, report_id: int) -> dict[str, Any]:
    """The data DEA Form 106 asks for, from the report."""
    _require(actor, SUPERVISORS, "read loss reports")
    row = db.get(LossReport, report_id)
    if row is None:
        raise NotFound(f"no loss report {report_id}")
    location = _location(db, row.location_id)
    return {
        "registrant": location.name,
        "dea_number": location.dea_number,
        "address": location.address,
        "type_of_loss": row.kind.replace("_", " "),
        "date_discovered": row.discovered_on.isoformat(),
        "notice_due_on": row.notice_due_on.isoformat(),
        "notified_at": row.notified_at.isoformat() if row.notified_at else None,
        "notice_reference": row.notice_reference,
        "police_report": row.police_report,
        "circumstances": row.circumstances,
        "lost": row.lines,
    }


def loss_reports(db: Session, *, actor: Actor) -> list[LossReport]:
    _require(actor, SUPERVISORS, "read loss reports")
    return list(db.scalars(select(LossReport).order_by(LossReport.created_at.desc()).limit(50)))
