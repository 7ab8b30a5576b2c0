"""What people do with the clinic's calendar (and what other areas call). Other areas
name the calendar's types through this package (``Appointment``, ``Chair`` ...)."""

from ketaclinic.scheduling.models import Appointment, Chair, StaffAvailability
from ketaclinic.scheduling.service.booking import Length, book, cancel, reschedule, session_length
from ketaclinic.scheduling.service.reading import (
    PlannedVisit,
    appointment_by_id,
    appointments_between,
    appointments_for_day,
    appointments_for_week,
    day_bounds,
    get_appointment,
    patient_names,
    planned_visits,
    planned_visits_of,
    to_confirm,
    upcoming_for_patient,
)
from ketaclinic.scheduling.service.staff import (
    add_availability,
    add_chair,
    availability,
    day_rota,
    list_chairs,
    nurses,
    on_duty_staff,
    staff_names,
    update_chair,
)
from ketaclinic.scheduling.service.therapy import (
    THERAPY_KIND,
    add_therapy_room,
    book_therapy,
    complete_therapy,
    therapy_rooms,
)
from ketaclinic.scheduling.service.visits import (
    confirm,
    confirmation_concerns,
    follow_early_start,
    mark_appointment,
)

__all__ = [
    "THERAPY_KIND",
    "add_therapy_room",
    "book_therapy",
    "complete_therapy",
    "therapy_rooms",
    "Appointment",
    "Chair",
    "Length",
    "PlannedVisit",
    "StaffAvailability",
    "add_availability",
    "add_chair",
    "appointment_by_id",
    "appointments_between",
    "appointments_for_day",
    "appointments_for_week",
    "availability",
    "day_rota",
    "book",
    "cancel",
    "confirm",
    "confirmation_concerns",
    "day_bounds",
    "follow_early_start",
    "get_appointment",
    "list_chairs",
    "mark_appointment",
    "nurses",
    "on_duty_staff",
    "patient_names",
    "planned_visits",
    "planned_visits_of",
    "reschedule",
    "session_length",
    "staff_names",
    "to_confirm",
    "update_chair",
    "upcoming_for_patient",
]
