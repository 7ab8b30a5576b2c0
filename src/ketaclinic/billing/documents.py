"""The printable money documents: receipt, good-faith estimate, superbill (PDF)."""

from __future__ import annotations

from datetime import date
from typing import Any

from ketaclinic.billing import service
from ketaclinic.billing.models import Estimate, Payment
from ketaclinic.clinical.codes import estimates as gfe
from ketaclinic.platform.db import utcnow
from ketaclinic.platform.pdf import ClinicDocument
from ketaclinic.platform.settings import get_settings

money = service.dollars


def _document(title: str, subtitle: str | None = None) -> ClinicDocument:
    s = get_settings()
    return ClinicDocument(
        title=title,
        clinic=s.billing_provider_name,
        subtitle=subtitle,
        letterhead_lines=(
            f"{s.billing_address}, {s.billing_city}, {s.billing_state} {s.billing_zip[:5]}"
            f" · Phone {s.billing_phone}",
            f"NPI {s.billing_npi} · Tax id {s.billing_tax_id}",
        ),
        printed_at=utcnow().astimezone(s.zone),
    )


def receipt_pdf(payment: Payment, patient: Any, totals: service.Totals) -> bytes:
    refund = payment.amount_cents < 0
    doc = _document("Refund receipt" if refund else "Receipt", f"Receipt no. R-{payment.id:06d}")
    doc.fields(
        [
            ("Patient", f"{patient.given_name} {patient.family_name} ({patient.mrn})"),
            ("Date", f"{payment.received_on:%Y-%m-%d}"),
            ("Method", payment.method),
            ("Reference", payment.reference or "–"),
            ("Amount refunded" if refund else "Amount received", money(abs(payment.amount_cents))),
            ("Received by", payment.received_by),
        ]
    )
    if payment.note:
        doc.paragraph(payment.note)
    doc.heading("Account")
    doc.fields(
        [
            ("Charges", money(totals.charged_cents)),
            ("Payments", money(totals.paid_cents)),
            ("Adjustments", money(totals.adjusted_cents)),
            ("Balance", money(totals.balance_cents)),
        ]
    )
    doc.paragraph(
        "Card payments are taken on the clinic's card terminal; this receipt records the "
        "amount and the terminal's reference.",
        small=True,
    )
    return doc.output()


def estimate_pdf(estimate: Estimate, date_of_birth: date | None = None) -> bytes:
    s = get_settings()
    doc = _document("Good Faith Estimate", f"Estimate no. GFE-{estimate.id:06d}")
    doc.fields(
        [
            ("Prepared for", estimate.recipient_name),
            ("Date of birth", f"{date_of_birth:%Y-%m-%d}" if date_of_birth else "–"),
            ("Requested" if estimate.requested else "Scheduled", f"{estimate.asked_on:%Y-%m-%d}"),
            (
                "Expected date of service",
                f"{estimate.service_on:%Y-%m-%d}" if estimate.service_on else "Not yet scheduled",
            ),
            (
                "Issued",
                f"{estimate.issued_at.astimezone(s.zone):%Y-%m-%d}"
                if estimate.issued_at
                else "Not yet issued",
            ),
            (
                "Provider",
                f"{s.billing_provider_name}, NPI {s.billing_npi}, tax id {s.billing_tax_id}",
            ),
            (
                "Diagnosis codes",
                ", ".join(estimate.diagnoses)
                or "None given yet (expected: none for a first visit)",
            ),
        ]
    )
    doc.heading("Items and expected charges")
    doc.table(
        ["Item", "Service codes", "Quantity", "Unit price", "Expected charge"],
        [
            [
                item["description"],
                ", ".join(item["codes"]) or "–",
                item["quantity"],
                money(item["unit_cents"]),
                money(item["total_cents"]),
            ]
            for item in estimate.items
        ],
        widths=[60, 40, 18, 28, 30],
        align_right=(2, 3, 4),
    )
    doc.fields([("Total expected charges", money(estimate.total_cents))])
    threshold = money(gfe.DISPUTE["bill_over_estimate"].threshold_cents)
    doc.heading("Your rights under the No Surprises Act")
    doc.paragraph(
        "You have the right to receive a Good Faith Estimate explaining how much your "
        "medical care will cost. Under the law, health care providers need to give patients "
        "who don't have insurance or who are not using insurance an estimate of the bill "
        "for medical items and services."
    )
    doc.paragraph(
        f"If you receive a bill that is at least {threshold} more than this Good Faith "
        "Estimate, you can dispute the bill. Make sure to save a copy or picture of this "
        "estimate. For questions or more information about your right to a Good Faith "
        "Estimate, visit www.cms.gov/nosurprises or call 1-800-985-3059."
    )
    doc.paragraph(
        "This estimate is not a contract and does not require you to obtain the items or "
        "services listed. It lists the items and services this clinic expects to provide; "
        "other providers' charges are not included. (45 CFR 149.610)",
        small=True,
    )
    return doc.output()


def superbill_pdf(bill: service.Superbill) -> bytes:
    s = get_settings()
    p = bill.patient
    doc = _document("Superbill", f"Services {bill.start:%Y-%m-%d} to {bill.end:%Y-%m-%d}")
    doc.heading("Provider")
    doc.fields(
        [
            ("Billing provider", s.billing_provider_name),
            ("NPI", s.billing_npi),
            ("Tax id (EIN)", s.billing_tax_id),
            (
                "Address",
                f"{s.billing_address}, {s.billing_city}, {s.billing_state} {s.billing_zip[:5]}",
            ),
            ("Place of service", "11 (office)"),
        ]
    )
    doc.heading("Patient")
    doc.fields(
        [
            ("Name", f"{p.given_name} {p.family_name}"),
            ("Date of birth", f"{p.date_of_birth:%Y-%m-%d}"),
            ("Address", p.address or "–"),
            ("Record number", p.mrn),
        ]
    )
    doc.heading("Diagnoses (ICD-10-CM)")
    doc.table(
        ["Pointer", "Code", "Description"],
        [["ABCDEFGHIJKL"[i], d.code, d.description] for i, d in enumerate(bill.diagnoses)],
        widths=[16, 24, 140],
        empty="No diagnosis code on these charges.",
    )
    doc.heading("Services")
    rows = []
    for line in bill.lines:
        c = line.charge
        codes = "; ".join(
            f"{item['code']}"
            + (f"-{'-'.join(item['modifiers'])}" if item.get("modifiers") else "")
            + f" x{item['units']}"
            for item in c.lines
        )
        rows.append(
            [
                f"{c.service_on:%Y-%m-%d}",
                c.description,
                codes or "–",
                money(c.billed_cents),
                money(line.paid_cents),
            ]
        )
    doc.table(
        ["Date", "Service", "CPT/HCPCS x units", "Charge", "Paid"],
        rows,
        widths=[22, 62, 52, 22, 22],
        align_right=(3, 4),
    )
    notes = [item["note"] for line in bill.lines for item in line.charge.lines if item.get("note")]
    if notes:
        doc.paragraph("Drug notes: " + "; ".join(dict.fromkeys(notes)), small=True)
    doc.fields(
        [("Total charges", money(bill.billed_cents)), ("Total paid", money(bill.paid_cents))]
    )
    doc.paragraph(
        "The patient paid the clinic directly. Send this superbill to your insurer to ask "
        "for reimbursement; coverage is decided by your plan.",
        small=True,
    )
    return doc.output()
