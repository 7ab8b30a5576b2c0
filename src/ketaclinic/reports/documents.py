"""The reports' PDF layouts, each from what the service read (no database here), on the
project's one PDF builder (``platform.pdf.ClinicDocument``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ketaclinic.platform.db import utcnow
from ketaclinic.platform.pdf import ClinicDocument, Signature, clinic_letterhead


def document(title: str, subtitle: str | None, zone: ZoneInfo) -> ClinicDocument:
    clinic, lines = clinic_letterhead()
    return ClinicDocument(
        title=title,
        clinic=clinic,
        subtitle=subtitle,
        letterhead_lines=lines,
        printed_at=utcnow().astimezone(zone),
    )


def when(moment: datetime | None, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M %Z}" if moment else "–"


def identity(doc: ClinicDocument, patient: Any, *extra: tuple[str, str]) -> None:
    """The patient's name, date of birth and MRN at the head of every clinical document."""
    doc.fields(
        [
            ("Patient", f"{patient.family_name}, {patient.given_name}"),
            ("Date of birth", patient.date_of_birth.isoformat()),
            ("Medical record number", patient.mrn),
            *extra,
        ],
        label_width=54,
    )


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


# ------------------------------------------------------------------ the session note
CHRONOLOGY = "\n\nChronology:\n"
DISCHARGE = "\n\nDischarge criteria"


def session_note(*, state: Any, zone: ZoneInfo, protocol: str, addenda: Sequence[Any]) -> bytes:
    """The signed note as signed (its frozen text; its chronology as a table), the
    signature and co-signature with their meaning and time, then every addendum."""
    note, session = state.note, state.session
    doc = document(
        "Session note",
        f"Session {session.number} · {protocol} · signed {when(note.signed_at, zone)}",
        zone,
    )
    identity(doc, state.patient)
    body: str = note.body
    head, _, rest = body.partition(CHRONOLOGY)
    chronology, marker, after = rest.partition(DISCHARGE)
    for block in head.split("\n\n"):
        doc.paragraph(block)
    if rest:
        doc.heading("Chronology")
        rows = [r for r in (note.lines or []) if isinstance(r, list | tuple) and len(r) == 3]
        if rows:
            doc.table(["Time", "Kind", "What was charted"], rows, widths=[28, 22, 130])
        else:
            doc.paragraph(chronology)
    if marker:
        doc.heading("Discharge criteria (as judged at discharge)")
        doc.paragraph(after.partition("\n")[2])
    doc.heading("Signatures")
    doc.signature(
        Signature(
            name=note.signed_by_name,
            signed_at=when(note.signed_at, zone),
            meaning=f"Signed: {note.signature_meaning or 'signed this session note'}",
        )
    )
    if note.cosigned_at:
        doc.signature(
            Signature(
                name=note.cosigned_by_name or note.cosigned_by or "",
                signed_at=when(note.cosigned_at, zone),
                meaning=f"Co-signed: {note.cosignature_meaning or 'co-signed this session note'}",
            )
        )
    else:
        doc.paragraph("Co-signature: awaiting a prescriber.")
    for number, addendum in enumerate(addenda, start=1):
        doc.heading(f"Addendum {number}")
        doc.paragraph(addendum.body)
        doc.signature(
            Signature(
                name=addendum.signed_by_name,
                signed_at=when(addendum.signed_at, zone),
                meaning=f"Signed: {addendum.signature_meaning or 'authored this addendum'}",
            )
        )
    return doc.output()


# ------------------------------------------------------------------ the REMS form
# The sections and fields of the SPRAVATO REMS Patient Monitoring Form (outpatient use),
# in its order, as the form reads in its 2021 and 2024 printings (Janssen, "SPRAVATO REMS
# Patient Monitoring Form - Outpatient Use Only"; www.SPRAVATOrems.com); the answers come
# from the monitoring record (``sessions.REMS_FORM_FIELDS``) and the session's chart.
REMS_FORM_SOURCE = (
    "SPRAVATO® REMS Patient Monitoring Form – Outpatient Use Only (Janssen Pharmaceuticals; "
    "printings of 11/2021 and 2024): complete after every treatment session and submit "
    "within 7 days at www.SPRAVATOrems.com or by fax"
)


