"""Ledger pages: the nurses' home (stock by location and lot, today's entries, open
discrepancies, doses waiting for their waste), receive, count, waste with the witness's
password, inventory, set-up, and the inspector's logs with their CSV and PDF."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from ketaclinic.controlled import schemas as s
from ketaclinic.controlled import service
from ketaclinic.controlled.home import HOME_SECTIONS as HOME_SECTIONS  # the home page's parts
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.auth import allow, get_db
from ketaclinic.platform.clock import clinic_today
from ketaclinic.platform.errors import ClinicError, Invalid
from ketaclinic.platform.forms import parse
from ketaclinic.platform.ids import RecordId
from ketaclinic.platform.pdf import PDF_MEDIA_TYPE
from ketaclinic.platform.roles import Role
from ketaclinic.platform.web import render

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]
LICENSED = (Role.nurse, Role.prescriber)
SUPERVISORS = (Role.prescriber, Role.admin)
READERS = (Role.nurse, Role.prescriber, Role.admin)

NAV = [("Controlled substances", "/controlled", frozenset(READERS))]


def _errors(exc: ClinicError) -> dict[str, str]:
    errors = {k: exc.detail for k in exc.fields} if exc.fields else {}
    errors["form"] = exc.detail
    return errors


async def _submit(
    request: Request,
    db: Session,
    model: type[BaseModel],
    act: Callable[[Any], object],
    again: Callable[[dict[str, Any], dict[str, str]], Response],
    done: str,
) -> Response:
    """Parse the form, do the one act, redirect; or show the form again with the errors
    at their fields (422) and nothing of the act kept."""
    form = dict(await request.form())
    data, errors = parse(model, form)
    if data is not None:
        try:
            act(data)
        except ClinicError as exc:
            db.rollback()
            errors = _errors(exc)
        else:
            return RedirectResponse(done, status_code=303)
    for key in [k for k in form if k.endswith("password")]:
        form.pop(key, None)
    form.pop("password", None)
    return again(form, errors)


# ------------------------------------------------------------------ home


def _home(
    request: Request,
    db: Session,
    actor: Actor,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    day = clinic_today()
    return render(
        request,
        "controlled/home.html",
        {
            "configured": service.ledger_configured(db),
            "stock": service.stock(db, actor=actor),
            "entries": service.day_entries(db, actor=actor, day=day),
            "discrepancies": service.open_discrepancies(db, actor=actor),
            "to_waste": service.awaiting_waste(db, actor=actor),
            "labels": service.KIND_LABELS,
            "zone": request.app.state.settings.zone,
            "day": day,
            "show": service.show,
            "units": service.units,
            "can_resolve": bool(actor.roles & service.SUPERVISORS),
            "can_act": bool(actor.roles & service.LICENSED),
            "is_admin": Role.admin in actor.roles,
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/controlled", response_class=HTMLResponse)
def home(request: Request, db: DB, actor: Actor = allow(*READERS)) -> Response:
    return _home(request, db, actor)


@router.post("/controlled/discrepancies/{discrepancy_id}/resolve", response_class=HTMLResponse)
async def resolve(
    request: Request, db: DB, discrepancy_id: RecordId, actor: Actor = allow(*SUPERVISORS)
) -> Response:
    form = dict(await request.form())
    data, errors = parse(s.ResolveIn, form)
    if data is not None:
        try:
            service.resolve(db, actor=actor, discrepancy_id=discrepancy_id, reason=data.reason)
        except ClinicError as exc:
            db.rollback()
            errors = _errors(exc)
        else:
            return RedirectResponse("/controlled#discrepancies", status_code=303)
    keyed = {f"reason-{discrepancy_id}": errors.get("reason", errors.get("form", "invalid"))}
    return _home(request, db, actor, {**errors, **keyed}, status_code=422)


# ------------------------------------------------------------------ receive


def _receive_page(
    request: Request, db: Session, form: dict[str, Any], errors: dict[str, str], code: int = 200
) -> Response:
    return render(
        request,
        "controlled/receive.html",
        {
            "locations": service.locations(db),
            "products": service.products(db),
            "form": form,
            "errors": errors,
        },
        status_code=code,
    )


@router.get("/controlled/receive", response_class=HTMLResponse)
def receive_form(request: Request, db: DB, actor: Actor = allow(*LICENSED)) -> Response:
    return _receive_page(request, db, {"received_on": clinic_today().isoformat()}, {})


@router.post("/controlled/receive", response_class=HTMLResponse)
async def receive(request: Request, db: DB, actor: Actor = allow(*LICENSED)) -> Response:
    return await _submit(
        request,
        db,
        s.ReceiptIn,
        lambda d: service.receive(db, actor=actor, **d.model_dump()),
        lambda f, e: _receive_page(request, db, f, e, 422),
        "/controlled#stock",
    )


# ------------------------------------------------------------------ count


def _count_page(
    request: Request,
    db: Session,
    actor: Actor,
    form: dict[str, Any],
    errors: dict[str, str],
    code: int = 200,
) -> Response:
    return render(
        request,
        "controlled/count.html",
        {"stock": service.stock(db, actor=actor), "form": form, "errors": errors},
        status_code=code,
    )


@router.get("/controlled/count", response_class=HTMLResponse)
def count_form(
    request: Request, db: DB, lot_id: RecordId | None = None, actor: Actor = allow(*LICENSED)
) -> Response:
    return _count_page(request, db, actor, {"lot_id": lot_id, "occasion": "end_of_day"}, {})


@router.post("/controlled/count", response_class=HTMLResponse)
async def count(request: Request, db: DB, actor: Actor = allow(*LICENSED)) -> Response:
    return await _submit(
        request,
        db,
        s.CountIn,
        lambda d: service.count(db, actor=actor, **d.model_dump()),
        lambda f, e: _count_page(request, db, actor, f, e, 422),
        "/controlled#discrepancies",
    )


# ------------------------------------------------------------------ waste


def _waste_page(
    request: Request,
    db: Session,
    actor: Actor,
    form: dict[str, Any],
    errors: dict[str, str],
    code: int = 200,
) -> Response:
    return render(
        request,
        "controlled/waste.html",
        {
            "to_waste": service.awaiting_waste(db, actor=actor),
            "stock": service.stock(db, actor=actor),
            "witnesses_needed": service.waste_witnesses_needed(db),
            "form": form,
            "errors": errors,
        },
        status_code=code,
    )


@router.get("/controlled/waste", response_class=HTMLResponse)
def waste_form(
    request: Request, db: DB, draw_id: RecordId | None = None, actor: Actor = allow(*LICENSED)
) -> Response:
    form: dict[str, Any] = {"draw_id": draw_id}
    if draw_id is not None:
        found = [w for w in service.awaiting_waste(db, actor=actor) if w.draw.id == draw_id]
        if found:
            form.update(mg=f"{found[0].remainder_mg:g}", reason="rest of the vial after the dose")
    return _waste_page(request, db, actor, form, {})


@router.post("/controlled/waste", response_class=HTMLResponse)
async def waste(request: Request, db: DB, actor: Actor = allow(*LICENSED)) -> Response:
    def act(d: s.WasteForm) -> object:
        if (d.draw_id is None) == (d.lot_id is None):
            raise Invalid(
                "choose either a dose's rest or a lot's stock", fields={"draw_id": "choose one"}
            )
        return service.waste(
            db,
            actor=actor,
            reason=d.reason,
            witness=service.WitnessIn(d.witness_username, d.witness_password),
            more_witnesses=[service.WitnessIn(u, p) for u, p in d.further_witnesses()],
            draw_id=d.draw_id,
            mg=d.mg,
            lot_id=d.lot_id,
            quantity=d.quantity,
        )

    return await _submit(
        request,
        db,
        s.WasteForm,
        act,
        lambda f, e: _waste_page(request, db, actor, f, e, 422),
        "/controlled#today",
    )


# ------------------------------------------------------------------ inventory


class InventoryForm(BaseModel):
    location_id: RecordId
    kind: str = Field(pattern="^(initial|biennial)$")
    business_hours: str = Field(pattern="^(opening|close)$")
    password: str = Field(min_length=1, max_length=200)


def _inventory_page(
    request: Request,
    db: Session,
    actor: Actor,
    form: dict[str, Any],
    errors: dict[str, str],
    code: int = 200,
) -> Response:
    return render(
        request,
        "controlled/inventory.html",
        {
            "locations": service.locations(db),
            "stock": service.stock(db, actor=actor, with_empty=True),
            "inventories": service.inventories(db, actor=actor)[:10],
            "form": form,
            "errors": errors,
        },
        status_code=code,
    )


@router.get("/controlled/inventory", response_class=HTMLResponse)
def inventory_form(request: Request, db: DB, actor: Actor = allow(*READERS)) -> Response:
    return _inventory_page(request, db, actor, {"kind": "biennial", "business_hours": "close"}, {})


@router.post("/controlled/inventory", response_class=HTMLResponse)
async def inventory(request: Request, db: DB, actor: Actor = allow(*READERS)) -> Response:
    form = dict(await request.form())

    def act(d: InventoryForm) -> object:
        lines = []
        for key, value in form.items():
            if not key.startswith("found-") or str(value).strip() == "":
                continue
            lot_id = key.removeprefix("found-")
            try:
                found = float(str(value))
            except ValueError as exc:
                raise Invalid(f"{value!r} is not a number", fields={key: "not a number"}) from exc
            if not lot_id.isdigit():
                raise Invalid("unknown lot", fields={key: "unknown"})
            lines.append(
                service.InventoryLine(int(lot_id), found, bool(form.get(f"estimated-{lot_id}")))
            )
        return service.take_inventory(
            db,
            actor=actor,
            location_id=d.location_id,
            kind=d.kind,
            business_hours=d.business_hours,
            lines=lines,
            password=d.password,
        )

    data, errors = parse(InventoryForm, form)
    if data is not None:
        try:
            act(data)
        except ClinicError as exc:
            db.rollback()
            errors = _errors(exc)
        else:
            return RedirectResponse("/controlled/inventory#done", status_code=303)
    form.pop("password", None)
    return _inventory_page(request, db, actor, form, errors, 422)


# ------------------------------------------------------------------ set-up


def _setup_page(
    request: Request, db: Session, form: dict[str, Any], errors: dict[str, str], code: int = 200
) -> Response:
    return render(
        request,
        "controlled/setup.html",
        {
            "locations": service.locations(db),
            "products": service.products(db),
            "rules": service.rules(db),
            "form": form,
            "errors": errors,
        },
        status_code=code,
    )


@router.get("/controlled/setup", response_class=HTMLResponse)
def setup(request: Request, db: DB, actor: Actor = allow(Role.admin)) -> Response:
    return _setup_page(request, db, {}, {})


@router.post("/controlled/setup/locations", response_class=HTMLResponse)
async def add_location(request: Request, db: DB, actor: Actor = allow(Role.admin)) -> Response:
    return await _submit(
        request,
        db,
        s.LocationIn,
        lambda d: service.add_location(db, actor=actor, **d.model_dump()),
        lambda f, e: _setup_page(request, db, f, e, 422),
        "/controlled/setup",
    )


@router.post("/controlled/setup/products", response_class=HTMLResponse)
async def add_product(request: Request, db: DB, actor: Actor = allow(Role.admin)) -> Response:
    return await _submit(
        request,
        db,
        s.ProductIn,
        lambda d: service.add_product(db, actor=actor, **d.model_dump()),
        lambda f, e: _setup_page(request, db, {f"p_{k}": v for k, v in f.items()}, e, 422),
        "/controlled/setup",
    )


# ------------------------------------------------------------------ logs


def _range(
    location_id: int | None,
    kind: str,
    start: date | None,
    end: date | None,
    db: Session,
) -> tuple[int | None, str, date, date]:
    day = clinic_today()
    first = service.locations(db)
    return (
        location_id if location_id is not None else (first[0].id if first else None),
        kind,
        start or day,
        end or start or day,
    )


@router.get("/controlled/logs", response_class=HTMLResponse)
def logs(
    request: Request,
    db: DB,
    location_id: RecordId | None = None,
    kind: str = "dispensing",
    start: Annotated[date | None, Query()] = None,
    end: Annotated[date | None, Query()] = None,
    actor: Actor = allow(*READERS),
) -> Response:
    where, kind, low, high = _range(location_id, kind, start, end, db)
    found, errors = None, {}
    if where is not None:
        try:
            found = service.log(db, actor=actor, location_id=where, kind=kind, start=low, end=high)
        except ClinicError as exc:
            errors = _errors(exc)
    query = f"location_id={where}&kind={kind}&start={low}&end={high}"
    return render(
        request,
        "controlled/logs.html",
        {
            "locations": service.locations(db),
            "kinds": service.LOG_TITLES,
            "form": {"location_id": where, "kind": kind, "start": low, "end": high},
            "log": found,
            "zone": request.app.state.settings.zone,
            "headings": service.LOG_HEADINGS,
            "query": query,
            "errors": errors,
        },
        status_code=422 if errors else 200,
    )


def _export(
    db: Session, actor: Actor, location_id: int, kind: str, start: date, end: date | None
) -> service.Log:
    return service.log(
        db, actor=actor, location_id=location_id, kind=kind, start=start, end=end or start
    )


@router.get("/controlled/logs.csv")
def logs_csv(
    db: DB,
    location_id: RecordId,
    start: Annotated[date, Query()],
    end: Annotated[date | None, Query()] = None,
    kind: str = "dispensing",
    actor: Actor = allow(*READERS),
) -> Response:
    found = _export(db, actor, location_id, kind, start, end)
    name = f"{kind}-{found.location.code}-{found.start}-{found.end}.csv"
    return Response(
        service.log_csv(found),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/controlled/logs.pdf")
def logs_pdf(
    request: Request,
    db: DB,
    location_id: RecordId,
    start: Annotated[date, Query()],
    end: Annotated[date | None, Query()] = None,
    kind: str = "dispensing",
    actor: Actor = allow(*READERS),
) -> Response:
    found = _export(db, actor, location_id, kind, start, end)
    name = f"{kind}-{found.location.code}-{found.start}-{found.end}.pdf"
    return Response(
        service.log_pdf(found, clinic=request.app.state.settings.clinic_name),
        media_type=PDF_MEDIA_TYPE,
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


# ------------------------------------------------------------------ stock leaving


class DestroyForm(BaseModel):
    lot_id: RecordId
    quantity: float = Field(gt=0, le=1_000_000)
    method: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=2000)
    witness_1: str = Field(min_length=1, max_length=80)
    witness_1_password: str = Field(min_length=1, max_length=200)
    witness_2: str = Field(min_length=1, max_length=80)
    witness_2_password: str = Field(min_length=1, max_length=200)


def _leaving_page(
    request: Request,
    db: Session,
    actor: Actor,
    form: dict[str, Any],
    errors: dict[str, str],
    code: int = 200,
) -> Response:
    for key in ("witness_1_password", "witness_2_password"):
        form.pop(key, None)
    return render(
        request,
        "controlled/leaving.html",
        {
            "stock": service.stock(db, actor=actor),
            "locations": service.locations(db),
            "can_destroy": bool(actor.roles & service.SUPERVISORS),
            "can_act": bool(actor.roles & service.LICENSED),
            "form": form,
            "errors": errors,
        },
        status_code=code,
    )


@router.get("/controlled/leaving", response_class=HTMLResponse)
def leaving(request: Request, db: DB, actor: Actor = allow(*READERS)) -> Response:
    return _leaving_page(request, db, actor, {}, {})


@router.post("/controlled/destroy", response_class=HTMLResponse)
async def destroy(request: Request, db: DB, actor: Actor = allow(*SUPERVISORS)) -> Response:
    return await _submit(
        request,
        db,
        DestroyForm,
        lambda d: service.destroy(
            db,
            actor=actor,
            lot_id=d.lot_id,
            quantity=d.quantity,
            method=d.method,
            reason=d.reason,
            witnesses=[
                service.WitnessIn(d.witness_1, d.witness_1_password),
                service.WitnessIn(d.witness_2, d.witness_2_password),
            ],
        ),
        lambda f, e: _leaving_page(request, db, actor, f, e, 422),
        "/controlled#today",
    )


@router.post("/controlled/return", response_class=HTMLResponse)
async def return_stock(request: Request, db: DB, actor: Actor = allow(*LICENSED)) -> Response:
    return await _submit(
        request,
        db,
        s.ReturnIn,
        lambda d: service.return_to_supplier(db, actor=actor, **d.model_dump()),
        lambda f, e: _leaving_page(request, db, actor, {f"r_{k}": v for k, v in f.items()}, e, 422),
        "/controlled#today",
    )


@router.post("/controlled/transfer", response_class=HTMLResponse)
async def transfer(request: Request, db: DB, actor: Actor = allow(*LICENSED)) -> Response:
    return await _submit(
        request,
        db,
        s.TransferIn,
        lambda d: service.transfer(db, actor=actor, **d.model_dump()),
        lambda f, e: _leaving_page(request, db, actor, {f"t_{k}": v for k, v in f.items()}, e, 422),
        "/controlled#today",
    )


class LossForm(BaseModel):
    location_id: RecordId
    kind: str = Field(pattern="^(theft|significant_loss)$")
    discovered_on: date
    circumstances: str = Field(min_length=5, max_length=4000)
    lot_id: RecordId
    quantity: float = Field(gt=0, le=1_000_000)
    police_report: str | None = Field(default=None, max_length=120)


def _loss_page(
    request: Request,
    db: Session,
    actor: Actor,
    form: dict[str, Any],
    errors: dict[str, str],
    code: int = 200,
) -> Response:
    return render(
        request,
        "controlled/loss.html",
        {
            "stock": service.stock(db, actor=actor),
            "locations": service.locations(db),
            "reports": service.loss_reports(db, actor=actor),
            "form": form,
            "errors": errors,
        },
        status_code=code,
    )


@router.get("/controlled/loss", response_class=HTMLResponse)
def loss(request: Request, db: DB, actor: Actor = allow(*SUPERVISORS)) -> Response:
    return _loss_page(request, db, actor, {"discovered_on": clinic_today().isoformat()}, {})


@router.post("/controlled/loss", response_class=HTMLResponse)
async def report_loss(request: Request, db: DB, actor: Actor = allow(*SUPERVISORS)) -> Response:
    return await _submit(
        request,
        db,
        LossForm,
        lambda d: service.report_loss(
            db,
            actor=actor,
            location_id=d.location_id,
            kind=d.kind,
            discovered_on=d.discovered_on,
            circumstances=d.circumstances,
            lines=[service.LossLine(d.lot_id, d.quantity)],
            police_report=d.police_report,
        ),
        lambda f, e: _loss_page(request, db, actor, f, e, 422),
        "/controlled/loss#reports",
    )


@router.post("/controlled/loss/{report_id}/notice", response_class=HTMLResponse)
async def loss_notice(
    request: Request, db: DB, report_id: RecordId, actor: Actor = allow(*SUPERVISORS)
) -> Response:
    return await _submit(
        request,
        db,
        s.NoticeIn,
        lambda d: service.record_loss_notice(
            db, actor=actor, report_id=report_id, reference=d.reference
        ),
        lambda f, e: _loss_page(request, db, actor, f, e, 422),
        "/controlled/loss#reports",
    )
