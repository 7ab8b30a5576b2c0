"""What people do with reports, one function per act: print a signed session note, a
REMS monitoring form, a progress report or the clinic's outcomes and safety report, and
take the de-identified research export. Each reads the other areas through their
services (which check access and note their reads) and notes its own read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy.orm import Session

from ketaclinic.care import service as care
from ketaclinic.clinical import disclosure, instruments, labels
from ketaclinic.clinical.dosing import table as dosing_table
from ketaclinic.configuration import service as configuration
from ketaclinic.interop import service as interop
from ketaclinic.outcomes import service as outcomes
from ketaclinic.patients import service as patients
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.errors import Conflict, Forbidden, Invalid, NotFound
from ketaclinic.platform.roles import Role
from ketaclinic.platform.settings import get_settings
from ketaclinic.reports import charts, documents, research
from ketaclinic.sessions import service as sessions

RUNNERS = frozenset({Role.nurse, Role.prescriber})
# The referring clinician's copy is made by the clinicians who run the course.
PROGRESS_STAFF = frozenset({Role.prescriber, Role.nurse})
# The medical director's report: prescribers and administrators.
CLINIC_READERS = frozenset({Role.prescriber, Role.admin})
RESEARCHERS = frozenset({Role.researcher})
# The longest period one clinic report covers (ketaclinic's own bound: a year and a day,
# so that any calendar year fits; a longer one is two reports).
LONGEST_PERIOD = timedelta(days=366)


@dataclass(frozen=True)
class Pdf:
    filename: str
    content: bytes


def _require(actor: Actor, roles: frozenset[Role], what: str) -> None:
    if not actor.roles & roles:
        raise Forbidden(f"your role does not permit {what}")


def protocol_names() -> dict[str, str]:
    return {p.id: p.name for p in dosing_table.PROTOCOLS}


def protocol_name(protocol_id: str) -> str:
    return protocol_names().get(protocol_id, protocol_id.replace("_", " "))


# ------------------------------------------------------------------ the session note
def session_note_pdf(db: Session, *, actor: Actor, session_id: int) -> Pdf:
    """The signed session note with its signatures and addenda (no draft: a note
    becomes a document when the nurse signs it)."""
    _require(actor, RUNNERS, "printing session notes")
    state = sessions.get_session(db, actor=actor, session_id=session_id)
    note = state.note
    if note is None:
        raise Conflict("the session note is not signed yet: sign it on the session page first")
    addenda = [n for n in state.notes if n.kind == "addendum"]
    content = documents.session_note(
        state=state,
        zone=get_settings().zone,
        protocol=protocol_name(state.session.protocol_id),
        addenda=addenda,
    )
    audit.note_read(
        db,
        actor=actor,
        action="report.session_note",
        patient_id=state.patient.id,
        object_type="session_note",
        object_id=note.id,
    )
    db.flush()
    return Pdf(f"session-note-{state.patient.mrn}-{state.session.number}.pdf", content)


# ------------------------------------------------------------------ the REMS form
def _vitals_words(reading: Any, zone: Any) -> str:
    if reading is None:
        return "–"
    row = reading.row
    parts = []
    if row.systolic_bp is not None:
        parts.append(f"BP {row.systolic_bp}/{row.diastolic_bp} mmHg")
    if row.heart_rate is not None:
        parts.append(f"HR {row.heart_rate}/min")
    if row.spo2 is not None:
        parts.append(f"SpO2 {row.spo2}%")
    if row.respiratory_rate is not None:
        parts.append(f"RR {row.respiratory_rate}/min")
    return ", ".join(parts) + f" at {row.taken_at.astimezone(zone):%H:%M}"


def _user(db: Session, username: str | None) -> Any:
    if not username:
        return None
    try:
        return accounts.get_user(db, username=username)
    except NotFound:
        return None


def rems_form_pdf(db: Session, *, actor: Actor, session_id: int) -> Pdf:
    """The esketamine session's Patient Monitoring Form, filled from its monitoring
    record (frozen at signing) and the session's chart; a record not yet signed prints
    as a draft marked not for submission."""
    _require(actor, RUNNERS, "printing REMS monitoring forms")
    state = sessions.get_session(db, actor=actor, session_id=session_id)
    record = state.monitoring_record
    if not state.esketamine or record is None:
        raise NotFound("this session has no REMS monitoring form (not an esketamine session)")
    settings = get_settings()
    zone = settings.zone
    values = sessions.rems_form_values(state)
    monitor = _user(db, record.signed_by) or _user(db, state.session.created_by)
    prescriber = _user(db, state.order.signed_by)
    administered = []
    for number, device in enumerate(state.devices, start=1):
        mg = (device.detail or {}).get("mg", state.device_mg)
        administered.append((device.at, f"Device {number}" + (f" ({mg:g} mg)" if mg else "")))
    after = [r for r in state.readings if r.phase == "recovery"]
    phone = settings.billing_phone
    if len(phone) == 10 and phone.isdigit():
        phone = f"({phone[:3]}) {phone[3:6]}-{phone[6:]}"
    form = documents.RemsForm(
        patient=state.patient,
        first_treatment=state.session.number == 1,
        enrolment_id=state.enrolment.enrolment_id if state.enrolment else None,
        values=values,
        monitor_name=record.signed_by_name or (monitor.full_name if monitor else "–"),
        monitor_email=(monitor.email or "") if monitor is not None else "",
        prescriber_name=(
            prescriber.full_name if prescriber is not None else state.order.signed_by or "–"
        ),
        setting=(
            settings.clinic_name,
            settings.billing_address,
            settings.billing_city,
            settings.billing_state,
            settings.billing_zip[:5],
            phone,
        ),
        administered=administered,
        before=_vitals_words(state.baseline() if state.dose_start else None, zone),
        after=_vitals_words(after[-1] if after and state.discharged else None, zone),
        record=record,
        template_version=record.template_version,
    )
    content = documents.rems_form(form, zone)
    audit.note_read(
        db,
        actor=actor,
        action="report.rems_form",
        patient_id=state.patient.id,
        object_type="rems_monitoring_record",
        object_id=record.id,
    )
    db.flush()
    return Pdf(f"rems-monitoring-{state.patient.mrn}-{record.session_on:%Y%m%d}.pdf", content)


# ------------------------------------------------------------------ the progress report
Audience = Literal["patient", "referring"]


def progress_report_pdf(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    audience: Audience = "patient",
    member_id: int | None = None,
) -> Pdf:
    """Scores over time as charts (with the response and remission lines the outcome
    rules give), sessions given and the current plan: the patient's own copy (in the
    portal), or a copy for the referring clinician on the care team (``member_id``
    chooses one when there are several)."""
    if actor.patient_only:
        if actor.patient_id != patient_id or audience != "patient":
            raise NotFound("no such patient")
    else:
        _require(actor, PROGRESS_STAFF, "printing progress reports")
    patient = patients.get_patient(db, actor=actor, patient_id=patient_id, purpose="progress")
    standing = outcomes.progress_report(db, actor=actor, patient_id=patient_id)
    plan = care.report_plan(db, actor=actor, patient_id=patient_id)
    prepared_for = None
    if audience == "referring":
        chosen = [m for m in plan.referring if member_id is None or m.id == member_id]
        if not chosen:
            raise Conflict(
                "no referring clinician is on this patient's care team: add one on the care "
                "plan page first"
            )
        who = chosen[0]
        prepared_for = who.name + (f", {who.organisation}" if who.organisation else "")
    zone = get_settings().zone
    pictures = []
    for trend in standing.trends.values():
        if not trend.points:
            continue
        series = charts.ScoreSeries(
            name=trend.name,
            points=[(at.astimezone(zone), total) for at, total, _, _ in trend.points],
            max_total=trend.max_total,
            response_line=trend.response_line,
            remission_max=trend.remission_max,
        )
        pictures.append((trend.name, charts.score_chart_png(series)))
    course = standing.course
    content = documents.progress_report(
        documents.Progress(
            patient=patient,
            standing=standing,
            plan=plan,
            charts=pictures,
            prepared_for=prepared_for,
            stage_words=standing.stage_label,
            category_words=outcomes.CATEGORIES,
            protocol=protocol_name(course.protocol_id) if course else "",
        ),
        zone,
    )
    audit.note_read(
        db,
        actor=actor,
        action="report.progress",
        patient_id=patient_id,
        object_type="patient",
        object_id=patient_id,
        detail=f"for {prepared_for or 'the patient'}",
    )
    db.flush()
    suffix = "referring" if prepared_for else "patient"
    return Pdf(f"progress-report-{patient.mrn}-{suffix}.pdf", content)


# ------------------------------------------------------------------ the clinic report
def period(start: date, end: date) -> tuple[datetime, datetime]:
    """The clinic's days from ``start`` to ``end`` (both included) as UTC-aware bounds."""
    if end < start:
        raise Invalid("the period must start on or before its end", fields={"start": "after end"})
    if end - start > LONGEST_PERIOD:
        raise Invalid(
            "a report covers at most a year and a day: make two", fields={"end": "too long"}
        )
    zone = get_settings().zone
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def pooled(groups: list[Any]) -> tuple[Any, Any]:
    """The clinic's response and remission over every group: counts summed, interval
    computed on the sums."""

    def rate(count: int, n: int) -> Any:
        low, high = outcomes.wilson_interval(count, n) if n else (None, None)
        return outcomes.Rate(count, n, low, high)

    return (
        rate(sum(g.response.count for g in groups), sum(g.response.n for g in groups)),
        rate(sum(g.remission.count for g in groups), sum(g.remission.n for g in groups)),
    )