@dataclass(frozen=True)
class RemsForm:
    patient: Any
    first_treatment: bool
    enrolment_id: str | None
    values: dict[str, Any]
    monitor_name: str
    monitor_email: str
    prescriber_name: str
    setting: tuple[str, str, str, str, str, str]  # name, address, city, state, ZIP, phone
    administered: list[tuple[datetime, str]]  # (when, which device and mg)
    before: str
    after: str
    record: Any  # the monitoring record (signed, filed)
    template_version: str


def _yes_no(value: Any) -> str:
    return {"yes": "Yes", "no": "No"}.get(str(value), "–" if value in (None, "") else str(value))


def rems_form(form: RemsForm, zone: ZoneInfo) -> bytes:
    v, record, patient = form.values, form.record, form.patient
    signed = record.signed_at is not None
    doc = document(
        "SPRAVATO® REMS Patient Monitoring Form",
        "Outpatient use · "
        + (
            f"signed {when(record.signed_at, zone)}"
            if signed
            else "DRAFT: not signed, not for submission"
        ),
        zone,
    )
    doc.heading("Patient information")
    doc.fields(
        [
            ("First name", patient.given_name),
            ("Last name", patient.family_name),
            ("Birthdate (MM/DD/YYYY)", f"{patient.date_of_birth:%m/%d/%Y}"),
            ("Sex", str(patient.sex).capitalize()),
            ("Medical record number", patient.mrn),
            ("First treatment", "Yes" if form.first_treatment else "No"),
            ("Enrolled in the REMS", f"Yes ({form.enrolment_id})" if form.enrolment_id else "No"),
        ],
        label_width=58,
    )
    doc.heading("Concomitant medication")
    doc.paragraph(
        "Is the patient currently taking any of the following medications that may cause "
        "sedation or blood pressure changes?",
        small=True,
    )
    doc.fields(
        [
            ("Benzodiazepines", _yes_no(v.get("benzodiazepines"))),
            (
                "Non-benzodiazepine sedative hypnotics",
                _yes_no(v.get("non_benzodiazepine_hypnotics")),
            ),
            ("Psychostimulants", _yes_no(v.get("psychostimulants"))),
            ("Monoamine oxidase inhibitors (MAOIs)", _yes_no(v.get("maois"))),
        ],
        label_width=80,
    )
    name, address, city, state, zip_code, phone = form.setting
    doc.heading("Healthcare provider conducting patient monitoring")
    doc.fields(
        [
            ("Name", form.monitor_name),
            ("Telephone", phone),
            ("Email", form.monitor_email or "–"),
            ("Prescriber", form.prescriber_name),
        ],
        label_width=58,
    )
    doc.heading("Healthcare setting information")
    doc.fields(
        [
            ("Healthcare setting name", name),
            ("Address", address),
            ("City, state, ZIP", f"{city}, {state} {zip_code}"),
        ],
        label_width=58,
    )
    doc.heading("Patient treatment session information (administration and monitoring)")
    first = form.administered[0][0] if form.administered else None
    doc.fields(
        [
            ("Treatment date (MM/DD/YYYY)", f"{first.astimezone(zone):%m/%d/%Y}" if first else "–"),
            (
                "Dose administered",
                f"{v['dose_mg']:g} mg" if v.get("dose_mg") is not None else "–",
            ),
            ("Lot number", str(v.get("lot_number") or "–")),
            (
                "Treatment duration",
                f"{v['monitoring_min']} minutes from the first device to the end of monitoring"
                if v.get("monitoring_min") is not None
                else "–",
            ),
            (
                "Ready to leave",
                f"{v.get('ready_to_leave_at')} ("
                + (
                    f"{v['monitoring_min']} minutes from the start of administration)"
                    if v.get("monitoring_min") is not None
                    else "–)"
                )
                if v.get("ready_to_leave_at")
                else "–",
            ),
        ],
        label_width=64,
    )
    doc.paragraph("The patient must be monitored for at least 2 hours.", small=True)
    doc.table(
        ["Administration", "Date and time"],
        [[what, when(at, zone)] for at, what in form.administered],
        widths=[90, 90],
        empty="No device charted.",
    )
    doc.heading("Monitoring of vital signs and blood pressure")
    doc.fields(
        [
            ("Vital signs before administration", form.before),
            ("Vital signs before leaving", form.after),
            ("BP prior to administration", f"{v.get('bp_before_dosing') or '–'} mmHg"),
            ("BP 40 minutes post-administration", f"{v.get('bp_40_min') or '–'} mmHg"),
            ("BP prior to session completion", f"{v.get('bp_before_leaving') or '–'} mmHg"),
        ],
        label_width=70,
    )
    doc.heading("Observed during the monitoring period")
    doc.fields(
        [
            ("Sedation", _yes_no(v.get("sedation"))),
            ("Dissociation", _yes_no(v.get("dissociation"))),
            ("Respiratory depression", _yes_no(v.get("respiratory_depression"))),
            ("Serious adverse events", str(v.get("serious_adverse_events") or "–")),
        ],
        label_width=58,
    )
    doc.heading("Attestation")
    if signed:
        doc.signature(
            Signature(
                name=record.signed_by_name or record.signed_by or "",
                signed_at=when(record.signed_at, zone),
                meaning=f"Healthcare provider: {record.signature_meaning}",
            )
        )
    else:
        doc.paragraph("Not signed: complete and sign the record in ketaclinic before filing.")
    if record.filed_at:
        doc.paragraph(
            f"Filed {when(record.filed_at, zone)} by {record.filed_by}"
            + (f", reference {record.filing_reference}" if record.filing_reference else "")
            + "."
        )
    else:
        doc.paragraph(f"To be filed by {record.due_on:%Y-%m-%d} (7 days after the session).")
    doc.paragraph(f"Form: {REMS_FORM_SOURCE}. Template {form.template_version}.", small=True)
    return doc.output()


