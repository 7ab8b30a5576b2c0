"""Where a patient stands: score trends against baseline, response and remission lines,
sessions given, and the course classification from ``clinical.course.evaluate``."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ketaclinic.clinical import course as clinical_course
from ketaclinic.clinical import instruments
from ketaclinic.clinical.overrides import Override
from ketaclinic.orders import service as orders
from ketaclinic.outcomes.models import (
    CourseSummaryRow,
    QuestionnaireRequest,
    QuestionnaireResponse,
)
from ketaclinic.outcomes.service import alerts, context
from ketaclinic.outcomes.service.access import CLINICIANS, check_patient, require
from ketaclinic.outcomes.service.context import SessionGiven
from ketaclinic.patients import service as patients
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import Invalid

# Scores this long before a course was created still count as its baseline (an intake
# questionnaire a few weeks ahead of the order): ketaclinic convention.
BASELINE_LOOKBACK = timedelta(days=30)
OVERDUE_AFTER = timedelta(days=1)
# A longer list of patients is filtered after reading rather than bound into the query:
# SQLite limits the parameters of one statement, and a clinic-wide read is one scan.
WHERE_IN_AT_MOST = 500
STAGES = {
    "pre_treatment": "Before the first session",
    "induction": "Induction",
    "interim_evaluation_due": "Interim evaluation due",
    "outcome_unknown": "Outcome unknown: no score since the first session",
    "non_response": "Non-response",
    "continuation": "Responding (continuation)",
    "maintenance": "Maintenance",
    "booster_suggested": "Relapse signal: booster suggested",
}
CATEGORIES = {
    "remission": "Remitted",
    "response": "Responding",
    "partial_response": "Partial response",
    "non_response": "No response yet",
}


def series_for(course: orders.Course) -> tuple[str, tuple[Override, ...]]:
    """The course table's induction plan for this protocol, sized to the course."""
    series = (
        "esketamine_trd_induction" if course.protocol_id.startswith("in_esketamine") else "iv_6"
    )
    plan = clinical_course.SERIES[series]
    if course.series_sessions and course.series_sessions != plan.sessions:
        return series, (
            Override(
                series,
                "sessions",
                course.series_sessions,
                by=course.created_by,
                reason=f"this course plans {course.series_sessions} sessions",
            ),
        )
    return series, ()


@dataclass
class Trend:
    instrument_id: str
    name: str
    points: list[tuple[datetime, int, str, int]]  # (when, total, context, response id)
    baseline: float | None = None
    response_line: float | None = None
    remission_max: int | None = None
    max_total: int | None = None


@dataclass
class Standing:
    course: orders.Course | None
    sessions: list[SessionGiven]
    status: clinical_course.CourseStatus | None
    anchor: datetime
    trends: dict[str, Trend] = field(default_factory=dict)
    problem: str | None = None

    @property
    def stage_label(self) -> str:
        return STAGES.get(self.status.stage, self.status.stage) if self.status else "Not evaluated"

    @property
    def primary(self) -> clinical_course.Classification | None:
        if self.status is None or self.status.primary_instrument is None:
            return None
        return self.status.classifications.get(self.status.primary_instrument)


def _responses(db: Session, patient_id: int, since: datetime | None) -> list[QuestionnaireResponse]:
    query = select(QuestionnaireResponse).where(
        QuestionnaireResponse.patient_id == patient_id, QuestionnaireResponse.status == "final"
    )
    if since is not None:
        query = query.where(QuestionnaireResponse.completed_at >= since)
    return list(
        db.scalars(query.order_by(QuestionnaireResponse.completed_at, QuestionnaireResponse.id))
    )


@dataclass(frozen=True)
class Scored:
    """A final, scored response: what a standing reads of it."""

    instrument_id: str
    total: int
    completed_at: datetime
    context: str
    response_id: int


