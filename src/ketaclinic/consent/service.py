"""What people do with consents and readiness (and what other areas call).

- ``publish_document(db, *, actor, kind, title, body, ...)``: a new version (admin)
- ``sign(db, *, actor, patient_id, document_id, ...)``: a patient signs a version
- ``revoke(db, *, actor, signature_id, reason)``
- ``patient_consents(db, *, actor, patient_id)``: each document, its version and status
- ``signed_copy_pdf(db, *, actor, signature_id)``
- ``chair_checks(db, *, patient_id, protocol_id, route, appointment_id)``: the session
  checklist's consent and readiness items (flush-free; the session's read audits itself)
- ``plan_readiness_links(db, *, now)`` (the day-before job), ``open_readiness`` /
  ``answer_readiness`` (the patient's link), ``readiness_for_day`` (the front desk)
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketaclinic.clinical import consent as rules
from ketaclinic.configuration import service as configuration
from ketaclinic.consent.models import (
    ConsentDocument,
    ConsentSignature,
    ReadinessCheck,
    TabletHandover,
)
from ketaclinic.consent.signature import decode_png
from ketaclinic.patients import service as patients
from ketaclinic.platform import ports
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.accounts.models import User
from ketaclinic.platform.actors import Actor
from ketaclinic.platform.audit import service as audit
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.errors import ClinicError, Conflict, Forbidden, Invalid, NotFound
from ketaclinic.platform.roles import Role
from ketaclinic.platform.settings import get_settings
from ketaclinic.scheduling import service as scheduling

__all__ = [
    "ChairCheck",
    "ConsentDocument",
    "ConsentSignature",
    "DocumentStatus",
    "ReadinessCheck",
    "LinkUnusable",
    "answer_readiness",
    "hand_tablet",
    "open_handover",
    "sign_on_tablet",
    "chair_checks",
    "current_documents",
    "document_versions",
    "get_document",
    "open_readiness",
    "patient_consents",
    "plan_readiness_links",
    "publish_document",
    "readiness_for_day",
    "readiness_questions",
    "readiness_link_for_message",
    "revoke",
    "sign",
    "signed_copy_pdf",
    "store_answers",
    "unconfirmed_count",
]

WRITERS = frozenset({Role.admin})
# Who may put the tablet in front of a patient and record a signature at the clinic.
CLINIC_SIGNERS = frozenset({Role.nurse, Role.prescriber, Role.front_desk, Role.admin})
READERS = frozenset({Role.nurse, Role.prescriber, Role.front_desk, Role.admin})
REVOKERS = frozenset({Role.nurse, Role.prescriber, Role.admin})
# A witness is a licensed or front-desk staff member who authenticates with a password.
WITNESSES = frozenset({Role.nurse, Role.prescriber, Role.front_desk, Role.admin})
# Which appointments ask readiness, and on which route (as sessions name routes).
ROUTE_OF_KIND = {"infusion": "iv", "esketamine": "esketamine_nasal"}


WHERE = {
    "portal": "patient portal",
    "clinic": "at the clinic",
    "tablet": "on the clinic's tablet",
}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _require(actor: Actor, roles: frozenset[Role], what: str) -> None:
    if not actor.roles & roles:
        raise Forbidden(f"your role does not permit {what}")


# ------------------------------------------------------------------ documents
def publish_document(
    db: Session,
    *,
    actor: Actor,
    kind: str,
    title: str,
    body: str,
    needs_witness: bool = False,
    typed_name_suffices: bool = False,
    now: datetime | None = None,
) -> ConsentDocument:
    """A new version of ``kind``: earlier versions stay as they were (they are never
    edited), and patients who signed one sign the new one at their next visit."""
    _require(actor, WRITERS, "writing consent documents (administrators only)")
    if kind not in rules.DOCUMENT_KINDS:
        raise Invalid(f"{kind!r} is not a consent document kind", fields={"kind": "unknown"})
    title = (title or "").strip()
    text = (body or "").replace("\r\n", "\n").strip()
    if not 3 <= len(title) <= 200:
        raise Invalid("give the document a title (3 to 200 characters)", fields={"title": "size"})
    if len(text) < 20:
        raise Invalid("write the consent text (at least 20 characters)", fields={"body": "short"})
    if len(text) > 50_000:
        raise Invalid("keep the consent text under 50,000 characters", fields={"body": "long"})
    latest = db.scalar(
        select(ConsentDocument.version)
        .where(ConsentDocument.kind == kind)
        .order_by(ConsentDocument.version.desc())
        .limit(1)
    )
    row = ConsentDocument(
        kind=kind,
        version=(latest or 0) + 1,
        title=title,
        body=text,
        body_sha256=sha256(text),
        needs_witness=needs_witness,
        typed_name_suffices=typed_name_suffices,
        created_by=actor.username,
        created_at=now or utcnow(),
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="consent.document.publish",
        object_type="consent_document",
        object_id=row.id,
        detail=f"{kind} version {row.version}",
    )
    return row


def current_documents(db: Session) -> dict[str, ConsentDocument]:
    """The newest version of every kind the clinic has written."""
    found: dict[str, ConsentDocument] = {}
    for row in db.scalars(select(ConsentDocument).order_by(ConsentDocument.version)):
        found[row.kind] = row
    return found


def document_versions(db: Session) -> list[ConsentDocument]:
    return list(
        db.scalars(
            select(ConsentDocument).order_by(ConsentDocument.kind, ConsentDocument.version.desc())
        )
    )


def get_document(db: Session, document_id: int) -> ConsentDocument:
    row = db.get(ConsentDocument, document_id)
    if row is None:
        raise NotFound(f"no consent document with id {document_id}")
    return row


# ------------------------------------------------------------------ signing
def _own_or_staff(actor: Actor, patient_id: int, staff: frozenset[Role], what: str) -> None:
    if actor.patient_only:
        if actor.patient_id != patient_id:
            # Another patient's record does not exist, as far as a patient account knows.
            raise NotFound(f"no patient with id {patient_id}")
        return
    _require(actor, staff, what)


def _witness(
    db: Session,
    *,
    username: str,
    password: str,
    patient_id: int,
    signing_account: Actor,
    signature_ref: str,
    now: datetime,
) -> accounts.Signature:
    """The witness authenticates here with their own password, never a typed name."""
    name = (username or "").strip().lower()
    if not name:
        raise Invalid(
            "this document needs a witness: the witness types their username and password",
            fields={"witness_username": "required"},
        )
    user = db.scalar(select(User).where(User.username == name))
    if user is None or not user.active:
        raise Invalid(
            "no active staff account by that name", fields={"witness_username": "unknown"}
        )
    witness = accounts.actor_for(user)
    if user.patient_id == patient_id or (
        signing_account.patient_only and user.id == signing_account.user_id
    ):
        raise Invalid(
            "the witness must be someone other than the patient",
            fields={"witness_username": "same person"},
        )
    if not witness.roles & WITNESSES:
        raise Invalid(
            "the witness must be a member of staff", fields={"witness_username": "not staff"}
        )
    return accounts.confirm_signature(
        db,
        actor=witness,
        password=password,
        meaning="witness to the patient's consent signature",
        object_type="consent_document",
        object_id=signature_ref,
        patient_id=patient_id,
        at=now,
    )


def sign(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    document_id: int,
    text_sha256: str,
    typed_name: str,
    signature_data_url: str | None,
    channel: str,
    witness_username: str = "",
    witness_password: str = "",
    now: datetime | None = None,
) -> ConsentSignature:
    """The patient signs the version they read: ``text_sha256`` is the hash of the text
    the page showed, so a version published while they read is refused, not signed."""
    if channel not in ("portal", "clinic"):
        raise Invalid("sign in the portal or at the clinic", fields={"channel": "unknown"})
    if channel == "portal" and not actor.patient_only:
        raise Forbidden("the portal is for the patient's own account")
    _own_or_staff(actor, patient_id, CLINIC_SIGNERS, "recording a consent signature")
    patients.check_patient(db, actor=actor, patient_id=patient_id)
    return _record_signature(
        db,
        actor=actor,
        recorded_by=actor.username,
        patient_id=patient_id,
        document=get_document(db, document_id),
        text_sha256=text_sha256,
        typed_name=typed_name,
        signature_data_url=signature_data_url,
        channel=channel,
        witness_username=witness_username,
        witness_password=witness_password,
        now=now or utcnow(),
    )


def _record_signature(
    db: Session,
    *,
    actor: Actor,
    recorded_by: str,
    patient_id: int,
    document: ConsentDocument,
    text_sha256: str,
    typed_name: str,
    signature_data_url: str | None,
    channel: str,
    witness_username: str,
    witness_password: str,
    now: datetime,
) -> ConsentSignature:
    moment = now
    current = current_documents(db).get(document.kind)
    if current is None or current.id != document.id:
        raise Conflict(
            f"{document.title} version {document.version} is not the current version: "
            "read the current text and sign that"
        )
    if text_sha256 != document.body_sha256:
        raise Conflict("the text you read is not this version's text: read it again and sign")
    name = " ".join((typed_name or "").split())
    if not 2 <= len(name) <= 200:
        raise Invalid("type your full name (2 to 200 characters)", fields={"typed_name": "size"})
    png = decode_png(signature_data_url) if signature_data_url else None
    if png is None and not document.typed_name_suffices:
        raise Invalid(
            "draw your signature in the box (this document asks for a drawn signature)",
            fields={"signature": "required"},
        )
    witnessed: accounts.Signature | None = None
    if document.needs_witness:
        if channel == "portal":
            raise Conflict(
                f"{document.title} is signed at the clinic with a staff member as witness"
            )
        witnessed = _witness(
            db,
            username=witness_username,
            password=witness_password,
            patient_id=patient_id,
            signing_account=actor,
            signature_ref=f"{document.id}",
            now=moment,
        )
    row = ConsentSignature(
        patient_id=patient_id,
        document_id=document.id,
        document_kind=document.kind,
        document_version=document.version,
        text=document.body,
        text_sha256=document.body_sha256,
        typed_name=name,
        signature_png=png,
        signed_at=moment,
        channel=channel,
        recorded_by=recorded_by,
        witness_username=witnessed.username if witnessed else None,
        witness_name=witnessed.printed_name if witnessed else None,
        witnessed_at=witnessed.at if witnessed else None,
    )
    db.add(row)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="consent.sign",
        patient_id=patient_id,
        object_type="consent_signature",
        object_id=row.id,
        detail=f"{document.kind} v{document.version} ({channel})"
        + (f"; witness {witnessed.username}" if witnessed else ""),
        at=moment,
    )
    return row


# ------------------------------------------------------------------ the clinic tablet
# How long a tablet handed to a patient stays on the one document: time to read a page
# or two and sign (ketaclinic's choice, not a clinical number).
TABLET_MINUTES = 20


def hand_tablet(
    db: Session,
    *,
    actor: Actor,
    patient_id: int,
    document_id: int,
    staff_session: str | None = None,
    now: datetime | None = None,
) -> str:
    """Staff hand the clinic tablet to the patient to sign one document: a short-lived,
    single-use token (the tablet lock keeps the browser on it) and the staff member's
    login ends in the same act. Returns the token."""
    _require(actor, CLINIC_SIGNERS, "handing the tablet to a patient to sign")
    patients.check_patient(db, actor=actor, patient_id=patient_id)
    document = get_document(db, document_id)
    current = current_documents(db).get(document.kind)
    if current is None or current.id != document.id:
        raise Conflict("hand over the current version of the document")
    moment = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = TabletHandover(
        patient_id=patient_id,
        document_id=document.id,
        token_hash=sha256(token),
        created_by=actor.username,
        created_at=moment,
        expires_at=moment + timedelta(minutes=TABLET_MINUTES),
    )
    db.add(row)
    db.flush()
    if staff_session:
        accounts.end_session(db, staff_session)
    audit.record(
        db,
        actor=actor,
        action="consent.tablet",
        patient_id=patient_id,
        object_type="consent_document",
        object_id=document.id,
        detail=f"{document.kind} v{document.version}",
    )
    return token


@dataclass(frozen=True)
class Handover:
    row: TabletHandover
    document: ConsentDocument
    patient_name: str


def open_handover(db: Session, *, token: str, now: datetime | None = None) -> Handover:
    moment = now or utcnow()
    if not token or len(token) > 200:
        raise LinkUnusable("unknown link")
    row = db.scalar(select(TabletHandover).where(TabletHandover.token_hash == sha256(token)))
    if row is None:
        raise LinkUnusable("unknown link")
    if row.used_at is not None:
        raise LinkUnusable("this document was signed on this tablet already")
    if row.expires_at <= moment:
        raise LinkUnusable("the time to sign on this tablet has run out")
    patient = patients.patient_by_id(db, row.patient_id)
    return Handover(row, get_document(db, row.document_id), patient.display_name)


def sign_on_tablet(
    db: Session,
    *,
    token: str,
    text_sha256: str,
    typed_name: str,
    signature_data_url: str | None,
    witness_username: str = "",
    witness_password: str = "",
    ip: str | None = None,
    now: datetime | None = None,
) -> ConsentSignature:
    """The patient signs on the tablet handed to them; the staff member who handed it
    over is recorded beside the signature."""
    moment = now or utcnow()
    handover = open_handover(db, token=token, now=moment)
    row = _record_signature(
        db,
        actor=Actor(None, "clinic tablet", ip=ip, patient_id=handover.row.patient_id),
        recorded_by=handover.row.created_by,
        patient_id=handover.row.patient_id,
        document=handover.document,
        text_sha256=text_sha256,
        typed_name=typed_name,
        signature_data_url=signature_data_url,
        channel="tablet",
        witness_username=witness_username,
        witness_password=witness_password,
        now=moment,
    )
    handover.row.used_at = moment
    db.flush()
    return row


def _signature(db: Session, signature_id: int, actor: Actor) -> ConsentSignature:
    row = db.get(ConsentSignature, signature_id)
    if row is None or (actor.patient_only and actor.patient_id != row.patient_id):
        raise NotFound(f"no consent signature with id {signature_id}")
    return row


def revoke(
    db: Session, *, actor: Actor, signature_id: int, reason: str, now: datetime | None = None
) -> ConsentSignature:
    """The patient withdraws a consent (in the portal, or told to staff): the signature
    stays, marked revoked with who, when and why; the checklist then asks for a new one."""
    row = _signature(db, signature_id, actor)
    _own_or_staff(actor, row.patient_id, REVOKERS, "recording a revoked consent")
    if row.revoked_at is not None:
        raise Conflict("this consent was already revoked")
    text = (reason or "").strip()
    if not 3 <= len(text) <= 2000:
        raise Invalid("say why (3 to 2000 characters)", fields={"reason": "required"})
    row.revoked_at = now or utcnow()
    row.revoked_by = actor.username
    row.revoke_reason = text
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="consent.revoke",
        patient_id=row.patient_id,
        object_type="consent_signature",
        object_id=row.id,
        detail=f"{row.document_kind} v{row.document_version}",
        reason=text,
    )
    return row


@dataclass(frozen=True)
class DocumentStatus:
    """One document kind for one patient: ``state`` is ``current`` (signed the current
    version), ``outdated`` (signed an older one), ``revoked``, ``unsigned`` or ``unwritten``
    (the clinic has no text of this kind yet)."""

    kind: str
    title: str
    current: ConsentDocument | None
    signature: ConsentSignature | None
    state: str
    history: list[ConsentSignature] = field(default_factory=list)

    @property
    def text(self) -> str:
        if self.state == "unwritten":
            return "The clinic has not written this document yet"
        if self.state == "unsigned":
            return f"Not signed (current v{self.current.version if self.current else '?'})"
        assert self.signature is not None
        signed = f"signed v{self.signature.document_version}"
        if self.state == "revoked":
            return f"{signed}, revoked {self.signature.revoked_at:%Y-%m-%d}"
        if self.state == "outdated":
            assert self.current is not None
            return f"{signed}, current v{self.current.version}: sign the new version"
        return f"{signed} on {self.signature.signed_at:%Y-%m-%d}"


def _statuses(db: Session, patient_id: int) -> dict[str, DocumentStatus]:
    documents = current_documents(db)
    rows = list(
        db.scalars(
            select(ConsentSignature)
            .where(ConsentSignature.patient_id == patient_id)
            .order_by(ConsentSignature.signed_at, ConsentSignature.id)
        )
    )
    result: dict[str, DocumentStatus] = {}
    for kind, title in rules.DOCUMENT_KINDS.items():
        current = documents.get(kind)
        mine = [r for r in rows if r.document_kind == kind]
        latest = mine[-1] if mine else None
        if current is None:
            state = "unwritten"
        elif latest is None:
            state = "unsigned"
        elif latest.revoked_at is not None:
            state = "revoked"
        elif latest.document_id != current.id:
            state = "outdated"
        else:
            state = "current"
        result[kind] = DocumentStatus(
            kind, current.title if current else title, current, latest, state, mine[::-1]
        )
    return result


def patient_consents(db: Session, *, actor: Actor, patient_id: int) -> list[DocumentStatus]:
    """Every consent document with what this patient signed of it (a read of the
    patient's record, audited)."""
    _own_or_staff(actor, patient_id, READERS, "seeing a patient's consents")
    patients.check_patient(db, actor=actor, patient_id=patient_id)
    audit.note_read(
        db,
        actor=actor,
        action="consent.view",
        patient_id=patient_id,
        object_type="patient",
        object_id=patient_id,
    )
    return list(_statuses(db, patient_id).values())


def signed_copy_pdf(db: Session, *, actor: Actor, signature_id: int) -> tuple[str, bytes]:
    """The signed copy as PDF: the exact text signed, the typed name, the drawn mark, the
    time, the witness, and a revocation if there is one. Returns (file name, bytes)."""
    from ketaclinic.platform.pdf import ClinicDocument, Signature

    row = _signature(db, signature_id, actor)
    _own_or_staff(actor, row.patient_id, READERS, "printing a signed consent")
    patient = patients.get_patient(db, actor=actor, patient_id=row.patient_id, purpose="consent")
    settings = get_settings()
    zone = settings.zone
    document = get_document(db, row.document_id)
    doc = ClinicDocument(
        title=document.title,
        clinic=settings.clinic_name,
        subtitle=f"Version {row.document_version} · signed copy",
    )
    doc.fields(
        [
            ("Patient", patient.display_name),
            ("Date of birth", patient.date_of_birth.isoformat()),
            ("Medical record number", patient.mrn),
            ("Signed", f"{row.signed_at.astimezone(zone):%Y-%m-%d %H:%M %Z}"),
            ("Where", WHERE[row.channel]),
            ("Text SHA-256", row.text_sha256),
        ]
    )
    doc.heading("Text signed")
    for paragraph in row.text.split("\n\n"):
        doc.paragraph(paragraph)
    doc.heading("Signatures")
    doc.signature(
        Signature(
            name=row.typed_name,
            signed_at=f"{row.signed_at.astimezone(zone):%Y-%m-%d %H:%M %Z}",
            meaning="Patient: I have read this text and I consent",
            image_png=row.signature_png,
        )
    )
    if row.witness_username and row.witnessed_at:
        doc.signature(
            Signature(
                name=f"{row.witness_name} ({row.witness_username})",
                signed_at=f"{row.witnessed_at.astimezone(zone):%Y-%m-%d %H:%M %Z}",
                meaning="Witness (authenticated with their password)",
            )
        )
    if row.revoked_at:
        doc.heading("Revoked")
        doc.paragraph(
            f"Revoked {row.revoked_at.astimezone(zone):%Y-%m-%d %H:%M %Z} "
            f"(recorded by {row.revoked_by}): {row.revoke_reason}"
        )
    audit.note_read(
        db,
        actor=actor,
        action="consent.print",
        patient_id=row.patient_id,
        object_type="consent_signature",
        object_id=row.id,
    )
    return f"consent-{row.document_kind}-v{row.document_version}-{row.id}.pdf", doc.output()


# ------------------------------------------------------------------ the session checklist
@dataclass(frozen=True)
class ChairCheck:
    """One item the session checklist adds from consents and readiness."""

    id: str
    label: str
    met: bool
    text: str
    basis: str
    evidence: str


def chair_checks(
    db: Session,
    *,
    patient_id: int,
    protocol_id: str,
    route: str,
    appointment_id: int | None,
) -> list[ChairCheck]:
    """The consents the protocol requires (each must be the current version, signed and
    not revoked) and the patient's own readiness answers. A required document the clinic
    has not written is met with a note (the nurse's consent item stands for it), so a
    clinic that keeps consents on paper still works."""
    overrides = configuration.overrides_for(db, "consent.requirements")
    statuses = _statuses(db, patient_id)
    checks: list[ChairCheck] = []
    for kind in rules.required_documents(protocol_id, overrides):
        status = statuses[kind]
        requirement = next(
            r
            for r in rules.REQUIREMENTS.values()
            if r.protocol_id == protocol_id and r.document == kind
        )
        if status.state == "unwritten":
            text = (
                "The clinic has not written this document in ketaclinic (Consents): "
                "the nurse's consent check stands for it"
            )
        else:
            text = status.text
        checks.append(
            ChairCheck(
                f"consent_{kind}",
                f"Signed consent: {status.title}",
                status.state in ("current", "unwritten"),
                text,
                requirement.source,
                requirement.evidence,
            )
        )
    if appointment_id is not None:
        checks.append(_readiness_check(db, appointment_id, route))
    return checks


READINESS_BASIS = (
    "The patient's own answers to the day-before link; windows from the clinic's readiness "
    "table (Clinical defaults: consent.readiness, each row with its source)"
)


def _readiness_check(db: Session, appointment_id: int, route: str) -> ChairCheck:
    row = db.scalar(select(ReadinessCheck).where(ReadinessCheck.appointment_id == appointment_id))
    label = "The patient's day-before readiness answers"
    if row is None or not row.answers:
        return ChairCheck(
            "readiness",
            label,
            True,
            "The patient has not answered the day-before link: ask at the chair (ride home "
            "and fasting items)",
            READINESS_BASIS,
            "convention",
        )
    concerns = readiness_concerns(row, db=db)
    when = row.answered_at.astimezone(get_settings().zone) if row.answered_at else None
    said = f" (answered {when:%Y-%m-%d %H:%M})" if when else ""
    if concerns:
        return ChairCheck(
            "readiness",
            label,
            False,
            "The patient answered: " + "; ".join(concerns) + said,
            READINESS_BASIS,
            "convention",
        )
    return ChairCheck(
        "readiness",
        label,
        True,
        "The patient confirmed every item" + said,
        READINESS_BASIS,
        "convention",
    )


# ------------------------------------------------------------------ readiness by link
class LinkUnusable(ClinicError):
    """A readiness link or a tablet hand-over that can no longer be used (410)."""

    status = 410
    title = "This link can no longer be used"


def _questions(db: Session, route: str) -> list[rules.Question]:
    return rules.questions(route, configuration.overrides_for(db, "consent.readiness"))


def readiness_questions(db: Session, route: str) -> list[rules.Question]:
    """The day-before questions of ``route`` with the clinic's windows."""
    return _questions(db, route)


def readiness_concerns(row: ReadinessCheck, *, db: Session) -> list[str]:
    """The patient's "no" answers, in words."""
    answers = row.answers or {}
    words = {"ride_home": "no ride home"}
    concerns = []
    for q in _questions(db, row.route):
        if answers.get(q.id) is False:
            concerns.append(words.get(q.id, f"not able to keep: {q.text.rstrip('.')}"))
    return concerns


def plan_readiness_links(
    db: Session, *, now: datetime, zone: ZoneInfo | None = None, day: date | None = None
) -> int:
    """For every booked treatment tomorrow (the clinic's day; or on ``day``, asked
    ahead) without a readiness check, make one and queue its link message to the
    patient; how many were queued. Runs as a job; a second run finds the checks made and
    queues nothing."""
    zone = zone or get_settings().zone
    tomorrow = day if day is not None else now.astimezone(zone).date() + timedelta(days=1)
    starts, ends = scheduling.day_bounds(tomorrow, zone)
    Appointment = scheduling.Appointment
    booked = list(
        db.scalars(
            select(Appointment).where(
                Appointment.starts_at >= starts,
                Appointment.starts_at < ends,
                Appointment.status == "booked",
                Appointment.kind.in_(list(ROUTE_OF_KIND)),
            )
        )
    )
    if not booked:
        return 0
    asked = set(
        db.scalars(
            select(ReadinessCheck.appointment_id).where(
                ReadinessCheck.appointment_id.in_([a.id for a in booked])
            )
        )
    )
    # Asked ahead (``day``), the sessions are not tomorrow: the message names their day.
    ahead = tomorrow != now.astimezone(zone).date() + timedelta(days=1)
    session_day = f"on {tomorrow:%A}" if ahead else "tomorrow"
    queued = 0
    for appointment in booked:
        if appointment.id in asked:
            continue
        row = ReadinessCheck(
            appointment_id=appointment.id,
            patient_id=appointment.patient_id,
            route=ROUTE_OF_KIND[appointment.kind],
            starts_at=appointment.starts_at,
            created_at=now,
        )
        db.add(row)
        db.flush()
        patient = patients.patient_by_id(db, appointment.patient_id)
        when = appointment.starts_at.astimezone(zone)
        body = (
            f"{patient.given_name}, before your session {session_day} ({when:%A %H:%M}) "
            f"please confirm you are ready: {ports.LINK} (the link works until the session)."
        )
        message_id = ports.message_patient(
            db,
            kind="readiness_link",
            patient_id=patient.id,
            subject=f"Ready for your session {session_day}?",
            body=body,
        )
        row.outbox_message_id = message_id
        queued += 1 if message_id is not None else 0
        audit.record(
            db,
            actor=Actor(None, "system"),
            action="readiness.ask",
            patient_id=patient.id,
            object_type="readiness_check",
            object_id=row.id,
            detail="no email or phone on file" if message_id is None else "link queued",
            at=now,
        )
    db.flush()
    return queued


def readiness_link_for_message(db: Session, *, message_id: int, now: datetime) -> str | None:
    """The link path to put in an outbox message at delivery (only its hash is kept), or
    None when the session is no longer ahead (the message is then skipped)."""
    row = db.scalar(select(ReadinessCheck).where(ReadinessCheck.outbox_message_id == message_id))
    if row is None or row.starts_at <= now:
        return None
    token = secrets.token_urlsafe(32)
    row.token_hash = sha256(token)
    row.link_expires_at = row.starts_at
    db.flush()
    return f"/ready/{token}"


def _by_token(db: Session, token: str, now: datetime) -> ReadinessCheck:
    if not token or len(token) > 200:
        raise LinkUnusable("unknown link")
    row = db.scalar(select(ReadinessCheck).where(ReadinessCheck.token_hash == sha256(token)))
    if row is None:
        raise LinkUnusable("unknown link")
    if row.link_expires_at is None or row.link_expires_at <= now:
        raise LinkUnusable("this link has expired: the session has begun")
    appointment = scheduling.appointment_by_id(db, row.appointment_id)
    if appointment.status != "booked":
        raise LinkUnusable("this appointment is no longer booked")
    return row


@dataclass(frozen=True)
class ReadinessForm:
    check: ReadinessCheck
    questions: list[rules.Question]
    starts_at: datetime


def open_readiness(db: Session, *, token: str, now: datetime | None = None) -> ReadinessForm:
    row = _by_token(db, token, now or utcnow())
    return ReadinessForm(row, _questions(db, row.route), row.starts_at)


def answer_readiness(
    db: Session,
    *,
    token: str,
    answers: dict[str, str],
    note: str = "",
    ip: str | None = None,
    now: datetime | None = None,
) -> ReadinessCheck:
    """The patient's own answers (each "yes" or "no"); answering again keeps the earlier
    answers under ``earlier``."""
    moment = now or utcnow()
    row = _by_token(db, token, moment)
    return store_answers(db, row=row, answers=answers, note=note, ip=ip, now=moment)


def store_answers(
    db: Session,
    *,
    row: ReadinessCheck,
    answers: dict[str, str],
    note: str = "",
    ip: str | None = None,
    now: datetime,
) -> ReadinessCheck:
    """Check and keep the patient's answers to ``row`` (the link's act, and the demo's)."""
    asked = _questions(db, row.route)
    unknown = set(answers) - {q.id for q in asked}
    if unknown:
        raise Invalid(
            "these are not questions of this check", fields={k: "unknown" for k in unknown}
        )
    parsed: dict[str, Any] = {}
    missing = {}
    for q in asked:
        value = (answers.get(q.id) or "").strip()
        if value not in ("yes", "no"):
            missing[q.id] = "answer yes or no"
            continue
        parsed[q.id] = value == "yes"
    if missing:
        raise Invalid("answer every question, yes or no", fields=missing)
    parsed["note"] = (note or "").strip()[:500]
    earlier = list((row.answers or {}).get("earlier", []))
    if row.answers:
        previous = {k: v for k, v in row.answers.items() if k != "earlier"}
        earlier.append({**previous, "at": row.answered_at.isoformat() if row.answered_at else None})
    parsed["earlier"] = earlier
    row.answers = parsed
    row.answered_at = now
    db.flush()
    concerns = readiness_concerns(row, db=db)
    audit.record(
        db,
        actor=Actor(None, "patient link", ip=ip, patient_id=row.patient_id),
        action="readiness.answer",
        patient_id=row.patient_id,
        object_type="readiness_check",
        object_id=row.id,
        detail="; ".join(concerns) if concerns else "ready on every item",
        at=now,
    )
    return row


@dataclass(frozen=True)
class ReadinessLine:
    appointment: Any
    patient_name: str
    check: ReadinessCheck | None
    concerns: list[str]

    @property
    def state(self) -> str:
        if self.check is None or self.check.outbox_message_id is None and not self.check.answers:
            return "not asked" if self.check is None else "no contact on file"
        if not self.check.answers:
            return "not answered"
        return "concerns" if self.concerns else "ready"


def readiness_for_day(
    db: Session, *, actor: Actor, day: date, zone: ZoneInfo | None = None
) -> list[ReadinessLine]:
    """The day's booked treatments and what each patient answered; those who have not
    confirmed first (the front desk calls them)."""
    _require(actor, READERS, "seeing who has confirmed readiness")
    zone = zone or get_settings().zone
    starts, ends = scheduling.day_bounds(day, zone)
    Appointment = scheduling.Appointment
    booked = list(
        db.scalars(
            select(Appointment)
            .where(
                Appointment.starts_at >= starts,
                Appointment.starts_at < ends,
                Appointment.status.in_(("booked", "checked_in")),
                Appointment.kind.in_(list(ROUTE_OF_KIND)),
            )
            .order_by(Appointment.starts_at)
        )
    )
    checks = {
        c.appointment_id: c
        for c in db.scalars(
            select(ReadinessCheck).where(
                ReadinessCheck.appointment_id.in_([a.id for a in booked] or [0])
            )
        )
    }
    names = patients.display_names(db, {a.patient_id for a in booked})
    lines = []
    for a in booked:
        check = checks.get(a.id)
        concerns = readiness_concerns(check, db=db) if check is not None else []
        lines.append(ReadinessLine(a, names.get(a.patient_id, "?"), check, concerns))
        audit.note_read(
            db,
            actor=actor,
            action="readiness.list",
            patient_id=a.patient_id,
            object_type="appointment",
            object_id=a.id,
        )
    order = {"concerns": 0, "not answered": 1, "no contact on file": 1, "not asked": 2, "ready": 3}
    return sorted(lines, key=lambda line: (order[line.state], line.appointment.starts_at))


def unconfirmed_count(db: Session, *, actor: Actor, day: date) -> int:
    """How many of the day's treatments have no "all ready" answer yet (front desk home)."""
    return sum(1 for line in readiness_for_day(db, actor=actor, day=day) if line.state != "ready")
