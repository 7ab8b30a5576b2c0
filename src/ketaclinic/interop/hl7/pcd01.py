"""Decoding an IHE PCD-01 ORU^R01 message (HL7 2.6) into readings (python-hl7 frames the
MLLP stream around it, ``listener``).

Each refusal names the HL7 error code (table 0357) and the acknowledgement code it
answers with: ``AR`` when the message is not one ketaclinic accepts at all (so the
sender should not resend it as is), ``AE`` when it is well formed but cannot be
charted (unknown code or unit, a value out of range)."""

from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

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
# The segments an ORU^R01 (and its acknowledgement) is made of: names taken as they
# are, where any other is first matched against ``_SEGMENT_NAME``.
_ORU_SEGMENTS = frozenset(
    {
        "MSH", "SFT", "UAC", "PID", "PD1", "PRT", "NTE", "NK1", "PV1", "PV2", "ORC", "OBR",
        "TQ1", "TQ2", "CTD", "OBX", "FT1", "CTI", "SPM", "MSA", "ERR", "EVN", "ROL",
    }
)  # fmt: skip
_STANDARD_SEPARATOR, _STANDARD_ENCODING = "|", "^~\\&"


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
        separator = self.field_separator = text[3]
        end = text.find(separator, 4)
        encoding = text[4:end] if end >= 0 else text[4:]
        # The standard separators, which nearly every sender uses, are valid as they are.
        if (separator != _STANDARD_SEPARATOR or encoding != _STANDARD_ENCODING) and (
            not 3 <= len(encoding) <= 5
            or len(set(encoding + separator)) != len(encoding) + 1
            or any(c.isalnum() or c.isspace() for c in encoding + separator)
        ):
            raise ValueError("MSH-2 is not a set of encoding characters")
        self.encoding = encoding
        self.component_separator = encoding[0]
        repetition = self.repetition_separator = encoding[1]
        self.segments: list[list[str]] = []
        # A regular expression only when a segment may end in LF or CRLF, not CR alone.
        for line in _SEGMENT_BREAK.split(text) if "\n" in text else text.split("\r"):
            fields = line.split(separator)
            name = fields[0]
            if name not in _ORU_SEGMENTS:
                if not line.strip():
                    continue
                if not _SEGMENT_NAME.match(name):
                    raise ValueError("a segment without a segment name")
            if name == "MSH":
                # MSH-1 is the separator itself: numbered so that fields[n] is MSH-n.
                fields.insert(1, separator)
            self.segments.append(fields)
        # What ``decode`` reads: each field's first repetition. When nothing after MSH-2
        # (which holds the repetition separator itself) repeats, that is every field as
        # it is; else the segments are cut to their first repetitions once, here.
        self.first_repetitions = (
            self.segments
            if text.find(repetition, 4 + len(encoding)) < 0
            else [_first_repetitions(fields, repetition) for fields in self.segments]
        )

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


def _first_repetitions(fields: list[str], repetition: str) -> list[str]:
    first = [text.split(repetition, 1)[0] if repetition in text else text for text in fields]
    if fields[0] == "MSH":
        first[2] = fields[2]  # MSH-2: the encoding characters, not a repeating field
    return first


def header(raw: str) -> Message:
    """The parsed message, or ``Refused`` (AR) when it is not HL7 at all."""
    try:
        return Message(raw)
    except ValueError as exc:
        raise Refused("AR", SEGMENT_SEQUENCE_ERROR, f"not an HL7 v2 message ({exc})") from None


# HL7 v2 DTM (v2.6 chapter 2A): YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]. A
# reading's time needs at least its minute (a convention: the monitoring schedule and
# the alarm rules count minutes, and a reading stamped with a day or an hour alone would
# be charted at a moment nobody measured it).
_DTM = re.compile(
    r"(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(?:(\d{2})(?:\.(\d{1,4}))?)?(?:([+-])(\d{2})(\d{2}))?"
)


