"""Reviewing the clinical defaults and recording a clinic's overrides of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.clinical import calendar
from ketaclinic.clinical.overrides import Override, apply
from ketaclinic.configuration.models import ClinicOverride
from ketaclinic.configuration.tables import TABLES, Table, coerce, editable_fields
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import forget_read, read_once, utcnow
from ketaclinic.platform.errors import Conflict, Forbidden, Invalid, NotFound
from ketaclinic.platform.roles import Role

MEDICAL_DIRECTOR = frozenset({Role.prescriber, Role.admin})


def may_override(actor: Actor) -> bool:
    """Clinical defaults belong to the medical director: prescriber and admin at once."""
    return actor.roles >= MEDICAL_DIRECTOR


def _table(key: str) -> Table:
    if key not in TABLES:
        raise NotFound(f"no clinical table {key!r} (known: {', '.join(TABLES)})")
    return TABLES[key]


def active(db: Session, table_key: str | None = None) -> list[ClinicOverride]:
    query = select(ClinicOverride).where(ClinicOverride.retired_at.is_(None))
    if table_key:
        query = query.where(ClinicOverride.table_key == table_key)
    return list(db.scalars(query.order_by(ClinicOverride.id)))


def overrides_for(db: Session, table_key: str) -> list[Override]:
    """The clinic's active overrides of one table, ready for the clinical functions."""
    return overrides_by_table(db, table_key)[table_key]


def clinic_overrides(db: Session, *table_keys: str) -> list[Override]:
    """The active overrides of several tables, for a clinical function that reads them all
    (for example ``dosing.plan`` reads protocols and input limits)."""
    found = overrides_by_table(db, *table_keys)
    return [o for key in table_keys for o in found[key]]


_ACTIVE = "configuration.active_overrides"


def _active_by_table(db: Session) -> dict[str, list[Override]]:
    found: dict[str, list[Override]] = {}
    # Columns, not rows: a monitor group reads this, and usually finds nothing.
    rows = db.execute(
        select(
            ClinicOverride.table_key,
            ClinicOverride.target,
            ClinicOverride.field,
            ClinicOverride.value,
            ClinicOverride.created_by,
            ClinicOverride.reason,
        )
        .where(ClinicOverride.retired_at.is_(None))
        .order_by(ClinicOverride.id)
    )
    for key, target, name, value, by, reason in rows:
        found.setdefault(key, []).append(
            Override(target=target, field=name, value=value, by=by, reason=reason)
        )
    return found


def overrides_by_table(db: Session, *table_keys: str) -> dict[str, list[Override]]:
    """The active overrides of each of several tables. Every active override of the
    clinic (a few dozen rows at most) is read once per transaction: a session page
    consults six tables through as many services."""
    for key in table_keys:
        _table(key)
    every = read_once(db, _ACTIVE, lambda: _active_by_table(db))
    return {key: list(every.get(key, ())) for key in table_keys}


def holidays(db: Session) -> dict[str, calendar.Holiday]:
    """The clinic's holiday table (the federal holidays, with its overrides), for every
    count of business days."""
    return calendar.holiday_table(overrides_for(db, "calendar.holidays"))


@dataclass(frozen=True)
class FieldView:
    name: str
    default: Any
    current: Any
    override: ClinicOverride | None


@dataclass(frozen=True)
class RowView:
    id: str
    row: Any
    fields: list[FieldView]


def review(db: Session, table_key: str) -> list[RowView]:
    table = _table(table_key)
    by_key = {(o.target, o.field): o for o in active(db, table_key)}
    views = []
    for row_id, row in table.rows().items():
        fields = []
        for name in editable_fields(row):
            found = by_key.get((row_id, name))
            current = found.value if found else getattr(row, name)
            fields.append(FieldView(name, getattr(row, name), current, found))
        views.append(RowView(row_id, row, fields))
    return views


def override(
    db: Session,
    *,
    actor: Actor,
    table_key: str,
    target: str,
    field: str,
    value: str,
    reason: str,
) -> ClinicOverride:
    if not may_override(actor):
        raise Forbidden("only the medical director (prescriber and admin) changes defaults")
    table = _table(table_key)
    rows = table.rows()
    if target not in rows:
        raise Invalid(f"{table.title} has no row {target!r}", fields={"target": target})
    kinds = editable_fields(rows[target])
    if field not in kinds:
        raise Invalid(f"{field!r} of {target!r} cannot be overridden", fields={"field": field})
    if len(reason.strip()) < 5:
        raise Invalid("say why the clinic departs from the default", fields={"reason": reason})
    try:
        typed = coerce(kinds[field], value)
        apply({target: rows[target]}, [Override(target, field, typed, actor.username, reason)])
    except ValueError as exc:
        raise Invalid(f"{field}: {exc}", fields={"value": str(exc)}) from None
    for previous in active(db, table_key):
        if (previous.target, previous.field) == (target, field):
            raise Conflict(f"{target}.{field} is already overridden; retire that one first")
    row = ClinicOverride(
        table_key=table_key,
        target=target,
        field=field,
        value=typed,
        default_value=getattr(rows[target], field),
        reason=reason.strip(),
        created_by=actor.username,
    )
    db.add(row)
    db.flush()
    forget_read(db, _ACTIVE)
    audit.record(
        db,
        actor=actor,
        action="clinical_default.override",
        object_type="clinic_override",
        object_id=row.id,
        detail=f"{table_key} {target}.{field}: {row.default_value} -> {typed}",
    )
    db.flush()
    return row


def retire(db: Session, *, actor: Actor, override_id: int, reason: str) -> ClinicOverride:
    if not may_override(actor):
        raise Forbidden("only the medical director (prescriber and admin) changes defaults")
    row = db.get(ClinicOverride, override_id)
    if row is None or row.retired_at is not None:
        raise NotFound(f"no active override {override_id}")
    if len(reason.strip()) < 5:
        raise Invalid("say why the default applies again", fields={"reason": reason})
    row.retired_at = utcnow()
    row.retired_by = actor.username
    row.retire_reason = reason.strip()
    forget_read(db, _ACTIVE)
    audit.record(
        db,
        actor=actor,
        action="clinical_default.retire",
        object_type="clinic_override",
        object_id=row.id,
        detail=f"{row.table_key} {row.target}.{row.field} back to the default",
    )
    db.flush()
    return row


def history(db: Session) -> list[ClinicOverride]:
    return list(db.scalars(select(ClinicOverride).order_by(ClinicOverride.id.desc())))
