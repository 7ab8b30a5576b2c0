"""What people do with outcomes; other areas call these functions only.

- ``record_response(db, *, actor, patient_id, instrument_id, answers, context="visit",
  session_id=None, completed_at=None) -> QuestionnaireResponse``
- ``score_history(db, *, actor, patient_id, instrument_id=None) -> list[ScorePoint]``
- ``due_questionnaires(db, *, actor, patient_id) -> list[DueQuestionnaire]``
- ``open_alerts(db, *, actor) -> list[Alert]``
- ``has_open_alert(db, *, patient_id) -> bool`` (flush-only, for discharge)
- ``patients_with_open_alert(db, *, patient_ids) -> set[int]`` (the same, for several)
- ``run_due_work(db, *, now) -> WorkReport`` (the scheduled work)
- ``enqueue(db, *, kind, channel, recipient, subject, body, patient_id=None, ...,
  remind=False) -> OutboxMessage``: a message to a patient or staff member, delivered by
  the outbox (``{public_url}`` and ``{link}`` are filled in at delivery); ``remind=True``
  repeats it up to the clinic's ``reminder_count``, a day apart, until
  ``reminders_until(kind, done)`` says its purpose is done
- ``refresh_course_summaries(db, *, patient_id) -> int``: derive the patient's kept
  course summaries again (flush-only; other areas call it through ``platform.ports``)
- ``declare_text(kind, template)``: the words of a text message of ``kind`` (no
  clinical content: texts say only their declared words)
"""

from __future__ import annotations

from ketaclinic.outcomes.service.alerts import (
    ACTIONS,
    Alert,
    acknowledge,
    attach_lead_alerts,
    escalate_due,
    escalation_usernames,
    flag_by_clinician,
    has_open_alert,
    message_staff,
    names_on_alerts,
    open_alerts,
    open_alerts_named,
    open_counts,
    patients_with_open_alert,
    prescriber_usernames,
    raise_for_lead,
)
from ketaclinic.outcomes.service.outbox import (
    FileTransport,
    MemoryTransport,
    Transport,
    enqueue,
    message_patient,
    notify_admins,
    reminders_until,
)
from ketaclinic.outcomes.service.progress import (
    CATEGORIES,
    STAGES,
    PatientOutcomes,
    Standing,
    Trend,
    patient_outcomes,
    progress_report,
)
from ketaclinic.outcomes.service.requests import (
    DueQuestionnaire,
    due_questionnaires,
    request_questionnaire,
    start_tablet,
    submit_by_link,
    submit_for_request,
)
from ketaclinic.outcomes.service.responses import (
    Recorded,
    ScorePoint,
    StoredResponse,
    count_responses,
    record_from_system,
    record_response,
    score_history,
    stored_responses,
)
from ketaclinic.outcomes.service.statistics import (
    GroupOutcome,
    Rate,
    clinic_outcomes,
    wilson_interval,
)
from ketaclinic.outcomes.service.summaries import differences as course_summary_differences
from ketaclinic.outcomes.service.summaries import rebuild as rebuild_course_summaries
from ketaclinic.outcomes.service.summaries import refresh_course_summaries
from ketaclinic.outcomes.service.texts import declare as declare_text
from ketaclinic.outcomes.service.work import WorkReport, run_due_work

__all__ = [
    "course_summary_differences",
    "rebuild_course_summaries",
    "refresh_course_summaries",
    "CATEGORIES",
    "STAGES",
    "Standing",
    "Trend",
    "progress_report",
    "GroupOutcome",
    "Rate",
    "clinic_outcomes",
    "wilson_interval",
    "Recorded",
    "StoredResponse",
    "count_responses",
    "record_from_system",
    "stored_responses",
    "has_open_alert",
    "patients_with_open_alert",
    "message_patient",
    "ACTIONS",
    "Alert",
    "DueQuestionnaire",
    "FileTransport",
    "MemoryTransport",
    "ScorePoint",
    "Transport",
    "WorkReport",
    "acknowledge",
    "attach_lead_alerts",
    "declare_text",
    "due_questionnaires",
    "enqueue",
    "escalate_due",
    "escalation_usernames",
    "message_staff",
    "prescriber_usernames",
    "raise_for_lead",
    "flag_by_clinician",
    "notify_admins",
    "names_on_alerts",
    "open_alerts",
    "open_alerts_named",
    "open_counts",
    "PatientOutcomes",
    "patient_outcomes",
    "record_response",
    "reminders_until",
    "request_questionnaire",
    "run_due_work",
    "score_history",
    "start_tablet",
    "submit_by_link",
    "submit_for_request",
]
