"""Consent pages: the clinic's documents and their versions, signing (the patient portal,
or at the clinic with a witness), signed copies as PDF, revoking; the patient's
day-before readiness link and the front desk's list of who has not confirmed."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from ketaclinic.clinical.consent import DOCUMENT_KINDS
from ketaclinic.consent import service
from ketaclinic.consent.home import HOME_SECTIONS as HOME_SECTIONS  # the home page's parts
from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.areas import ChartSection
from ketaclinic.platform.auth import (
    SESSION_COOKIE,
    Principal,
    allow,
    allow_public,
    client_ip,
    get_db,
)
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import ClinicError, Forbidden, NotFound
from ketaclinic.platform.ids import RecordId
from ketaclinic.platform.pdf import PDF_MEDIA_TYPE
from ketaclinic.platform.roles import Role
from ketaclinic.platform.web import end_tablet_lock, hand_tablet_to_patient, render

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]
STAFF = (Role.admin, Role.prescriber, Role.nurse, Role.front_desk)
REVOKERS = (Role.nurse, Role.prescriber, Role.admin, Role.patient)
DESK = (Role.front_desk, Role.nurse, Role.prescriber)

NAV = [
    ("Consents", "/consents", frozenset({Role.admin})),
    ("Readiness", "/consents/readiness", frozenset({Role.front_desk})),
    ("My consents", "/portal/consents", frozenset({Role.patient})),
]


def _zone(request: Request) -> Any:
    return request.app.state.settings.zone


def _today(request: Request) -> date:
    return utcnow().astimezone(_zone(request)).date()


# ------------------------------------------------------------------ documents (admin)
@router.get("/consents", response_class=HTMLResponse)
def documents(request: Request, db: DB, actor: Actor = allow(*STAFF)) -> Response:
    return render(
        request,
        "consent/documents.html",
        {
            "kinds": DOCUMENT_KINDS,
            "current": service.current_documents(db),
            "versions": service.document_versions(db),
            "may_write": Role.admin in actor.roles,
        },
    )


def _document_form(
    request: Request,
    db: Session,
    *,
    kind: str,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    current = service.current_documents(db).get(kind)
    if values is None:
        values = {
            "title": current.title if current else DOCUMENT_KINDS[kind],
            "body": current.body if current else "",
            "needs_witness": current.needs_witness if current else False,
            "typed_name_suffices": current.typed_name_suffices if current else False,
        }
    return render(
        request,
        "consent/document_form.html",
        {
            "kind": kind,
            "kind_title": DOCUMENT_KINDS[kind],
            "current": current,
            "values": values,
            "errors": errors or {},
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/consents/{kind}/new", response_class=HTMLResponse)
def new_version_form(
    request: Request, db: DB, kind: str, actor: Actor = allow(Role.admin)
) -> Response:
    if kind not in DOCUMENT_KINDS:
        raise NotFound(f"no consent document kind {kind!r}")
    return _document_form(request, db, kind=kind)


@router.post("/consents/{kind}/new", response_class=HTMLResponse)
def publish(
    request: Request,
    db: DB,
    kind: str,
    title: Annotated[str, Form()] = "",
    body: Annotated[str, Form()] = "",
    needs_witness: Annotated[str, Form()] = "",
    typed_name_suffices: Annotated[str, Form()] = "",
    actor: Actor = allow(Role.admin),
) -> Response:
    if kind not in DOCUMENT_KINDS:
        raise NotFound(f"no consent document kind {kind!r}")
    try:
        service.publish_document(
            db,
            actor=actor,
            kind=kind,
            title=title,
            body=body,
            needs_witness=needs_witness == "yes",
            typed_name_suffices=typed_name_suffices == "yes",
        )
    except ClinicError as exc:
        db.rollback()
        values = {
            "title": title,
            "body": body,
            "needs_witness": needs_witness == "yes",
            "typed_name_suffices": typed_name_suffices == "yes",
        }
        return _document_form(
            request,
            db,
            kind=kind,
            values=values,
            errors=exc.fields,
            error=exc.detail,
            status_code=exc.status,
        )
    return RedirectResponse("/consents", status_code=303)


@router.get("/consents/documents/{document_id}", response_class=HTMLResponse)
def document(
    request: Request, db: DB, document_id: RecordId, actor: Actor = allow(*STAFF)
) -> Response:
    row = service.get_document(db, document_id)
    return render(request, "consent/document.html", {"doc": row})


# ------------------------------------------------------------------ signing
def _sign_page(
    request: Request,
    db: Session,
    *,
    document: service.ConsentDocument,
    action: str,
    channel: str,
    patient_name: str,
    back: str,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "consent/sign.html",
        {
            "doc": document,
            "action": action,
            "channel": channel,
            "patient_name": patient_name,
            "back": back,
            "values": values or {},
            "errors": errors or {},
            "error": error,
        },
        status_code=status_code,
    )


def _current(db: Session, document_id: int) -> service.ConsentDocument:
    row = service.get_document(db, document_id)
    current = service.current_documents(db).get(row.kind)
    return current or row


@router.get("/portal/consents", response_class=HTMLResponse)
def my_consents(request: Request, db: DB, actor: Actor = allow(Role.patient)) -> Response:
    if actor.patient_id is None:
        raise Forbidden("this account is not linked to a patient record")
    rows = service.patient_consents(db, actor=actor, patient_id=actor.patient_id)
    return render(request, "consent/portal.html", {"statuses": rows})


@router.get("/portal/consents/{document_id}/sign", response_class=HTMLResponse)
def portal_sign_form(
    request: Request, db: DB, document_id: RecordId, actor: Actor = allow(Role.patient)
) -> Response:
    if actor.patient_id is None:
        raise Forbidden("this account is not linked to a patient record")
    row = _current(db, document_id)
    return _sign_page(
        request,
        db,
        document=row,
        action=f"/portal/consents/{row.id}/sign",
        channel="portal",
        patient_name=actor.full_name,
        back="/portal/consents",
    )


@router.post("/portal/consents/{document_id}/sign", response_class=HTMLResponse)
def portal_sign(
    request: Request,
    db: DB,
    document_id: RecordId,
    text_sha256: Annotated[str, Form()] = "",
    typed_name: Annotated[str, Form()] = "",
    signature: Annotated[str, Form()] = "",
    actor: Actor = allow(Role.patient),
) -> Response:
    if actor.patient_id is None:
        raise Forbidden("this account is not linked to a patient record")
    try:
        service.sign(
            db,
            actor=actor,
            patient_id=actor.patient_id,
            document_id=document_id,
            text_sha256=text_sha256,
            typed_name=typed_name,
            signature_data_url=signature or None,
            channel="portal",
        )
    except ClinicError as exc:
        db.rollback()
        if exc.status in (403, 404):
            raise
        row = _current(db, document_id)
        return _sign_page(
            request,
            db,
            document=row,
            action=f"/portal/consents/{row.id}/sign",
            channel="portal",
            patient_name=actor.full_name,
            back="/portal/consents",
            values={"typed_name": typed_name},
            errors=exc.fields,
            error=exc.detail,
            status_code=exc.status,
        )
    return RedirectResponse("/portal/consents?signed=1", status_code=303)


@router.get("/patients/{patient_id}/consents", response_class=HTMLResponse)
def patient_consents(
    request: Request, db: DB, patient_id: RecordId, actor: Actor = allow(*STAFF)
) -> Response:
    patient = patients.get_patient(db, actor=actor, patient_id=patient_id, purpose="consents")
    rows = service.patient_consents(db, actor=actor, patient_id=patient_id)
    return render(request, "consent/patient.html", {"patient": patient, "statuses": rows})


@router.get("/patients/{patient_id}/consents/{document_id}/sign", response_class=HTMLResponse)
def clinic_sign_form(
    request: Request,
    db: DB,
    patient_id: RecordId,
    document_id: RecordId,
    actor: Actor = allow(*STAFF),
) -> Response:
    patient = patients.get_patient(db, actor=actor, patient_id=patient_id, purpose="consents")
    row = _current(db, document_id)
    return _sign_page(
        request,
        db,
        document=row,
        action=f"/patients/{patient_id}/consents/{row.id}/sign",
        channel="clinic",
        patient_name=patient.display_name,
        back=f"/patients/{patient_id}/consents",
    )


@router.post("/patients/{patient_id}/consents/{document_id}/sign", response_class=HTMLResponse)
def clinic_sign(
    request: Request,
    db: DB,
    patient_id: RecordId,
    document_id: RecordId,
    text_sha256: Annotated[str, Form()] = "",
    typed_name: Annotated[str, Form()] = "",
    signature: Annotated[str, Form()] = "",
    witness_username: Annotated[str, Form()] = "",
    witness_password: Annotated[str, Form()] = "",
    actor: Actor = allow(*STAFF),
) -> Response:
    try:
        service.sign(
            db,
            actor=actor,
            patient_id=patient_id,
            document_id=document_id,
            text_sha256=text_sha256,
            typed_name=typed_name,
            signature_data_url=signature or None,
            channel="clinic",
            witness_username=witness_username,
            witness_password=witness_password,
        )
    except ClinicError as exc:
        db.rollback()
        if exc.status in (403, 404):
            raise
        patient = patients.patient_by_id(db, patient_id)
        row = _current(db, document_id)
        return _sign_page(
            request,
            db,
            document=row,
            action=f"/patients/{patient_id}/consents/{row.id}/sign",
            channel="clinic",
            patient_name=patient.display_name,
            back=f"/patients/{patient_id}/consents",
            values={"typed_name": typed_name, "witness_username": witness_username},
            errors=exc.fields,
            error=exc.detail,
            status_code=exc.status,
        )
    return RedirectResponse(f"/patients/{patient_id}/consents", status_code=303)


@router.post("/patients/{patient_id}/consents/{document_id}/tablet", response_class=HTMLResponse)
def hand_tablet(
    request: Request,
    db: DB,
    patient_id: RecordId,
    document_id: RecordId,
    actor: Actor = allow(*STAFF),
) -> Response:
    token = service.hand_tablet(
        db,
        actor=actor,
        patient_id=patient_id,
        document_id=document_id,
        staff_session=request.cookies.get(SESSION_COOKIE),
    )
    response = RedirectResponse(f"/tablet/sign/{token}", status_code=303)
    hand_tablet_to_patient(
        request, response, token=token, minutes=service.TABLET_MINUTES, kind="sign"
    )
    return response


def _tablet_page(
    request: Request,
    handover: service.Handover,
    token: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "consent/sign.html",
        {
            "doc": handover.document,
            "action": f"/tablet/sign/{token}",
            "channel": "clinic",
            "patient_name": handover.patient_name,
            "back": None,
            "values": values or {},
            "errors": errors or {},
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/tablet/sign/{token}", response_class=HTMLResponse)
def tablet_form(
    request: Request, db: DB, token: str, _: Principal | None = allow_public()
) -> Response:
    try:
        handover = service.open_handover(db, token=token)
    except service.LinkUnusable as exc:
        db.rollback()
        response = render(
            request, "consent/ready_unusable.html", {"why": exc.detail}, status_code=410
        )
        end_tablet_lock(response)
        return response
    return _tablet_page(request, handover, token)


@router.post("/tablet/sign/{token}", response_class=HTMLResponse)
def tablet_sign(
    request: Request,
    db: DB,
    token: str,
    text_sha256: Annotated[str, Form()] = "",
    typed_name: Annotated[str, Form()] = "",
    signature: Annotated[str, Form()] = "",
    witness_username: Annotated[str, Form()] = "",
    witness_password: Annotated[str, Form()] = "",
    _: Principal | None = allow_public(),
) -> Response:
    # No CSRF token: the hand-over's single-use token is the form's secret.
    try:
        service.sign_on_tablet(
            db,
            token=token,
            text_sha256=text_sha256,
            typed_name=typed_name,
            signature_data_url=signature or None,
            witness_username=witness_username,
            witness_password=witness_password,
            ip=client_ip(request),
        )
    except service.LinkUnusable as exc:
        db.rollback()
        response = render(
            request, "consent/ready_unusable.html", {"why": exc.detail}, status_code=410
        )
        end_tablet_lock(response)
        return response
    except ClinicError as exc:
        db.rollback()
        handover = service.open_handover(db, token=token)
        return _tablet_page(
            request,
            handover,
            token,
            values={"typed_name": typed_name, "witness_username": witness_username},
            errors=exc.fields,
            error=exc.detail,
            status_code=exc.status,
        )
    response = render(request, "consent/tablet_thanks.html", {})
    end_tablet_lock(response)
    return response


@router.post("/consents/signatures/{signature_id}/revoke", response_class=HTMLResponse)
def revoke(
    request: Request,
    db: DB,
    signature_id: RecordId,
    reason: Annotated[str, Form()] = "",
    actor: Actor = allow(*REVOKERS),
) -> Response:
    row = service.revoke(db, actor=actor, signature_id=signature_id, reason=reason)
    target = "/portal/consents" if actor.patient_only else f"/patients/{row.patient_id}/consents"
    return RedirectResponse(target, status_code=303)


@router.get("/consents/signatures/{signature_id}.pdf")
def signed_copy(
    db: DB, signature_id: RecordId, actor: Actor = allow(*STAFF, Role.patient)
) -> Response:
    name, pdf = service.signed_copy_pdf(db, actor=actor, signature_id=signature_id)
    return Response(
        pdf,
        media_type=PDF_MEDIA_TYPE,
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


# ------------------------------------------------------------------ readiness
@router.get("/ready/{token}", response_class=HTMLResponse)
def readiness_form(
    request: Request, db: DB, token: str, _: Principal | None = allow_public()
) -> Response:
    try:
        form = service.open_readiness(db, token=token)
    except service.LinkUnusable as exc:
        db.rollback()
        return render(request, "consent/ready_unusable.html", {"why": exc.detail}, status_code=410)
    return render(
        request, "consent/ready.html", {"form": form, "token": token, "answers": {}, "errors": {}}
    )


@router.post("/ready/{token}", response_class=HTMLResponse)
async def readiness_answer(
    request: Request, db: DB, token: str, _: Principal | None = allow_public()
) -> Response:
    # No CSRF token: the link's token is the form's secret, as for questionnaire links.
    data = await request.form()
    answers = {k: str(v) for k, v in data.items() if k not in ("note", "csrf_token")}
    try:
        service.answer_readiness(
            db,
            token=token,
            answers=answers,
            note=str(data.get("note") or ""),
            ip=client_ip(request),
        )
    except service.LinkUnusable as exc:
        db.rollback()
        return render(request, "consent/ready_unusable.html", {"why": exc.detail}, status_code=410)
    except ClinicError as exc:
        db.rollback()
        form = service.open_readiness(db, token=token)
        return render(
            request,
            "consent/ready.html",
            {
                "form": form,
                "token": token,
                "answers": answers,
                "errors": exc.fields,
                "error": exc.detail,
            },
            status_code=exc.status,
        )
    return render(request, "consent/ready_thanks.html", {})


@router.get("/consents/readiness", response_class=HTMLResponse)
def readiness_list(
    request: Request, db: DB, day: date | None = None, actor: Actor = allow(*DESK)
) -> Response:
    shown = day or _today(request) + timedelta(days=1)
    lines = service.readiness_for_day(db, actor=actor, day=shown, zone=_zone(request))
    return render(request, "consent/readiness.html", {"day": shown, "lines": lines})


# ------------------------------------------------------------------ chart and home
def _chart(db: Session, actor: Actor, patient: patients.Patient) -> Any:
    if not actor.roles & frozenset(STAFF):
        return {"allowed": False}
    return {
        "allowed": True,
        "statuses": service.patient_consents(db, actor=actor, patient_id=patient.id),
    }


CHART_SECTIONS = [ChartSection("consents", "Consents", "consent/_chart.html", _chart)]
