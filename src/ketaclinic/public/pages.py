"""Pages: public education and self-screen, staff intake leads, the patient portal."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from ketaclinic.patients.service import PatientIn
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.auth import (
    Principal,
    allow,
    allow_public,
    check_login_csrf,
    client_ip,
    get_db,
)
from ketaclinic.platform.errors import ClinicError, Conflict, Forbidden, Invalid, NotFound
from ketaclinic.platform.forms import parse
from ketaclinic.platform.ids import RecordId
from ketaclinic.platform.roles import Role
from ketaclinic.platform.web import render
from ketaclinic.public import portal, service
from ketaclinic.public.content import BY_SLUG, TOPICS
from ketaclinic.public.forms import (
    CONTACT_FIELDS,
    answers_from_form,
    answers_to_form,
    contact_from_form,
)
from ketaclinic.public.home import HOME_SECTIONS as HOME_SECTIONS  # the home page's parts
from ketaclinic.public.models import LEAD_STATUSES
from ketaclinic.public.questions import BY_RULE, QUESTIONS, ROUTES, SECTIONS
from ketaclinic.public.schemas import LeadIn

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_db)]
LEAD_ROLES = (Role.prescriber, Role.nurse, Role.front_desk)

NAV = [
    ("Intake leads", "/leads", frozenset(LEAD_ROLES)),
    ("My portal", "/portal", frozenset({Role.patient})),
    ("About the treatment", "/welcome", frozenset({Role.patient})),
]
# A patient account's home is its portal.
PATIENT_HOME = "/portal"

# A self-screen form is a few kilobytes; anything far larger is not one.
MAX_FORM_BYTES = 32_000
MAX_FORM_FIELDS = 200


class TooLarge(ClinicError):
    status = 413
    title = "Too much data"


async def bounded_form(request: Request) -> FormData:
    """The submitted form, refusing oversized or non-form bodies before parsing."""
    kind = request.headers.get("content-type", "")
    if not kind.startswith("application/x-www-form-urlencoded"):
        raise Invalid("send the form from the page (as a web form)")
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_FORM_BYTES):
        raise TooLarge(f"the form is larger than {MAX_FORM_BYTES // 1000} kB; nothing was saved")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise TooLarge(
                f"the form is larger than {MAX_FORM_BYTES // 1000} kB; nothing was saved"
            )
    # Keep the body so that later readers of the form (the CSRF check) see it again.
    request._body = bytes(body)
    try:
        return await request.form(max_fields=MAX_FORM_FIELDS, max_files=0)
    except Exception as exc:  # multipart's own limits: a malformed or abusive form
        raise Invalid("the form could not be read; reload the page and retry") from exc


async def check_public_csrf(request: Request, who: Principal | None) -> None:
    """Public forms: the double-submit cookie for strangers, the session token for
    people who happen to be logged in."""
    if who is not None and who.via == "session":
        sent = (await request.form()).get("csrf_token")
        expected = who.csrf_token or ""
        if not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
            raise Forbidden("the form has expired; reload the page and retry")
        return
    await check_login_csrf(request)


# ------------------------------------------------------------------ education pages


@router.get("/welcome", response_class=HTMLResponse)
def welcome(request: Request, _: Principal | None = allow_public()) -> Response:
    return render(request, "public/welcome.html", {"topics": TOPICS})


@router.get("/learn/{slug}", response_class=HTMLResponse)
def learn(request: Request, slug: str, _: Principal | None = allow_public()) -> Response:
    topic = BY_SLUG.get(slug)
    if topic is None:
        raise NotFound("there is no page by that name")
    return render(request, f"public/learn/{topic.slug}.html", {"topic": topic, "topics": TOPICS})


# ------------------------------------------------------------------ the self-screen


def _screen_context(**extra: Any) -> dict[str, Any]:
    return {
        "questions": QUESTIONS,
        "sections": SECTIONS,
        "routes": ROUTES,
        "topics": TOPICS,
        **extra,
    }


@router.get("/self-screen", response_class=HTMLResponse)
def self_screen_form(request: Request, _: Principal | None = allow_public()) -> Response:
    return render(
        request,
        "public/self_screen.html",
        _screen_context(form={}, errors={}),
    )


@router.post("/self-screen", response_class=HTMLResponse)
async def self_screen(request: Request, who: Principal | None = allow_public()) -> Response:
    form = await bounded_form(request)
    await check_public_csrf(request, who)
    data, errors = answers_from_form(form)
    if data is None:
        return render(
            request,
            "public/self_screen.html",
            _screen_context(form=form, errors=errors),
            status_code=422,
        )
    return _result(request, data.route, data.answers, contact={}, errors={})


def _result(
    request: Request,
    route: str,
    answers: dict[str, Any],
    *,
    contact: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    result = service.explain(answers, route)
    return render(
        request,
        "public/result.html",
        _screen_context(
            result=result,
            route=route,
            hidden=answers_to_form(answers),
            contact=contact,
            errors=errors,
            by_rule=BY_RULE,
        ),
        status_code=status_code,
    )


@router.post("/self-screen/send", response_class=HTMLResponse)
async def send_lead(request: Request, db: DB, who: Principal | None = allow_public()) -> Response:
    form = await bounded_form(request)
    await check_public_csrf(request, who)
    data, errors = answers_from_form(form, extra_fields=CONTACT_FIELDS)
    if data is None:
        # The hidden answers were tampered with: start again from the questions.
        return render(
            request,
            "public/self_screen.html",
            _screen_context(form=form, errors=errors),
            status_code=422,
        )
    contact, contact_errors = contact_from_form(form)
    if contact is None:
        return _result(
            request,
            data.route,
            data.answers,
            contact={k: form.get(k) for k in CONTACT_FIELDS},
            errors=contact_errors,
            status_code=422,
        )
    lead_in = LeadIn(route=data.route, answers=data.answers, contact=contact)
    lead = service.create_lead(db, actor=service.public_actor(client_ip(request)), data=lead_in)
    # Whoever reported suicidal thoughts sees the crisis resources first, again.
    return RedirectResponse(
        "/self-screen/sent" + ("?urgent=1" if lead.urgent else ""), status_code=303
    )


@router.get("/self-screen/sent", response_class=HTMLResponse)
def lead_sent(
    request: Request, urgent: bool = False, _: Principal | None = allow_public()
) -> Response:
    return render(request, "public/sent.html", {"topics": TOPICS, "urgent_crisis": urgent})


# ------------------------------------------------------------------ leads for staff


@router.get("/leads", response_class=HTMLResponse)
def leads(
    request: Request, db: DB, status: str = "", actor: Actor = allow(*LEAD_ROLES)
) -> Response:
    found = service.list_leads(db, actor=actor, status=status or None)
    return render(
        request,
        "public/leads.html",
        {"leads": found, "status": status, "statuses": LEAD_STATUSES},
    )


def _lead_page(
    request: Request,
    db: Session,
    actor: Actor,
    lead_id: int,
    *,
    error: str | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    lead = service.get_lead(db, actor=actor, lead_id=lead_id)
    given, _, family = lead.name.rpartition(" ")
    prefill = {
        "given_name": given or lead.name,
        "family_name": family if given else "",
        "email": lead.email or "",
        "phone": lead.phone or "",
    }
    return render(
        request,
        "public/lead.html",
        {
            "lead": lead,
            "result": service.explain(
                {k: v for k, v in lead.answers.items() if k in BY_RULE}, lead.route
            ),
            "by_rule": BY_RULE,
            "routes": ROUTES,
            "moves": service.MOVES[lead.status],
            "error": error,
            "errors": errors or {},
            "form": form if form is not None else prefill,
            "clinical": actor.has_any({Role.prescriber, Role.nurse}),
        },
        status_code=status_code,
    )


@router.get("/leads/{lead_id}", response_class=HTMLResponse)
def lead(
    request: Request, db: DB, lead_id: RecordId, actor: Actor = allow(*LEAD_ROLES)
) -> Response:
    return _lead_page(request, db, actor, lead_id)


@router.post("/leads/{lead_id}/status", response_class=HTMLResponse)
async def mark_lead(
    request: Request, db: DB, lead_id: RecordId, actor: Actor = allow(*LEAD_ROLES)
) -> Response:
    form = await request.form()
    try:
        service.mark_lead(
            db,
            actor=actor,
            lead_id=lead_id,
            status=str(form.get("status", "")),
            note=str(form.get("note", "")),
        )
    except (Invalid, Conflict) as exc:
        db.rollback()
        return _lead_page(request, db, actor, lead_id, error=exc.detail, status_code=exc.status)
    return RedirectResponse(f"/leads/{lead_id}", status_code=303)


@router.post("/leads/{lead_id}/convert", response_class=HTMLResponse)
async def convert_lead(
    request: Request, db: DB, lead_id: RecordId, actor: Actor = allow(*LEAD_ROLES)
) -> Response:
    form = dict(await request.form())
    data, errors = parse(PatientIn, form)
    if data is not None:
        try:
            service.convert_lead(
                db, actor=actor, lead_id=lead_id, data=data, note=str(form.get("note", ""))
            )
        except (Invalid, Conflict) as exc:
            db.rollback()
            errors = exc.fields or {"form": exc.detail}
        else:
            return RedirectResponse(f"/leads/{lead_id}", status_code=303)
    return _lead_page(
        request,
        db,
        actor,
        lead_id,
        error="the patient was not registered: correct the fields marked below",
        errors=errors,
        form=form,
        status_code=422,
    )


# ------------------------------------------------------------------ the patient portal


def _contact(
    errors: dict[str, str] | None = None, form: dict[str, object] | None = None
) -> dict[str, object]:
    """What the patients area's contact-preferences form shows, in the portal."""
    from ketaclinic.patients import service as patients

    return {
        "cp_action": "/portal/contact-preferences",
        "cp_errors": errors or {},
        "cp_form": form,
        "own": True,
        "contact_preferences": patients.CONTACT_PREFERENCES,
        "consent_wording": patients.TEXT_CONSENT_WORDING,
    }


