"""Coding rules by behaviour, against values worked out by hand from the CPT time rule,
the Spravato dose bands and the S0013 -> J0013 change on 2026-01-01."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from ketaclinic.clinical.codes import billing as codes
from ketaclinic.clinical.overrides import Override, apply

DAY = date(2026, 3, 10)


def _codes(lines: list[codes.Line]) -> list[tuple[str, int]]:
    return [(line.code.code, line.units) for line in lines]


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (15, []),  # under 16 minutes: not an infusion of the initial hour
        (16, [("96365", 1)]),
        (40, [("96365", 1)]),  # the usual ketamine infusion: one 96365
        (90, [("96365", 1)]),  # 30 extra minutes are not "beyond 30"
        (91, [("96365", 1), ("96366", 1)]),
        (150, [("96365", 1), ("96366", 1)]),
        (151, [("96365", 1), ("96366", 2)]),
    ],
)
def test_infusion_minutes_earn_96365_and_an_96366_only_beyond_30_extra_minutes(
    minutes: float, expected: list[tuple[str, int]]
) -> None:
    assert _codes(codes.infusion_lines(minutes, DAY)) == expected


def test_an_iv_ketamine_session_adds_j3490_with_the_drug_note() -> None:
    lines = codes.iv_ketamine_lines(40, 35.0, DAY)
    assert _codes(lines) == [("96365", 1), ("J3490", 1)]
    assert lines[1].note == "Ketamine hydrochloride injection 35 mg IV"


@pytest.mark.parametrize(
    ("dose", "visit"), [(28, "G2082"), (56, "G2082"), (56.5, "G2083"), (84, "G2083")]
)
def test_the_spravato_visit_code_follows_the_dose(dose: float, visit: str) -> None:
    assert codes.esketamine_lines(dose, DAY)[0].code.code == visit


def test_the_esketamine_drug_code_is_s0013_until_2025_and_j0013_from_2026() -> None:
    assert codes.esketamine_drug_code(date(2025, 12, 31)).code == "S0013"
    assert codes.esketamine_drug_code(date(2026, 1, 1)).code == "J0013"
    # The G-codes include the drug: no drug line unless the payer bills it apart.
    assert _codes(codes.esketamine_lines(84, date(2026, 1, 1))) == [("G2083", 1)]
    lines = codes.esketamine_lines(84, date(2026, 1, 1), with_drug=True)
    assert _codes(lines) == [("G2083", 1), ("J0013", 84)]
    split = codes.esketamine_lines(56, date(2025, 6, 1), with_drug=True)
    assert _codes(split) == [("G2082", 1), ("S0013", 56)]


def test_prolonged_service_is_not_billed_with_the_spravato_monitoring_codes() -> None:
    assert codes.conflicts(["99215", "99417", "G2082"]) == ["99417 is not billed with G2082"]
    assert codes.conflicts(["99214", "99417"]) == ["99417 is billed only with 99205 or 99215"]
    assert codes.conflicts(["99215", "99417"]) == []


def test_a_clinic_override_switches_a_code_off_or_moves_a_threshold() -> None:
    no_add_on = apply(codes.CODES, [Override("96366", "in_use", False, "dr", "payer rule")])
    assert _codes(codes.infusion_lines(151, DAY, no_add_on)) == [("96365", 1)]
    stricter = apply(codes.CODES, [Override("96365", "min_minutes", 31, "dr", "payer rule")])
    assert codes.infusion_lines(30, DAY, stricter) == []


def test_every_code_and_diagnosis_cites_a_source_and_its_firmness() -> None:
    for row in [*codes.CODES.values(), *codes.DIAGNOSES.values()]:
        assert len(row.source) > 40, row.id
        assert row.evidence in ("confirmed", "secondary", "convention")
    assert dataclasses.asdict(codes.CODES["J0013"])["effective_from"] == date(2026, 1, 1)


def test_the_course_indication_gives_its_icd_10_cm_codes() -> None:
    assert [d.code for d in codes.diagnoses_for("treatment_resistant_depression")] == ["F33.2"]
    assert [d.code for d in codes.diagnoses_for("trd")] == ["F33.2"]
    assert [d.code for d in codes.diagnoses_for("ptsd")] == ["F43.10"]
    assert [d.code for d in codes.diagnoses_for("suicidal_ideation")] == ["R45.851"]
    assert [d.code for d in codes.diagnoses_for("substance_use_disorder")] == ["F19.20"]
