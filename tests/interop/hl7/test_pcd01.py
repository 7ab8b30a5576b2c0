"""Decoding PCD-01 messages: codes, units, result status and observation time."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from ketaclinic.clinical.codes import mdc
from ketaclinic.interop.hl7 import pcd01
from ketaclinic.interop.hl7.messages import oru_r01
from ketaclinic.interop.hl7.simulator import Monitor

NY = ZoneInfo("America/New_York")


def _message(*obx: str, obr_time: str = "20261201150000") -> str:
    return "\r".join(
        [
            "MSH|^~\\&|GEB40^ABCD^EUI-64|ICU|KC|CLINIC|20261201150000+0000||ORU^R01^ORU_R01|M1|P|2.6",
            "PID|||KC000001^^^KC^MR",
            f"OBR|1|||182777000^monitoring of patient^SNOMED-CT|||{obr_time}",
            *obx,
        ]
    )


def _decode(raw: str) -> pcd01.Decoded:
    return pcd01.decode(pcd01.header(raw), zone=NY)


def test_the_nibp_set_charts_systolic_diastolic_and_mean() -> None:
    decoded = _decode(
        _message(
            "OBX|1||150020^MDC_PRESS_BLD_NONINV^MDC|1.0.1|||||||X",
            "OBX|2|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.0.1.1|142|266016^MDC_DIM_MMHG^MDC|||||F",
            "OBX|3|NM|150022^MDC_PRESS_BLD_NONINV_DIA^MDC|1.0.1.2|91|266016^MDC_DIM_MMHG^MDC|||||F",
            "OBX|4|NM|150023^MDC_PRESS_BLD_NONINV_MEAN^MDC|1.0.1.3|108|266016^MDC_DIM_MMHG^MDC|||||F",
        )
    )
    assert [(o.vital, o.value) for o in decoded.observations] == [
        ("systolic_bp", 142),
        ("diastolic_bp", 91),
        ("mean_bp", 108),
    ]
    assert decoded.skipped == []
    # No OBX-14: the OBR-7 time, without an offset, read in the clinic's zone (EST, -5 h).
    assert decoded.observations[0].at == datetime(2026, 12, 1, 20, 0, tzinfo=UTC)
    assert decoded.device_id == "GEB40" and decoded.mrn == "KC000001"


def test_a_deleted_result_is_not_charted_and_a_corrected_one_is_marked() -> None:
    decoded = _decode(
        _message(
            "OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.0.1.1|84|262688^MDC_DIM_PERCENT^MDC|||||D|||20261201150100+0000",
            "OBX|2|NM|149546^MDC_PULS_RATE^MDC|1.0.1.2|88|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||C|||20261201150100+0000",
        )
    )
    assert [(o.vital, o.value, o.corrected) for o in decoded.observations] == [
        ("heart_rate", 88, True)
    ]
    assert decoded.observations[0].at == datetime(2026, 12, 1, 15, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("obx", "ack", "code"),
    [
        ("OBX|1|NM|150456^X^MDC|1|97|266016^MDC_DIM_MMHG^MDC|||||F", "AE", "103"),  # wrong unit
        ("OBX|1|NM|150456^X^MDC|1|ninety|262688^MDC_DIM_PERCENT^MDC|||||F", "AE", "102"),
        ("OBX|1|NM|SPO2^X^L|1|97|262688^MDC_DIM_PERCENT^MDC|||||F", "AE", "103"),
    ],
)
def test_what_cannot_be_charted_is_refused_naming_the_field(obx: str, ack: str, code: str) -> None:
    with pytest.raises(pcd01.Refused) as refused:
        _decode(_message(obx))
    assert (refused.value.ack, refused.value.code) == (ack, code)


def test_a_message_of_another_type_is_rejected() -> None:
    raw = _message().replace("ORU^R01^ORU_R01", "ADT^A01^ADT_A01")
    with pytest.raises(pcd01.Refused) as refused:
        _decode(raw)
    assert (refused.value.ack, refused.value.code) == ("AR", "200")


def test_the_acknowledgement_is_laid_out_as_python_hl7_lays_it_out() -> None:
    import hl7

    raw = _message(
        "OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.0.1.1|97|262688^MDC_DIM_PERCENT^MDC|||||F"
    )
    ours = pcd01.ack(pcd01.header(raw), "AA", control="C42").split("\r")
    theirs = (
        str(hl7.parse(raw).create_ack("AA", message_id="C42", application="KETACLINIC"))
        .rstrip("\r")
        .split("\r")
    )
    assert len(ours) == len(theirs) == 2
    # Field by field, but for MSH-7 (the moment each was made).
    assert ours[0].split("|")[:6] == theirs[0].split("|")[:6]
    assert ours[0].split("|")[7:] == theirs[0].split("|")[7:]
    assert ours[1] == theirs[1] == "MSA|AA|M1"


def test_a_message_in_other_separators_is_read_with_its_own() -> None:
    raw = _message(
        "OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.0.1.1|93|262688^MDC_DIM_PERCENT^MDC|||||F"
    )
    other = raw.replace("|", "#").replace("^", "$").replace("MSH#$~\\&", "MSH#$~\\&")
    decoded = _decode(other)
    assert [(o.vital, o.value) for o in decoded.observations] == [("spo2", 93)]
    assert decoded.mrn == "KC000001" and decoded.control_id == "M1"
    # Answered in the standard separators, which any sender reads.
    assert pcd01.ack(decoded.message, "AA", control="C1").endswith("\rMSA|AA|")


@pytest.mark.parametrize("raw", ["", "MSH|this is not|hl7", "hello", "MSH|^~\\&|A\rnot a segment"])
def test_what_is_not_hl7_is_refused_ar(raw: str) -> None:
    with pytest.raises(pcd01.Refused) as refused:
        pcd01.header(raw)
    assert refused.value.ack == "AR"


def test_pressures_in_kilopascal_are_converted_to_mmhg() -> None:
    # 16.0 kPa x 7.50062 = 120.01 -> 120; 10.7 kPa -> 80.26 -> 80; 12.5 kPa -> 93.76 -> 94.
    kpa = "265987^MDC_DIM_KILO_PASCAL^MDC"
    decoded = _decode(
        _message(
            f"OBX|1|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.0.1.1|16.0|{kpa}|||||F",
            f"OBX|2|NM|150022^MDC_PRESS_BLD_NONINV_DIA^MDC|1.0.1.2|10.7|{kpa}|||||F",
            f"OBX|3|NM|150023^MDC_PRESS_BLD_NONINV_MEAN^MDC|1.0.1.3|12.5|{kpa}|||||F",
        )
    )
    assert [(o.vital, o.value) for o in decoded.observations] == [
        ("systolic_bp", 120),
        ("diastolic_bp", 80),
        ("mean_bp", 94),
    ]


def test_a_kilopascal_name_with_another_code_is_refused() -> None:
    with pytest.raises(pcd01.Refused) as refused:
        _decode(
            _message(
                "OBX|1|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1|16|268032^MDC_DIM_KILO_PASCAL^MDC|||||F"
            )
        )
    assert (refused.value.ack, refused.value.code) == ("AE", "103")


def test_temperature_is_charted_to_a_tenth_of_a_degree() -> None:
    decoded = _decode(
        _message("OBX|1|NM|150344^MDC_TEMP^MDC|1.0.1.1|36.84|268192^MDC_DIM_DEGC^MDC|||||F")
    )
    assert [(o.vital, o.value) for o in decoded.observations] == [("temperature", 36.8)]


def _philips(*obx: str) -> str:
    return "\r".join(
        [
            "MSH|^~\\&|CM12|PHILIPS|KC|CLINIC|20261201150000||ORU^R01|P1|P|2.4",
            "PID|||KC000001^^^KC^MR",
            "OBR|1||||||20261201150000",
            *obx,
        ]
    )


def test_a_philips_monitor_s_mdil_codes_chart_as_the_mdc_codes_they_write_in_hexadecimal() -> None:
    # 0x0002 << 16 = 131072: 0x4a05 = 18949 -> 150021, 0x4a06 -> 150022, 0x4182 = 16770
    # -> 147842, 0x4bb8 = 19384 -> 150456, 0x500a = 20490 -> 151562; units 0x0004 << 16
    # = 262144: 0x0f20 = 3872 -> 266016 (mmHg), 0x0aa0 = 2720 -> 264864 (bpm), 0x0220 =
    # 544 -> 262688 (%), 0x0ae0 = 2784 -> 264928 (breaths a minute).
    decoded = _decode(
        _philips(
            "OBX||NM|0002-4a05^NBPs^MDIL|0|131|0004-0f20^mmHg^MDIL|||||F",
            "OBX||NM|0002-4a06^NBPd^MDIL|0|84|0004-0f20^mmHg^MDIL|||||F",
            "OBX||NM|0002-4182^HR^MDIL|0|77|0004-0aa0^bpm^MDIL|||||F",
            "OBX||NM|0002-4bb8^SpO2^MDIL|0|96|0004-0220^%^MDIL|||||F",
            "OBX||NM|0002-500a^RR^MDIL|0|15|0004-0ae0^rpm^MDIL|||||F",
        )
    )
    assert [(o.code, o.vital, o.value) for o in decoded.observations] == [
        (150021, "systolic_bp", 131),
        (150022, "diastolic_bp", 84),
        (147842, "heart_rate", 77),
        (150456, "spo2", 96),
        (151562, "respiratory_rate", 15),
    ]
    assert decoded.skipped == []


def test_a_philips_setting_is_noted_and_an_mdil_unit_that_disagrees_is_refused() -> None:
    decoded = _decode(
        _philips(
            "OBX||ST|0402-f8f5^sMode^MDIL|0|MONITORING||||||F",
            "OBX||NM|0002-4182^HR^MDIL|0|80|0004-0aa0^bpm^MDIL|||||F",
        )
    )
    assert [(o.vital, o.value) for o in decoded.observations] == [("heart_rate", 80)]
    assert decoded.skipped == ["0402-f8f5 (MDIL, not a vital sign)"]
    with pytest.raises(pcd01.Refused) as refused:
        # A heart rate in the unit of a pressure (0x0f20: mmHg).
        _decode(_philips("OBX||NM|0002-4182^HR^MDIL|0|80|0004-0f20^mmHg^MDIL|||||F"))
    assert refused.value.where == "OBX[1]-6"


def test_a_hexadecimal_code_of_another_coding_system_is_still_refused() -> None:
    with pytest.raises(pcd01.Refused) as refused:
        _decode(_philips("OBX||NM|0002-4182^HR^LOCAL|0|80|0004-0aa0^bpm^MDIL|||||F"))
    assert refused.value.where == "OBX[1]-3"


# The decoder over a broad corpus: every kind of message the other tests, the simulator
# and ``messages.oru_r01`` build, and the edge cases a monitor may send, each compared
# whole (every field of ``Decoded``, or the refusal's code, place and text) with what it
# must give: the values, codes and times the message was built with, or written by hand.

_VITAL_CODES = {  # the MDC codes, written out here
    "systolic_bp": 150021,
    "diastolic_bp": 150022,
    "mean_bp": 150023,
    "heart_rate": 149546,
    "spo2": 150456,
    "respiratory_rate": 151562,
    "temperature": 150344,
}


def _outcome(raw: str, codes: mdc.Codebook = mdc.DEFAULT) -> object:
    """Everything ``decode`` says of a message, or of why it refused it."""
    try:
        decoded = pcd01.decode(pcd01.header(raw), zone=NY, codes=codes)
    except pcd01.Refused as refused:
        return ("refused", refused.ack, refused.code, refused.where, refused.text)
    for o in decoded.observations:
        assert type(o.value) is (float if o.vital == "temperature" else int)
        assert o.at.tzinfo is UTC
    return {
        "sender": decoded.sender,
        "control_id": decoded.control_id,
        "mrn": decoded.mrn,
        "device_id": decoded.device_id,
        "model": decoded.model,
        "observations": [
            (o.code, o.vital, o.value, o.at.isoformat(), o.corrected) for o in decoded.observations
        ],
        "skipped": decoded.skipped,
    }


def _charted(*observations: tuple[object, ...], **fields: object) -> dict[str, object]:
    """The outcome of a ``_message`` (GE B40 header, PID KC000001, OBR-7 at 15:00 New
    York time) charting these observations: (code, vital, value, UTC time, corrected)."""
    return {
        "sender": "GEB40^ABCD^EUI-64",
        "control_id": "M1",
        "mrn": "KC000001",
        "device_id": "GEB40",
        "model": "GEB40",
        "observations": list(observations),
        "skipped": [],
        **fields,
    }


def _refused(ack: str, code: str, where: str, text: str) -> tuple[str, ...]:
    return ("refused", ack, code, where, text)


OBR_AT = "2026-12-01T20:00:00+00:00"  # OBR-7 20261201150000 in New York (EST)
SPO2 = "OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.0.1.1|{}|262688^MDC_DIM_PERCENT^MDC|||||{}"
PULSE = (
    "OBX|2|NM|149546^MDC_PULS_RATE_NON_INV^MDC|1.0.1.2|{}|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||{}"
)
KPA = "265987^MDC_DIM_KILO_PASCAL^MDC"


@pytest.mark.parametrize(
    "values",
    [
        {"spo2": 97},
        {"spo2": 30},
        {"systolic_bp": 150, "diastolic_bp": 90},
        {"systolic_bp": 205, "diastolic_bp": 115},
        {"systolic_bp": 124, "diastolic_bp": 78, "heart_rate": 72, "spo2": 97},
        {"heart_rate": 200, "respiratory_rate": 6},
        {
            "systolic_bp": 128,
            "diastolic_bp": 80,
            "mean_bp": 96,
            "heart_rate": 76,
            "spo2": 100,
            "respiratory_rate": 14,
            "temperature": 36.8,
        },
    ],
)
@pytest.mark.parametrize("status", ["F", "R", "P", "C", "A", "S", "c", "X", "D", "W", "I"])
@pytest.mark.parametrize(
    ("at", "utc"),
    [
        (datetime(2026, 12, 1, 15, 0, 30, 987654, tzinfo=UTC), "2026-12-01T15:00:30+00:00"),
        # Sent in UTC (+0000) whatever zone the sender keeps.
        (
            datetime(2026, 7, 1, 8, 5, 0, tzinfo=ZoneInfo("Asia/Kolkata")),
            "2026-07-01T02:35:00+00:00",
        ),
        (datetime(2027, 1, 1, 0, 0, 0, tzinfo=UTC), "2027-01-01T00:00:00+00:00"),
    ],
)
def test_a_built_message_gives_back_what_it_was_built_with(
    values: dict[str, int | float], status: str, at: datetime, utc: str
) -> None:
    raw = oru_r01(
        control_id="A1-1733150000000-7",
        mrn="KC000042",
        device_id="0012A3FFFE4B5C6D",
        at=at,
        values=values,
        status=status,
    )
    if status.upper() in {"X", "D", "W", "I"}:
        expected: object = _refused(
            "AE", "101", "OBX", "no vital sign ketaclinic charts in the message"
        )
    else:
        expected = {
            "sender": "SIMMON^0012A3FFFE4B5C6D^EUI-64",
            "control_id": "A1-1733150000000-7",
            "mrn": "KC000042",
            "device_id": "0012A3FFFE4B5C6D",
            "model": "SIMMON",
            "observations": [
                (_VITAL_CODES[name], name, value, utc, status.upper() == "C")
                for name, value in values.items()
            ],
            "skipped": [],
        }
    assert _outcome(raw) == expected


def test_the_simulator_s_messages_chart_each_value_it_sent() -> None:
    import hl7

    monitor = Monitor("0012A3FFFE4B5C6D", "KC000007", random.Random(14))
    for n in range(300):
        raw = monitor.next_message(surge=n % 50 == 49)
        # What was sent, read by python-hl7: OBX-3.1 and OBX-5, and the OBX-14 time.
        sent = hl7.parse(raw)
        obx = [s for s in sent if str(s[0]) == "OBX"]
        at = hl7.parse_datetime(str(obx[0][14])).astimezone(UTC).isoformat()
        assert _outcome(raw) == {
            "sender": "SIMMON^0012A3FFFE4B5C6D^EUI-64",
            "control_id": str(sent.segment("MSH")[10]),
            "mrn": "KC000007",
            "device_id": "0012A3FFFE4B5C6D",
            "model": "SIMMON",
            "observations": [
                (
                    int(str(s[3][0][0])),
                    _VITAL_NAMES[int(str(s[3][0][0]))],
                    int(str(s[5])),
                    at,
                    False,
                )
                for s in obx
            ],
            "skipped": [],
        }


_VITAL_NAMES = {code: name for name, code in _VITAL_CODES.items()}


def test_the_messages_the_listener_tests_send_are_read_as_they_expect() -> None:
    at = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    kpa_of_a_pressure_not_the_table_s = "268032^MDC_DIM_KILO_PASCAL^MDC"
    wrong_unit = oru_r01(
        control_id="U1",
        mrn="KC000001",
        device_id="0012A3FFFE4B5C6D",
        at=at,
        values={"systolic_bp": 17, "diastolic_bp": 11},
        units={"systolic_bp": kpa_of_a_pressure_not_the_table_s},
    )
    assert _outcome(wrong_unit) == _refused(
        "AE",
        "103",
        "OBX[1]-6",
        "OBX[1]-6: unit 268032 for MDC_PRESS_BLD_NONINV_SYS, expected 266016 MDC_DIM_MMHG",
    )
    in_kpa = oru_r01(
        control_id="U2",
        mrn="KC000001",
        device_id="D1",
        at=at,
        values={"systolic_bp": 16.0, "diastolic_bp": 10.7},
        units={"systolic_bp": KPA, "diastolic_bp": KPA},
    )
    # 16 x 7.50062 = 120.01 -> 120; 10.7 x 7.50062 = 80.26 -> 80.
    assert _outcome(in_kpa)["observations"] == [
        (150021, "systolic_bp", 120, "2026-12-01T15:00:00+00:00", False),
        (150022, "diastolic_bp", 80, "2026-12-01T15:00:00+00:00", False),
    ]
    not_oru = oru_r01(
        control_id="A1", mrn="KC000001", device_id="D1", at=at, values={"spo2": 97}
    ).replace("ORU^R01^ORU_R01", "ADT^A01^ADT_A01")
    assert _outcome(not_oru) == _refused("AR", "200", "MSH-9", "message type ADT is not ORU")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # The messages of the tests above, each read whole.
        (
            _message(
                "OBX|1||150020^MDC_PRESS_BLD_NONINV^MDC|1.0.1|||||||X",
                "OBX|2|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.0.1.1|142|266016^MDC_DIM_MMHG^MDC|||||F",
                "OBX|3|NM|150022^MDC_PRESS_BLD_NONINV_DIA^MDC|1.0.1.2|91|266016^MDC_DIM_MMHG^MDC|||||F",
            ),
            _charted(
                (150021, "systolic_bp", 142, OBR_AT, False),
                (150022, "diastolic_bp", 91, OBR_AT, False),
            ),
        ),
        (
            _philips(
                "OBX||ST|0402-f8f5^sMode^MDIL|0|MONITORING||||||F",
                "OBX||NM|0002-4182^HR^MDIL|0|80|0004-0aa0^bpm^MDIL|||||F",
                "OBX||NM|0002-4bb8^SpO2^MDIL|0|96|0004-0220^%^MDIL|||||F",
            ),
            {
                "sender": "CM12",
                "control_id": "P1",
                "mrn": "KC000001",
                "device_id": "CM12",
                "model": "CM12",
                "observations": [
                    (147842, "heart_rate", 80, OBR_AT, False),
                    (150456, "spo2", 96, OBR_AT, False),
                ],
                "skipped": ["0402-f8f5 (MDIL, not a vital sign)"],
            },
        ),
        (
            _philips("OBX||NM|0002-4182^HR^MDIL|0|80|0004-0f20^mmHg^MDIL|||||F"),
            _refused(
                "AE",
                "103",
                "OBX[1]-6",
                "OBX[1]-6: unit 266016 for MDC_ECG_HEART_RATE, "
                "expected 264864 MDC_DIM_BEAT_PER_MIN",
            ),
        ),
        (
            # An MDIL unit in another coding system is not read as MDIL.
            _philips("OBX||NM|0002-4182^HR^MDIL|0|80|0004-0aa0^bpm^LOCAL|||||F"),
            _refused(
                "AE",
                "103",
                "OBX[1]-6",
                "OBX[1]-6: unit 0004-0aa0 for MDC_ECG_HEART_RATE, "
                "expected 264864 MDC_DIM_BEAT_PER_MIN",
            ),
        ),
        (
            _philips("OBX||NM|0002-4182^HR^LOCAL|0|80|0004-0aa0^bpm^MDIL|||||F"),
            _refused("AE", "103", "OBX[1]-3", "OBX[1]-3: '0002-4182' is not an MDC code"),
        ),
        (
            _message(SPO2.format(97, "F").replace("150456^MDC_PULS_OXIM_SAT_O2^MDC", "SPO2^X^L")),
            _refused("AE", "103", "OBX[1]-3", "OBX[1]-3: 'SPO2' is not an MDC code"),
        ),
        (
            _message(SPO2.format("ninety", "F")),
            _refused("AE", "102", "OBX[1]-5", "OBX[1]-5: 'ninety' is not a number"),
        ),
        # Escape sequences are kept as sent (no field read carries one): an escaped
        # separator in an identifier stays in it, in a value it is not a number.
        (
            "\r".join(
                [
                    "MSH|^~\\&|GEB40^ABCD^EUI-64|ICU|KC|CLINIC|20261201150000||ORU^R01|M\\F\\1|P|2.6",
                    "PID|||KC\\S\\01^^^KC^MR",
                    "OBR|1||||||20261201150000",
                    "OBX|1|NM|150456^SpO2 \\T\\ pleth \\E\\^MDC|1|97|262688^\\R\\%^MDC"
                    "|||||F|||||||DEV\\E\\1^EUI-64",
                ]
            ),
            _charted(
                (150456, "spo2", 97, OBR_AT, False),
                control_id="M\\F\\1",
                mrn="KC\\S\\01",
                device_id="DEV\\E\\1",
            ),
        ),
        (
            _message(SPO2.format("9\\S\\7", "F")),
            _refused("AE", "102", "OBX[1]-5", "OBX[1]-5: '9\\\\S\\\\7' is not a number"),
        ),
        # Repetitions: the first one is read, in every field.
        (
            "\r".join(
                [
                    "MSH|^~\\&|GEB40^ABCD^EUI-64~OTHER|ICU|KC|CLINIC|20261201150000||ORU^R01~ADT^A01|M1~M2|P|2.6",
                    "PID|||KC000002^^^KC^MR~99^^^OTHER^PI",
                    "OBR|1||||||20261201150000~20261201160000",
                    "OBX|1|NM|150456^SpO2^MDC~150021^SYS^MDC|1|97~42|262688^%^MDC~266016|||||F~X|||~20261201160000||||D1^EUI-64~D2^EUI-64",
                ]
            ),
            _charted((150456, "spo2", 97, OBR_AT, False), mrn="KC000002", device_id="D1"),
        ),
        (
            _message(SPO2.format(97, "F") + "|||20261201153000-0500~20261201160000"),
            _charted((150456, "spo2", 97, "2026-12-01T20:30:00+00:00", False)),
        ),
        # An empty OBX-5: a grouping OBX is passed over, a vital sign is not a number.
        (
            _message("OBX|1||150020^MDC_PRESS_BLD_NONINV^MDC|1.0.1", SPO2.format("", "F")),
            _refused("AE", "102", "OBX[2]-5", "OBX[2]-5: '' is not a number"),
        ),
        (
            _message("OBX|1|NM|150020^MDC_PRESS_BLD_NONINV^MDC|1|7", SPO2.format(97, "F")),
            _charted(
                (150456, "spo2", 97, OBR_AT, False), skipped=["150020 (not in the MDC table)"]
            ),
        ),
        (
            _message("OBX|1|NM|999999^UNKNOWN^MDC|1|7|262688|||||F", SPO2.format(" 97 ", " f ")),
            _charted(
                (150456, "spo2", 97, OBR_AT, False), skipped=["999999 (not in the MDC table)"]
            ),
        ),
        # OBX-11: X, D, W and unknown statuses are noted, C corrects, "" charts.
        (
            _message(
                SPO2.format(84, "X"),
                PULSE.format(88, "c"),
                SPO2.format(85, "D").replace("OBX|1|", "OBX|3|"),
                SPO2.format(86, "W"),
                SPO2.format(87, "I"),
                SPO2.format(96, ""),
            ),
            _charted(
                (149546, "heart_rate", 88, OBR_AT, True),
                (150456, "spo2", 96, OBR_AT, False),
                skipped=[
                    "150456 status X",
                    "150456 status D",
                    "150456 status W",
                    "150456 status I",
                ],
            ),
        ),
        # Rounding to the whole number (half to even) and to a tenth of a degree.
        (
            _message(
                SPO2.format("96.5", "F"),
                PULSE.format("97.5", "F"),
                "OBX|3|NM|151562^MDC_RESP_RATE^MDC|1|1.45e1|264928^MDC_DIM_RESP_PER_MIN^MDC|||||F",
                "OBX|4|NM|150344^MDC_TEMP^MDC|1|37.25|268192^MDC_DIM_DEGC^MDC|||||F",
            ),
            _charted(
                (150456, "spo2", 96, OBR_AT, False),
                (149546, "heart_rate", 98, OBR_AT, False),
                (151562, "respiratory_rate", 14, OBR_AT, False),
                (150344, "temperature", 37.2, OBR_AT, False),
            ),
        ),
        # Units by code, by name when no code came, in kPa by code or by name.
        (
            _message(
                SPO2.format(97, "F").replace("262688^MDC_DIM_PERCENT^MDC", "^MDC_DIM_PERCENT^MDC"),
                "OBX|2|NM|150021^SYS^MDC|1|16.0|^MDC_DIM_KILO_PASCAL^MDC|||||F",
                f"OBX|3|NM|150022^DIA^MDC|1|12.5|{KPA}|||||F",
            ),
            _charted(
                (150456, "spo2", 97, OBR_AT, False),
                (150021, "systolic_bp", 120, OBR_AT, False),
                (150022, "diastolic_bp", 94, OBR_AT, False),
            ),
        ),
        (
            _message(SPO2.format(97, "F").replace("262688^MDC_DIM_PERCENT^MDC", "")),
            _refused(
                "AE",
                "103",
                "OBX[1]-6",
                "OBX[1]-6: unit missing for MDC_PULS_OXIM_SAT_O2, expected 262688 MDC_DIM_PERCENT",
            ),
        ),
        # Observation times: OBX-14 over OBR-7; every HL7 precision from the minute, and
        # every offset.
        (
            _message(
                SPO2.format(97, "F") + "|||20261201150100+0000",
                PULSE.format(70, "F") + "|||20260701120000",
                PULSE.format(71, "F") + "|||202607011200",
                PULSE.format(72, "F") + "|||20261201150000-0030",
                PULSE.format(73, "F") + "|||20261201150000.25+0530",
                PULSE.format(74, "F") + "|||20261201150000-0330",
                PULSE.format(75, "F") + "|||20261201150000-0000",
                PULSE.format(76, "F"),
            ),
            _charted(
                (150456, "spo2", 97, "2026-12-01T15:01:00+00:00", False),
                (149546, "heart_rate", 70, "2026-07-01T16:00:00+00:00", False),  # EDT
                # 71 is the same moment to the minute: one pulse a reading, the first
                # sent (equal priority), the other noted.
                # Half an hour west of UTC: the sign is the whole offset's.
                (149546, "heart_rate", 72, "2026-12-01T15:30:00+00:00", False),
                (149546, "heart_rate", 73, "2026-12-01T09:30:00.250000+00:00", False),
                (149546, "heart_rate", 74, "2026-12-01T18:30:00+00:00", False),
                (149546, "heart_rate", 75, "2026-12-01T15:00:00+00:00", False),
                (149546, "heart_rate", 76, OBR_AT, False),
                skipped=[
                    "149546 MDC_PULS_RATE_NON_INV 71 at 2026-07-01 16:00:00 UTC not charted: "
                    "heart_rate charted from 149546 MDC_PULS_RATE_NON_INV 70 (priority 4 over 4)"
                ],
            ),
        ),
        (
            _message(SPO2.format(97, "F"), obr_time=""),
            _refused("AE", "101", "OBX[1]-14", "OBX[1]: no observation time (OBX-14 or OBR-7)"),
        ),
        (
            _message(SPO2.format(97, "F") + "|||not a time"),
            _refused(
                "AE", "102", "OBX[1]-14", "OBX[1]-14: 'not a time' is not an HL7 date and time"
            ),
        ),
        (
            _message(SPO2.format(97, "F"), PULSE.format(70, "F") + "|||20261301150000"),
            _refused(
                "AE", "102", "OBX[2]-14", "OBX[2]-14: '20261301150000' is not an HL7 date and time"
            ),
        ),
        # Less than the minute, an offset of a day or more or of 60 minutes, a value that
        # is not a finite number: refused (kept as dead letters), never charted.
        *(
            (
                _message(SPO2.format(97, "F"), PULSE.format(70, "F") + f"|||{when}"),
                _refused(
                    "AE", "102", "OBX[2]-14", f"OBX[2]-14: {when!r} is not an HL7 date and time"
                ),
            )
            for when in (
                "20260701",
                "2026070112",
                "20261201150000+2400",
                "20261201150000-2500",
                "20261201150000+0060",
                "20261201150000.25+9999",
                "00010101000000+0100",
            )
        ),
        *(
            (
                _message(SPO2.format(97, "F"), PULSE.format(value, "F")),
                _refused("AE", "102", "OBX[2]-5", f"OBX[2]-5: {value!r} is not a number"),
            )
            for value in ("nan", "NaN", "inf", "-Infinity", "1e400")
        ),
        (
            _message(SPO2.format(97, "F"), obr_time="20261201156100"),
            _refused(
                "AE", "102", "OBX[1]-14", "OBX[1]-14: '20261201156100' is not an HL7 date and time"
            ),
        ),
        # Trailing separators, LF or CRLF segment ends, blank lines and MLLP framing.
        (
            _message(SPO2.format(97, "F") + "|||20261201150100+0000||||D7^EUI-64|||").replace(
                "P|2.6", "P|2.6|||"
            )
            + "\r",
            _charted((150456, "spo2", 97, "2026-12-01T15:01:00+00:00", False), device_id="D7"),
        ),
        (
            _message(SPO2.format(97, "F"), PULSE.format(70, "F")).replace("\r", "\n"),
            _charted(
                (150456, "spo2", 97, OBR_AT, False), (149546, "heart_rate", 70, OBR_AT, False)
            ),
        ),
        (
            "\x0b"
            + _message(SPO2.format(97, "F"), PULSE.format(70, "F")).replace("\r", "\r\n\r\n  \r\n")
            + "\r\n\x1c\r",
            _charted(
                (150456, "spo2", 97, OBR_AT, False), (149546, "heart_rate", 70, OBR_AT, False)
            ),
        ),
        # Encoding characters of the sender's own choosing (MSH-1 and MSH-2).
        (
            _message(SPO2.format(97, "F"), PULSE.format(70, "F") + "|||20261201150100+0000~x")
            .replace("|", "#")
            .replace("^", "@")
            .replace("~", "%"),
            _charted(
                (150456, "spo2", 97, OBR_AT, False),
                (149546, "heart_rate", 70, "2026-12-01T15:01:00+00:00", False),
                sender="GEB40@ABCD@EUI-64",
            ),
        ),
        (
            _message(SPO2.format(97, "F") + "|||20261201150100+0000~x").replace(
                "MSH|^~\\&|", "MSH|^~\\|"
            ),
            _charted((150456, "spo2", 97, "2026-12-01T15:01:00+00:00", False)),
        ),
        (
            _message(SPO2.format(97, "F")).replace("MSH|^~\\&|", "MSH|^~\\&#|"),
            _charted((150456, "spo2", 97, OBR_AT, False)),
        ),
        # Devices: OBX-18 over MSH-3; one device a message.
        (
            _message(
                SPO2.format(97, "F") + "|||||||A1^EUI-64", PULSE.format(70, "F") + "||||||| A1 "
            ),
            _charted(
                (150456, "spo2", 97, OBR_AT, False),
                (149546, "heart_rate", 70, OBR_AT, False),
                device_id="A1",
            ),
        ),
        (
            _message(
                SPO2.format(97, "F") + "|||||||A1^EUI-64", PULSE.format(70, "F") + "|||||||A2"
            ),
            _refused("AE", "207", "OBX-18", "observations from 2 devices in one message"),
        ),
        (
            _message(SPO2.format(97, "F")).replace("GEB40^ABCD^EUI-64", ""),
            _charted(
                (150456, "spo2", 97, OBR_AT, False), sender="unknown", model="*", device_id="*"
            ),
        ),
        (
            _message(SPO2.format(97, "F") + "|||||||" + "D" * 130).replace("M1", "C" * 210),
            _charted(
                (150456, "spo2", 97, OBR_AT, False), device_id="D" * 120, control_id="C" * 199
            ),
        ),
        # What is refused before any OBX is read.
        (
            _message(SPO2.format(97, "F")).replace("ORU^R01^ORU_R01", ""),
            _refused("AR", "200", "MSH-9", "message type missing is not ORU"),
        ),
        (
            _message(SPO2.format(97, "F")).replace("ORU^R01^ORU_R01", "ORU^R30"),
            _refused("AR", "201", "MSH-9", "event R30 is not R01"),
        ),
        (
            _message(SPO2.format(97, "F")).replace("ORU^R01^ORU_R01", "ORU"),
            _refused("AR", "201", "MSH-9", "event missing is not R01"),
        ),
        (
            _message(SPO2.format(97, "F")).replace("|M1|", "| |"),
            _refused("AR", "101", "MSH-10", "no message control id"),
        ),
        (
            _message(SPO2.format(97, "F")).replace("PID|||KC000001^^^KC^MR\r", ""),
            _refused("AE", "101", "PID", "no PID segment"),
        ),
        (
            _message(SPO2.format(97, "F")).replace("KC000001", ""),
            _refused("AE", "101", "PID-3", "no patient identifier"),
        ),
        (
            _message(),
            _refused("AE", "101", "OBX", "no vital sign ketaclinic charts in the message"),
        ),
        # Not HL7 at all.
        ("", _refused("AR", "100", "", "not an HL7 v2 message (no MSH segment first)")),
        (
            "\x0b\x1c\r\n",
            _refused("AR", "100", "", "not an HL7 v2 message (no MSH segment first)"),
        ),
        (
            "PID|||KC000001\rMSH|^~\\&|A",
            _refused("AR", "100", "", "not an HL7 v2 message (no MSH segment first)"),
        ),
        *[
            (
                raw,
                _refused(
                    "AR",
                    "100",
                    "",
                    "not an HL7 v2 message (MSH-2 is not a set of encoding characters)",
                ),
            )
            for raw in (
                "MSH|this is not|hl7",
                "MSH|^^\\&|A|B",
                "MSH|^~|A|B|C",
                "MSH|^~\\&*!|A|B",
                "MSH|^~ &|A|B",
                "MSH|^~a&|A|B",
                "MSH^^~\\&^A|B",
            )
        ],
        *[
            (
                raw,
                _refused(
                    "AR", "100", "", "not an HL7 v2 message (a segment without a segment name)"
                ),
            )
            for raw in (
                "MSH|^~\\&|A\rnot a segment",
                _message(SPO2.format(97, "F")).replace("OBX|", "obx|"),
                _message(SPO2.format(97, "F")).replace("OBX|", " OBX|"),
                _message(SPO2.format(97, "F")).replace("OBX|", "OBXX|"),
                _message(SPO2.format(97, "F")).replace("OBX|", "0BX|"),
            )
        ],
    ],
)
def test_each_edge_case_decodes_to_what_was_worked_out_by_hand(raw: str, expected: object) -> None:
    assert _outcome(raw) == expected


def test_a_device_model_s_own_row_in_a_clinic_s_table_is_taken_over_the_default_one() -> None:
    own = dataclasses.replace(
        mdc.MDC["*:150456"], id="GEB40:150456", model="GEB40", unit_code=262689, unit="P"
    )
    table = {**mdc.MDC, own.id: own}
    del table["*:149546"]
    raw = _message(
        SPO2.format(97, "F").replace("262688^MDC_DIM_PERCENT^MDC", "262689^P^MDC"),
        PULSE.format(70, "F"),
    )
    assert _outcome(raw, mdc.codebook(table)) == _charted(
        (150456, "spo2", 97, OBR_AT, False), skipped=["149546 (not in the MDC table)"]
    )
    # The default table knows neither that unit nor another model's row.
    assert _outcome(raw) == _refused(
        "AE",
        "103",
        "OBX[1]-6",
        "OBX[1]-6: unit 262689 for MDC_PULS_OXIM_SAT_O2, expected 262688 MDC_DIM_PERCENT",
    )


def test_the_message_s_fields_are_read_as_sent() -> None:
    raw = _message(SPO2.format(" 97 ", "F") + "~X|||x~y")
    message = pcd01.header(raw.replace("\r", "\r\n") + "|\r\n")
    msh, obx = message.segment("MSH"), message.segment("OBX")
    assert [msh[0], msh[1], msh[2], msh[3]] == ["MSH", "|", "^~\\&", "GEB40^ABCD^EUI-64"]
    assert message.value(msh, 1) == "|" and message.value(msh, 2) == "^~\\&"
    assert message.value(msh, 9, 2) == "R01" and message.value(msh, 9, 4) == ""
    assert message.value(obx, 5) == "97" and message.value(obx, 11) == "F"
    assert message.value(obx, 14) == "x" and message.value(obx, 40) == ""
    assert message.components(obx, 6) == ["262688", "MDC_DIM_PERCENT", "MDC"]
    assert message.components(obx, 40) == [""]
    assert [fields[0] for fields in message.segments] == ["MSH", "PID", "OBR", "OBX"]
    assert message.all("OBX") == [obx] and obx[-1] == ""
    # Written back as it came, in CR-ended segments.
    assert str(message) == raw + "|"


# The codes monitors send for the pulse, the breathing rate and the body temperature
# beside the ECG heart rate, and one value a vital sign a reading.

BPM = "264864^MDC_DIM_BEAT_PER_MIN^MDC"
RPM = "264928^MDC_DIM_RESP_PER_MIN^MDC"
DEGC = "268192^MDC_DIM_DEGC^MDC"


def _obx(n: int, code: str, value: str, unit: str, at: str = "") -> str:
    return f"OBX|{n}|NM|{code}^MDC|1.0.1.{n}|{value}|{unit}|||||F|||{at}"


def test_the_oximeter_s_pulse_the_impedance_breathing_rate_and_body_temperatures_chart() -> None:
    decoded = _decode(
        _message(
            _obx(1, "149530^MDC_PULS_OXIM_PULS_RATE", "81", BPM),
            _obx(2, "151578^MDC_TTHOR_RESP_RATE", "17", RPM),
            _obx(3, "150364^MDC_TEMP_BODY", "37.26", DEGC),
        )
    )
    # By hand: whole beats and breaths a minute; 37.26 degC to a tenth is 37.3.
    assert [(o.code, o.vital, o.value) for o in decoded.observations] == [
        (149530, "heart_rate", 81),
        (151578, "respiratory_rate", 17),
        (150364, "temperature", 37.3),
    ]
    assert decoded.skipped == []


@pytest.mark.parametrize(
    ("code", "value", "vital", "charted"),
    [
        ("151570^MDC_AWAY_RESP_RATE", "11", "respiratory_rate", 11),
        ("151594^MDC_CO2_RESP_RATE", "9.6", "respiratory_rate", 10),
        ("149514^MDC_PULS_RATE", "64", "heart_rate", 64),
        ("150368^MDC_TEMP_CORE", "37.04", "temperature", 37.0),
        ("150392^MDC_TEMP_TYMP", "36.96", "temperature", 37.0),
        ("188420^MDC_TEMP_RECT", "37.8", "temperature", 37.8),
        ("188424^MDC_TEMP_ORAL", "36.61", "temperature", 36.6),
        ("188428^MDC_TEMP_EAR", "36.9", "temperature", 36.9),
        ("188452^MDC_TEMP_AXILLA", "36.14", "temperature", 36.1),
    ],
)
def test_each_new_code_charts_its_vital_sign_in_its_unit(
    code: str, value: str, vital: str, charted: float
) -> None:
    unit = {"respiratory_rate": RPM, "heart_rate": BPM, "temperature": DEGC}[vital]
    decoded = _decode(_message(_obx(1, code, value, unit)))
    assert [(o.vital, o.value) for o in decoded.observations] == [(vital, charted)]


@pytest.mark.parametrize(
    ("code", "unit", "expected"),
    [
        ("151578^MDC_TTHOR_RESP_RATE", BPM, "expected 264928 MDC_DIM_RESP_PER_MIN"),
        ("149530^MDC_PULS_OXIM_PULS_RATE", RPM, "expected 264864 MDC_DIM_BEAT_PER_MIN"),
        # Kelvin is in no table (4 << 16 + MDC_DIM_KELVIN 4384 = 266528).
        ("150364^MDC_TEMP_BODY", "266528^MDC_DIM_KELVIN^MDC", "expected 268192 MDC_DIM_DEGC"),
    ],
)
def test_a_new_code_in_another_unit_is_refused(code: str, unit: str, expected: str) -> None:
    with pytest.raises(pcd01.Refused) as refused:
        _decode(_message(_obx(1, code, "80", unit)))
    assert (refused.value.ack, refused.value.code, refused.value.where) == ("AE", "103", "OBX[1]-6")
    assert expected in refused.value.text


@pytest.mark.parametrize(
    ("code", "value", "unit", "charted"),
    [
        # By hand, (F - 32) x 5/9: 98.6 -> 37.0, 100.4 -> 38.0, 96.8 -> 36.0, 101.3 -> 38.5.
        ("150364^MDC_TEMP_BODY", "98.6", "266560^MDC_DIM_FAHR^MDC", 37.0),
        ("150344^MDC_TEMP", "100.4", "266560^MDC_DIM_FAHR^MDC", 38.0),
        ("188424^MDC_TEMP_ORAL", "96.8", "^MDC_DIM_FAHR^MDC", 36.0),
        ("188428^MDC_TEMP_EAR", "101.3", "266560^degF^MDC", 38.5),
    ],
)
def test_a_temperature_sent_in_fahrenheit_is_charted_in_celsius(
    code: str, value: str, unit: str, charted: float
) -> None:
    decoded = _decode(_message(_obx(1, code, value, unit)))
    assert [(o.vital, o.value) for o in decoded.observations] == [("temperature", charted)]


ECG_72 = _obx(1, "147842^MDC_ECG_HEART_RATE", "72", BPM)
PLETH_75 = _obx(2, "149530^MDC_PULS_OXIM_PULS_RATE", "75", BPM)
AT_2000 = "2026-12-01 20:00:00 UTC"  # OBR-7 15:00 in New York


def test_the_ecg_heart_rate_is_charted_over_the_oximeter_s_pulse_and_the_pulse_is_noted() -> None:
    expected = [(147842, "heart_rate", 72)]
    note = (
        f"149530 MDC_PULS_OXIM_PULS_RATE 75 at {AT_2000} not charted: heart_rate charted "
        "from 147842 MDC_ECG_HEART_RATE 72 (priority 1 over 2)"
    )
    for obx in ((ECG_72, PLETH_75), (PLETH_75, ECG_72)):  # whichever comes first
        decoded = _decode(_message(*obx))
        assert [(o.code, o.vital, o.value) for o in decoded.observations] == expected
        assert decoded.skipped == [note]


def test_three_pulses_at_once_chart_the_ecg_and_note_the_two_others() -> None:
    decoded = _decode(
        _message(
            _obx(1, "149546^MDC_PULS_RATE_NON_INV", "70", BPM),
            PLETH_75,
            ECG_72,
            _obx(4, "150456^MDC_PULS_OXIM_SAT_O2", "97", "262688^MDC_DIM_PERCENT^MDC"),
        )
    )
    assert [(o.code, o.value) for o in decoded.observations] == [(147842, 72), (150456, 97)]
    assert [note.split(" at ")[0] for note in decoded.skipped] == [
        "149546 MDC_PULS_RATE_NON_INV 70",
        "149530 MDC_PULS_OXIM_PULS_RATE 75",
    ]
    assert all("charted from 147842 MDC_ECG_HEART_RATE 72" in n for n in decoded.skipped)


def test_the_oximeter_s_pulse_beats_the_cuff_s_and_the_capnograph_s_rate_the_impedance() -> None:
    decoded = _decode(
        _message(
            _obx(1, "149546^MDC_PULS_RATE_NON_INV", "70", BPM),
            PLETH_75,
            _obx(3, "151578^MDC_TTHOR_RESP_RATE", "18", RPM),
            _obx(4, "151594^MDC_CO2_RESP_RATE", "12", RPM),
        )
    )
    assert [(o.code, o.value) for o in decoded.observations] == [(149530, 75), (151594, 12)]
    assert len(decoded.skipped) == 2
    assert decoded.skipped[0].startswith("149546 MDC_PULS_RATE_NON_INV 70 at ")
    assert decoded.skipped[1].startswith("151578 MDC_TTHOR_RESP_RATE 18 at ")


def test_two_pulses_at_different_times_are_two_readings_both_charted() -> None:
    decoded = _decode(
        _message(
            _obx(1, "147842^MDC_ECG_HEART_RATE", "72", BPM, "20261201150000+0000"),
            _obx(2, "149530^MDC_PULS_OXIM_PULS_RATE", "75", BPM, "20261201150100+0000"),
        )
    )
    assert [(o.code, o.value) for o in decoded.observations] == [(147842, 72), (149530, 75)]
    assert decoded.skipped == []


def test_a_clinic_that_ranks_the_oximeter_first_gets_its_pulse_charted() -> None:
    rows = dict(mdc.MDC)
    rows["*:149530"] = dataclasses.replace(rows["*:149530"], priority=0)
    decoded = pcd01.decode(
        pcd01.header(_message(ECG_72, PLETH_75)), zone=NY, codes=mdc.codebook(rows)
    )
    assert [(o.code, o.value) for o in decoded.observations] == [(149530, 75)]
    assert decoded.skipped == [
        f"147842 MDC_ECG_HEART_RATE 72 at {AT_2000} not charted: heart_rate charted from "
        "149530 MDC_PULS_OXIM_PULS_RATE 75 (priority 0 over 1)"
    ]


def test_an_intellivue_pleth_pulse_and_an_efficia_pulse_chart_from_their_mdil_codes() -> None:
    # By hand: 0x0002 << 16 = 131072; 0x4822 = 18466 -> 149538 (IntelliVue pleth pulse),
    # 0x480a = 18442 -> 149514 (MDC_PULS_RATE); 0x0aa0 = 2720 -> 264864 (bpm).
    decoded = _decode(_philips("OBX||NM|0002-4822^PR^MDIL|0|68|0004-0aa0^bpm^MDIL|||||F"))
    assert [(o.code, o.vital, o.value) for o in decoded.observations] == [
        (149538, "heart_rate", 68)
    ]
    decoded = _decode(
        _philips(
            "OBX||NM|0002-480a^Pulse^MDIL||80|0004-0aa0^bpm^MDIL|||||F||||||0002-4bb8^SpO2^MDIL",
            "OBX||NM|0002-4182^HR^MDIL|0|78|0004-0aa0^bpm^MDIL|||||F",
        )
    )
    # The ECG's 78 over the SpO2 pulse's 80 (priority 1 over 3).
    assert [(o.code, o.value) for o in decoded.observations] == [(147842, 78)]
    assert decoded.skipped[0].startswith("149514 MDC_PULS_RATE 80 at ")
    assert decoded.skipped[0].endswith("(priority 1 over 3)")


def test_what_a_code_and_unit_came_to_is_remembered_per_model_and_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The decoder reads each (model, OBX-3, OBX-6) once for a codebook: a second model
    sending the same field gets its own row, a refusal is refused again with its own
    position, and the memory holds at most ``_MEMO_SIZE`` of them."""
    own = dataclasses.replace(
        mdc.MDC["*:150456"], id="CM12:150456", model="CM12", unit_code=262689, unit="P"
    )
    codes = mdc.codebook({**mdc.MDC, own.id: own})
    raw = _message(SPO2.format(97, "F"))
    assert _outcome(raw, codes) == _charted((150456, "spo2", 97, OBR_AT, False))
    # The CM12 row wants its own unit: the same OBX from a CM12 is refused, then again.
    from_cm12 = raw.replace("GEB40^ABCD", "CM12^ABCD")
    refused = _refused(
        "AE",
        "103",
        "OBX[1]-6",
        "OBX[1]-6: unit 262688 for MDC_PULS_OXIM_SAT_O2, expected 262689 P",
    )
    assert _outcome(from_cm12, codes) == refused
    assert _outcome(from_cm12, codes) == refused
    not_mdc = _message(PULSE.format(70, "F"), "OBX|2|NM|HR^Heart rate^L|1|70|/min|||||F")
    for _ in range(2):
        assert _outcome(not_mdc, codes) == _refused(
            "AE", "103", "OBX[2]-3", "OBX[2]-3: 'HR' is not an MDC code"
        )
    monkeypatch.setattr(pcd01, "_MEMO_SIZE", 3)
    small = mdc.codebook()
    for term in range(5):
        sent = _message(SPO2.format(97, "F"), f"OBX|2|NM|{190000 + term}^X^MDC|1|1|x|||||F")
        assert _outcome(sent, small) == _charted(
            (150456, "spo2", 97, OBR_AT, False), skipped=[f"{190000 + term} (not in the MDC table)"]
        )
        assert len(small.memo) <= 3