def _time(raw: str, zone: tzinfo, where: str) -> datetime:
    """An HL7 DTM of at least minute precision, in UTC: without an offset it is the
    clinic's local time. The offset's sign applies to its hours and minutes together
    ("-0030" is half an hour west of UTC), hours under 24 and minutes under 60; python-hl7's
    ``parse_datetime`` takes the sign from the hours alone and reads "-0030" as east."""
    moment = _seconds_time(raw, zone)
    if moment is not None:
        return moment
    found = _DTM.fullmatch(raw) if raw.isascii() else None
    try:
        if found is None:
            raise ValueError(raw)
        year, month, day, hour, minute, second, fraction, sign, off_h, off_m = found.groups()
        local = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")),
        )
        if sign is None:
            return local.replace(tzinfo=zone).astimezone(UTC)
        if int(off_h) > 23 or int(off_m) > 59:
            raise ValueError(raw)
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        return (local - offset if sign == "+" else local + offset).replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise Refused(
            "AE", DATA_TYPE_ERROR, f"{where}: {raw!r} is not an HL7 date and time", where
        ) from None


# The clinic's monitors stamp their readings to the second and send every few seconds,
# so the chairs of one group share a handful of stamps: each is read once (bounded).
@functools.lru_cache(maxsize=1024)
def _seconds_time(raw: str, zone: tzinfo) -> datetime | None:
    """``_time`` for the time a monitor stamps (YYYYMMDDHHMMSS, with or without a
    +/-HHMM offset), without a regular expression; ``None`` for any other form or
    anything doubtful (an impossible date or offset, the ends of ``datetime``'s range),
    which ``_time`` reads or refuses."""
    size = len(raw)
    if not (size == 14 or (size == 19 and raw[14] in "+-")) or not raw.isascii():
        return None
    if not raw[:14].isdigit() or (size == 19 and not raw[15:].isdigit()):
        return None
    year = int(raw[:4])
    if not 1 < year < 9999:
        return None
    try:
        moment = datetime(
            year,
            int(raw[4:6]),
            int(raw[6:8]),
            int(raw[8:10]),
            int(raw[10:12]),
            int(raw[12:14]),
            tzinfo=zone if size == 14 else UTC,
        )
    except ValueError:
        return None
    if size == 14:
        return moment.astimezone(UTC)
    hours, minutes = int(raw[15:17]), int(raw[17:19])
    if hours > 23 or minutes > 59:
        return None
    offset = hours * 60 + minutes
    return moment - timedelta(minutes=offset if raw[14] == "+" else -offset)


# Monitors that send no OBX-18 and one MSH-3 for every unit, but begin MSH-10 with
# their own serial number: (model, its length). The device a reading comes from is then
# that serial, so that two such monitors are told apart when a nurse binds one.
SERIAL_IN_CONTROL_ID: dict[str, int] = {
    # Philips Efficia CM Series Data Export Guide, MSH segment tables (pp. 2-7 to 2-8,
    # 3-10 to 3-12): MSH-3 "^EfficiaCM", "the identifier for all Efficia monitors";
    # MSH-10 "a combination of the 10-character device serial number and a 10-character
    # message counter" (sample MONITORABC000000002D); its OBX carry no OBX-18.
    "EfficiaCM": 10,
}


def _model(sending: str, cs: str) -> str:
    """The device model MSH-3 names. MSH-3 is an HD: namespace ^ universal id ^ its type;
    PCD-01 monitors put their model in the namespace, an Efficia CM leaves it empty and
    names itself in the universal id ("^EfficiaCM", ``SERIAL_IN_CONTROL_ID``)."""
    hd = sending.split(cs)
    return hd[0].strip() or (hd[1].strip() if len(hd) > 1 else "") or "*"


def _device_of_model(model: str, control_id: str) -> str:
    """The device a message without OBX-18 comes from: the serial its model writes at
    the start of MSH-10 (``SERIAL_IN_CONTROL_ID``), else its model (MSH-3)."""
    length = SERIAL_IN_CONTROL_ID.get(model)
    if length is not None and len(control_id) > length:
        return control_id[:length]
    return model