def clinic_report_pdf(db: Session, *, actor: Actor, start: date, end: date) -> Pdf:
    """Response and remission rates with 95% Wilson intervals, alarms and interventions
    per session, adverse events and sessions given by protocol, for the clinic's days
    ``start`` to ``end``."""
    _require(actor, CLINIC_READERS, "reading the clinic's outcomes and safety report")
    begin, until = period(start, end)
    groups = outcomes.clinic_outcomes(db, actor=actor, start=begin, end=until)
    safety = sessions.period_safety(db, actor=actor, start=begin, end=until)
    content = documents.clinic_report(
        start=start,
        end=end,
        groups=groups,
        overall=pooled(groups),
        safety=safety,
        protocol_names=protocol_names(),
        zone=get_settings().zone,
    )
    audit.note_read(
        db,
        actor=actor,
        action="report.clinic",
        object_type="report",
        detail=f"{start:%Y-%m-%d} to {end:%Y-%m-%d}",
    )
    db.flush()
    return Pdf(f"clinic-report-{start:%Y%m%d}-{end:%Y%m%d}.pdf", content)


# ------------------------------------------------------------------ research
def _suppression(db: Session) -> disclosure.Suppression:
    return disclosure.research_rule(configuration.overrides_for(db, "disclosure.suppression"))


