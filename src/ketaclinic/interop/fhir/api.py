"""The FHIR R4 routes under /fhir: thin, each calling one function of ``reads`` or
``writes``; every refusal an OperationOutcome (``outcome.FhirRoute``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from ketaclinic.interop.fhir import bulk, imports, reads, search, writes
from ketaclinic.interop.fhir.capability import capability_statement
from ketaclinic.interop.fhir.outcome import FhirError, FhirResponse, FhirRoute
from ketaclinic.platform import unit_of_work
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.auth import allow, allow_public, get_db
from ketaclinic.platform.ids import RecordId
from ketaclinic.platform.roles import Role

DB = Annotated[Session, Depends(get_db)]
#: Who reads patient data over FHIR: the clinical roles, a patient their own record
#: (admins and researchers do not read identified records; the front desk reads
#: demographics only). A token bound to one patient is narrowed further in ``reads``.
CLINICAL_READERS = (Role.prescriber, Role.nurse, Role.patient)
DEMOGRAPHIC_READERS = (*CLINICAL_READERS, Role.front_desk)
WRITERS = (Role.prescriber, Role.nurse, Role.patient)
#: Who imports another system's record: those who take an intake.
IMPORTERS = (Role.prescriber, Role.nurse)
_FORMATS = {"json", "application/json", "application/fhir+json"}
_BAD_PARAMETER: dict[int | str, dict[str, Any]] = {
    400: {"description": "A search parameter or the body is invalid (OperationOutcome)"}
}
_MAX_QR_BYTES = 256 * 1024
# Every FHIR route may answer 400: FHIR gives a bad parameter (even a malformed path id)
# a 400 OperationOutcome where the JSON API says 422.
router = APIRouter(prefix="/fhir", tags=["fhir"], route_class=FhirRoute, responses=_BAD_PARAMETER)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/fhir"


def _params(request: Request) -> list[tuple[str, str]]:
    params = list(request.query_params.multi_items())
    for name, value in params:
        if name == "_format" and value not in _FORMATS:
            raise FhirError(f"_format {value!r}: this server speaks JSON only", status=406)
    accept = request.headers.get("accept", "")
    if accept and "json" not in accept and "*/*" not in accept:
        raise FhirError("this server answers application/fhir+json only", status=406)
    return params


def _reader(request: Request, actor: Actor) -> reads.Reader:
    """The actor, narrowed to one patient when its API token is bound to one."""
    who = getattr(request.state, "principal", None)
    return reads.Reader(actor, only_patient=getattr(who, "token_patient_id", None))


@router.get("/metadata", response_class=FhirResponse)
def metadata(request: Request, _: Any = allow_public()) -> FhirResponse:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return FhirResponse(capability_statement(base=_base(request), version="0.1.0", now=now))


def _search_route(resource_type: str, roles: tuple[Role, ...]) -> Callable[..., FhirResponse]:
    def search_type(request: Request, db: DB, actor: Actor = allow(*roles)) -> FhirResponse:
        params = _params(request)
        count = search.count_of(request.query_params.get("_count"))
        offset = search.offset_of(request.query_params.get("_offset"))
        found = reads.find(
            db, _reader(request, actor), resource_type, params, offset=offset, count=count
        )
        return FhirResponse(
            search.searchset(
                base=_base(request),
                path=f"/{resource_type}",
                params=params,
                matches=found.matches,
                included=found.included,
                count=count,
                offset=offset,
                total=found.total,
            )
        )

    search_type.__name__ = f"search_{resource_type}"
    return search_type


def _read_route(resource_type: str, roles: tuple[Role, ...]) -> Callable[..., FhirResponse]:
    def read_instance(
        resource_id: str, request: Request, db: DB, actor: Actor = allow(*roles)
    ) -> FhirResponse:
        _params(request)
        return FhirResponse(reads.read(db, _reader(request, actor), resource_type, resource_id))

    read_instance.__name__ = f"read_{resource_type}"
    return read_instance


EXPORTERS = (Role.prescriber, Role.nurse, Role.researcher)
_KICK_OFF: dict[int | str, dict[str, Any]] = {
    **_BAD_PARAMETER,
    202: {"description": "Accepted; poll the Content-Location"},
}


def _token_id(request: Request) -> int | None:
    return getattr(getattr(request.state, "principal", None), "token_id", None)


def _kick_off(
    request: Request, db: Session, actor: Actor, level: str, group: str | None
) -> Response:
    # The Bulk Data kick-off is a GET that starts a job: a write by the standard's design.
    unit_of_work.writes_while_reading(request)
    params = [(k, v) for k, v in _params(request) if k != "_format"]
    row = bulk.kick_off(
        db,
        _reader(request, actor),
        level=level,
        group_id=group,
        params=params,
        request_url=str(request.url),
        token_id=_token_id(request),
    )
    return Response(
        status_code=202, headers={"Content-Location": f"{_base(request)}/_bulk/{row.id}"}
    )


@router.get("/$export", status_code=202, responses=_KICK_OFF)
def export_system(request: Request, db: DB, actor: Actor = allow(*EXPORTERS)) -> Response:
    """Bulk Data kick-off for every patient (``Prefer: respond-async``)."""
    return _kick_off(request, db, actor, "system", None)


@router.get("/Patient/$export", status_code=202, responses=_KICK_OFF)
def export_patients(request: Request, db: DB, actor: Actor = allow(*EXPORTERS)) -> Response:
    return _kick_off(request, db, actor, "patient", None)


@router.get("/Group/{group_id}/$export", status_code=202, responses=_KICK_OFF)
def export_group(
    group_id: str, request: Request, db: DB, actor: Actor = allow(*EXPORTERS)
) -> Response:
    return _kick_off(request, db, actor, "group", group_id)


@router.get(
    "/_bulk/{export_id}",
    responses={
        202: {"description": "In progress (X-Progress)"},
        410: {"description": "The export's files expired (OperationOutcome)"},
        500: {"description": "The export failed (OperationOutcome)"},
    },
)
def export_status(
    export_id: RecordId, request: Request, db: DB, actor: Actor = allow(*EXPORTERS)
) -> Response:
    manifest = bulk.status(db, actor, _token_id(request), export_id, base=_base(request))
    if manifest is None:
        return Response(status_code=202, headers={"X-Progress": "in progress", "Retry-After": "5"})
    return JSONResponse(manifest, headers=_expires(db, export_id))


def _expires(db: Session, export_id: int) -> dict[str, str]:
    """The files' expiry as an HTTP Expires header (the Bulk Data IG's advice)."""
    from email.utils import format_datetime

    at = bulk.expires_at(db, export_id)
    if at is None:
        return {}
    return {"Expires": format_datetime(at if at.tzinfo else at.replace(tzinfo=UTC), usegmt=True)}


@router.get(
    "/_bulk/{export_id}/{name}",
    responses={410: {"description": "The export's files expired (OperationOutcome)"}},
)
def export_file(
    export_id: RecordId, name: str, request: Request, db: DB, actor: Actor = allow(*EXPORTERS)
) -> Response:
    text = bulk.file(db, actor, _token_id(request), export_id, name)
    return Response(text, media_type="application/fhir+ndjson", headers=_expires(db, export_id))


@router.delete("/_bulk/{export_id}", status_code=202)
def export_delete(
    export_id: RecordId, request: Request, db: DB, actor: Actor = allow(*EXPORTERS)
) -> Response:
    bulk.delete(db, actor, _token_id(request), export_id)
    return Response(status_code=202)


@router.get("/Patient/{patient_id}/$everything", response_class=FhirResponse)
def patient_everything(
    patient_id: RecordId, request: Request, db: DB, actor: Actor = allow(*CLINICAL_READERS)
) -> FhirResponse:
    _params(request)
    return FhirResponse(reads.everything(db, _reader(request, actor), patient_id))


for _type in [*reads.KINDS, "Questionnaire"]:
    _roles = (
        DEMOGRAPHIC_READERS
        if _type == "Patient"
        else tuple(Role)
        if _type == "Questionnaire"
        else CLINICAL_READERS
    )
    router.add_api_route(
        f"/{_type}",
        _search_route(_type, _roles),
        methods=["GET"],
        response_class=FhirResponse,
        responses=_BAD_PARAMETER,
        summary=f"Search {_type}",
    )
    router.add_api_route(
        f"/{_type}/{{resource_id}}",
        _read_route(_type, _roles),
        methods=["GET"],
        response_class=FhirResponse,
        responses=_BAD_PARAMETER,
        summary=f"Read {_type}",
    )


async def _json_body(request: Request, limit: int, *, exact: bool = False) -> Any:
    """The JSON body (with its size in bytes when ``exact``)."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip()
    if kind not in ("application/fhir+json", "application/json"):
        raise FhirError("send application/fhir+json", status=415)
    raw = await request.body()
    if len(raw) > limit:
        raise FhirError(f"the body is larger than {limit} bytes", status=413, code="too-costly")
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise FhirError("the body is not JSON", status=400) from None
    return (parsed, len(raw)) if exact else parsed