# ------------------------------------------------------------------ the progress report
@dataclass(frozen=True)
class Progress:
    patient: Any
    standing: Any  # outcomes.Standing
    plan: Any  # care.ReportPlan
    charts: list[tuple[str, bytes]]  # (instrument name, PNG)
    prepared_for: str | None  # the referring clinician; None: the patient's own copy
    stage_words: str
    category_words: dict[str, str]
    protocol: str


def progress_report(report: Progress, zone: ZoneInfo) -> bytes:
    own = report.prepared_for is None
    standing, plan = report.standing, report.plan
    doc = document(
        "Your progress report" if own else "Patient progress report",
        "Copy for the patient" if own else f"Prepared for {report.prepared_for}",
        zone,
    )
    course = standing.course
    identity(
        doc,
        report.patient,
        ("Treatment", report.protocol if course else "No course yet"),
        ("Where the course stands", report.stage_words),
    )
    doc.heading("Scores over time")
    if not report.charts:
        doc.paragraph("No questionnaire has been scored yet.")
    for _, png in report.charts:
        doc.image(png)
    rows = []
    for trend in standing.trends.values():
        for at, total, context, _ in trend.points:
            rows.append((at, trend.name, total, context.replace("_", " ")))
    rows.sort(key=lambda r: r[0])
    doc.table(
        ["Date", "Questionnaire", "Total", "When taken"],
        [[f"{at.astimezone(zone):%Y-%m-%d}", name, total, ctx] for at, name, total, ctx in rows],
        widths=[30, 70, 20, 50],
        align_right=(2,),
        empty="No scores.",
    )
    lines = []
    for trend in standing.trends.values():
        parts = [trend.name]
        if trend.baseline is not None:
            parts.append(f"baseline {trend.baseline:g}")
        if trend.response_line is not None:
            parts.append(f"response at or below {trend.response_line:g}")
        if trend.remission_max is not None:
            parts.append(f"remission at or below {trend.remission_max}")
        lines.append(", ".join(parts))
    primary = standing.primary
    if primary is not None:
        lines.append("Latest: " + report.category_words.get(primary.category, primary.category))
    for line in lines:
        doc.paragraph(line, small=True)
    doc.heading("Sessions given")
    doc.table(
        ["Session", "Date", "Kind"],
        [[s.number, f"{s.at.astimezone(zone):%Y-%m-%d}", s.kind] for s in standing.sessions],
        widths=[20, 40, 40],
        empty="No session given yet.",
    )
    doc.heading("Current plan")
    doc.fields(
        [
            ("Sessions given in the course", str(plan.done)),
            ("Latest course decision", plan.decision or "None yet"),
            ("Maintenance", plan.maintenance or "Not in maintenance"),
            (
                "Psychotherapy",
                f"{plan.therapy_done} session(s) held, {len(plan.therapy_next)} booked",
            ),
        ],
        label_width=58,
    )
    doc.table(
        ["Next session", "Kind", "Status", "Not before"],
        [
            [p.number, p.kind, p.status, p.earliest_on.isoformat() if p.earliest_on else "–"]
            for p in plan.next_sessions
        ],
        widths=[25, 30, 30, 40],
        empty="No further session is planned.",
    )
    if plan.therapy_next:
        doc.table(
            ["Psychotherapy", "Booked for"],
            [[t.phase.capitalize(), when(t.starts_at, zone)] for t in plan.therapy_next],
            widths=[50, 60],
        )
    if own:
        doc.paragraph(
            "Questions about this report: ask your care team at your next visit or call the "
            "clinic. In a crisis call or text 988 (US Suicide & Crisis Lifeline) or 911.",
            small=True,
        )
    return doc.output()


