"""A report a clinician signs, as one document that both the web page and the PDF are drawn from.

The report services (:mod:`stimwise.web.services.reports`) put every figure into words and
units first; this model holds only that text, so the page and the PDF cannot say different
things. A document has the clinic's letterhead, a title and the person it is about, sections
of paragraphs, facts and tables, the clinician who signs it with a signature and date line, the
not-a-medical-device notice, and a footer (the prescription's fingerprint, shortened) on every
PDF page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stimwise.interop.pdf import BODY_FONT_PT, heading, line, new_pdf, table

SIGNATURE_SPACE_MM = 65
"""Room the "Signed" block needs at the foot of a page (heading, name, signature line, notice,
footer); with less left, it starts a new page."""
FINGERPRINT_CHARS = 12
"""How much of a 64-character fingerprint a report prints: enough to tell plans apart by eye
(2^48 values) while the full one stays in the record and the JSON."""


def short_fingerprint(fingerprint: str | None) -> str | None:
    return None if not fingerprint else fingerprint[:FINGERPRINT_CHARS]


@dataclass(frozen=True)
class Cell:
    """One table cell: its words and, on the web page, where it links to."""

    text: str
    href: str | None = None


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    caption: str | None = None
    empty: str = "None recorded."


def cells(*texts: str) -> tuple[Cell, ...]:
    return tuple(Cell(t) for t in texts)


@dataclass(frozen=True)
class Section:
    """A heading with paragraphs, then label-value facts, then tables."""

    heading: str
    paragraphs: tuple[str, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()
    tables: tuple[Table, ...] = ()
    key: str = ""
    """The section's anchor on the web page."""


@dataclass(frozen=True)
class Letterhead:
    """The clinic's name and details (settings; see ``stimwise.settings.Settings.clinic_*``)."""

    name: str
    address: str = ""
    phone: str = ""

    @property
    def lines(self) -> tuple[str, ...]:
        name = self.name or "Clinic name not set (STIMWISE_CLINIC_NAME)"
        details = [d for d in (self.address, f"Telephone {self.phone}" if self.phone else "")
                   if d]
        return (name, *details)


@dataclass(frozen=True)
class ReportDocument:
    title: str
    subject: str
    """Whom it is about, e.g. "Patient DEMO-CRPS-01 (pseudonymous code)"."""
    letterhead: Letterhead
    prepared: str
    """When and by whom it was prepared, in words (with the time zone)."""
    sections: tuple[Section, ...]
    clinician: str | None
    """The name of the clinician who signs it (None: left blank to be written in)."""
    notice: str
    footer: str
    facts: tuple[tuple[str, str], ...] = field(default=())
    """The facts under the title (dates, protocol...)."""

    @property
    def signature_lines(self) -> tuple[str, str]:
        """The clinician's name and the line to sign and date."""
        who = self.clinician or "_" * 30
        return (f"Clinician: {who}",
                f"Signature: {'_' * 34}    Date: {'_' * 16}")


def to_pdf(document: ReportDocument) -> bytes:
    """The document as an A4 PDF."""
    pdf = new_pdf(document.title, footer=document.footer)
    pdf.set_font("DejaVu", "B", 10)
    for text in document.letterhead.lines[:1]:
        line(pdf, text)
    pdf.set_font("DejaVu", "", BODY_FONT_PT)
    for text in document.letterhead.lines[1:]:
        line(pdf, text)
    pdf.ln(2)
    pdf.set_font("DejaVu", "B", 10.5)
    line(pdf, document.subject)
    pdf.set_font("DejaVu", "", BODY_FONT_PT)
    line(pdf, document.prepared)
    _facts(pdf, document.facts)
    for section in document.sections:
        heading(pdf, section.heading)
        for text in section.paragraphs:
            line(pdf, text)
        _facts(pdf, section.facts)
        for drawn in section.tables:
            if drawn.caption:
                pdf.set_font("DejaVu", "B", BODY_FONT_PT)
                line(pdf, drawn.caption)
                pdf.set_font("DejaVu", "", BODY_FONT_PT)
            table(pdf, list(drawn.header), [[c.text for c in row] for row in drawn.rows],
                  empty=drawn.empty)
    if pdf.get_y() > pdf.h - SIGNATURE_SPACE_MM:  # the heading stays with the lines it heads
        pdf.add_page()
    heading(pdf, "Signed")
    name_line, sign_line = document.signature_lines
    line(pdf, name_line)
    pdf.ln(8)
    line(pdf, sign_line)
    pdf.ln(3)
    pdf.set_font("DejaVu", "", 8)
    line(pdf, document.notice)
    return bytes(pdf.output())


def _facts(pdf, facts: tuple[tuple[str, str], ...]) -> None:
    for label, value in facts:
        pdf.set_font("DejaVu", "B", BODY_FONT_PT)
        pdf.write(5, f"{label}: ")
        pdf.set_font("DejaVu", "", BODY_FONT_PT)
        pdf.write(5, value)
        pdf.ln(5)
