"""The plan around a course: its care team, therapy, medications, decisions and boosters."""

from ketaclinic.care.service.boosters import (
    accept_booster,
    decline_booster,
    escalate_unanswered_boosters,
    escalation_due_at,
    get_proposal,
    open_proposals,
    relapse_sweep,
    request_booster,
    score_recorded,
)
from ketaclinic.care.service.common import CHOICES
from ketaclinic.care.service.decisions import (
    decide,
    decision_screen,
    decisions_due,
    escalate_decisions_due,
)
from ketaclinic.care.service.medications import (
    add_medication,
    medication_changes_for_order,
    medication_plan,
    stop_medication,
)
from ketaclinic.care.service.plan import care_plan
from ketaclinic.care.service.portal import my_plan, score_words
from ketaclinic.care.service.preparation import preparation_check
from ketaclinic.care.service.report import report_plan
from ketaclinic.care.service.team import (
    add_member,
    care_team,
    care_team_patient_ids,
    end_member,
    make_primary,
    my_patients,
    primary_clinician_username,
)
from ketaclinic.care.service.therapy import (
    THERAPY_NOTE_MEANING,
    _phase_rows,
    add_therapy_addendum,
    get_therapy_session,
    phase_label,
    schedule_therapy,
    sign_therapy_note,
    therapist_home,
    therapy_sessions,
)

__all__ = [
    "CHOICES",
    "accept_booster",
    "decline_booster",
    "escalate_unanswered_boosters",
    "escalation_due_at",
    "get_proposal",
    "open_proposals",
    "relapse_sweep",
    "request_booster",
    "score_recorded",
    "decide",
    "decision_screen",
    "decisions_due",
    "escalate_decisions_due",
    "add_medication",
    "medication_changes_for_order",
    "medication_plan",
    "stop_medication",
    "care_plan",
    "my_plan",
    "score_words",
    "preparation_check",
    "report_plan",
    "add_member",
    "care_team",
    "care_team_patient_ids",
    "end_member",
    "make_primary",
    "my_patients",
    "primary_clinician_username",
    "THERAPY_NOTE_MEANING",
    "_phase_rows",
    "add_therapy_addendum",
    "get_therapy_session",
    "phase_label",
    "schedule_therapy",
    "sign_therapy_note",
    "therapist_home",
    "therapy_sessions",
]