def decode(message: Message, *, zone: tzinfo, codes: mdc.Codebook = mdc.DEFAULT) -> Decoded:
    """The readings of a PCD-01 message, or ``Refused`` naming what is wrong. ``codes``:
    the MDC rows and units, the clinic's own where it overrides the defaults.

    Every message a monitor sends passes here, so it reads the fields it needs straight
    from the split segments (``Message.first_repetitions``), each stripped as
    ``Message.value`` strips it, rather than calling ``value`` for each."""
    cs = message.component_separator
    segments = message.first_repetitions
    msh = segments[0]
    pid: list[str] | None = None
    obr: list[str] | None = None
    obxs: list[list[str]] = []
    for fields in segments:
        name = fields[0]
        if name == "OBX":
            obxs.append(fields)
        elif name == "PID":
            pid = fields if pid is None else pid
        elif name == "OBR":
            obr = fields if obr is None else obr
    size = len(msh)
    kinds = msh[9].split(cs) if size > 9 else [""]
    kind = kinds[0].strip()
    event = kinds[1].strip() if len(kinds) > 1 else ""
    if kind != "ORU":
        raise Refused(
            "AR", UNSUPPORTED_MESSAGE_TYPE, f"message type {kind or 'missing'} is not ORU", "MSH-9"
        )
    if event != "R01":
        raise Refused("AR", UNSUPPORTED_EVENT, f"event {event or 'missing'} is not R01", "MSH-9")
    control_id = msh[10].strip() if size > 10 else ""
    if not control_id:
        raise Refused("AR", REQUIRED_FIELD_MISSING, "no message control id", "MSH-10")
    sending = msh[3] if size > 3 else ""
    sender = sending.strip() or "unknown"
    model = _model(sending, cs)
    if pid is None:
        raise Refused("AE", REQUIRED_FIELD_MISSING, "no PID segment", "PID")
    mrn = pid[3].partition(cs)[0].strip() if len(pid) > 3 else ""
    if not mrn:
        raise Refused("AE", REQUIRED_FIELD_MISSING, "no patient identifier", "PID-3")
    obr_time = obr[7].strip() if obr is not None and len(obr) > 7 else ""
    row_of = codes.of_model(model).get
    observations: list[Observation] = []
    skipped: list[str] = []
    devices: set[str] = set()
    times: dict[str, datetime] = {}  # the OBX of a message share one or two times
    # The vital signs charted so far: a second code of one (an ECG heart rate and a
    # pulse oximeter's pulse) is settled by ``_one_a_vital`` once all are read.
    vitals: set[str] = set()
    again = False
    memo = codes.memo
    for n, obx in enumerate(obxs, start=1):
        size = len(obx)
        if size > 18:
            device = obx[18].partition(cs)[0].strip()
            if device:
                devices.add(device)
        key = (model, cs, obx[3] if size > 3 else "", obx[6] if size > 6 else "")
        term = memo.get(key)
        if term is None:
            term = _term(key, row_of, codes)
            if len(memo) >= _MEMO_SIZE:
                memo.clear()  # a sender of endless new codes costs time, never memory
            memo[key] = term
        code = term.code
        if code is None:
            if term.skipped is None:
                raise Refused(
                    "AE",
                    TABLE_VALUE_NOT_FOUND,
                    f"OBX[{n}]-3: {term.code_text!r} is not an MDC code",
                    f"OBX[{n}]-3",
                )
            skipped.append(term.skipped)
            continue
        value_text = obx[5].strip() if size > 5 else ""
        if code in mdc.CONTAINERS and not value_text:
            continue
        row = term.row
        if row is None:
            skipped.append(f"{code} (not in the MDC table)")
            continue
        status = obx[11].strip().upper() if size > 11 else ""
        if status not in CHARTED_STATUS:
            skipped.append(f"{code} status {status}")
            continue
        factor = term.factor
        if factor is None:
            raise Refused(
                "AE",
                TABLE_VALUE_NOT_FOUND,
                f"OBX[{n}]-6: unit {term.unit or 'missing'} for {row.reference_id}, "
                f"expected {row.unit_code} {row.unit}",
                f"OBX[{n}]-6",
            )
        if not row.charted or row.vital is None:
            skipped.append(f"{code} {row.reference_id} (not charted)")
            continue
        try:
            number = float(value_text) * factor + term.offset
            if not math.isfinite(number):
                raise ValueError(value_text)
        except ValueError:
            raise Refused(
                "AE",
                DATA_TYPE_ERROR,
                f"OBX[{n}]-5: {value_text!r} is not a number",
                f"OBX[{n}]-5",
            ) from None
        when = (obx[14].strip() if size > 14 else "") or obr_time
        if not when:
            raise Refused(
                "AE",
                REQUIRED_FIELD_MISSING,
                f"OBX[{n}]: no observation time (OBX-14 or OBR-7)",
                f"OBX[{n}]-14",
            )
        charted = round(number, 1) if row.vital in DECIMAL_VITALS else int(round(number))
        at = times.get(when)
        if at is None:
            at = times[when] = _time(when, zone, f"OBX[{n}]-14")
        vital = row.vital
        if vital in vitals:
            again = True
        else:
            vitals.add(vital)
        observations.append(Observation(code, vital, charted, at, status == CORRECTED))
    if again:
        observations = _one_a_vital(observations, row_of, skipped)
    if len(devices) > 1:
        raise Refused(
            "AE",
            APPLICATION_ERROR,
            f"observations from {len(devices)} devices in one message",
            "OBX-18",
        )
    if not observations:
        raise Refused(
            "AE", REQUIRED_FIELD_MISSING, "no vital sign ketaclinic charts in the message", "OBX"
        )
    return Decoded(
        message,
        sender[:180],
        control_id[:199],
        mrn,
        (devices.pop() if devices else _device_of_model(model, control_id))[:120],
        model,
        observations,
        skipped,
    )