@router.post(
    "/QuestionnaireResponse",
    response_class=FhirResponse,
    status_code=201,
    responses={**_BAD_PARAMETER, 415: {"description": "Not application/fhir+json"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/fhir+json": {"schema": {"type": "object"}}},
        }
    },
)
async def create_questionnaire_response(
    request: Request, db: DB, actor: Actor = allow(*WRITERS)
) -> FhirResponse:
    body = await _json_body(request, _MAX_QR_BYTES)
    from starlette.concurrency import run_in_threadpool

    stored, _alerted = await run_in_threadpool(
        writes.create_questionnaire_response, db, _reader(request, actor), body
    )
    location = f"{_base(request)}/QuestionnaireResponse/{stored['id']}"
    return FhirResponse(stored, status_code=201, headers={"Location": location})


@router.post(
    "",
    response_class=FhirResponse,
    responses={
        **_BAD_PARAMETER,
        413: {"description": "The bundle is larger than the clinic imports at once"},
        415: {"description": "Not application/fhir+json"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/fhir+json": {"schema": {"type": "object"}}},
        },
        "parameters": [
            {
                "name": "dry-run",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "enum": ["true", "false"]},
            }
        ],
    },
)
async def import_bundle(request: Request, db: DB, actor: Actor = allow(*IMPORTERS)) -> FhirResponse:
    """A transaction or collection Bundle with one or several patients' records:
    ``?dry-run=true`` reports, per entry and per patient, what would be created, matched
    or skipped; otherwise all of it is imported or, on any fault, none of it."""
    limit = request.app.state.settings.fhir_max_bundle_bytes
    body = await _json_body(request, 2 * limit, exact=True)
    dry = request.query_params.get("dry-run", "false")
    if dry not in ("true", "false"):
        raise FhirError("dry-run is true or false", status=400)
    raw, size = body
    from starlette.concurrency import run_in_threadpool

    report = await run_in_threadpool(
        imports.plan,
        db,
        _reader(request, actor),
        raw,
        size=size,
        max_bytes=limit,
        dry_run=dry == "true",
    )
    return FhirResponse(report.as_bundle(), status_code=200)


@router.api_route(
    "/{rest:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
    response_class=FhirResponse,
)
def unsupported(rest: str, actor: Actor = allow(*Role)) -> FhirResponse:
    raise FhirError(
        f"{rest.split('/', 1)[0] or 'this'}: not a resource type or interaction this server "
        "supports (see GET /fhir/metadata)",
        status=404,
        code="not-supported",
    )