def scored_of(db: Session, patient_ids: Collection[int]) -> dict[int, list[Scored]]:
    """Every patient's scored final responses, oldest first, in one statement of plain
    columns (the clinic's outcomes and the course dashboard)."""
    query = select(
        QuestionnaireResponse.patient_id,
        QuestionnaireResponse.instrument_id,
        QuestionnaireResponse.total,
        QuestionnaireResponse.completed_at,
        QuestionnaireResponse.context,
        QuestionnaireResponse.id,
    ).where(QuestionnaireResponse.status == "final", QuestionnaireResponse.total.is_not(None))
    wanted = set(patient_ids)
    if len(wanted) <= WHERE_IN_AT_MOST:
        query = query.where(QuestionnaireResponse.patient_id.in_(wanted))
    found: dict[int, list[Scored]] = {}
    for pid, iid, total, at, ctx, rid in db.execute(
        query.order_by(QuestionnaireResponse.completed_at, QuestionnaireResponse.id)
    ):
        if pid in wanted and total is not None:
            found.setdefault(pid, []).append(Scored(iid, total, at, ctx, rid))
    return found


def standing(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    now: datetime,
    course: orders.Course | None = None,
) -> Standing:
    """Inside a caller that audits: the patient's course, trends and classification."""
    course = course or context.latest_course(db, actor=actor, patient_id=patient_id)
    opened = context.course_opened(course) if course else None
    since = opened - BASELINE_LOOKBACK if opened else None
    scored = [
        Scored(r.instrument_id, r.total, r.completed_at, r.context, r.id)
        for r in _responses(db, patient_id, since)
        if r.total is not None
    ]
    given = context.sessions_given(db, actor=actor, patient_id=patient_id)
    return evaluated(course, given, scored, now=now)


def evaluated(
    course: orders.Course | None,
    given: list[SessionGiven],
    scored: list[Scored],
    *,
    now: datetime,
) -> Standing:
    """The standing of ``course`` from the patient's sessions given and scored responses
    (read by the caller, for one patient or for many at once)."""
    opened = context.course_opened(course) if course else None
    since = opened - BASELINE_LOOKBACK if opened else None
    sessions = [s for s in given if opened is None or s.at >= opened - timedelta(days=1)]
    anchor = sessions[0].at if sessions else now
    trends: dict[str, Trend] = {}
    for r in scored:
        if since is not None and r.completed_at < since:
            continue
        if r.instrument_id not in trends:
            definition = instruments.get(r.instrument_id)
            trends[r.instrument_id] = Trend(
                r.instrument_id,
                definition.name,
                [],
                remission_max=definition.remission.at_most if definition.remission else None,
                max_total=definition.max_total,
            )
        trends[r.instrument_id].points.append((r.completed_at, r.total, r.context, r.response_id))
    for trend in trends.values():
        before = [p for p in trend.points if p[0] < anchor]
        if before:
            trend.baseline = float(before[-1][1])
            trend.response_line = trend.baseline * (
                1 - clinical_course.RULES["response_reduction_pct"].value / 100
            )
    scores = [
        clinical_course.Score(iid, float(total), (at - anchor).total_seconds() / 86400)
        for iid, t in trends.items()
        if iid in clinical_course.INSTRUMENTS
        for at, total, _, _ in t.points
    ]
    records = [
        clinical_course.SessionRecord(
            s.number,
            (s.at - anchor).total_seconds() / 86400,
            "booster"
            if s.kind == "booster" or (course is not None and s.number > course.series_sessions)
            else "induction",
        )
        for s in sessions
    ]
    series, overrides = series_for(course) if course else ("iv_6", ())
    result = Standing(course, sessions, None, anchor, trends)
    try:
        result.status = clinical_course.evaluate(
            scores, records, protocol_series=series, overrides=overrides
        )
    except ValueError as exc:
        result.problem = f"course not evaluated: {exc}"
    return result


@dataclass
class PatientOutcomes:
    patient: patients.Patient
    standing: Standing
    responses: list[QuestionnaireResponse]
    alerts: list[alerts.Alert]
    requests: list[QuestionnaireRequest]