# How many (model, OBX-3, OBX-6) a codebook remembers (``_term``): far more than the
# codes and units of a clinic's monitors; a tuning figure.
_MEMO_SIZE = 4096


@dataclass(frozen=True)
class _Term:
    """What an observation's code (OBX-3) and unit (OBX-6) come to for a device model:
    the same for every message a monitor sends, so read once (``Codebook.memo``).
    ``code`` None: not an MDC code (``skipped`` None: refused) or a Philips term of a
    partition that is not charted (``skipped``: the note)."""

    code_text: str
    code: int | None
    skipped: str | None = None
    row: mdc.MdcRow | None = None
    factor: float | None = None  # None: a unit the table does not know for the row
    offset: float = 0.0
    unit: str = ""


def _term(
    key: tuple[str, str, str, str],
    row_of: Callable[[int], mdc.MdcRow | None],
    codes: mdc.Codebook,
) -> _Term:
    _, cs, identifier_field, unit_field = key
    identifier = identifier_field.split(cs)
    code_text = identifier[0].strip()
    if code_text.isdigit():
        code = int(code_text)
    else:
        system = identifier[2].strip() if len(identifier) > 2 else ""
        if system.upper() != mdc.MDIL_SYSTEM:
            return _Term(code_text, None)
        # A Philips identifier: the same term in hexadecimal (``mdc.MDIL_SOURCE``); one
        # of a partition ketaclinic does not chart is noted, not refused.
        found = mdc.mdil_code(code_text, system)
        if found is None:
            return _Term(code_text, None, f"{code_text} (MDIL, not a vital sign)")
        code = found
    row = row_of(code)
    if row is None:
        return _Term(code_text, code)
    units = unit_field.split(cs)
    unit = units[0].strip()
    unit_name = units[1].strip() if len(units) > 1 else ""
    if unit and not unit.isdigit():
        mdil_unit = mdc.mdil_code(unit, units[2].strip() if len(units) > 2 else "")
        unit = str(mdil_unit) if mdil_unit is not None else unit
    into = mdc.conversion(row, unit, unit_name, codes.units)
    if into is None:
        return _Term(code_text, code, None, row, None, 0.0, unit)
    return _Term(code_text, code, None, row, into.factor, into.offset, unit)


