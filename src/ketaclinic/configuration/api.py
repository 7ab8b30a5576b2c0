"""Clinical defaults and the clinic's overrides, as JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from ketaclinic.configuration import service
from ketaclinic.configuration.models import ClinicOverride
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.auth import allow, get_db
from ketaclinic.platform.ids import RecordId
from ketaclinic.platform.roles import Role

router = APIRouter(prefix="/api/clinic", tags=["clinical defaults"])
DB = Annotated[Session, Depends(get_db)]


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    table: str = Field(max_length=60)
    target: str = Field(max_length=80)
    field: str = Field(max_length=80)
    value: str = Field(max_length=40, description="the new value as text; blank for none")
    reason: str = Field(min_length=5, max_length=1000)


class RetireIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=5, max_length=1000)


class OverrideOut(BaseModel):
    id: int
    table: str
    target: str
    field: str
    value: Any
    default_value: Any
    reason: str
    created_by: str
    created_at: datetime
    retired_by: str | None
    retired_at: datetime | None
    retire_reason: str | None


def _out(row: ClinicOverride) -> OverrideOut:
    return OverrideOut(
        id=row.id,
        table=row.table_key,
        target=row.target,
        field=row.field,
        value=row.value,
        default_value=row.default_value,
        reason=row.reason,
        created_by=row.created_by,
        created_at=row.created_at,
        retired_by=row.retired_by,
        retired_at=row.retired_at,
        retire_reason=row.retire_reason,
    )


@router.get("/overrides")
def list_overrides(
    db: DB, _: Actor = allow(Role.prescriber, Role.admin, Role.nurse)
) -> list[OverrideOut]:
    return [_out(r) for r in service.history(db)]


@router.post("/overrides", status_code=201)
def add_override(
    body: OverrideIn, db: DB, actor: Actor = allow(Role.prescriber, Role.admin)
) -> OverrideOut:
    return _out(
        service.override(
            db,
            actor=actor,
            table_key=body.table,
            target=body.target,
            field=body.field,
            value=body.value,
            reason=body.reason,
        )
    )


@router.post("/overrides/{override_id}/retire")
def retire_override(
    override_id: RecordId, body: RetireIn, db: DB, actor: Actor = allow(Role.prescriber, Role.admin)
) -> OverrideOut:
    return _out(service.retire(db, actor=actor, override_id=override_id, reason=body.reason))
