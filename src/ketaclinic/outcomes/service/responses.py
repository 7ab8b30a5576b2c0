"""Recording a completed questionnaire: validate every answer, score once, store each
item and each score as an observation, raise an alert on a suicidality signal, all in
one transaction."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.clinical import instruments
from ketaclinic.outcomes.models import (
    OutcomeObservation,
    QuestionnaireLink,
    QuestionnaireRequest,
    QuestionnaireResponse,
    QuestionnaireResponseItem,
)
from ketaclinic.outcomes.service import alerts, links, summaries
from ketaclinic.outcomes.service.access import check_patient
from ketaclinic.outcomes.service.config import CONTEXTS
from ketaclinic.patients import service as patients
from ketaclinic.platform import ports
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Forbidden, Invalid, NotFound

CLOCK_SKEW = timedelta(minutes=5)
#: C-SSRS screen tiers that raise an alert (moderate: yes to item 3 or past behaviour;
#: high: yes to 4 or 5 or behaviour in the past 3 months; Posner 2011, Columbia triage).
CSSRS_ALERT_RISKS = ("moderate", "high")


@dataclass(frozen=True)
class ScorePoint:
    instrument_id: str
    total: int | None
    severity: str | None
    completed_at: datetime
    context: str
    response_id: int


@dataclass(frozen=True)
class Recorded:
    response: QuestionnaireResponse
    alert: alerts.Alert | None


def _question(position: int, item: instruments.Item) -> str:
    return f"question {position} ({item.label})"


def clean_answers(instrument: instruments.Instrument, answers: Any) -> dict[str, int]:
    """Answers as {item id: value}, or ``Invalid`` naming every item at fault."""
    if isinstance(answers, Sequence) and not isinstance(answers, str | bytes):
        if len(answers) != len(instrument.items):
            raise Invalid(
                f"{instrument.name} has {len(instrument.items)} questions; "
                f"{len(answers)} answers were given",
                fields={"answers": "wrong number of answers"},
            )
        answers = dict(zip(instrument.item_ids, answers, strict=True))
    if not isinstance(answers, Mapping):
        raise Invalid(
            "answers must map each question to its answer", fields={"answers": "not a mapping"}
        )
    unknown = [str(k) for k in answers if k not in instrument.item_ids]
    if unknown:
        raise Invalid(
            f"unknown question {', '.join(unknown)} for {instrument.name}",
            fields={k: "unknown question" for k in unknown},
        )
    errors: dict[str, str] = {}
    values: dict[str, int] = {}
    for position, item in enumerate(instrument.items, start=1):
        raw = answers.get(item.id)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            condition = item.asked_if
            if condition is None or values.get(condition.item_id) == condition.value:
                errors[item.id] = f"{_question(position, item)}: choose an answer"
            continue
        try:
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError
            value = int(str(raw).strip()) if isinstance(raw, str) else int(raw)
        except (TypeError, ValueError):
            errors[item.id] = f"{_question(position, item)}: {raw!r} is not one of the answers"
            continue
        if value not in item.values:
            errors[item.id] = (
                f"{_question(position, item)}: {value} is not one of the answers "
                f"({item.min_value}-{item.max_value})"
            )
            continue
        condition = item.asked_if
        if condition is not None and values.get(condition.item_id) != condition.value:
            if value != 0:
                parent = instrument.item_ids.index(condition.item_id) + 1
                errors[item.id] = (
                    f"{_question(position, item)}: asked only when question {parent} is yes"
                )
            continue
        values[item.id] = value
    if errors:
        raise Invalid("Not saved. Please answer: " + "; ".join(errors.values()), fields=errors)
    return values


def suicidality_signal(
    instrument: instruments.Instrument, result: instruments.ScoreResult
) -> str | None:
    """Why this result needs a clinician now, or None."""
    if instrument.scoring == "cssrs_screen":
        if result.risk in CSSRS_ALERT_RISKS:
            return f"{instrument.name}: {result.risk} risk"
        return None
    if "suicidality" not in result.flags:
        return None
    rules = [r for r in instrument.flag_rules if r.flag == "suicidality"]
    parts = []
    for rule in rules:
        if rule.on != "total":
            item = instrument.item(rule.on)
            parts.append(f"{item.label} answered {result.item_values[rule.on]}")
    return f"{instrument.name}: " + ("; ".join(parts) or "suicidality flag")


def _observations(
    instrument: instruments.Instrument,
    result: instruments.ScoreResult,
    response: QuestionnaireResponse,
) -> list[OutcomeObservation]:
    common = {
        "response_id": response.id,
        "patient_id": response.patient_id,
        "instrument_id": instrument.id,
        "effective_at": response.completed_at,
    }
    found = []
    if result.total is not None:
        found.append(
            OutcomeObservation(
                kind="total",
                name="total",
                value=float(result.total),
                value_text=result.severity,
                loinc=instrument.loinc_total,
                **common,
            )
        )
    for name, value in result.subscales.items():
        found.append(
            OutcomeObservation(
                kind="subscale",
                name=name[:60],
                value=float(value),
                loinc=None,
                **common,
            )
        )
    if result.risk is not None:
        found.append(
            OutcomeObservation(
                kind="risk",
                name="risk",
                value=None,
                value_text=result.risk,
                loinc=None,
                **common,
            )
        )
    return found


def _matching_request(
    db: Session, patient_id: int, instrument_id: str, at: datetime
) -> QuestionnaireRequest | None:
    return db.scalar(
        select(QuestionnaireRequest)
        .where(
            QuestionnaireRequest.patient_id == patient_id,
            QuestionnaireRequest.instrument_id == instrument_id,
            QuestionnaireRequest.status == "open",
            QuestionnaireRequest.due_at <= at,
            QuestionnaireRequest.expires_at > at,
        )
        .order_by(QuestionnaireRequest.due_at)
        .limit(1)
    )


def record(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    instrument_id: str,
    answers: Any,
    context: str = "visit",
    session_id: int | None = None,
    completed_at: datetime | None = None,
    via: str = "staff",
    request: QuestionnaireRequest | None = None,
    link: QuestionnaireLink | None = None,
    now: datetime | None = None,
) -> Recorded:
    """Everything ``record_response`` does, also telling whether an alert was raised.
    Nothing is written until every check has passed; one commit at the end."""
    check_patient(db, actor, patient_id)
    try:
        instrument = instruments.get(instrument_id)
    except ValueError as exc:
        raise Invalid(str(exc), fields={"instrument_id": "unknown"}) from None
    if actor.patient_only and instrument.completed_by != "patient":
        raise Forbidden(f"{instrument.name} is completed by a clinician")
    if context not in CONTEXTS:
        raise Invalid(
            f"unknown context {context!r}; one of {', '.join(CONTEXTS)}",
            fields={"context": "unknown"},
        )
    now = now or utcnow()
    at = completed_at or now
    if at.tzinfo is None:
        raise Invalid("completed_at must carry a time zone", fields={"completed_at": "no zone"})
    if at > now + CLOCK_SKEW:
        raise Invalid("completed_at is in the future", fields={"completed_at": "in the future"})
    values = clean_answers(instrument, answers)
    try:
        result = instruments.score(instrument.id, values)
    except ValueError as exc:
        raise Invalid(f"Not saved: {exc}", fields={"answers": str(exc)}) from None
    # Reads that commit (the patient's audit record) come before any write.
    patients.get_patient(db, actor=actor, patient_id=patient_id, purpose="questionnaire")
    request = request or _matching_request(db, patient_id, instrument.id, at)
    response = QuestionnaireResponse(
        patient_id=patient_id,
        instrument_id=instrument.id,
        context=context,
        session_id=session_id,
        request_id=request.id if request else None,
        completed_at=at,
        entered_by=actor.username,
        entered_via=via,
        total=result.total,
        severity=result.severity,
        risk=result.risk,
        flags=sorted(result.flags),
        provisional_diagnosis=result.provisional_diagnosis,
    )
    db.add(response)
    db.flush()
    for position, item_id in enumerate(instrument.item_ids, start=1):
        if item_id in result.item_values:
            db.add(
                QuestionnaireResponseItem(
                    response_id=response.id,
                    item_id=item_id,
                    position=position,
                    value=result.item_values[item_id],
                )
            )
    db.add_all(_observations(instrument, result, response))
    if request is not None:
        request.status, request.completed_at = "completed", now
    if link is not None:
        links.use(db, link, now=now)
    audit.record(
        db,
        actor=actor,
        action="questionnaire.record",
        patient_id=patient_id,
        object_type="questionnaire_response",
        object_id=response.id,
        detail=f"{instrument.id} {context} via {via}",
    )
    if result.total is not None:
        # Where the patient's courses stand, kept with the score that moves it.
        summaries.refresh_course_summaries(db, patient_id=patient_id)
        # The care plan's relapse rule reads the new score in this same transaction.
        ports.score_recorded(
            db, patient_id=patient_id, instrument_id=instrument.id, response_id=response.id
        )
    signal = suicidality_signal(instrument, result)
    alert = None
    if signal:
        alert = alerts.raise_alert(
            db,
            actor=actor,
            patient_id=patient_id,
            source="questionnaire",
            detail=signal,
            response_id=response.id,
            now=now,
        )
    db.flush()
    return Recorded(response, alert)


def record_response(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    instrument_id: str,
    answers: Any,
    context: str = "visit",
    session_id: int | None = None,
    completed_at: datetime | None = None,
) -> QuestionnaireResponse:
    """Score and store one completed questionnaire (items, observations, alert) in one
    transaction. ``answers``: {item id: value} or values in item order."""
    return record(
        db,
        actor=actor,
        patient_id=patient_id,
        instrument_id=instrument_id,
        answers=answers,
        context=context,
        session_id=session_id,
        completed_at=completed_at,
        via="portal" if actor.patient_only else "staff",
    ).response


def score_history(
    db: Session, *, actor: Actor, patient_id: int, instrument_id: str | None = None
) -> list[ScorePoint]:
    """Every final score of the patient, oldest first; a patient sees only their own."""
    check_patient(db, actor, patient_id)
    query = select(QuestionnaireResponse).where(
        QuestionnaireResponse.patient_id == patient_id, QuestionnaireResponse.status == "final"
    )
    if instrument_id is not None:
        query = query.where(QuestionnaireResponse.instrument_id == instrument_id)
    rows = list(db.scalars(query.order_by(QuestionnaireResponse.completed_at)))
    audit.note_read(
        db,
        actor=actor,
        action="questionnaire.history",
        patient_id=patient_id,
        object_type="questionnaire_response",
        detail=f"{instrument_id or 'all'}: {len(rows)}",
    )
    db.flush()
    return [
        ScorePoint(
            instrument_id=r.instrument_id,
            total=r.total,
            severity=r.severity if r.total is not None else r.risk,
            completed_at=r.completed_at,
            context=r.context,
            response_id=r.id,
        )
        for r in rows
    ]


def response_detail(db: Session, *, actor: Actor, response_id: int) -> QuestionnaireResponse:
    row = db.get(QuestionnaireResponse, response_id)
    if row is None:
        raise NotFound(f"no questionnaire response {response_id}")
    check_patient(db, actor, row.patient_id)
    audit.note_read(
        db,
        actor=actor,
        action="questionnaire.view",
        patient_id=row.patient_id,
        object_type="questionnaire_response",
        object_id=row.id,
    )
    db.flush()
    return row


def observations_of(db: Session, response_id: int) -> list[OutcomeObservation]:
    """Inside a caller that audits the read."""
    return list(
        db.scalars(
            select(OutcomeObservation)
            .where(OutcomeObservation.response_id == response_id)
            .order_by(OutcomeObservation.id)
        )
    )


@dataclass(frozen=True)
class StoredResponse:
    """A response with its score observations, for another area's act that audits
    itself (the interop area's FHIR reads)."""

    response: QuestionnaireResponse
    observations: list[OutcomeObservation]


def stored_responses(
    db: Session,
    *,
    patient_ids: Collection[int] | None = None,
    ids: Collection[int] | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> list[StoredResponse]:
    """Every final response of the patients (``None``: every patient), oldest first
    (``offset``/``limit``: one page, in SQL)."""
    query = select(QuestionnaireResponse).where(QuestionnaireResponse.status == "final")
    if patient_ids is not None:
        query = query.where(QuestionnaireResponse.patient_id.in_(sorted(set(patient_ids))))
    if ids is not None:
        query = query.where(QuestionnaireResponse.id.in_(sorted(set(ids))))
    query = query.order_by(QuestionnaireResponse.completed_at, QuestionnaireResponse.id)
    if offset or limit is not None:
        query = query.offset(offset).limit(limit)
    rows = list(db.scalars(query))
    by_response: dict[int, list[OutcomeObservation]] = {r.id: [] for r in rows}
    if rows:
        for obs in db.scalars(
            select(OutcomeObservation)
            .where(OutcomeObservation.response_id.in_(list(by_response)))
            .order_by(OutcomeObservation.id)
        ):
            by_response[obs.response_id].append(obs)
    return [StoredResponse(r, by_response[r.id]) for r in rows]


def count_responses(db: Session, *, patient_id: int) -> int:
    """How many final responses the patient has (a FHIR search's total)."""
    return int(
        db.scalar(
            select(func.count(QuestionnaireResponse.id)).where(
                QuestionnaireResponse.patient_id == patient_id,
                QuestionnaireResponse.status == "final",
            )
        )
        or 0
    )


def record_from_system(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    instrument_id: str,
    answers: Any,
    completed_at: datetime | None = None,
) -> Recorded:
    """A questionnaire another system sends (FHIR ``POST /fhir/QuestionnaireResponse``):
    validated and scored as a portal answer, stored per item with its observations, an
    alert raised on a suicidality signal exactly as for a link."""
    return record(
        db,
        actor=actor,
        patient_id=patient_id,
        instrument_id=instrument_id,
        answers=answers,
        context="visit",
        completed_at=completed_at,
        via="api",
    )
