"""Billing pages: the public prices and estimate request, the front desk's price list,
patient accounts and estimates, documents as PDF, the owner's reports, the patient's
own bills in the portal."""

from __future__ import annotations

import hmac
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from ketaclinic.billing import documents, service
from ketaclinic.billing.home import HOME_SECTIONS as HOME_SECTIONS  # the home page's parts
from ketaclinic.billing.models import PAYMENT_METHODS, SERVICE_KINDS
from ketaclinic.clinical.codes import billing as codes
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.areas import ChartSection
from ketaclinic.platform.auth import Principal, allow, allow_public, check_login_csrf, get_db
from ketaclinic.platform.clock import clinic_today
from ketaclinic.platform.errors import ClinicError, Forbidden, Invalid
from ketaclinic.platform.ids import RecordId
from ketaclinic.platform.pdf import PDF_MEDIA_TYPE
from ketaclinic.platform.roles import Role
from ketaclinic.platform.web import render

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]
MONEY = (Role.front_desk, Role.admin)
READERS = (Role.front_desk, Role.admin, Role.prescriber)

NAV = [
    ("Billing", "/billing", frozenset(MONEY)),
    ("Money reports", "/billing/reports", frozenset({Role.admin})),
    ("My bills", "/portal/billing", frozenset({Role.patient})),
]


def cents_from(text: Any, field: str) -> int:
    """Dollars as typed ("450", "1,250.50") to integer cents, never through a float."""
    raw = str(text or "").strip().replace(",", "").removeprefix("$")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise Invalid(
            f"{raw or 'nothing'} is not an amount", fields={field: "an amount in dollars"}
        ) from None
    if value != value.quantize(Decimal("0.01")):
        raise Invalid("an amount has at most two decimals", fields={field: "whole cents"})
    return int(value * 100)


def day_from(text: Any, field: str, *, required: bool = True) -> date | None:
    raw = str(text or "").strip()
    if not raw:
        if required:
            raise Invalid("a date is needed", fields={field: "required"})
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid(f"{raw} is not a date (YYYY-MM-DD)", fields={field: "YYYY-MM-DD"}) from None


def int_from(text: Any, field: str, *, required: bool = True) -> int | None:
    raw = str(text or "").strip()
    if not raw and not required:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise Invalid(
            f"{field.replace('_', ' ')} must be a whole number", fields={field: "a number"}
        )
    return int(raw)


