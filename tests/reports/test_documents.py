"""Each report as PDF, its text read back (pypdf) against the record it prints: the
signed session note, the REMS monitoring form, the progress report (the patient's copy
and the referring clinician's), the clinic's outcomes and safety report."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic import demo
from ketaclinic.care.models import CareTeamMember
from ketaclinic.clinical import course as clinical_course
from ketaclinic.clinical import instruments
from ketaclinic.outcomes.models import QuestionnaireResponse
from ketaclinic.patients.models import Patient
from ketaclinic.platform.accounts.models import User
from ketaclinic.platform.errors import Conflict, Forbidden, NotFound
from ketaclinic.platform.settings import get_settings
from ketaclinic.reports import service
from ketaclinic.sessions import service as sessions
from ketaclinic.sessions.models import (
    InfusionSession,
    MonitoringRecord,
    SessionAlarm,
    SessionEntry,
    SessionNote,
)
from tests.reports.conftest import actor, pdf_text


def _local(moment: datetime) -> str:
    return f"{moment.astimezone(get_settings().zone):%Y-%m-%d %H:%M}"


def _cosigned_session(db: Session) -> InfusionSession:
    return db.scalars(
        select(InfusionSession)
        .where(InfusionSession.status == "cosigned", InfusionSession.route == "iv")
        .order_by(InfusionSession.id)
    ).first()


# ------------------------------------------------------------------ session note
def test_the_signed_note_prints_with_letterhead_identity_signatures_and_addenda(
    db: Session,
) -> None:
    nurse = actor(db, "nurse.okafor")
    row = _cosigned_session(db)
    sessions.add_addendum(
        db,
        actor=nurse,
        session_id=row.id,
        text="Patient called the next morning: home safely, no headache.",
        password=demo.PASSWORD,
    )
    db.flush()
    note = db.scalars(
        select(SessionNote).where(SessionNote.session_id == row.id, SessionNote.kind == "note")
    ).one()
    patient = db.get(Patient, row.patient_id)
    text = pdf_text(service.session_note_pdf(db, actor=nurse, session_id=row.id).content)

    settings = get_settings()
    for expected in (
        settings.clinic_name,
        settings.billing_address,
        f"{patient.family_name}, {patient.given_name}",
        patient.date_of_birth.isoformat(),
        patient.mrn,
        "Session note",
        note.signed_by_name,
        f"Signed: {note.signature_meaning}",
        _local(note.signed_at),
        note.cosigned_by_name,
        f"Co-signed: {note.cosignature_meaning}",
        _local(note.cosigned_at),
        "Addendum 1",
        "home safely, no headache",
        "authored this addendum",
        "Chronology",
    ):
        assert expected in text, expected
    # Every charted line of the frozen note is in the table, time and words.
    for when, _, what in note.lines[:5]:
        assert when in text
        assert what.split(" by ")[0][:30] in text.replace("\n", " ")
    assert "acknowledge with the action taken" not in text  # no clinic-wide banner


def test_a_note_not_yet_signed_is_not_printed_as_a_document(db: Session) -> None:
    nurse = actor(db, "nurse.okafor")
    unsigned = db.scalars(
        select(InfusionSession).where(InfusionSession.status.in_(("open", "discharged")))
    ).first()
    assert unsigned is not None
    with pytest.raises(Conflict, match="not signed"):
        service.session_note_pdf(db, actor=nurse, session_id=unsigned.id)


def test_a_researcher_prints_no_session_note(db: Session) -> None:
    with pytest.raises(Forbidden):
        service.session_note_pdf(
            db, actor=actor(db, "research.patel"), session_id=_cosigned_session(db).id
        )


# ------------------------------------------------------------------ REMS form
def _filed_record(db: Session) -> MonitoringRecord:
    return db.scalars(
        select(MonitoringRecord)
        .where(MonitoringRecord.filed_at.is_not(None))
        .order_by(MonitoringRecord.id)
    ).first()


def test_the_rems_form_carries_the_official_forms_fields_from_the_signed_record(
    db: Session,
) -> None:
    nurse = actor(db, "nurse.okafor")
    record = _filed_record(db)
    snap = record.snapshot
    row = db.get(InfusionSession, record.session_id)
    patient = db.get(Patient, row.patient_id)
    state = sessions.get_session(db, actor=nurse, session_id=row.id)
    prescriber = db.scalars(select(User).where(User.username == state.order.signed_by)).one()
    text = pdf_text(service.rems_form_pdf(db, actor=nurse, session_id=row.id).content)
    flat = " ".join(text.split())

    settings = get_settings()
    first_device = state.devices[0].at.astimezone(settings.zone)
    for expected in (
        "SPRAVATO® REMS Patient Monitoring Form",
        # patient
        f"First name {patient.given_name}",
        f"Last name {patient.family_name}",
        f"Birthdate (MM/DD/YYYY) {patient.date_of_birth:%m/%d/%Y}",
        f"Sex {patient.sex.capitalize()}",
        # concomitant medication, as answered
        f"Benzodiazepines {snap['benzodiazepines'].capitalize()}",
        "Non-benzodiazepine sedative hypnotics "
        + snap["non_benzodiazepine_hypnotics"].capitalize(),
        f"Psychostimulants {snap['psychostimulants'].capitalize()}",
        f"Monoamine oxidase inhibitors (MAOIs) {snap['maois'].capitalize()}",
        # provider, prescriber and setting
        f"Name {record.signed_by_name}",
        f"Prescriber {prescriber.full_name}",
        f"Healthcare setting name {settings.clinic_name}",
        f"Address {settings.billing_address}",
        # the session
        f"Treatment date (MM/DD/YYYY) {first_device:%m/%d/%Y}",
        f"Dose administered {snap['dose_mg']:g} mg",
        f"Lot number {snap['lot_number']}",
        f"Treatment duration {snap['monitoring_min']} minutes",
        f"Ready to leave {snap['ready_to_leave_at']}",
        f"mg) {first_device:%Y-%m-%d %H:%M}",
        f"BP prior to administration {snap['bp_before_dosing']} mmHg",
        f"BP 40 minutes post-administration {snap['bp_40_min']} mmHg",
        f"BP prior to session completion {snap['bp_before_leaving']} mmHg",
        f"Sedation {snap['sedation'].capitalize()}",
        f"Dissociation {snap['dissociation'].capitalize()}",
        f"Respiratory depression {snap['respiratory_depression'].capitalize()}",
        f"Serious adverse events {snap['serious_adverse_events']}",
        # attestation
        f"Healthcare provider: {record.signature_meaning}",
        _local(record.signed_at),
        f"reference {record.filing_reference}",
    ):
        assert expected in flat, expected


def test_an_unsigned_rems_record_prints_as_a_draft_not_for_submission(db: Session) -> None:
    nurse = actor(db, "nurse.okafor")
    record = db.scalars(
        select(MonitoringRecord).where(MonitoringRecord.signed_at.is_(None))
    ).first()
    assert record is not None
    text = pdf_text(service.rems_form_pdf(db, actor=nurse, session_id=record.session_id).content)
    assert "DRAFT: not signed, not for submission" in text
    assert "Not signed" in text


def test_an_iv_session_has_no_rems_form(db: Session) -> None:
    with pytest.raises(NotFound):
        service.rems_form_pdf(
            db, actor=actor(db, "nurse.okafor"), session_id=_cosigned_session(db).id
        )


# ------------------------------------------------------------------ progress report
def _patient_of(db: Session, username: str) -> Patient:
    user = db.scalars(select(User).where(User.username == username)).one()
    return db.get(Patient, user.patient_id)


def test_the_patients_own_progress_report_has_every_score_the_lines_and_the_plan(
    db: Session,
) -> None:
    me = actor(db, "patient.lucas")
    patient = _patient_of(db, "patient.lucas")
    found = service.progress_report_pdf(db, actor=me, patient_id=patient.id)
    text = pdf_text(found.content)
    flat = " ".join(text.split())
    standing = __import__("ketaclinic.outcomes.service", fromlist=["x"]).progress_report(
        db, actor=me, patient_id=patient.id
    )

    assert "Your progress report" in text and "Copy for the patient" in text
    assert patient.date_of_birth.isoformat() in text and patient.mrn in text
    responses = list(
        db.scalars(
            select(QuestionnaireResponse).where(
                QuestionnaireResponse.patient_id == patient.id,
                QuestionnaireResponse.status == "final",
                QuestionnaireResponse.total.is_not(None),
            )
        )
    )
    assert responses
    shown = [r for r in responses if r.instrument_id in standing.trends]
    for r in shown:
        day = f"{r.completed_at.astimezone(get_settings().zone):%Y-%m-%d}"
        assert f"{day} {instruments.get(r.instrument_id).name} {r.total}" in flat
    phq9 = standing.trends["phq9"]
    # The lines come from the rules: response at half the baseline (a 50% reduction,
    # course.rules), remission at the PHQ-9's cut-off (a total of 4 or less).
    assert clinical_course.RULES["response_reduction_pct"].value == 50
    assert phq9.response_line == phq9.baseline * 0.5
    assert instruments.get("phq9").remission.at_most == 4
    assert f"response at or below {phq9.response_line:g}" in flat
    assert "remission at or below 4" in flat
    for s in standing.sessions:
        assert f"{s.number} {s.at.astimezone(get_settings().zone):%Y-%m-%d}" in flat
    assert "Current plan" in text and "Sessions given in the course" in text
    assert found.filename.endswith("-patient.pdf")


def test_a_patient_reaches_no_one_elses_progress_report(db: Session) -> None:
    me = actor(db, "patient.lucas")
    other = _patient_of(db, "patient.grace")
    with pytest.raises(NotFound):
        service.progress_report_pdf(db, actor=me, patient_id=other.id)
    with pytest.raises(NotFound):
        service.progress_report_pdf(db, actor=me, patient_id=me.patient_id, audience="referring")


def test_the_referring_clinicians_copy_names_them_from_the_care_team(db: Session) -> None:
    dr = actor(db, "dr.rivera")
    member = db.scalars(
        select(CareTeamMember)
        .where(CareTeamMember.role == "referring", CareTeamMember.ended_at.is_(None))
        .order_by(CareTeamMember.id)
    ).first()
    text = pdf_text(
        service.progress_report_pdf(
            db, actor=dr, patient_id=member.patient_id, audience="referring", member_id=member.id
        ).content
    )
    assert f"Prepared for {member.name}, {member.organisation}" in text
    assert "Patient progress report" in text and "Your progress report" not in text


def test_without_a_referring_clinician_their_copy_is_refused_with_the_reason(
    db: Session,
) -> None:
    referred = set(
        db.scalars(select(CareTeamMember.patient_id).where(CareTeamMember.role == "referring"))
    )
    patient = db.scalars(select(Patient).where(Patient.id.not_in(referred))).first()
    with pytest.raises(Conflict, match="no referring clinician"):
        service.progress_report_pdf(
            db, actor=actor(db, "dr.rivera"), patient_id=patient.id, audience="referring"
        )


# ------------------------------------------------------------------ clinic report
def test_pooled_rates_sum_the_groups_and_take_the_wilson_interval_of_the_sums() -> None:
    from ketaclinic.outcomes import service as outcomes

    def group(k: int, n: int) -> object:
        r = outcomes.Rate(k, n, None, None)
        return type("G", (), {"response": r, "remission": outcomes.Rate(0, n, None, None)})()

    response, remission = service.pooled([group(5, 12), group(3, 8)])
    assert (response.count, response.n) == (8, 20)
    # 8/20, z = 1.95996: centre (0.4 + z²/40) / (1 + z²/20) = 0.41612, half-width
    # z·sqrt(0.4·0.6/20 + z²/1600) / (1 + z²/20) = 0.19731 (worked by hand).
    assert response.low == pytest.approx(0.2188, abs=5e-4)
    assert response.high == pytest.approx(0.6134, abs=5e-4)
    assert (remission.count, remission.n, remission.low) == (0, 20, 0.0)


def test_the_clinic_report_matches_the_records_of_the_period(db: Session) -> None:
    director = actor(db, "dr.chen")
    end = date.today()
    start = end - timedelta(days=365)
    text = pdf_text(service.clinic_report_pdf(db, actor=director, start=start, end=end).content)
    flat = " ".join(text.split())
    begin, until = service.period(start, end)
    given = (
        InfusionSession.created_at >= begin.astimezone(UTC),
        InfusionSession.created_at < until.astimezone(UTC),
        InfusionSession.status.in_(("discharged", "signed", "cosigned")),
    )
    n_sessions = db.scalar(select(func.count()).select_from(InfusionSession).where(*given))
    n_alarms = db.scalar(
        select(func.count())
        .select_from(SessionAlarm)
        .join(InfusionSession, InfusionSession.id == SessionAlarm.session_id)
        .where(*given)
    )
    n_interventions = db.scalar(
        select(func.count())
        .select_from(SessionEntry)
        .join(InfusionSession, InfusionSession.id == SessionEntry.session_id)
        .where(
            *given,
            SessionEntry.kind == "intervention",
            SessionEntry.entered_in_error_at.is_(None),
        )
    )
    safety = sessions.period_safety(db, actor=director, start=begin, end=until)
    assert safety.sessions == n_sessions > 0
    assert sum(p.alarms for p in safety.protocols) == n_alarms
    assert sum(p.interventions for p in safety.protocols) == n_interventions
    for p in safety.protocols:
        name = service.protocol_name(p.protocol_id)
        assert f"{name} {p.sessions} {p.alarms}" in flat
        assert f"{p.alarms / p.sessions:.2f}" in flat
    for a in safety.adverse_events:
        assert f"{a.label} {a.severity} {a.count}" in flat
    assert "Wilson" in text and "Newcombe" in text
    assert "95% CI" in text


def test_a_nurse_or_researcher_reads_no_clinic_report(db: Session) -> None:
    for username in ("nurse.okafor", "research.patel"):
        with pytest.raises(Forbidden):
            service.clinic_report_pdf(
                db, actor=actor(db, username), start=date(2026, 1, 1), end=date(2026, 2, 1)
            )


def test_a_patient_with_nothing_scored_yet_gets_a_report_that_says_so(db: Session) -> None:
    scored = set(db.scalars(select(QuestionnaireResponse.patient_id)))
    treated = set(db.scalars(select(InfusionSession.patient_id)))
    patient = db.scalars(
        select(Patient).where(Patient.id.not_in(scored | treated)).order_by(Patient.id)
    ).first()
    assert patient is not None
    text = pdf_text(
        service.progress_report_pdf(db, actor=actor(db, "dr.rivera"), patient_id=patient.id).content
    )
    assert "No questionnaire has been scored yet." in text
    assert "No session given yet." in text
    assert patient.mrn in text
