"""Decoding an IHE PCD-01 ORU^R01 message (HL7 2.6) into readings, with python-hl7.

Each refusal names the HL7 error code (table 0357) and the acknowledgement code it
answers with: ``AR`` when the message is not one ketaclinic accepts at all (so the
sender should not resend it as is), ``AE`` when it is well formed but cannot be
charted (unknown code or unit, a value out of range)."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

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
# Charted to one decimal (a temperature); every other vital sign is a whole number.
DECIMAL_VITALS = frozenset({"temperature"})


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
    value: int | float
    at: datetime
    corrected: bool


@dataclass
class Decoded:
    message: Message  # the parsed message, for the acknowledgement
    sender: str
    control_id: str
    mrn: str
    device_id: str
    model: str
    observations: list[Observation] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


_SEGMENT_NAME = re.compile(r"^[A-Z][A-Z0-9]{2}$")
_SEGMENT_BREAK = re.compile(r"\r\n|\r|\n")


class Message:
    """An HL7 v2 message split on its own separators (MSH-1, MSH-2): segments, fields,
    first repetition, components. A PCD-01 message is a few short segments of plain
    delimited text, and this is all ketaclinic reads of it; splitting it with ``str``
    methods costs a few microseconds, where building python-hl7's full container tree
    cost about 0.9 ms a message, more than everything else its ingest does. Escape
    sequences are left as sent (python-hl7 leaves them too): no field ketaclinic reads
    (codes, numbers, times, identifiers) carries one. python-hl7 still frames MLLP."""

    def __init__(self, raw: str) -> None:
        text = raw.strip("\r\n\x0b\x1c ")
        if len(text) < 8 or not text.startswith("MSH"):
            raise ValueError("no MSH segment first")
        self.field_separator = text[3]
        encoding = text[4:].split(self.field_separator, 1)[0]
        if (
            not 3 <= len(encoding) <= 5
            or len(set(encoding + self.field_separator)) != len(encoding) + 1
            or any(c.isalnum() or c.isspace() for c in encoding + self.field_separator)
        ):
            raise ValueError("MSH-2 is not a set of encoding characters")
        self.encoding = encoding
        self.component_separator = encoding[0]
        self.repetition_separator = encoding[1]
        self.segments: list[list[str]] = []
        for line in _SEGMENT_BREAK.split(text):
            if not line.strip():
                continue
            fields = line.split(self.field_separator)
            if not _SEGMENT_NAME.match(fields[0]):
                raise ValueError("a segment without a segment name")
            if fields[0] == "MSH":
                # MSH-1 is the separator itself: numbered so that fields[n] is MSH-n.
                fields.insert(1, self.field_separator)
            self.segments.append(fields)

    def segment(self, name: str) -> list[str]:
        """The first segment of that name, or ``KeyError``."""
        for fields in self.segments:
            if fields[0] == name:
                return fields
        raise KeyError(name)

    def all(self, name: str) -> list[list[str]]:
        return [fields for fields in self.segments if fields[0] == name]

    def value(self, fields: list[str], number: int, component: int | None = None) -> str:
        """SEG-number (first repetition), or its component (1-based); "" where absent."""
        if number >= len(fields):
            return ""
        text = fields[number]
        if fields[0] == "MSH" and number <= 2:
            return text.strip()
        text = text.split(self.repetition_separator, 1)[0]
        if component is not None:
            parts = text.split(self.component_separator)
            text = parts[component - 1] if component <= len(parts) else ""
        return text.strip()

    def components(self, fields: list[str], number: int) -> list[str]:
        """The components of SEG-number (first repetition), each stripped; [""] where
        absent. One split for a field whose components are read together."""
        if number >= len(fields):
            return [""]
        text = fields[number]
        if self.repetition_separator in text:
            text = text.split(self.repetition_separator, 1)[0]
        return [part.strip() for part in text.split(self.component_separator)]

    def __str__(self) -> str:
        return "\r".join(self.field_separator.join(self._sent(f)) for f in self.segments)

    @staticmethod
    def _sent(fields: list[str]) -> list[str]:
        return [fields[0], *fields[2:]] if fields[0] == "MSH" else fields


def header(raw: str) -> Message:
    """The parsed message, or ``Refused`` (AR) when it is not HL7 at all."""
    try:
        return Message(raw)
    except ValueError as exc:
        raise Refused("AR", SEGMENT_SEQUENCE_ERROR, f"not an HL7 v2 message ({exc})") from None


def _time(raw: str, zone: tzinfo, where: str) -> datetime:
    try:
        moment = hl7.parse_datetime(raw)
    except (ValueError, TypeError):
        moment = None
    if moment is None:
        raise Refused("AE", DATA_TYPE_ERROR, f"{where}: {raw!r} is not an HL7 date and time", where)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    # The same instant in UTC: compared and hashed from here on without calling back
    # into the parser's own offset class for each comparison.
    return moment.astimezone(UTC)


def decode(
    message: Message, *, zone: tzinfo, table: dict[str, mdc.MdcRow] | None = None
) -> Decoded:
    """The readings of a PCD-01 message, or ``Refused`` naming what is wrong."""
    value, components = message.value, message.components
    msh = message.segment("MSH")
    kind, event = value(msh, 9, 1), value(msh, 9, 2)
    if kind != "ORU":
        raise Refused(
            "AR", UNSUPPORTED_MESSAGE_TYPE, f"message type {kind or 'missing'} is not ORU", "MSH-9"
        )
    if event != "R01":
        raise Refused("AR", UNSUPPORTED_EVENT, f"event {event or 'missing'} is not R01", "MSH-9")
    control_id = value(msh, 10)
    if not control_id:
        raise Refused("AR", REQUIRED_FIELD_MISSING, "no message control id", "MSH-10")
    sender = value(msh, 3) or "unknown"
    model = value(msh, 3, 1) or "*"
    try:
        pid = message.segment("PID")
    except KeyError:
        raise Refused("AE", REQUIRED_FIELD_MISSING, "no PID segment", "PID") from None
    mrn = value(pid, 3, 1)
    if not mrn:
        raise Refused("AE", REQUIRED_FIELD_MISSING, "no patient identifier", "PID-3")
    obr_time = ""
    with contextlib.suppress(KeyError):
        obr_time = value(message.segment("OBR"), 7)
    decoded = Decoded(message, sender[:180], control_id[:199], mrn, "", model)
    devices: set[str] = set()
    times: dict[str, datetime] = {}  # the OBX of a message share one or two times
    for n, obx in enumerate(message.all("OBX"), start=1):
        where = f"OBX[{n}]"
        identifier = components(obx, 3)
        code_text = identifier[0]
        system = identifier[2] if len(identifier) > 2 else ""
        device = components(obx, 18)[0]
        if device:
            devices.add(device)
        if code_text.isdigit():
            code = int(code_text)
        elif system.upper() == mdc.MDIL_SYSTEM:
            # A Philips identifier: the same term in hexadecimal (``mdc.MDIL_SOURCE``);
            # one of a partition ketaclinic does not chart is noted, not refused.
            found = mdc.mdil_code(code_text, system)
            if found is None:
                decoded.skipped.append(f"{code_text} (MDIL, not a vital sign)")
                continue
            code = found
        else:
            raise Refused(
                "AE",
                TABLE_VALUE_NOT_FOUND,
                f"{where}-3: {code_text!r} is not an MDC code",
                f"{where}-3",
            )
        value_text = value(obx, 5)
        if code in mdc.CONTAINERS and not value_text:
            continue
        row = mdc.row_for(code, model, table)
        if row is None:
            decoded.skipped.append(f"{code} (not in the MDC table)")
            continue
        status = value(obx, 11).upper()
        if status not in CHARTED_STATUS:
            decoded.skipped.append(f"{code} status {status}")
            continue
        units = components(obx, 6)
        unit = units[0]
        unit_name = units[1] if len(units) > 1 else ""
        if unit and not unit.isdigit():
            mdil_unit = mdc.mdil_code(unit, units[2] if len(units) > 2 else "")
            unit = str(mdil_unit) if mdil_unit is not None else unit
        factor = mdc.conversion(row, unit, unit_name)
        if factor is None:
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
            number = float(value_text) * factor
        except ValueError:
            raise Refused(
                "AE", DATA_TYPE_ERROR, f"{where}-5: {value_text!r} is not a number", f"{where}-5"
            ) from None
        when = value(obx, 14) or obr_time
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
                round(number, 1) if row.vital in DECIMAL_VITALS else int(round(number)),
                times[when]
                if when in times
                else times.setdefault(when, _time(when, zone, f"{where}-14")),
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


def ack(message: Message | None, code: str, *, error: Refused | None = None, control: str) -> str:
    """The acknowledgement text: MSH and MSA laid out as python-hl7's ``create_ack``
    lays them out (HL7 v2 original-mode acknowledgement: the sender's application and
    facility become the receiver's), and an ERR segment saying what was wrong."""
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    text = ""
    if message is not None and message.field_separator == "|" and message.encoding == "^~\\&":
        # A header in any other separators is answered in the standard ones below.
        msh, value = message.segment("MSH"), message.value
        text = (
            f"MSH|^~\\&|KETACLINIC|{_field(msh, 6)}|{_field(msh, 3)}|{_field(msh, 4)}|{stamp}"
            f"||ACK^{value(msh, 9, 2)}^ACK|{control}|{_field(msh, 11)}|{_field(msh, 12)}"
            f"\rMSA|{code}|{_field(msh, 10)}"
        )
    if not text:
        text = f"MSH|^~\\&|KETACLINIC||||{stamp}||ACK|{control}|P|2.6\rMSA|{code}|"
    if error is not None:
        detail = (
            error.text.replace("|", "/")
            .replace("^", " ")
            .replace("~", " ")
            .replace("\\", "/")
            .replace("&", "+")
        )
        text = text + f"\rERR||{_location(error.where)}|{error.code}^{detail}^HL70357|E"
    return text


def _field(fields: list[str], number: int) -> str:
    return fields[number] if number < len(fields) else ""


def _location(where: str) -> str:
    """ERR-2 (ERL: segment^sequence^field) from "OBX[2]-6", "PID-3" or "OBX"."""
    found = re.match(r"^([A-Z0-9]{3})(?:\[(\d+)\])?(?:-(\d+))?$", where)
    if not found:
        return ""
    segment, sequence, field_no = found.groups()
    return "^".join(x for x in (segment, sequence or "1", field_no or "") if x)
