"""What people do with outcomes; other areas call these functions only.

- ``record_response(db, *, actor, patient_id, instrument_id, answers, context="visit",
  session_id=None, completed_at=None) -> QuestionnaireResponse``
- ``score_history(db, *, actor, patient_id, instrument_id=None) -> list[ScorePoint]``
- ``due_questionnaires(db, *, actor, patient_id) -> list[DueQuestionnaire]``
- ``open_alerts(db, *, actor) -> list[Alert]``
- ``has_open_alert(db, *, patient_id) -> bool`` (flush-only, for discharge)
- ``run_due_work(db, *, now) -> WorkReport`` (the scheduled work)
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
    open_alerts,
    open_counts,
    prescriber_usernames,
    raise_for_lead,
)
from ketaclinic.outcomes.service.outbox import (
    FileTransport,
    MemoryTransport,
    Transport,
    notify_admins,
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
    record_from_system,
    record_response,
    score_history,
    stored_responses,
)
from ketaclinic.outcomes.service.work import WorkReport, run_due_work

__all__ = [
    "Recorded",
    "StoredResponse",
    "record_from_system",
    "stored_responses",
    "has_open_alert",
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
    "due_questionnaires",
    "escalate_due",
    "escalation_usernames",
    "message_staff",
    "prescriber_usernames",
    "raise_for_lead",
    "flag_by_clinician",
    "notify_admins",
    "open_alerts",
    "open_counts",
    "record_response",
    "request_questionnaire",
    "run_due_work",
    "score_history",
    "start_tablet",
    "submit_by_link",
    "submit_for_request",
]
