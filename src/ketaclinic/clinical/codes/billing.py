"""Billing codes as dated, sourced data, and the coding rules that pick them for a session.

Every code is a row with the dates it is valid (``effective_from`` .. ``effective_to``,
both inclusive, ``None`` open), where it comes from and how firm that source is. A
clinic reviews and overrides the rows as it does clinical defaults (``in_use``, the
minute and milligram thresholds); the coding functions take the rows, overrides already
applied, so every line a bill carries can name the row it came from.

Sources vary and contradict each other (payers publish their own policies): each row
cites what was used. Amounts are never here: prices are the clinic's, in integer cents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

Evidence = Literal["confirmed", "secondary", "convention"]
System = Literal["CPT", "HCPCS", "ICD-10-CM"]

_INFUSION_SOURCE = (
    "CPT 96365 (IV infusion for therapy, initial, up to 1 hour) and add-on +96366 (each "
    "additional hour); CPT time rule: an infusion of 16 minutes or more is the initial hour, "
    "an additional hour only beyond 30 minutes past it, so a 40-minute ketamine infusion is "
    "one 96365 (AMA CPT; as summarised by payer and coding references, "
    "shared/clinical-reference.md section 7)"
)
_J3490_SOURCE = (
    "HCPCS J3490 unclassified drugs: ketamine has no drug code of its own; the claim carries "
    "the drug name, dose and NDC in a note (BCBS Massachusetts 2023 ketamine policy; "
    "QualChoice policy BI641; shared/clinical-reference.md section 7)"
)
_SPRAVATO_SOURCE = (
    "HCPCS G2082 (visit with supervision of esketamine self-administration, up to 56 mg, "
    "includes 2 hours' post-administration observation) and G2083 (more than 56 mg), "
    "created by CMS in the CY2020 physician fee schedule (BCBS Massachusetts 2023; "
    "QualChoice BI641; shared/clinical-reference.md section 7); the descriptor includes "
    "the provision of the drug, so no separate drug code goes with it (CarePartners of "
    "Connecticut 2022 and coding guides re-read on 2026-12-02)"
)
_J0013_SOURCE = (
    "HCPCS J0013 esketamine, nasal spray, 1 mg, replacing the temporary code S0013 from "
    "2026-01-01 (as the clinic's issue 16 states it from the CMS HCPCS quarterly update; "
    "not re-checked here against the CMS file)"
)
_S0013_SOURCE = (
    "HCPCS S0013 esketamine, nasal spray, 1 mg: a temporary national code some payers "
    "(not Medicare) accepted (BCBS Massachusetts 2023; shared/clinical-reference.md "
    "section 7); replaced by J0013 on 2026-01-01 (issue 16)"
)
_EVAL_SOURCE = (
    "CPT 90791 psychiatric diagnostic evaluation; 90792 with medical services "
    "(shared/clinical-reference.md section 7, confirmed)"
)
_EM_SOURCE = (
    "CPT office or outpatient evaluation and management: 99202-99205 new patient, "
    "99211-99215 established patient (AMA CPT 2021 E/M guidelines; the level is the "
    "prescriber's choice, the table only names the code)"
)
_PROLONGED_SOURCE = (
    "CPT +99417 prolonged office E/M service, each 15 minutes beyond the time of 99205 or "
    "99215 (AMA CPT 2021); Medicare uses G2212 instead. That it is not billed with "
    "G2082/G2083, whose observation time is part of the code, is the issue's rule and "
    "CMS's description of those codes (2 hours' observation included)"
)
_ICD_SOURCE = (
    "ICD-10-CM tabular list (CDC/NCHS, FY2026): F32.x major depressive disorder, single "
    "episode; F33.x recurrent; F43.1x post-traumatic stress disorder; F10-F19 mental and "
    "behavioural disorders due to psychoactive substance use; R45.851 suicidal ideations. "
    "Codes as listed, not re-checked here against the FY2026 release"
)


@dataclass(frozen=True)
class BillingCode:
    """One code a bill may carry, valid on the dates given.

    ``min_minutes``: the shortest time that earns the code; ``beyond_minutes``: for a
    per-hour add-on, the minutes past each hour before another unit is earned;
    ``max_mg`` / ``min_mg``: the dose band of a code chosen by dose (inclusive max,
    exclusive min); ``per_mg``: the code is billed in units of 1 mg."""

    id: str
    system: System
    code: str
    description: str
    source: str
    evidence: Evidence
    effective_from: date | None = None
    effective_to: date | None = None
    in_use: bool = True
    add_on: bool = False
    note_required: bool = False
    min_minutes: int | None = None
    beyond_minutes: int | None = None
    min_mg: float | None = None
    max_mg: float | None = None
    per_mg: bool = False
    not_with: tuple[str, ...] = field(default=())

    def valid_on(self, day: date) -> bool:
        if self.effective_from is not None and day < self.effective_from:
            return False
        return self.effective_to is None or day <= self.effective_to


def _rows(*rows: BillingCode) -> dict[str, BillingCode]:
    return {r.id: r for r in rows}


CODES: dict[str, BillingCode] = _rows(
    BillingCode(
        "96365",
        "CPT",
        "96365",
        "IV infusion, therapy, initial, up to 1 hour",
        _INFUSION_SOURCE,
        "confirmed",
        min_minutes=16,
    ),
    BillingCode(
        "96366",
        "CPT",
        "96366",
        "IV infusion, therapy, each additional hour",
        _INFUSION_SOURCE,
        "confirmed",
        add_on=True,
        beyond_minutes=30,
    ),
    BillingCode(
        "J3490",
        "HCPCS",
        "J3490",
        "Unclassified drug (ketamine hydrochloride)",
        _J3490_SOURCE,
        "confirmed",
        note_required=True,
    ),
    BillingCode(
        "G2082",
        "HCPCS",
        "G2082",
        "Esketamine self-administration, up to 56 mg, 2 hours' observation",
        _SPRAVATO_SOURCE,
        "confirmed",
        effective_from=date(2020, 1, 1),
        max_mg=56.0,
    ),
    BillingCode(
        "G2083",
        "HCPCS",
        "G2083",
        "Esketamine self-administration, more than 56 mg, 2 hours' observation",
        _SPRAVATO_SOURCE,
        "confirmed",
        effective_from=date(2020, 1, 1),
        min_mg=56.0,
    ),
    BillingCode(
        "S0013",
        "HCPCS",
        "S0013",
        "Esketamine, nasal spray, 1 mg",
        _S0013_SOURCE,
        "secondary",
        effective_to=date(2025, 12, 31),
        per_mg=True,
    ),
    BillingCode(
        "J0013",
        "HCPCS",
        "J0013",
        "Esketamine, nasal spray, 1 mg",
        _J0013_SOURCE,
        "secondary",
        effective_from=date(2026, 1, 1),
        per_mg=True,
    ),
    BillingCode(
        "90791", "CPT", "90791", "Psychiatric diagnostic evaluation", _EVAL_SOURCE, "confirmed"
    ),
    BillingCode(
        "90792",
        "CPT",
        "90792",
        "Psychiatric diagnostic evaluation with medical services",
        _EVAL_SOURCE,
        "confirmed",
    ),
    *(
        BillingCode(
            c, "CPT", c, f"Office visit, new patient, level {int(c[-1])}", _EM_SOURCE, "secondary"
        )
        for c in ("99202", "99203", "99204", "99205")
    ),
    *(
        BillingCode(
            c,
            "CPT",
            c,
            f"Office visit, established patient, level {int(c[-1])}",
            _EM_SOURCE,
            "secondary",
        )
        for c in ("99211", "99212", "99213", "99214", "99215")
    ),
    BillingCode(
        "99417",
        "CPT",
        "99417",
        "Prolonged office visit, each 15 minutes beyond 99205/99215",
        _PROLONGED_SOURCE,
        "secondary",
        add_on=True,
        min_minutes=15,
        not_with=("G2082", "G2083"),
    ),
)


@dataclass(frozen=True)
class Diagnosis:
    """An ICD-10-CM code and the course indication it is the clinic's default for."""

    id: str
    code: str
    description: str
    indication: str | None
    source: str
    evidence: Evidence
    in_use: bool = True


