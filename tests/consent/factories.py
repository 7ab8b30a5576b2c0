"""Builders for consent tests: documents written by an admin, a patient account, and a
small real PNG signature."""

from __future__ import annotations

import base64
import struct
import zlib
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ketaclinic.consent import service
from ketaclinic.consent.models import ConsentDocument
from ketaclinic.patients.models import Patient
from ketaclinic.platform.accounts import service as accounts
from ketaclinic.platform.actors import Actor
from tests.conftest import committed, make_user

OFF_LABEL_TEXT = (
    "Ketamine is approved as an anaesthetic; its use for depression is off-label.\n\n"
    "I understand the effects I may feel and that I may stop at any time."
)


def png(width: int = 60, height: int = 20) -> bytes:
    rows = b"".join(b"\x00" + b"\xff" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def data_url(raw: bytes | None = None) -> str:
    return "data:image/png;base64," + base64.b64encode(raw if raw is not None else png()).decode()


@dataclass
class People:
    admin: Actor
    nurse: Actor
    prescriber: Actor
    desk: Actor


@committed
def people(db: Session) -> People:
    found = {}
    for role in ("admin", "nurse", "prescriber", "front_desk"):
        found[role] = accounts.actor_for(make_user(db, role))
    return People(found["admin"], found["nurse"], found["prescriber"], found["front_desk"])


@committed
def patient_account(db: Session, patient: Patient, username: str = "pat") -> Actor:
    return accounts.actor_for(make_user(db, "patient", username=username, patient_id=patient.id))


@committed
def document(
    db: Session,
    admin: Actor,
    kind: str = "off_label_ketamine",
    body: str = OFF_LABEL_TEXT,
    **fields: bool,
) -> ConsentDocument:
    return service.publish_document(
        db, actor=admin, kind=kind, title=kind.replace("_", " ").title(), body=body, **fields
    )


@committed
def signed(
    db: Session, actor: Actor, patient: Patient, doc: ConsentDocument, **fields: object
) -> object:
    values: dict[str, object] = {
        "typed_name": "Tom Reyes",
        "signature_data_url": data_url(),
        "channel": "portal" if actor.patient_only else "clinic",
    }
    values.update(fields)
    return service.sign(
        db,
        actor=actor,
        patient_id=patient.id,
        document_id=doc.id,
        text_sha256=doc.body_sha256,
        **values,  # type: ignore[arg-type]
    )
