"""Decoding PCD-01 messages: codes, units, result status and observation time."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from ketaclinic.interop.hl7 import pcd01

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
