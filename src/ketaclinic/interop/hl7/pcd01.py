"""Decoding an IHE PCD-01 ORU^R01 message (HL7 2.6) into readings, with python-hl7.

Each refusal names the HL7 error code (table 0357) and the acknowledgement code it
answers with: ``AR`` when the message is not one ketaclinic accepts at all (so the
sender should not resend it as is), ``AE`` when it is well formed but cannot be
charted (unknown code or unit, a value out of range)."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

import hl7

from ketaclinic.clinical.codes import mdc

# HL7 v2.5+ table 0357 (message error condition codes).
REQUIRED_FIELD_MISSING = "101"
DATA_TYPE_ERROR = "102"
TABLE_VALUE_NOT_FOUND = "103"
UNSUPPORTED_MESSAGE_TYPE = "200"
UNSUPPORTED_EVENT = "201"
UNKNOWN_KEY = "204"
APPLICATION_ERROR = "207"
SEGMENT_SEQUENCE_ERROR = "100"

# OBX-11 observation result status (HL7 table 0085): these chart; C corrects an earlier
# value of the same observation; X (could not be obtained), D (deleted), W (wrong, in
# error) and any other are not charted.
CHARTED_STATUS = frozenset({"F", "R", "P", "C", "A", "S", ""})
CORRECTED = "C"


class Refused(Exception):
    def __init__(
        self, ack: str, code: str, text: str, where: str = "", *, held: bool = False
    ) -> None:
        super().__init__(text)
        self.ack = ack
        self.code = code
        self.text = text
        self.where = where
        self.held = held  # well formed, but no session in progress to chart it to


@dataclass
class Observation:
    code: int
    vital: str
    value: int
    at: datetime
    corrected: bool


@dataclass
class Decoded:
    message: Any  # the parsed hl7.Message, for the acknowledgement
    sender: str
    control_id: str
    mrn: str
    device_id: str
    model: str
    observations: list[Observation] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def header(raw: str) -> Any:
    """The parsed message, or ``Refused`` (AR) when it is not HL7 at all."""
    try:
        message = hl7.parse(raw)
        message.segment("MSH")
    except Exception as exc:  # python-hl7 raises several kinds on garbage
        raise Refused(
            "AR", SEGMENT_SEQUENCE_ERROR, f"not an HL7 v2 message ({type(exc).__name__})"
        ) from None
    return message


def _text(segment: Any, *path: int) -> str:
    try:
        value: Any = segment
        for index in path:
            value = value(index)
        return str(value).strip()
    except (IndexError, KeyError, TypeError, ValueError):
        return ""


def _time(raw: str, zone: tzinfo, where: str) -> datetime:
    try:
        moment = hl7.parse_datetime(raw)
    except (ValueError, TypeError):
        moment = None
    if moment is None:
        raise Refused("AE", DATA_TYPE_ERROR, f"{where}: {raw!r} is not an HL7 date and time", where)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment


def decode(message: Any, *, zone: tzinfo, table: dict[str, mdc.MdcRow] | None = None) -> Decoded:
    """The readings of a PCD-01 message, or ``Refused`` naming what is wrong."""
    msh = message.segment("MSH")
    kind, event = _text(msh, 9, 1, 1), _text(msh, 9, 1, 2)
    if kind != "ORU":
        raise Refused(
            "AR", UNSUPPORTED_MESSAGE_TYPE, f"message type {kind or 'missing'} is not ORU", "MSH-9"
        )
    if event != "R01":
        raise Refused("AR", UNSUPPORTED_EVENT, f"event {event or 'missing'} is not R01", "MSH-9")
    control_id = _text(msh, 10)
    if not control_id:
        raise Refused("AR", REQUIRED_FIELD_MISSING, "no message control id", "MSH-10")
    sender = _text(msh, 3) or "unknown"
    model = _text(msh, 3, 1, 1) or "*"
    try:
        pid = message.segment("PID")
    except KeyError:
        raise Refused("AE", REQUIRED_FIELD_MISSING, "no PID segment", "PID") from None
    mrn = _text(pid, 3, 1, 1)
    if not mrn:
        raise Refused("AE", REQUIRED_FIELD_MISSING, "no patient identifier", "PID-3")
    obr_time = ""
    with contextlib.suppress(KeyError):
        obr_time = _text(message.segment("OBR"), 7)
    decoded = Decoded(message, sender[:180], control_id[:199], mrn, "", model)
    devices: set[str] = set()
    try:
        obxs = list(message.segments("OBX"))
    except KeyError:
        obxs = []
    for n, obx in enumerate(obxs, start=1):
        where = f"OBX[{n}]"
        code_text = _text(obx, 3, 1, 1)
        device = _text(obx, 18, 1, 1)
        if device:
            devices.add(device)
        if not code_text.isdigit():
            raise Refused(
                "AE",
                TABLE_VALUE_NOT_FOUND,
                f"{where}-3: {code_text!r} is not an MDC code",
                f"{where}-3",
            )
        code = int(code_text)
        value_text = _text(obx, 5)
        if code in mdc.CONTAINERS and not value_text:
            continue
        row = mdc.row_for(code, model, table)
        if row is None:
            decoded.skipped.append(f"{code} (not in the MDC table)")
            continue
        status = _text(obx, 11).upper()
        if status not in CHARTED_STATUS:
            decoded.skipped.append(f"{code} status {status}")
            continue
        unit = _text(obx, 6, 1, 1)
        unit_name = _text(obx, 6, 1, 2)
        if unit != str(row.unit_code) and unit_name != row.unit:
            raise Refused(
                "AE",
                TABLE_VALUE_NOT_FOUND,
                f"{where}-6: unit {unit or 'missing'} for {row.reference_id}, "
                f"expected {row.unit_code} {row.unit}",
                f"{where}-6",
            )
        if not row.charted or row.vital is None:
            decoded.skipped.append(f"{code} {row.reference_id} (not charted)")
            continue
        try:
            number = float(value_text) * row.factor
        except ValueError:
            raise Refused(
                "AE", DATA_TYPE_ERROR, f"{where}-5: {value_text!r} is not a number", f"{where}-5"
            ) from None
        when = _text(obx, 14) or obr_time
        if not when:
            raise Refused(
                "AE",
                REQUIRED_FIELD_MISSING,
                f"{where}: no observation time (OBX-14 or OBR-7)",
                f"{where}-14",
            )
        decoded.observations.append(
            Observation(
                code,
                row.vital,
                int(round(number)),
                _time(when, zone, f"{where}-14"),
                status == CORRECTED,
            )
        )
    if len(devices) > 1:
        raise Refused(
            "AE",
            APPLICATION_ERROR,
            f"observations from {len(devices)} devices in one message",
            "OBX-18",
        )
    decoded.device_id = (devices.pop() if devices else model)[:120]
    if not decoded.observations:
        raise Refused(
            "AE", REQUIRED_FIELD_MISSING, "no vital sign ketaclinic charts in the message", "OBX"
        )
    return decoded


def _standard_separators(message: Any) -> bool:
    try:
        msh = message.segment("MSH")
        return str(msh(1)) == "|" and str(msh(2)) == "^~\\&"
    except Exception:
        return False


def ack(message: Any | None, code: str, *, error: Refused | None = None, control: str) -> str:
    """The acknowledgement text: MSH and MSA (python-hl7's ``create_ack``), and an ERR
    segment saying what was wrong."""
    if message is not None and not _standard_separators(message):
        message = None  # answered with the standard separators, which any sender reads
    if message is not None:
        try:
            text = str(message.create_ack(code, message_id=control, application="KETACLINIC"))
        except Exception:  # a header too broken to answer in kind
            message = None
    if message is None:
        stamp = datetime.now().strftime("%Y%m%d%H%M%S")
        text = f"MSH|^~\\&|KETACLINIC||||{stamp}||ACK|{control}|P|2.6\rMSA|{code}|"
    if error is not None:
        detail = (
            error.text.replace("|", "/")
            .replace("^", " ")
            .replace("~", " ")
            .replace("\\", "/")
            .replace("&", "+")
        )
        text = (
            text.rstrip("\r") + f"\rERR||{_location(error.where)}|{error.code}^{detail}^HL70357|E"
        )
    return text.rstrip("\r")


def _location(where: str) -> str:
    """ERR-2 (ERL: segment^sequence^field) from "OBX[2]-6", "PID-3" or "OBX"."""
    found = re.match(r"^([A-Z0-9]{3})(?:\[(\d+)\])?(?:-(\d+))?$", where)
    if not found:
        return ""
    segment, sequence, field_no = found.groups()
    return "^".join(x for x in (segment, sequence or "1", field_no or "") if x)
