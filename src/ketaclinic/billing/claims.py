"""The ANSI X12 837P (005010X222A1) professional claim file and the matching CMS-1500
data, for the clinic's clearinghouse. ketaclinic makes the file; it never sends it.

One claim (loop 2300) per session or service day, under one billing provider (2000A)
and one subscriber, the patient (2000B, relationship 18 "self"), each coded line a
service line (2400). The charge's billed amount goes on its first (procedure) line; a
drug line that the session's price already covers is sent at zero with its note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ketaclinic.platform.settings import Settings

IMPLEMENTATION = "005010X222A1"


@dataclass(frozen=True)
class ClaimLine:
    code: str
    modifiers: tuple[str, ...]
    units: int
    amount_cents: int
    note: str | None


@dataclass(frozen=True)
class ClaimData:
    claim_id: str
    service_on: Any
    diagnoses: list[str]
    lines: list[ClaimLine]

    @property
    def total_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)


@dataclass(frozen=True)
class Claims:
    provider_name: str
    npi: str
    tax_id: str
    taxonomy: str
    address: str
    city: str
    state: str
    zip: str
    phone: str
    patient_family: str
    patient_given: str
    patient_dob: Any
    patient_sex: str
    patient_address: str | None
    payer_name: str
    payer_id: str
    member_id: str
    group_number: str | None
    claims: list[ClaimData]


def _amount(cents: int) -> str:
    whole, part = divmod(cents, 100)
    return f"{whole}" if part == 0 else f"{whole}.{part:02d}"


def _text(value: str, size: int = 60) -> str:
    """X12 text: upper case, no separators, trimmed to the element's size."""
    cleaned = re.sub(r"[*~:^]", " ", value).strip().upper()
    return re.sub(r"\s+", " ", cleaned)[:size]


def claim_data(charges: list[Any], patient: Any, coverage: Any, settings: Settings) -> Claims:
    claims = []
    for charge in charges:
        lines = []
        for index, line in enumerate(charge.lines):
            lines.append(
                ClaimLine(
                    code=line["code"],
                    modifiers=tuple(line.get("modifiers") or ()),
                    units=int(line["units"]),
                    amount_cents=charge.billed_cents if index == 0 else 0,
                    note=line.get("note"),
                )
            )
        claims.append(
            ClaimData(
                claim_id=f"KC{charge.id}",
                service_on=charge.service_on,
                diagnoses=list(charge.diagnoses),
                lines=lines,
            )
        )
    return Claims(
        provider_name=settings.billing_provider_name,
        npi=settings.billing_npi,
        tax_id=settings.billing_tax_id,
        taxonomy=settings.billing_taxonomy,
        address=settings.billing_address,
        city=settings.billing_city,
        state=settings.billing_state,
        zip=settings.billing_zip,
        phone=settings.billing_phone,
        patient_family=patient.family_name,
        patient_given=patient.given_name,
        patient_dob=patient.date_of_birth,
        patient_sex={"female": "F", "male": "M"}.get(patient.sex, "U"),
        patient_address=patient.address,
        payer_name=coverage.payer_name,
        payer_id=coverage.payer_id,
        member_id=coverage.member_id,
        group_number=coverage.group_number,
        claims=claims,
    )


def _address(text: str | None) -> tuple[str, str, str, str] | None:
    """'12 Elm Street, Salem, MA 01970' -> street, city, state, zip; None if unreadable."""
    if not text:
        return None
    match = re.match(r"^(.+?),\s*([^,]+?),\s*([A-Z]{2})\s+(\d{5}(?:-?\d{4})?)\s*$", text.strip())
    if not match:
        return None
    street, city, state, code = match.groups()
    return street, city, state, code.replace("-", "")


