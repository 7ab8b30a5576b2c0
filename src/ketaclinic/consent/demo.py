"""The demo clinic's consent documents, the patients' signatures on the ones their
protocols require (signed at the clinic before their first visit), and readiness answers
for tomorrow's treatments (the first without a ride, the last not answered yet, the
others ready)."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaclinic.clinical import consent as rules
from ketaclinic.consent import service
from ketaclinic.demo import PASSWORD, DemoClinic
from ketaclinic.patients import service as patients
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.settings import get_settings
from ketaclinic.scheduling import service as scheduling

TEXTS = {
    "off_label_ketamine": (
        "Consent to treatment with ketamine (off-label use)",
        "Ketamine is approved as an anaesthetic. Its use for depression and related "
        "conditions is off-label: the doses and schedules the clinic uses come from "
        "published studies and practice standards, not from the product's label.\n\n"
        "During and after an infusion you may feel detached, see or hear things "
        "differently, feel sleepy or sick, and your blood pressure may rise. The clinic "
        "watches you until you are ready to leave. You may not drive until the next day.\n\n"
        "You may stop treatment at any time.",
        False,
        False,
    ),
    "esketamine_rems": (
        "SPRAVATO REMS patient enrolment",
        "I understand that SPRAVATO (esketamine) is given only in a certified healthcare "
        "setting under the REMS programme, that I will be watched for at least 2 hours "
        "after each dose, and that I must not drive or operate machinery until the next "
        "day after a restful sleep.\n\nI agree to be enrolled in the SPRAVATO REMS.",
        True,
        False,
    ),
    "financial_policy": (
        "Financial policy",
        "Treatment is paid per session at the clinic's listed price. A session cancelled "
        "less than 24 hours ahead may be charged. Superbills are given on request for "
        "reimbursement by your insurer.",
        False,
        True,
    ),
    "kap": (
        "Ketamine-assisted psychotherapy",
        "Preparation and integration sessions with a therapist accompany some treatments. "
        "What you share is kept in your record and used only for your care.",
        False,
        False,
    ),
    "photography_research": (
        "Photography and research use",
        "With this consent the clinic may use your de-identified scores in research and "
        "quality reports. No photograph is taken without asking you each time.",
        False,
        True,
    ),
}


def demo_mark() -> bytes:
    """A small PNG of a wavy stroke, for the demo's drawn signatures."""
    width, height = 120, 40
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            wave = 20 + int(12 * ((x % 40) - 20) / 20) * (1 if (x // 40) % 2 else -1)
            row.append(0 if abs(y - wave) <= 1 else 255)
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def build(db: Session, clinic: DemoClinic) -> None:
    import base64

    admin = clinic.staff["admin"]
    nurse = clinic.staff["nurse.okafor"]
    zone = get_settings().zone
    written_at = datetime.combine(clinic.today - timedelta(days=400), time(9), tzinfo=UTC)
    documents = {}
    for kind, (title, body, witness, typed) in TEXTS.items():
        documents[kind] = service.publish_document(
            db,
            actor=admin,
            kind=kind,
            title=title,
            body=body,
            needs_witness=witness,
            typed_name_suffices=typed,
            now=written_at,
        )
    mark = "data:image/png;base64," + base64.b64encode(demo_mark()).decode()
    courses = clinic.extra.get("courses", [])
    protocols: dict[int, set[str]] = {}
    for course in courses:
        patient_id = getattr(course, "patient_id", None)
        protocol_id = getattr(course, "protocol_id", None)
        if patient_id is not None and protocol_id:
            protocols.setdefault(patient_id, set()).add(protocol_id)
    appointments = list(
        db.scalars(select(scheduling.Appointment).order_by(scheduling.Appointment.starts_at))
    )
    first_visit: dict[int, datetime] = {}
    for a in appointments:
        first_visit.setdefault(a.patient_id, a.starts_at)
        if a.patient_id not in protocols:
            protocols[a.patient_id] = {"in_esketamine" if a.kind == "esketamine" else "iv_ketamine"}
    for patient_id, wanted in sorted(protocols.items()):
        kinds = {k for p in wanted for k in rules.required_documents(p)}
        signed_at = first_visit.get(patient_id, written_at + timedelta(days=30)) - timedelta(days=1)
        signed_at = max(signed_at, written_at + timedelta(days=1))
        name = patients.patient_by_id(db, patient_id).display_name
        for kind in sorted(kinds):
            doc = documents[kind]
            service.sign(
                db,
                actor=nurse,
                patient_id=patient_id,
                document_id=doc.id,
                text_sha256=doc.body_sha256,
                typed_name=name,
                signature_data_url=mark,
                channel="clinic",
                witness_username="nurse.lind" if doc.needs_witness else "",
                witness_password=PASSWORD if doc.needs_witness else "",
                now=signed_at,
            )
    # The next treatment day's links and most patients' answers, asked today. That day
    # is tomorrow (as the day-before job asks) except before a day the clinic is closed
    # (a Friday's tomorrow has no treatments): its links are then sent ahead, today, so
    # that no answer is dated after the demo was built.
    Appointment = scheduling.Appointment
    starts, _ = scheduling.day_bounds(clinic.today + timedelta(days=1), zone)
    first = db.scalar(
        select(func.min(Appointment.starts_at)).where(
            Appointment.starts_at >= starts,
            Appointment.status == "booked",
            Appointment.kind.in_(list(service.ROUTE_OF_KIND)),
        )
    )
    day = first.astimezone(zone).date() if first is not None else None
    built = utcnow()
    # At 10:00, or earlier when the demo is built before noon: asked and answered before now.
    now = min(
        datetime.combine(clinic.today, time(10), tzinfo=zone).astimezone(UTC),
        built - timedelta(hours=2),
    )
    service.plan_readiness_links(db, now=now, zone=zone, day=day)
    checks = list(
        db.scalars(
            select(service.ReadinessCheck)
            .where(service.ReadinessCheck.starts_at > now)
            .order_by(service.ReadinessCheck.starts_at)
        )
    )
    for n, check in enumerate(checks):
        if n == len(checks) - 1 and n > 0:
            continue  # the last one has not answered yet: the front desk calls
        answers = {q.id: "yes" for q in service.readiness_questions(db, check.route)}
        if n == 0:
            answers["ride_home"] = "no"  # shows as unmet on the checklist
        answered = min(now + timedelta(minutes=10 * (1 + n)), built)
        service.store_answers(db, row=check, answers=answers, now=answered)