@dataclass(frozen=True)
class Cell:
    """A count as a research table shows it: the number, or suppressed."""

    count: int
    text: str
    suppressed: bool


@dataclass(frozen=True)
class RateCell:
    count: Cell
    n: Cell
    text: str  # "k/n = r% (95% CI a–b%)", or why it is not shown


@dataclass(frozen=True)
class OutcomeRow:
    indication: str
    protocol: str
    courses: Cell
    evaluable: Cell
    response: RateCell
    remission: RateCell


@dataclass(frozen=True)
class ResearchTables:
    rule: disclosure.Suppression
    patients: Cell
    by_sex: list[tuple[str, Cell]]
    by_age_band: list[tuple[str, Cell]]
    outcomes: list[OutcomeRow]
    start: date
    end: date


def _cell(count: int, rule: disclosure.Suppression) -> Cell:
    hidden = disclosure.suppressed(count, rule)
    return Cell(count, disclosure.shown(count, rule), hidden)


def _rate_cell(rate: Any, rule: disclosure.Suppression) -> RateCell:
    count, n = _cell(rate.count, rule), _cell(rate.n, rule)
    if not rate.n:
        return RateCell(count, n, "no evaluable course")
    # The rate would give away a small numerator or complement: suppressed with them.
    if count.suppressed or n.suppressed or disclosure.suppressed(rate.n - rate.count, rule):
        return RateCell(count, n, f"suppressed (a cell under {rule.min_cell})")
    text = (
        f"{rate.count}/{rate.n} = {documents.percent(rate.rate)} "
        f"(95% CI {documents.percent(rate.low)}–{documents.percent(rate.high)})"
    )
    return RateCell(count, n, text)


def research_tables(
    db: Session, *, actor: Actor, start: date, end: date, today: date | None = None
) -> ResearchTables:
    """The researcher's aggregate tables: the cohort by sex and age band, response and
    remission by indication and protocol; every cell under the clinic's minimum cell
    size suppressed (``disclosure.suppression``: 11 by default, the CMS policy)."""
    _require(actor, RESEARCHERS, "reading the research tables")
    rule = _suppression(db)
    today = today or datetime.now(get_settings().zone).date()
    cohort = patients.deidentified_summary(db, actor=actor, today=today)
    begin, until = period(start, end)
    groups = outcomes.clinic_outcomes(db, actor=actor, start=begin, end=until)
    names = protocol_names()
    return ResearchTables(
        rule=rule,
        patients=_cell(cohort["total"], rule),
        by_sex=[(k, _cell(v, rule)) for k, v in cohort["by_sex"].items()],
        by_age_band=[(k, _cell(v, rule)) for k, v in cohort["by_age_band"].items()],
        outcomes=[
            OutcomeRow(
                indication=labels.name(g.indication),
                protocol=names.get(g.protocol_id, g.protocol_id),
                courses=_cell(g.courses, rule),
                evaluable=_cell(g.evaluable, rule),
                response=_rate_cell(g.response, rule),
                remission=_rate_cell(g.remission, rule),
            )
            for g in groups
        ],
        start=start,
        end=end,
    )


