"""What people do in an infusion session, one function per act (see each module)."""

from ketaclinic.sessions.service.checklist import answer_checklist, override_checklist
from ketaclinic.sessions.service.discharge import add_addendum, cosign_note, discharge, sign_note
from ketaclinic.sessions.service.esketamine import (
    answer_record,
    enrolment_for,
    file_record,
    record_enrolment,
    records_to_file,
    sign_record,
)
from ketaclinic.sessions.service.infusion import (
    cancel_session,
    chart_device,
    chart_pump,
    end_dosing_early,
    mark_event_in_error,
    start_session_for_appointment,
    start_walk_in_session,
)
from ketaclinic.sessions.service.prediction import PredictionUnavailable, predict
from ketaclinic.sessions.service.records import (
    mark_entry_in_error,
    record_intervention,
    record_note,
    record_score,
    record_side_effect,
)
from ketaclinic.sessions.service.summary import (
    SessionSummary,
    completed_sessions,
    dose_starts,
    get_session,
    given_sessions,
    sessions_of_patient,
    todays_list,
)
from ketaclinic.sessions.service.vitals import (
    acknowledge_alarm,
    mark_vitals_in_error,
    record_vitals,
)

__all__ = [
    "SessionSummary",
    "acknowledge_alarm",
    "add_addendum",
    "answer_checklist",
    "answer_record",
    "cancel_session",
    "chart_device",
    "chart_pump",
    "completed_sessions",
    "cosign_note",
    "discharge",
    "dose_starts",
    "end_dosing_early",
    "enrolment_for",
    "file_record",
    "get_session",
    "given_sessions",
    "mark_entry_in_error",
    "mark_event_in_error",
    "mark_vitals_in_error",
    "override_checklist",
    "PredictionUnavailable",
    "predict",
    "record_enrolment",
    "record_intervention",
    "record_note",
    "record_score",
    "record_side_effect",
    "record_vitals",
    "records_to_file",
    "sessions_of_patient",
    "sign_note",
    "sign_record",
    "start_session_for_appointment",
    "start_walk_in_session",
    "todays_list",
]