def patient_outcomes(
    db: Session, *, actor: Actor, patient_id: int, now: datetime | None = None
) -> PatientOutcomes:
    require(actor, CLINICIANS, "reading outcomes")
    now = now or utcnow()
    patient = patients.get_patient(db, actor=actor, patient_id=patient_id, purpose="outcomes")
    result = PatientOutcomes(
        patient=patient,
        standing=standing(db, actor=actor, patient_id=patient_id, now=now),
        responses=list(reversed(_responses(db, patient_id, None))),
        alerts=alerts.for_patient(db, patient_id),
        requests=list(
            db.scalars(
                select(QuestionnaireRequest)
                .where(QuestionnaireRequest.patient_id == patient_id)
                .order_by(QuestionnaireRequest.due_at.desc())
                .limit(30)
            )
        ),
    )
    audit.note_read(
        db,
        actor=actor,
        action="outcomes.view",
        patient_id=patient_id,
        object_type="questionnaire_response",
        detail=f"{len(result.responses)} responses",
    )
    db.flush()
    return result


def latest_scores(db: Session, *, actor: Actor, patient: patients.Patient) -> dict[str, object]:
    """For the chart section: latest score per instrument and the classification."""
    check_patient(db, actor, patient.id)
    now = utcnow()
    found = standing(db, actor=actor, patient_id=patient.id, now=now)
    latest = {iid: t.points[-1] for iid, t in found.trends.items()}
    open_count = sum(1 for a in alerts.for_patient(db, patient.id) if a.status == "open")
    audit.note_read(
        db,
        actor=actor,
        action="outcomes.summary",
        patient_id=patient.id,
        object_type="questionnaire_response",
    )
    db.flush()
    return {"standing": found, "latest": latest, "open_alerts": open_count}


@dataclass(frozen=True)
class KeptStanding:
    """A course's standing as kept (``summaries``): what the dashboard shows of it."""

    sessions_given: int
    stage: str | None
    primary_instrument: str | None
    baseline: float | None
    latest: float | None
    category: str | None
    interim_evaluation_due: bool
    booster_suggested: bool
    problem: str | None = None

    @property
    def stage_label(self) -> str:
        return STAGES.get(self.stage, self.stage) if self.stage else "Not evaluated"


def attention_flags(kept: KeptStanding, overdue: int, open_alert: bool) -> list[str]:
    """What a course on the dashboard needs a prescriber for, most urgent kinds first."""
    found = []
    if kept.interim_evaluation_due:
        found.append("interim evaluation due")
    if kept.stage == "non_response":
        found.append("looks like non-response")
    if kept.booster_suggested:
        found.append("relapse signal: booster?")
    if overdue:
        found.append(f"{overdue} questionnaire(s) overdue")
    if open_alert:
        found.append("open suicidality alert")
    return found


@dataclass
class DashboardRow:
    patient: patients.Patient
    course: orders.Course
    standing: KeptStanding
    flags: list[str]  # ``attention_flags``


# Courses a page of the dashboard lists: a screen or two, so that a chain's hundreds of
# active courses cost a page's reads, not all of them (ketaclinic's own choice).
DASHBOARD_PAGE_SIZE = 50


@dataclass(frozen=True)
class DashboardPage:
    """One page of the active courses, those needing a decision first."""

    rows: list[DashboardRow]
    total: int  # active courses
    needing_attention: int  # of them, with at least one flag
    page: int  # from 0
    pages: int
    size: int

    @property
    def first(self) -> int:
        """The number of the page's first course, from 1 (0 when there is none)."""
        return self.page * self.size + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.page * self.size + len(self.rows)


def _kept(row: Any) -> KeptStanding:
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    return KeptStanding(
        sessions_given=int(get("sessions_given") or 0),
        stage=get("stage"),
        primary_instrument=get("primary_instrument"),
        baseline=get("baseline"),
        latest=get("latest"),
        category=get("category"),
        interim_evaluation_due=bool(get("interim_evaluation_due")),
        booster_suggested=bool(get("booster_suggested")),
        problem=get("problem"),
    )