_DEFAULT_CHOICE = (
    "; which code stands for the indication is the clinic's default choice (convention): "
    "the prescriber's diagnosis in the chart governs"
)

DIAGNOSES: dict[str, Diagnosis] = {
    d.id: d
    for d in (
        Diagnosis(
            "F33.2",
            "F33.2",
            "Major depressive disorder, recurrent, severe without psychotic features",
            "treatment_resistant_depression",
            _ICD_SOURCE + _DEFAULT_CHOICE,
            "secondary",
        ),
        Diagnosis(
            "F32.2",
            "F32.2",
            "Major depressive disorder, single episode, severe without psychotic features",
            None,
            _ICD_SOURCE,
            "secondary",
        ),
        Diagnosis(
            "F33.1",
            "F33.1",
            "Major depressive disorder, recurrent, moderate",
            None,
            _ICD_SOURCE,
            "secondary",
        ),
        Diagnosis(
            "F43.10",
            "F43.10",
            "Post-traumatic stress disorder, unspecified",
            "ptsd",
            _ICD_SOURCE + _DEFAULT_CHOICE,
            "secondary",
        ),
        Diagnosis(
            "F43.12",
            "F43.12",
            "Post-traumatic stress disorder, chronic",
            None,
            _ICD_SOURCE,
            "secondary",
        ),
        Diagnosis(
            "F19.20",
            "F19.20",
            "Other psychoactive substance dependence, uncomplicated",
            "substance_use_disorder",
            _ICD_SOURCE + _DEFAULT_CHOICE,
            "secondary",
        ),
        Diagnosis(
            "F10.20", "F10.20", "Alcohol dependence, uncomplicated", None, _ICD_SOURCE, "secondary"
        ),
        Diagnosis(
            "R45.851",
            "R45.851",
            "Suicidal ideations",
            "suicidal_ideation",
            _ICD_SOURCE + _DEFAULT_CHOICE,
            "secondary",
        ),
    )
}