# ------------------------------------------------------------------ the clinic report
def clinic_report(
    *,
    start: date,
    end: date,
    groups: Sequence[Any],
    overall: tuple[Any, Any],
    safety: Any,
    protocol_names: dict[str, str],
    zone: ZoneInfo,
) -> bytes:
    doc = document(
        "Clinic outcomes and safety report",
        f"{start:%Y-%m-%d} to {end:%Y-%m-%d} · counts only, no patient named",
        zone,
    )
    doc.heading("Response and remission (courses started in the period)")

    def rate(r: Any) -> str:
        if not r.n:
            return "no evaluable course"
        return f"{r.count}/{r.n} = {percent(r.rate)} (95% CI {percent(r.low)}–{percent(r.high)})"

    doc.table(
        ["Indication", "Protocol", "Courses", "Evaluable", "Response", "Remission"],
        [
            [
                g.indication.replace("_", " "),
                protocol_names.get(g.protocol_id, g.protocol_id),
                g.courses,
                g.evaluable,
                rate(g.response),
                rate(g.remission),
            ]
            for g in groups
        ]
        + (
            [
                ["All", "", sum(g.courses for g in groups), sum(g.evaluable for g in groups)]
                + [rate(overall[0]), rate(overall[1])]
            ]
            if groups
            else []
        ),
        widths=[25, 40, 17, 18, 45, 45],
        align_right=(2, 3),
        empty="No course started in this period.",
    )
    doc.paragraph(
        "Response: the primary instrument's latest score at least the course rules' reduction "
        "below baseline (or in remission); remission by the instrument's cut-off. Intervals are "
        "95% Wilson score intervals (Wilson EB, J Am Stat Assoc 1927;22:209-212; recommended "
        "for proportions by Newcombe RG, Stat Med 1998;17:857-872).",
        small=True,
    )
    doc.heading("Sessions given, alarms and interventions")
    doc.table(
        [
            "Protocol",
            "Sessions",
            "Alarms",
            "By level",
            "Alarms per session",
            "Sessions with an alarm",
            "Interventions",
            "Per session",
        ],
        [
            [
                protocol_names.get(p.protocol_id, p.protocol_id),
                p.sessions,
                p.alarms,
                ", ".join(f"{k} {v}" for k, v in p.alarms_by_level.items()) or "–",
                f"{p.alarms_per_session:.2f}",
                f"{p.sessions_with_alarm} ({percent(p.sessions_with_alarm / p.sessions)})",
                p.interventions,
                f"{p.interventions_per_session:.2f}",
            ]
            for p in safety.protocols
        ],
        widths=[38, 16, 14, 28, 18, 24, 24, 16],
        align_right=(1, 2, 4, 6, 7),
        empty="No session given in this period.",
    )
    doc.heading("Adverse events (side effects charted)")
    doc.table(
        ["Side effect", "Severity", "Count"],
        [[a.label, a.severity, a.count] for a in safety.adverse_events],
        widths=[90, 40, 20],
        align_right=(2,),
        empty="No side effect charted in this period.",
    )
    doc.heading("Interventions by drug")
    doc.table(
        ["Drug", "Count"],
        [[drug, count] for drug, count in safety.interventions_by_drug.items()],
        widths=[90, 20],
        align_right=(1,),
        empty="No intervention charted in this period.",
    )
    return doc.output()
