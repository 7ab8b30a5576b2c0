"""Claim files for an insurer: the coded session charges an 837P or a CMS-1500 is made
of."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.billing.models import Charge
from ketaclinic.billing.service.common import MONEY, _reader, _require
from ketaclinic.billing.service.coverage import coverage_of
from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Invalid, NotFound
from ketaclinic.platform.settings import get_settings


def claim_charges(db: Session, *, actor: Actor, charge_ids: Sequence[int]) -> list[Charge]:
    """The session charges an 837P is made of: coded, one patient, with a coverage."""
    _require(actor, MONEY, "making claim files")
    if not charge_ids:
        raise Invalid("choose at least one session charge", fields={"charge_ids": "empty"})
    rows = list(
        db.scalars(select(Charge).where(Charge.id.in_(list(charge_ids))).order_by(Charge.id))
    )
    if len(rows) != len(set(charge_ids)):
        raise NotFound("some of those charges do not exist")
    if len({r.patient_id for r in rows}) != 1:
        raise Invalid(
            "a claim file here holds one patient's sessions", fields={"charge_ids": "mixed"}
        )
    if any(not r.lines for r in rows):
        raise Invalid("only coded charges go on a claim", fields={"charge_ids": "uncoded"})
    if coverage_of(db, rows[0].patient_id) is None:
        raise Invalid("record the patient's insurer first", fields={"coverage": "missing"})
    for row in rows:
        audit.note_read(
            db,
            actor=actor,
            action="billing.claim",
            patient_id=row.patient_id,
            object_type="billing_charge",
            object_id=row.id,
        )
    return rows


def claim_837p(
    db: Session, *, actor: Actor, charge_ids: Sequence[int], at: datetime | None = None
) -> str:
    from ketaclinic.billing import claims

    rows = claim_charges(db, actor=actor, charge_ids=charge_ids)
    patient = patients.patient_by_id(db, rows[0].patient_id)
    coverage = coverage_of(db, patient.id)
    assert coverage is not None
    return claims.build_837p(
        claims.claim_data(rows, patient, coverage, get_settings()), at=at or utcnow()
    )


def cms1500(db: Session, *, actor: Actor, charge_ids: Sequence[int]) -> dict[str, Any]:
    from ketaclinic.billing import claims

    rows = claim_charges(db, actor=actor, charge_ids=charge_ids)
    patient = patients.patient_by_id(db, rows[0].patient_id)
    coverage = coverage_of(db, patient.id)
    assert coverage is not None
    return claims.cms1500(claims.claim_data(rows, patient, coverage, get_settings()))


def claimable(db: Session, *, actor: Actor, patient_id: int) -> list[Charge]:
    _reader(db, actor, patient_id, roles=MONEY)
    return list(
        db.scalars(
            select(Charge)
            .where(Charge.patient_id == patient_id, Charge.kind != "package")
            .order_by(Charge.service_on, Charge.id)
        )
    )
