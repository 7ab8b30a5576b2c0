"""The shared PDF builder: text survives (read back with pypdf), long tables run onto
further pages with their headings repeated, and every page carries letterhead and
"page N of M"."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO

from pypdf import PdfReader

from ketaclinic.platform.pdf import ClinicDocument, Signature


def _pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(BytesIO(data)).pages]


def test_a_document_keeps_its_text_and_names_beyond_latin_1() -> None:
    doc = ClinicDocument(
        title="Dispensing log",
        clinic="Harbor Ketamine Clinic",
        subtitle="Location MAIN · 2026-12-01",
        letterhead_lines=["1 Harbor Way, Portland OR"],
        printed_at=datetime(2026, 12, 1, 17, 30),
    )
    doc.fields([("Patient", "Zoë Łukasiewicz"), ("Systolic", "≥ 180 mmHg")])
    doc.paragraph("Drawn from lot K-2291.")
    doc.signature(Signature(name="Ana Okafor, RN", signed_at="2026-12-01 17:31", meaning="counted"))
    data = doc.output()

    assert data.startswith(b"%PDF-")
    (text,) = _pages(data)
    for expected in (
        "Harbor Ketamine Clinic",
        "Dispensing log",
        "Zoë Łukasiewicz",
        "≥ 180 mmHg",
        "lot K-2291",
        "Ana Okafor, RN",
        "Printed 2026-12-01 17:30",
        "Page 1 of 1",
    ):
        assert expected in text


def test_a_long_table_repeats_its_headings_on_every_page() -> None:
    doc = ClinicDocument(title="Receipt log", clinic="Harbor Ketamine Clinic")
    rows = [(f"2026-11-{1 + i % 28:02d}", f"LOT-{i:04d}", i) for i in range(150)]
    doc.table(["Received", "Lot", "Vials"], rows, widths=[40, 40, 20], align_right=[2])
    pages = _pages(doc.output())

    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        assert "Received" in text and "Lot" in text
        assert f"Page {number} of {len(pages)}" in text
        assert "Harbor Ketamine Clinic" in text
    everything = "\n".join(pages)
    assert all(f"LOT-{i:04d}" in everything for i in range(150))


def test_an_empty_table_says_so() -> None:
    doc = ClinicDocument(title="Waste log", clinic="Harbor Ketamine Clinic")
    doc.table(["When", "What"], [], empty="No waste recorded in this period.")
    assert "No waste recorded in this period." in _pages(doc.output())[0]