def kept_standings(db: Session, courses: Sequence[orders.Course]) -> dict[int, KeptStanding]:
    """The kept standing of each course, by course id, in a statement per 500 courses; a
    course without a kept row yet is derived from its facts."""
    from ketaclinic.outcomes.service import summaries

    ids = [c.id for c in courses]
    found: dict[int, KeptStanding] = {}
    for i in range(0, len(ids), WHERE_IN_AT_MOST):
        for row in db.scalars(
            select(CourseSummaryRow).where(
                CourseSummaryRow.course_id.in_(ids[i : i + WHERE_IN_AT_MOST])
            )
        ):
            found[row.course_id] = _kept(row)
    missing = {c.patient_id for c in courses if c.id not in found}
    if missing:
        for course_id, values in summaries.derive(db, missing).items():
            found.setdefault(course_id, _kept(values))
    return found


def overdue_counts(db: Session, *, now: datetime) -> dict[int, int]:
    rows = db.execute(
        select(QuestionnaireRequest.patient_id, func.count())
        .where(
            or_(
                (QuestionnaireRequest.status == "open")
                & (QuestionnaireRequest.due_at < now - OVERDUE_AFTER),
                (QuestionnaireRequest.status == "expired")
                & (QuestionnaireRequest.expires_at > now - timedelta(days=30)),
            )
        )
        .group_by(QuestionnaireRequest.patient_id)
    ).all()
    return {pid: int(n) for pid, n in rows}


def dashboard(
    db: Session,
    *,
    actor: Actor,
    now: datetime | None = None,
    page: int = 0,
    size: int | None = None,
) -> DashboardPage:
    """Page ``page`` of the active courses, those with the most flags first, then by
    the patient's name. Every course's flags come from what is kept of it (its standing,
    overdue questionnaires, open alerts), so the order is whole; only the page's
    patients are read, and audited. A page past the last shows the last."""
    require(actor, CLINICIANS, "reading the course dashboard")
    size = DASHBOARD_PAGE_SIZE if size is None else size
    if size < 1:
        raise Invalid("a page lists at least one course", fields={"size": str(size)})
    now = now or utcnow()
    overdue = overdue_counts(db, now=now)
    courses = context.active_courses(db)
    alerted = set(
        db.scalars(
            select(alerts.Alert.patient_id).where(
                alerts.Alert.status == "open", alerts.Alert.patient_id.is_not(None)
            )
        )
    )
    kept = kept_standings(db, courses)
    names = patients.sort_names(db, {c.patient_id for c in courses})
    flagged = {
        c.id: attention_flags(kept[c.id], overdue.get(c.patient_id, 0), c.patient_id in alerted)
        for c in courses
    }
    courses.sort(key=lambda c: (-len(flagged[c.id]), names[c.patient_id], c.id))
    pages = max(1, -(-len(courses) // size))
    page = min(max(page, 0), pages - 1)
    shown = courses[page * size : (page + 1) * size]
    found_patients = patients.get_patients(
        db, actor=actor, patient_ids={c.patient_id for c in shown}, purpose="dashboard"
    )
    rows = [DashboardRow(found_patients[c.patient_id], c, kept[c.id], flagged[c.id]) for c in shown]
    audit.note_read(
        db,
        actor=actor,
        action="outcomes.dashboard",
        object_type="course",
        detail=f"{len(rows)} of {len(courses)} active courses (page {page + 1} of {pages})",
    )
    db.flush()
    return DashboardPage(
        rows=rows,
        total=len(courses),
        needing_attention=sum(1 for f in flagged.values() if f),
        page=page,
        pages=pages,
        size=size,
    )


def progress_report(
    db: Session, *, actor: Actor, patient_id: int, now: datetime | None = None
) -> Standing:
    """The standing a progress report prints: the patient's own (in the portal) or the
    care team's; its score trends carry the response and remission lines of the
    instruments and course rules. Audited as one read."""
    check_patient(db, actor, patient_id)
    now = now or utcnow()
    course = (
        orders.latest_course(db, patient_id)
        if actor.patient_only
        else context.latest_course(db, actor=actor, patient_id=patient_id)
    )
    found = standing(db, actor=actor, patient_id=patient_id, now=now, course=course)
    audit.note_read(
        db,
        actor=actor,
        action="outcomes.progress_report",
        patient_id=patient_id,
        object_type="questionnaire_response",
        detail=f"{sum(len(t.points) for t in found.trends.values())} scores",
    )
    db.flush()
    return found