def build_837p(data: Claims, *, at: datetime, control: int = 1, production: bool = False) -> str:
    """The interchange: ISA/GS/ST envelopes, loops 1000A/B, 2000A, 2000B, 2300, 2400."""
    sender = _text(data.tax_id, 15)
    receiver = _text(data.payer_id, 15)
    segments: list[str] = []

    def seg(*elements: str) -> None:
        segments.append("*".join(elements).rstrip("*"))

    isa = (
        "ISA*00*" + " " * 10 + "*00*" + " " * 10 + f"*ZZ*{sender:<15}*ZZ*{receiver:<15}"
        f"*{at:%y%m%d}*{at:%H%M}*^*00501*{control:09d}*0*{'P' if production else 'T'}*:"
    )
    seg(
        "GS",
        "HC",
        sender,
        receiver,
        f"{at:%Y%m%d}",
        f"{at:%H%M}",
        str(control),
        "X",
        IMPLEMENTATION,
    )
    body_start = len(segments)
    seg("ST", "837", "0001", IMPLEMENTATION)
    seg("BHT", "0019", "00", f"KC{control:06d}", f"{at:%Y%m%d}", f"{at:%H%M}", "CH")
    # 1000A submitter, 1000B receiver
    seg("NM1", "41", "2", _text(data.provider_name), "", "", "", "", "46", sender)
    seg("PER", "IC", "BILLING OFFICE", "TE", re.sub(r"\D", "", data.phone))
    seg("NM1", "40", "2", _text(data.payer_name), "", "", "", "", "46", receiver)
    # 2000A billing provider
    seg("HL", "1", "", "20", "1")
    seg("PRV", "BI", "PXC", data.taxonomy)
    seg("NM1", "85", "2", _text(data.provider_name), "", "", "", "", "XX", data.npi)
    seg("N3", _text(data.address, 55))
    seg("N4", _text(data.city, 30), data.state, data.zip)
    seg("REF", "EI", re.sub(r"\D", "", data.tax_id))
    # 2000B subscriber (the patient)
    seg("HL", "2", "1", "22", "0")
    seg("SBR", "P", "18", _text(data.group_number or "", 50), "", "", "", "", "", "CI")
    seg(
        "NM1",
        "IL",
        "1",
        _text(data.patient_family, 60),
        _text(data.patient_given, 35),
        "",
        "",
        "",
        "MI",
        _text(data.member_id, 80),
    )
    address = _address(data.patient_address)
    if address:
        street, city, state, code = address
        seg("N3", _text(street, 55))
        seg("N4", _text(city, 30), state, code)
    seg("DMG", "D8", f"{data.patient_dob:%Y%m%d}", data.patient_sex)
    seg("NM1", "PR", "2", _text(data.payer_name), "", "", "", "", "PI", _text(data.payer_id, 80))
    for claim in data.claims:
        seg("CLM", claim.claim_id, _amount(claim.total_cents), "", "", "11:B:1", "Y", "A", "Y", "Y")
        if claim.diagnoses:
            codes = [c.replace(".", "") for c in claim.diagnoses[:12]]
            seg("HI", f"ABK:{codes[0]}", *(f"ABF:{c}" for c in codes[1:]))
        pointer = ":".join(str(i + 1) for i in range(min(len(claim.diagnoses), 4))) or "1"
        for number, line in enumerate(claim.lines, start=1):
            seg("LX", str(number))
            procedure = ":".join(("HC", line.code, *line.modifiers[:4]))
            seg(
                "SV1", procedure, _amount(line.amount_cents), "UN", str(line.units), "", "", pointer
            )
            seg("DTP", "472", "D8", f"{claim.service_on:%Y%m%d}")
            if line.note:
                seg("NTE", "ADD", _text(line.note, 80))
    seg("SE", str(len(segments) - body_start + 1), "0001")
    seg("GE", "1", str(control))
    seg("IEA", "1", f"{control:09d}")
    return "~\n".join([isa, *segments]) + "~\n"


def cms1500(data: Claims) -> dict[str, Any]:
    """The same claims as the CMS-1500 (02/12) form's boxes, for a clinic that files on
    paper or checks the file against the form."""
    return {
        "1": "Group health plan" if data.group_number else "Other",
        "1a_insured_id": data.member_id,
        "2_patient_name": f"{data.patient_family}, {data.patient_given}",
        "3_birth_date_sex": f"{data.patient_dob:%m %d %Y} {data.patient_sex}",
        "4_insured_name": "Same",
        "5_patient_address": data.patient_address,
        "6_relationship": "Self",
        "11_group_number": data.group_number,
        "11c_plan_name": data.payer_name,
        "25_federal_tax_id": data.tax_id,
        "33_billing_provider": (
            f"{data.provider_name}, {data.address}, {data.city} {data.state} {data.zip}"
        ),
        "33a_npi": data.npi,
        "claims": [
            {
                "claim_id": claim.claim_id,
                "21_diagnoses": dict(zip("ABCDEFGHIJKL", claim.diagnoses, strict=False)),
                "24_lines": [
                    {
                        "24a_date": f"{claim.service_on:%m %d %y}",
                        "24b_place_of_service": "11",
                        "24d_procedure": line.code,
                        "24d_modifiers": list(line.modifiers),
                        "24e_pointer": "".join("ABCD"[: min(len(claim.diagnoses), 4)]) or "A",
                        "24f_charges_cents": line.amount_cents,
                        "24g_units": line.units,
                        "24j_rendering_npi": data.npi,
                        "note": line.note,
                    }
                    for line in claim.lines
                ],
                "28_total_charge_cents": claim.total_cents,
            }
            for claim in data.claims
        ],
    }


def validate(text: str) -> tuple[bool, str]:
    """Whether pyx12 accepts the file, with its 997 acknowledgement (used by the tests and
    the claim page). pyx12 is imported here only."""
    import io
    import tempfile

    import pyx12.error_handler
    import pyx12.params
    import pyx12.x12n_document

    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write(text)
        path = handle.name
    fd_997 = io.StringIO()
    fd_html = io.StringIO()
    with open(path) as source:
        ok = pyx12.x12n_document.x12n_document(pyx12.params.params(), source, fd_997, fd_html, None)
    return bool(ok), fd_997.getvalue()