def _one_a_vital(
    observations: list[Observation],
    row_of: Callable[[int], mdc.MdcRow | None],
    skipped: list[str],
) -> list[Observation]:
    """One value a vital sign at each time: of the codes that chart the same vital sign
    at the same moment, the one of the lowest ``priority`` (``mdc.PRIORITY_SOURCE``;
    the first sent among equals), in message order; each other is noted in ``skipped``
    with the value it carried, so none is dropped unsaid."""
    chosen: dict[tuple[datetime, str], Observation] = {}
    passed_over: list[Observation] = []
    for obs in observations:
        key = (obs.at, obs.vital)
        held = chosen.get(key)
        if held is None:
            chosen[key] = obs
        elif _priority(row_of, obs.code) < _priority(row_of, held.code):
            chosen[key] = obs
            passed_over.append(held)
        else:
            passed_over.append(obs)
    for obs in passed_over:
        # The one a later code displaced is named with the code finally charted.
        winner = chosen[(obs.at, obs.vital)]
        skipped.append(
            f"{obs.code} {_reference(row_of, obs.code)} {obs.value} at "
            f"{obs.at:%Y-%m-%d %H:%M:%S} UTC not charted: {obs.vital} charted from "
            f"{winner.code} {_reference(row_of, winner.code)} {winner.value} "
            f"(priority {_priority(row_of, winner.code)} over "
            f"{_priority(row_of, obs.code)})"
        )
    kept = {id(obs) for obs in chosen.values()}
    return [obs for obs in observations if id(obs) in kept]


def _priority(row_of: Callable[[int], mdc.MdcRow | None], code: int) -> int:
    row = row_of(code)
    return row.priority if row is not None else 0


def _reference(row_of: Callable[[int], mdc.MdcRow | None], code: int) -> str:
    row = row_of(code)
    return row.reference_id if row is not None else ""


@dataclass(frozen=True)
class Named:
    """Who a message says it is from and about, as far as its header can be read: what
    a refused message is kept under when ``decode`` could not finish."""

    sender: str | None
    control_id: str | None
    mrn: str | None
    device_id: str | None


def named(message: Message | None) -> Named:
    if message is None:
        return Named(None, None, None, None)
    msh = message.segments[0]
    try:
        pid: list[str] | None = message.segment("PID")
    except KeyError:
        pid = None
    obx = message.all("OBX")
    device = next((d for d in (message.value(o, 18, 1) for o in obx) if d), "")
    sender = message.value(msh, 3)
    control_id = message.value(msh, 10)
    model = _model(sender, message.component_separator)
    if not device and model != "*":
        # As ``decode`` names it: the model's serial in MSH-10, else the model.
        device = _device_of_model(model, control_id)
    return Named(
        sender[:180] or None,
        control_id[:199] or None,
        (message.value(pid, 3, 1) if pid is not None else "") or None,
        device[:120] or None,
    )


# The second an acknowledgement is stamped with, formatted once a second: the listener
# answers hundreds of messages a second.
_stamped: tuple[int, str] = (0, "")


def _stamp() -> str:
    global _stamped
    second = int(time.time())
    if _stamped[0] != second:
        _stamped = (second, datetime.fromtimestamp(second, UTC).strftime("%Y%m%d%H%M%S"))
    return _stamped[1]


def ack(message: Message | None, code: str, *, error: Refused | None = None, control: str) -> str:
    """The acknowledgement text: MSH and MSA laid out as python-hl7's ``create_ack``
    lays them out (HL7 v2 original-mode acknowledgement: the sender's application and
    facility become the receiver's), and an ERR segment saying what was wrong."""
    stamp = _stamp()
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