@router.get("/portal", response_class=HTMLResponse)
def my_portal(request: Request, db: DB, actor: Actor = allow(Role.patient)) -> Response:
    own = portal.overview(db, actor=actor)
    return render(
        request, "public/portal.html", {"portal": own, "first": portal.first, **_contact()}
    )


@router.post("/portal/contact-preferences", response_class=HTMLResponse)
async def my_contact_preferences(
    request: Request, db: DB, actor: Actor = allow(Role.patient)
) -> Response:
    """The patient says how they want to hear from the clinic, and consents to texts
    (or withdraws), recorded as theirs."""
    from ketaclinic.patients import service as patients

    form = await request.form()
    preference = str(form.get("contact_preference") or "")
    consent = form.get("text_consent") == "yes"
    try:
        patients.set_contact_preferences(
            db,
            actor=actor,
            patient_id=portal.own_patient_id(actor),
            preference=preference,
            text_consent=consent,
        )
    except ClinicError as exc:
        db.rollback()
        own = portal.overview(db, actor=actor)
        context = _contact(
            exc.fields or {"form": exc.detail},
            {"contact_preference": preference, "text_consent": consent},
        )
        return render(
            request,
            "public/portal.html",
            {"portal": own, "first": portal.first, **context},
            status_code=exc.status,
        )
    return RedirectResponse("/portal#contact-preferences", status_code=303)