def _pdf(content: bytes, name: str) -> Response:
    return Response(
        content,
        media_type=PDF_MEDIA_TYPE,
        headers={"Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "no-store"},
    )


async def _public_csrf(request: Request, who: Principal | None) -> None:
    if who is not None and who.via == "session":
        sent = (await request.form()).get("csrf_token")
        if not isinstance(sent, str) or not hmac.compare_digest(sent, who.csrf_token or ""):
            raise Forbidden("the form has expired; reload the page and retry")
        return
    await check_login_csrf(request)


def _public_actor(request: Request) -> Actor:
    return Actor(
        user_id=None, username="public", ip=request.client.host if request.client else None
    )


# ------------------------------------------------------------------ public
@router.get("/prices", response_class=HTMLResponse)
def prices(request: Request, db: DB, _: Principal | None = allow_public()) -> Response:
    return render(request, "billing/prices.html", {"prices": service.public_prices(db)})


def _estimate_form(
    request: Request, db: Session, *, form: dict[str, Any], errors: dict[str, str], status: int
) -> Response:
    return render(
        request,
        "billing/estimate_request.html",
        {"services": service.price_list(db, public_only=True), "form": form, "errors": errors},
        status_code=status,
    )


@router.get("/prices/estimate", response_class=HTMLResponse)
def estimate_request_form(
    request: Request, db: DB, _: Principal | None = allow_public()
) -> Response:
    return _estimate_form(request, db, form={}, errors={}, status=200)


@router.post("/prices/estimate", response_class=HTMLResponse)
async def estimate_request(
    request: Request, db: DB, who: Principal | None = allow_public()
) -> Response:
    await _public_csrf(request, who)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        if len(form.get("name", "")) > 200 or len(form.get("email", "")) > 254:
            raise Invalid("that is longer than the form allows", fields={"name": "too long"})
        row, token = service.request_estimate(
            db,
            actor=_public_actor(request),
            name=form.get("name", ""),
            email=form.get("email") or None,
            service_key=form.get("service_key") or None,
            service_on=day_from(form.get("service_on"), "service_on", required=False),
        )
    except ClinicError as exc:
        db.rollback()
        return _estimate_form(
            request, db, form=form, errors=exc.fields or {"form": exc.detail}, status=exc.status
        )
    return render(request, "billing/estimate_requested.html", {"estimate": row, "token": token})


@router.get("/prices/estimate/{token}", response_class=HTMLResponse)
def estimate_link(
    request: Request, db: DB, token: str, _: Principal | None = allow_public()
) -> Response:
    row = service.estimate_by_token(db, actor=_public_actor(request), token=token[:100])
    return render(request, "billing/estimate_link.html", {"estimate": row, "token": token})


@router.get("/prices/estimate/{token}/pdf")
def estimate_link_pdf(
    request: Request, db: DB, token: str, _: Principal | None = allow_public()
) -> Response:
    row = service.estimate_by_token(db, actor=_public_actor(request), token=token[:100])
    if row.status != "issued":
        raise Invalid("the clinic has not issued this estimate yet")
    return _pdf(documents.estimate_pdf(row), f"estimate-{row.id}.pdf")


# ------------------------------------------------------------------ front desk
def _desk(
    request: Request,
    db: Session,
    actor: Actor,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "billing/desk.html",
        {
            "prices": service.price_list(db),
            "plans": service.plans(db),
            "due": service.estimates_due(db, actor=actor),
            "kinds": SERVICE_KINDS,
            "codes": codes.CODES,
            "errors": errors or {},
        },
        status_code=status,
    )


@router.get("/billing", response_class=HTMLResponse)
def desk(request: Request, db: DB, actor: Actor = allow(*MONEY)) -> Response:
    return _desk(request, db, actor)


async def _form(request: Request) -> dict[str, str]:
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


@router.post("/billing/services", response_class=HTMLResponse)
async def add_service(request: Request, db: DB, actor: Actor = allow(*MONEY)) -> Response:
    form = await _form(request)
    try:
        service.add_service(
            db,
            actor=actor,
            key=form.get("key", ""),
            name=form.get("name", ""),
            kind=form.get("kind", ""),
            amount_cents=cents_from(form.get("price"), "price"),
            effective_from=day_from(
                form.get("effective_from") or str(clinic_today()), "effective_from"
            )
            or clinic_today(),
            protocol_id=form.get("protocol_id") or None,
            codes_used=[c.strip() for c in form.get("codes", "").split(",") if c.strip()],
        )
    except ClinicError as exc:
        db.rollback()
        return _desk(
            request, db, actor, errors=exc.fields or {"form": exc.detail}, status=exc.status
        )
    return RedirectResponse("/billing", status_code=303)


@router.post("/billing/services/{service_id}/price", response_class=HTMLResponse)
async def set_price(
    request: Request, db: DB, service_id: RecordId, actor: Actor = allow(*MONEY)
) -> Response:
    form = await _form(request)
    try:
        service.set_price(
            db,
            actor=actor,
            service_id=service_id,
            amount_cents=cents_from(form.get("price"), f"price-{service_id}"),
            effective_from=day_from(form.get("effective_from"), f"price-{service_id}")
            or clinic_today(),
            reason=form.get("reason", ""),
        )
    except ClinicError as exc:
        db.rollback()
        return _desk(
            request, db, actor, errors={f"price-{service_id}": exc.detail}, status=exc.status
        )
    return RedirectResponse("/billing", status_code=303)


@router.post("/billing/plans", response_class=HTMLResponse)
async def add_plan(request: Request, db: DB, actor: Actor = allow(*MONEY)) -> Response:
    form = await _form(request)
    try:
        service.add_plan(
            db,
            actor=actor,
            name=form.get("plan_name", ""),
            kind=form.get("plan_kind", ""),
            service_id=int_from(form.get("service_id"), "service_id") or 0,
            sessions_count=int_from(form.get("sessions"), "sessions") or 0,
            price_cents=cents_from(form.get("plan_price"), "plan_price"),
        )
    except ClinicError as exc:
        db.rollback()
        return _desk(
            request, db, actor, errors=exc.fields or {"form": exc.detail}, status=exc.status
        )
    return RedirectResponse("/billing", status_code=303)


# ------------------------------------------------------------------ accounts
def _account(
    request: Request,
    db: Session,
    actor: Actor,
    patient_id: int,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "billing/account.html",
        {
            "account": service.account(db, actor=actor, patient_id=patient_id),
            "plans": service.plans(db),
            "services": service.price_list(db),
            "methods": PAYMENT_METHODS,
            "coverage": service.coverage_of(db, patient_id)
            if actor.roles & service.MONEY
            else None,
            "errors": errors or {},
            "money": service.dollars,
            "today": clinic_today(),
        },
        status_code=status,
    )


@router.get("/billing/patients/{patient_id}", response_class=HTMLResponse)
def account(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(*READERS)
) -> Response:
    return _account(request, db, actor, patient_id)


async def _act(request: Request, db: Session, actor: Actor, patient_id: int, act: Any) -> Response:
    form = await _form(request)
    try:
        act(form)
    except ClinicError as exc:
        db.rollback()
        if exc.status == 404:
            raise
        return _account(
            request,
            db,
            actor,
            patient_id,
            errors=exc.fields or {"form": exc.detail},
            status=exc.status,
        )
    return RedirectResponse(f"/billing/patients/{patient_id}", status_code=303)


@router.post("/billing/patients/{patient_id}/charges", response_class=HTMLResponse)
async def post_charges(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(*MONEY)
) -> Response:
    return await _act(
        request,
        db,
        actor,
        patient_id,
        lambda f: service.post_session_charges(db, actor=actor, patient_id=patient_id),
    )


@router.post("/billing/patients/{patient_id}/service-charges", response_class=HTMLResponse)
async def charge_service(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(*MONEY)
) -> Response:
    return await _act(
        request,
        db,
        actor,
        patient_id,
        lambda f: service.charge_service(
            db,
            actor=actor,
            patient_id=patient_id,
            service_id=int_from(f.get("service_id"), "service_id") or 0,
            on=day_from(f.get("on"), "on") or clinic_today(),
        ),
    )


@router.post("/billing/patients/{patient_id}/packages", response_class=HTMLResponse)
async def buy_package(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(*MONEY)
) -> Response:
    return await _act(
        request,
        db,
        actor,
        patient_id,
        lambda f: service.buy_package(
            db,
            actor=actor,
            patient_id=patient_id,
            plan_id=int_from(f.get("plan_id"), "plan_id") or 0,
            on=day_from(f.get("bought_on") or str(clinic_today()), "bought_on") or clinic_today(),
        ),
    )


@router.post("/billing/patients/{patient_id}/payments", response_class=HTMLResponse)
async def record_payment(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(*MONEY)
) -> Response:
    return await _act(
        request,
        db,
        actor,
        patient_id,
        lambda f: service.record_payment(
            db,
            actor=actor,
            patient_id=patient_id,
            method=f.get("method", ""),
            amount_cents=cents_from(f.get("amount"), "amount"),
            on=day_from(f.get("received_on") or str(clinic_today()), "received_on")
            or clinic_today(),
            reference=f.get("reference"),
            note=f.get("note"),
            package_id=int_from(f.get("package_id"), "package_id", required=False),
            charge_id=int_from(f.get("charge_id"), "charge_id", required=False),
        ),
    )


@router.post(
    "/billing/patients/{patient_id}/payments/{payment_id}/refund", response_class=HTMLResponse
)
async def refund(
    request: Request,
    db: DB,
    patient_id: RecordId,
    payment_id: RecordId,
    actor: Actor = allow(*MONEY),
) -> Response:
    return await _act(
        request,
        db,
        actor,
        patient_id,
        lambda f: service.refund(
            db,
            actor=actor,
            payment_id=payment_id,
            amount_cents=cents_from(f.get("amount"), "refund_amount"),
            on=clinic_today(),
            reason=f.get("reason", ""),
            patient_id=patient_id,
        ),
    )


@router.post("/billing/patients/{patient_id}/adjustments", response_class=HTMLResponse)
async def adjust(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(*MONEY)
) -> Response:
    return await _act(
        request,
        db,
        actor,
        patient_id,
        lambda f: service.adjust(
            db,
            actor=actor,
            patient_id=patient_id,
            kind=f.get("kind", ""),
            amount_cents=cents_from(f.get("adjust_amount"), "adjust_amount"),
            reason=f.get("reason", ""),
            on=clinic_today(),
            charge_id=int_from(f.get("charge_id"), "charge_id", required=False),
        ),
    )


@router.post("/billing/patients/{patient_id}/coverage", response_class=HTMLResponse)
async def coverage(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(*MONEY)
) -> Response:
    return await _act(
        request,
        db,
        actor,
        patient_id,
        lambda f: service.record_coverage(
            db,
            actor=actor,
            patient_id=patient_id,
            payer_name=f.get("payer_name", ""),
            payer_id=f.get("payer_id", ""),
            member_id=f.get("member_id", ""),
            group_number=f.get("group_number"),
        ),
    )


@router.post("/billing/patients/{patient_id}/estimates", response_class=HTMLResponse)
async def open_estimate(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(*MONEY)
) -> Response:
    return await _act(
        request,
        db,
        actor,
        patient_id,
        lambda f: service.open_estimate(
            db,
            actor=actor,
            patient_id=patient_id,
            service_on=day_from(f.get("service_on"), "service_on", required=False),
            requested=f.get("requested") == "yes",
            service_key=f.get("service_key") or None,
        ),
    )


@router.post("/billing/estimates/{estimate_id}/issue", response_class=HTMLResponse)
async def issue_estimate(
    request: Request, db: DB, estimate_id: RecordId, actor: Actor = allow(*MONEY)
) -> Response:
    try:
        row = service.issue_estimate(db, actor=actor, estimate_id=estimate_id)
    except ClinicError as exc:
        db.rollback()
        if exc.status == 404:
            raise
        return _desk(
            request, db, actor, errors={f"estimate-{estimate_id}": exc.detail}, status=exc.status
        )
    if row.patient_id:
        return RedirectResponse(f"/billing/patients/{row.patient_id}", status_code=303)
    return RedirectResponse("/billing", status_code=303)


# ------------------------------------------------------------------ documents
DOC_READERS = (Role.front_desk, Role.admin, Role.patient)


@router.get("/billing/estimates/{estimate_id}/pdf")
def estimate_pdf(db: DB, estimate_id: RecordId, actor: Actor = allow(*DOC_READERS)) -> Response:
    row = service.get_estimate(db, actor=actor, estimate_id=estimate_id)
    born = service.recipient_birth_date(db, row)
    return _pdf(documents.estimate_pdf(row, born), f"estimate-{row.id}.pdf")


@router.get("/billing/payments/{payment_id}/receipt")
def receipt_pdf(db: DB, payment_id: RecordId, actor: Actor = allow(*DOC_READERS)) -> Response:
    payment, patient, totals = service.receipt(db, actor=actor, payment_id=payment_id)
    return _pdf(documents.receipt_pdf(payment, patient, totals), f"receipt-{payment.id}.pdf")


@router.get("/billing/patients/{patient_id}/superbill")
def superbill_pdf(
    db: DB,
    patient_id: RecordId,
    start: str = "",
    end: str = "",
    session_id: str = "",
    actor: Actor = allow(*DOC_READERS),
) -> Response:
    bill = service.superbill(
        db,
        actor=actor,
        patient_id=patient_id,
        start=day_from(start, "start", required=False),
        end=day_from(end, "end", required=False),
        session_id=int_from(session_id, "session_id", required=False),
    )
    return _pdf(documents.superbill_pdf(bill), f"superbill-{patient_id}.pdf")


def _charge_ids(text: str) -> list[int]:
    ids = [p.strip() for p in text.split(",") if p.strip()]
    if (
        not ids
        or len(ids) > 100
        or not all(p.isascii() and p.isdigit() and len(p) <= 9 for p in ids)
    ):
        raise Invalid(
            "charge_ids is a comma-separated list of charge numbers",
            fields={"charge_ids": text[:50]},
        )
    return [int(p) for p in ids]


@router.get("/billing/claims/837p")
def claim_file(db: DB, charge_ids: str = "", actor: Actor = allow(*MONEY)) -> Response:
    text = service.claim_837p(db, actor=actor, charge_ids=_charge_ids(charge_ids))
    return PlainTextResponse(
        text,
        headers={
            "Content-Disposition": 'attachment; filename="claim-837p.txt"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/billing/claims/cms1500", response_class=HTMLResponse)
def claim_form(
    request: Request, db: DB, charge_ids: str = "", actor: Actor = allow(*MONEY)
) -> Response:
    ids = _charge_ids(charge_ids)
    return render(
        request,
        "billing/cms1500.html",
        {
            "form": service.cms1500(db, actor=actor, charge_ids=ids),
            "charge_ids": charge_ids,
            "money": service.dollars,
        },
    )


# ------------------------------------------------------------------ reports and portal
@router.get("/billing/reports", response_class=HTMLResponse)
def reports(request: Request, db: DB, actor: Actor = allow(Role.admin)) -> Response:
    return render(
        request,
        "billing/reports.html",
        {"reports": service.reports(db, actor=actor), "money": service.dollars},
    )


@router.get("/portal/billing", response_class=HTMLResponse)
def my_bills(request: Request, db: DB, actor: Actor = allow(Role.patient)) -> Response:
    return render(
        request,
        "billing/portal.html",
        {"account": service.portal_documents(db, actor=actor), "money": service.dollars},
    )


def _chart(db: Session, actor: Actor, patient: Any) -> dict[str, Any]:
    line = service.balance(db, actor=actor, patient_id=patient.id)
    if line is None:
        return {"allowed": False}
    return {
        "allowed": True,
        "balance": service.dollars(line.balance_cents),
        "owing": line.balance_cents > 0,
        "packages_left": line.packages_left,
        "may_edit": bool(actor.roles & service.MONEY),
    }


CHART_SECTIONS = [ChartSection("billing", "Account", "billing/_chart.html", _chart)]
