"""Printable documents as PDF: one builder every area uses (ledgers, consents, estimates,
superbills, notes), so they share a letterhead, fonts and page furniture.

Built on fpdf2 (pure Python: no system libraries, fonts embedded in the file). The
fonts are the DejaVu Sans faces that matplotlib already ships, found by path so that
making a PDF never imports matplotlib; DejaVu covers Latin, Greek and Cyrillic names
and the signs clinical text uses (≥, ≤, µ, °, –).

Usage::

    doc = ClinicDocument(title="Dispensing log", clinic="Harbor Ketamine Clinic",
                         subtitle="Location MAIN · 2026-12-01 to 2026-12-01")
    doc.fields([("DEA registration", "AB1234563")])
    doc.table(["Time", "Lot", "Given"], rows, widths=[30, 30, 20])
    pdf_bytes = doc.output()

fpdf2 is imported when the first document is made (the CLI stays fast to start).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib.util import find_spec
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from fpdf import FPDF

PDF_MEDIA_TYPE = "application/pdf"

_FAMILY = "DejaVu"
_FACES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
_BODY_SIZE = 9.5
_SMALL_SIZE = 7.5


def _font_dir() -> Path:
    spec = find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - a dependency
        raise RuntimeError("matplotlib (which carries the DejaVu fonts) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"


def clinic_letterhead() -> tuple[str, tuple[str, ...]]:
    """The clinic's name and the lines under it (address, telephone), from its settings:
    the letterhead of its clinical documents, on paper and on a printable page."""
    from ketaclinic.platform.settings import get_settings

    s = get_settings()
    phone = s.billing_phone
    if len(phone) == 10 and phone.isdigit():
        phone = f"({phone[:3]}) {phone[3:6]}-{phone[6:]}"
    zip_code = s.billing_zip[:5]
    return s.clinic_name, (
        f"{s.billing_address}, {s.billing_city}, {s.billing_state} {zip_code} · Telephone {phone}",
    )


@dataclass(frozen=True)
class Signature:
    """A signature block: who, when, what it means, and optionally the drawn mark (PNG)."""

    name: str
    signed_at: str
    meaning: str
    image_png: bytes | None = None


class ClinicDocument:
    """A portrait A4/Letter document with the clinic's letterhead on every page, page
    numbers "page N of M" and the time it was printed in the footer."""

    def __init__(
        self,
        *,
        title: str,
        clinic: str,
        subtitle: str | None = None,
        letterhead_lines: Sequence[str] = (),
        printed_at: datetime | None = None,
        page_format: str = "letter",
        landscape: bool = False,
    ) -> None:
        from fpdf import FPDF

        document = self

        class _Pages(FPDF):
            def header(self) -> None:
                document._letterhead()

            def footer(self) -> None:
                document._footer()

        self.title = title
        self.clinic = clinic
        self.subtitle = subtitle
        self.letterhead_lines = tuple(letterhead_lines)
        self.printed_at = printed_at
        pdf = _Pages(orientation="L" if landscape else "P", unit="mm", format=page_format)
        fonts = _font_dir()
        for style, file in _FACES.items():
            pdf.add_font(_FAMILY, style=style, fname=str(fonts / file))
        pdf.set_title(title)
        pdf.set_author(clinic)
        pdf.set_creator("ketaclinic")
        pdf.set_auto_page_break(auto=True, margin=18)
        pdf.set_margins(15, 15, 15)
        pdf.alias_nb_pages()
        self.pdf: FPDF = pdf
        pdf.add_page()

    # page furniture -------------------------------------------------------------------
    def _letterhead(self) -> None:
        pdf = self.pdf
        pdf.set_font(_FAMILY, "B", 12)
        pdf.cell(0, 6, self.clinic, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(_FAMILY, "", _SMALL_SIZE)
        for line in self.letterhead_lines:
            pdf.cell(0, 3.6, line, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)
        pdf.set_font(_FAMILY, "B", 14)
        pdf.multi_cell(0, 7, self.title, new_x="LMARGIN", new_y="NEXT")
        if self.subtitle:
            pdf.set_font(_FAMILY, "", _BODY_SIZE)
            pdf.multi_cell(0, 5, self.subtitle, new_x="LMARGIN", new_y="NEXT")
        y = pdf.get_y() + 1
        pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
        pdf.set_y(y + 3)
        pdf.set_font(_FAMILY, "", _BODY_SIZE)

    def _footer(self) -> None:
        pdf = self.pdf
        pdf.set_y(-13)
        pdf.set_font(_FAMILY, "", _SMALL_SIZE)
        printed = f"Printed {self.printed_at:%Y-%m-%d %H:%M}" if self.printed_at else ""
        pdf.cell(0, 4, f"{self.title} · {printed}".strip(" ·"), align="L")
        pdf.set_x(pdf.l_margin)
        pdf.cell(0, 4, f"Page {pdf.page_no()} of {{nb}}", align="R")

    # content --------------------------------------------------------------------------
    def heading(self, text: str) -> None:
        pdf = self.pdf
        pdf.ln(2)
        pdf.set_font(_FAMILY, "B", 11)
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(_FAMILY, "", _BODY_SIZE)

    def paragraph(self, text: str, *, small: bool = False) -> None:
        pdf = self.pdf
        pdf.set_font(_FAMILY, "", _SMALL_SIZE if small else _BODY_SIZE)
        pdf.multi_cell(0, 4.2 if small else 4.8, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
        pdf.set_font(_FAMILY, "", _BODY_SIZE)

    def fields(self, pairs: Sequence[tuple[str, str]], *, label_width: float = 48) -> None:
        """Label / value lines ("Date of birth: 1984-03-02")."""
        pdf = self.pdf
        for label, value in pairs:
            pdf.set_font(_FAMILY, "B", _BODY_SIZE)
            pdf.cell(label_width, 5, label)
            pdf.set_font(_FAMILY, "", _BODY_SIZE)
            pdf.multi_cell(0, 5, value or "–", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)

    def table(
        self,
        headings: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        widths: Sequence[float] | None = None,
        align_right: Sequence[int] = (),
        empty: str = "No entries.",
    ) -> None:
        """A table whose heading row repeats on every page; numbers in ``align_right``
        columns line up. An empty table says so instead of printing a bare heading."""
        pdf = self.pdf
        if not rows:
            self.paragraph(empty)
            return
        usable = pdf.w - pdf.l_margin - pdf.r_margin
        if widths is None:
            widths = [usable / len(headings)] * len(headings)
        else:
            scale = usable / sum(widths)
            widths = [w * scale for w in widths]
        alignments = tuple("RIGHT" if i in align_right else "LEFT" for i in range(len(headings)))
        pdf.set_font(_FAMILY, "", _SMALL_SIZE + 0.5)
        with pdf.table(
            col_widths=tuple(widths),
            text_align=alignments,
            line_height=4.2,
            repeat_headings=1,
            first_row_as_headings=True,
            headings_style=_headings_style(),
        ) as grid:
            head = grid.row()
            for text in headings:
                head.cell(str(text))
            for values in rows:
                row = grid.row()
                for value in values:
                    row.cell("" if value is None else str(value))
        pdf.ln(2)
        pdf.set_font(_FAMILY, "", _BODY_SIZE)

    def signature(self, signature: Signature) -> None:
        pdf = self.pdf
        pdf.ln(2)
        if signature.image_png:
            pdf.image(BytesIO(signature.image_png), w=60)
        pdf.set_font(_FAMILY, "B", _BODY_SIZE)
        pdf.cell(0, 5, signature.name, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(_FAMILY, "", _SMALL_SIZE + 0.5)
        pdf.multi_cell(
            0, 4, f"{signature.meaning} · {signature.signed_at}", new_x="LMARGIN", new_y="NEXT"
        )
        pdf.set_font(_FAMILY, "", _BODY_SIZE)

    def image(self, png: bytes, *, width: float | None = None) -> None:
        """A picture (a chart rendered to PNG) across the text width, or ``width`` mm."""
        pdf = self.pdf
        usable = pdf.w - pdf.l_margin - pdf.r_margin
        pdf.image(BytesIO(png), x=pdf.l_margin, w=min(width or usable, usable))
        pdf.ln(2)

    def page_break(self) -> None:
        self.pdf.add_page()

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def _headings_style() -> Any:
    from fpdf.fonts import FontFace

    return FontFace(family=_FAMILY, emphasis="BOLD", fill_color=(232, 236, 242))