@dataclass(frozen=True)
class Export:
    filename: str
    content: bytes
    patients: int
    sessions: int
    scores: int


# The export's steps, for a progress bar: the patients and their masks, the sessions, the
# scores, the archive.
EXPORT_STEPS = 4


def research_export(
    db: Session,
    *,
    actor: Actor,
    today: date | None = None,
    via: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Export:
    """The de-identified dataset (HIPAA Safe Harbor, the FHIR export's rule): one row per
    session and one per score, as CSV and Parquet with a data dictionary, in a ZIP.
    Researchers only; audited as one read of the whole clinic (``via`` names another way
    in than the page, such as the command line, in the audit record's detail).
    ``progress(done, total)`` hears each of its ``EXPORT_STEPS`` steps."""
    _require(actor, RESEARCHERS, "taking the research export")

    def step(done: int) -> None:
        if progress is not None:
            progress(done, EXPORT_STEPS)

    step(0)
    zone = get_settings().zone
    today = today or datetime.now(zone).date()
    people = {p.id: p for p in patients.patients_matching(db)}
    masks = interop.patient_masks({pid: p.date_of_birth for pid, p in people.items()}, today=today)
    step(1)
    records = sessions.session_records(db)
    doses: dict[int, float] = {}
    for dose in sessions.doses_given(db):
        if dose.dose_mg is not None:
            doses[dose.session_id] = doses.get(dose.session_id, 0.0) + dose.dose_mg
    names = protocol_names()
    first_session: dict[int, datetime] = {}
    session_rows = []
    for r in records:
        mask, person = masks[r.patient_id], people[r.patient_id]
        if r.started_at is not None and r.status != "cancelled":
            first = first_session.get(r.patient_id)
            first_session[r.patient_id] = min(first, r.started_at) if first else r.started_at
        on = (r.started_at or r.created_at).astimezone(zone).date()
        session_rows.append(
            {
                "patient": mask.pseudonym,
                "session": mask.record("Session", r.id),
                "session_number": r.number,
                "protocol": r.protocol_id,
                "protocol_name": names.get(r.protocol_id, r.protocol_id),
                "route": r.route,
                "status": r.status,
                "started_at": mask.moment(r.started_at) if r.started_at else None,
                "ended_at": mask.moment(r.ended_at) if r.ended_at else None,
                "dose_mg": round(doses[r.id], 3) if r.id in doses else None,
                "sex": person.sex,
                "age": interop.age_group(person.date_of_birth, on=on),
                "birth_year": mask.birth_year,
            }
        )
    step(2)
    score_rows = []
    for stored in outcomes.stored_responses(db):
        response = stored.response
        if response.total is None:
            continue
        mask, person = masks[response.patient_id], people[response.patient_id]
        first = first_session.get(response.patient_id)
        try:
            instrument_name = instruments.get(response.instrument_id).name
        except ValueError:
            instrument_name = response.instrument_id
        score_rows.append(
            {
                "patient": mask.pseudonym,
                "response": mask.record("QuestionnaireResponse", response.id),
                "session": mask.record("Session", response.session_id)
                if response.session_id
                else None,
                "instrument": response.instrument_id,
                "instrument_name": instrument_name,
                "total": response.total,
                "severity": response.severity or response.risk,
                "context": response.context,
                "completed_at": mask.moment(response.completed_at),
                "days_from_first_session": round(
                    (response.completed_at - first).total_seconds() / 86400, 2
                )
                if first
                else None,
                "sex": person.sex,
                "age": interop.age_group(
                    person.date_of_birth, on=response.completed_at.astimezone(zone).date()
                ),
            }
        )
    step(3)
    content = research.archive(
        session_rows,
        score_rows,
        method=interop.SAFE_HARBOR.citation,
        shift=f"{interop.DATE_SHIFT_SOURCE.citation} ({interop.DATE_SHIFT_SOURCE.evidence})",
        made=f"{today:%Y-%m-%d}",
        patients=len({row["patient"] for row in session_rows + score_rows}),
    )
    found = Export(
        f"research-export-{today:%Y%m%d}.zip",
        content,
        len({row["patient"] for row in session_rows + score_rows}),
        len(session_rows),
        len(score_rows),
    )
    audit.note_read(
        db,
        actor=actor,
        action="research.export",
        object_type="dataset",
        detail=f"de-identified: {found.patients} patients, {found.sessions} sessions, "
        f"{found.scores} scores" + (f"; taken from {via}" if via else ""),
    )
    db.flush()
    step(EXPORT_STEPS)
    return found
