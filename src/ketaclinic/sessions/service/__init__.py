"""What people do in an infusion session, one function per act (see each module)."""

from ketaclinic.sessions.service.board import (
    STATES as CHAIR_STATES,
)
from ketaclinic.sessions.service.board import (
    ChairBoard,
    ChairRow,
    NoteToCosign,
    Safety,
    chair_board,
    notes_to_cosign,
    safety_summary,
)
from ketaclinic.sessions.service.calls import DECISIONS as PRESCRIBER_DECISIONS
from ketaclinic.sessions.service.calls import answer_call as answer_prescriber_call
from ketaclinic.sessions.service.calls import names_on_calls as names_on_prescriber_calls
from ketaclinic.sessions.service.calls import open_calls as open_prescriber_calls
from ketaclinic.sessions.service.calls import open_count_for as prescriber_calls_for
from ketaclinic.sessions.service.checklist import answer_checklist, override_checklist
from ketaclinic.sessions.service.cockpit import (
    READINGS_PAGE,
    Cockpit,
    NextReadingLine,
    get_cockpit,
)
from ketaclinic.sessions.service.discharge import add_addendum, cosign_note, discharge, sign_note
from ketaclinic.sessions.service.esketamine import (
    RECORD_MEANING as REMS_RECORD_MEANING,
)
from ketaclinic.sessions.service.esketamine import (
    TEMPLATE as REMS_FORM_FIELDS,
)
from ketaclinic.sessions.service.esketamine import (
    TEMPLATE_VERSION as REMS_FORM_VERSION,
)
from ketaclinic.sessions.service.esketamine import (
    answer_record,
    enrolment_for,
    file_record,
    record_enrolment,
    records_to_file,
    sign_record,
)
from ketaclinic.sessions.service.esketamine import (
    form_values as rems_form_values,
)
from ketaclinic.sessions.service.export import (
    DoseGiven,
    ReadingWindow,
    SessionRecord,
    VitalReading,
    count_sessions,
    doses_given,
    reading_window,
    session_records,
    vital_readings,
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
from ketaclinic.sessions.service.live import (
    LiveUpdate,
    ScheduleSeen,
    chairs_in_use,
    live_update,
    open_live_session,
)
from ketaclinic.sessions.service.monitor import (
    DeviceSession,
    bind_device,
    bound_device,
    monitored_sessions,
    session_of_device,
    sessions_of_devices,
    unbind_device,
)
from ketaclinic.sessions.service.observations import symptom_choices
from ketaclinic.sessions.service.prediction import PredictionUnavailable, predict
from ketaclinic.sessions.service.records import (
    mark_entry_in_error,
    record_intervention,
    record_note,
    record_score,
    record_side_effect,
    record_symptom,
)
from ketaclinic.sessions.service.safety import (
    AdverseEvent,
    PeriodSafety,
    ProtocolSafety,
    period_safety,
)
from ketaclinic.sessions.service.summaries import differences as summary_differences
from ketaclinic.sessions.service.summaries import rebuild as rebuild_summaries
from ketaclinic.sessions.service.summaries import values_of as session_summary_values
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
    DeviceBatch,
    DeviceMessage,
    Measured,
    SessionMessages,
    acknowledge_alarm,
    acknowledgement_note_min,
    chart_device_groups,
    chart_device_messages,
    chart_device_readings,
    charting_overrides,
    correct_device_readings,
    mark_vitals_in_error,
    record_vitals,
)

__all__ = [
    "session_summary_values",
    "rebuild_summaries",
    "summary_differences",
    "READINGS_PAGE",
    "Cockpit",
    "get_cockpit",
    "NextReadingLine",
    "ScheduleSeen",
    "CHAIR_STATES",
    "ChairBoard",
    "ChairRow",
    "NoteToCosign",
    "Safety",
    "chair_board",
    "notes_to_cosign",
    "safety_summary",
    "REMS_FORM_FIELDS",
    "REMS_FORM_VERSION",
    "REMS_RECORD_MEANING",
    "rems_form_values",
    "AdverseEvent",
    "PeriodSafety",
    "ProtocolSafety",
    "period_safety",
    "DeviceBatch",
    "DeviceMessage",
    "SessionMessages",
    "chart_device_groups",
    "chart_device_messages",
    "charting_overrides",
    "sessions_of_devices",
    "DoseGiven",
    "ReadingWindow",
    "SessionRecord",
    "VitalReading",
    "count_sessions",
    "doses_given",
    "reading_window",
    "session_records",
    "vital_readings",
    "LiveUpdate",
    "chairs_in_use",
    "live_update",
    "open_live_session",
    "DeviceSession",
    "Measured",
    "bind_device",
    "bound_device",
    "chart_device_readings",
    "correct_device_readings",
    "monitored_sessions",
    "session_of_device",
    "unbind_device",
    "PRESCRIBER_DECISIONS",
    "answer_prescriber_call",
    "names_on_prescriber_calls",
    "open_prescriber_calls",
    "prescriber_calls_for",
    "SessionSummary",
    "acknowledge_alarm",
    "acknowledgement_note_min",
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
    "record_symptom",
    "symptom_choices",
    "record_vitals",
    "records_to_file",
    "sessions_of_patient",
    "sign_note",
    "sign_record",
    "start_session_for_appointment",
    "start_walk_in_session",
    "todays_list",
]