def _efficia(serial: str) -> str:
    """The Efficia CM Series Data Export Guide's LAN example (pp. 2-7, 3-10) as an ORU^R01
    of vital signs: MSH-3 "^EfficiaCM", MSH-10 the serial and a counter, no OBX-18."""
    return "\r".join(
        [
            "MSH|^~\\&|^EfficiaCM||||20140510124500||ORU^R01^ORU_R01|"
            f"{serial}000000002D|P|2.4|||||||||2.16.840.1.113883.9.2.1",
            "PID|||MRN1234||JONES^MARY^A",
            "PV1|||^^LOCATION34|||||||||||||||A|TRANSACTION1234",
            f"ORC|NW|||||||||||||||||{serial}",
            "OBR||||MONITOR|||20140510124500|||OPERATOR12",
            "OBX||NM|0002-4bb8^SpO2^MDIL||98|0004-0220^%^MDIL|||||F",
            "OBX||NM|0002-4a05^NBPs^MDIL||122|0004-0f20^mmHg^MDIL|||||F|||20140510124430",
            "OBX||NM|0002-4a06^NBPd^MDIL||85|0004-0f20^mmHg^MDIL|||||F|||20140510124430",
            "OBX||NM|0002-480a^Pulse^MDIL||80|0004-0aa0^bpm^MDIL|||||F||||||0002-4bb8^SpO2^MDIL",
        ]
    )