# The sessions area's older test data names depression "trd".
INDICATION_ALIASES = {"trd": "treatment_resistant_depression"}


def diagnoses_for(indication: str, rows: dict[str, Diagnosis] | None = None) -> list[Diagnosis]:
    """The clinic's default diagnosis codes for a course indication (may be empty)."""
    wanted = INDICATION_ALIASES.get(indication, indication)
    return [d for d in (rows or DIAGNOSES).values() if d.in_use and d.indication == wanted]


@dataclass(frozen=True)
class Line:
    """One coded line of a bill: the code row, its units and modifiers, and a note."""

    code: BillingCode
    units: int
    modifiers: tuple[str, ...] = ()
    note: str | None = None


class NoCode(LookupError):
    """No row of the table applies (a code switched off, or none valid on the date)."""


def code_on(code_id: str, day: date, rows: dict[str, BillingCode] | None = None) -> BillingCode:
    row = (rows or CODES).get(code_id)
    if row is None or not row.in_use or not row.valid_on(day):
        raise NoCode(f"code {code_id} is not in use on {day}")
    return row


def esketamine_drug_code(day: date, rows: dict[str, BillingCode] | None = None) -> BillingCode:
    """The esketamine drug code valid on ``day``: S0013 until 2025-12-31, J0013 after."""
    found = [r for r in (rows or CODES).values() if r.per_mg and r.in_use and r.valid_on(day)]
    if not found:
        raise NoCode(f"no esketamine drug code in use on {day}")
    return found[0]


def infusion_lines(
    minutes: float, day: date, rows: dict[str, BillingCode] | None = None
) -> list[Line]:
    """96365 for the first hour (at least ``min_minutes``), then one +96366 for each
    further hour begun more than ``beyond_minutes`` past the last: 40 min -> 96365 x1;
    91 min -> 96365 + 96366 x1; 151 min -> 96365 + 96366 x2."""
    initial = code_on("96365", day, rows)
    if initial.min_minutes is not None and minutes < initial.min_minutes:
        return []
    lines = [Line(initial, 1)]
    try:
        add_on = code_on("96366", day, rows)
    except NoCode:
        return lines
    beyond = add_on.beyond_minutes if add_on.beyond_minutes is not None else 30
    extra = minutes - 60
    units = 0
    while extra > beyond:
        units += 1
        extra -= 60
    if units:
        lines.append(Line(add_on, units))
    return lines


def iv_ketamine_lines(
    minutes: float, dose_mg: float, day: date, rows: dict[str, BillingCode] | None = None
) -> list[Line]:
    lines = infusion_lines(minutes, day, rows)
    drug = code_on("J3490", day, rows)
    note = f"Ketamine hydrochloride injection {dose_mg:g} mg IV" if drug.note_required else None
    return [*lines, Line(drug, 1, note=note)]


def esketamine_lines(
    dose_mg: float,
    day: date,
    rows: dict[str, BillingCode] | None = None,
    *,
    with_drug: bool = False,
) -> list[Line]:
    """G2082 up to 56 mg, G2083 above. Their descriptors include the *provision* of the
    esketamine ("provision of up to 56 mg of esketamine nasal self-administration"), so a
    session billed with them carries no drug line: adding J0013 would bill the drug twice.
    ``with_drug`` adds the drug in 1 mg units under the code valid on the day, for a payer
    that takes the drug apart from the visit (split billing with an E/M code instead of the
    G-code; not yet offered by the price list)."""
    table = rows or CODES
    visit = None
    for code_id in ("G2082", "G2083"):
        row = code_on(code_id, day, table)
        low_ok = row.min_mg is None or dose_mg > row.min_mg
        high_ok = row.max_mg is None or dose_mg <= row.max_mg
        if low_ok and high_ok:
            visit = row
            break
    if visit is None:
        raise NoCode(f"no esketamine visit code for {dose_mg:g} mg")
    lines = [Line(visit, 1)]
    if with_drug:
        drug = esketamine_drug_code(day, table)
        lines.append(Line(drug, round(dose_mg)))
    return lines


def conflicts(codes: list[str], rows: dict[str, BillingCode] | None = None) -> list[str]:
    """Why some of ``codes`` may not be billed together (empty: none)."""
    table = rows or CODES
    found = []
    present = set(codes)
    for code in codes:
        row = table.get(code)
        if row is None:
            continue
        for other in row.not_with:
            if other in present:
                found.append(f"{code} is not billed with {other}")
    if "99417" in present and not present & {"99205", "99215"}:
        found.append("99417 is billed only with 99205 or 99215")
    return found