def test_an_efficia_monitor_is_told_apart_by_the_serial_that_begins_its_control_id() -> None:
    """By hand: times without an offset are New York's (EDT in May, -4 h): 12:45:00 ->
    16:45:00 UTC, 12:44:30 -> 16:44:30 UTC; 0x4bb8 = 19384 -> 150456, 0x4a05/0x4a06 ->
    150021/150022, 0x480a = 18442 -> 149514; device: MSH-10's first 10 characters."""
    at, bp_at = "2014-05-10T16:45:00+00:00", "2014-05-10T16:44:30+00:00"
    assert _outcome(_efficia("MONITORABC")) == {
        "sender": "^EfficiaCM",
        "control_id": "MONITORABC000000002D",
        "mrn": "MRN1234",
        "device_id": "MONITORABC",
        "model": "EfficiaCM",
        "observations": [
            (150456, "spo2", 98, at, False),
            (150021, "systolic_bp", 122, bp_at, False),
            (150022, "diastolic_bp", 85, bp_at, False),
            (149514, "heart_rate", 80, at, False),
        ],
        "skipped": [],
    }
    other = _outcome(_efficia("MONITORXYZ"))
    assert isinstance(other, dict) and other["device_id"] == "MONITORXYZ"


def test_a_refused_message_is_named_by_the_device_decode_would_name() -> None:
    """A dead letter is kept under the device ``decode`` would chart it to: an Efficia's
    serial from MSH-10; a message naming no model and no OBX-18, under no device."""
    refused = pcd01.header(_efficia("MONITORABC").replace("ORU^R01^ORU_R01", "ADT^A01"))
    named = pcd01.named(refused)
    assert (named.sender, named.control_id, named.mrn, named.device_id) == (
        "^EfficiaCM",
        "MONITORABC000000002D",
        "MRN1234",
        "MONITORABC",
    )
    anonymous = pcd01.header(_efficia("MONITORABC").replace("|^EfficiaCM|", "||"))
    assert pcd01.named(anonymous).device_id is None
