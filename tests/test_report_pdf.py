"""PDF primitives of the signed reports: tables wrap at spaces only (HAZ-168), the footer on
every page, the signature and date line."""

from __future__ import annotations

import io

from pypdf import PdfReader

from stimwise.interop.pdf import new_pdf, table
from stimwise.interop.report_document import (
    Letterhead,
    ReportDocument,
    Section,
    Table,
    cells,
    short_fingerprint,
    to_pdf,
)

HEADER = ["From", "Until", "Protocol", "Amplitude ceiling", "Pulses", "Sessions", "Home range",
          "Review on", "Prescribed by", "Device"]
ROW = ["16 Dec 2026", "replaced 21 Dec 2026", "Acupuncture-like (low-frequency) TENS, motor level",
       "30.0 mA", "100 Hz, 200 µs", "30 min, 7 a week",
       "amplitude 10.0 mA to 30.0 mA; pulse rate 80 Hz to 150 Hz", "3 Jan 2027",
       "Dr Bartholomew Featherstonehaugh-Cholmondeley", "Enraf-Nonius Tensmed S84"]
SECOND = ["1 Jan 2027", "–", "Microcurrent (MENS), 300 µA monophasic with polarity reversal",
          "300 µA", "carrier waveform", "20 min, 5 a week", "none (clinic use only)", "not set",
          "clinician-1", "–"]


def _text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_HAZ168_a_crowded_table_breaks_no_word_across_lines():
    pdf = new_pdf("Table test")
    table(pdf, HEADER, [ROW, SECOND])
    tokens = set(_text(bytes(pdf.output())).split())
    words = {word for cell in [*HEADER, *ROW, *SECOND] for word in cell.split()}
    assert sorted(words - tokens) == []


def test_document_pdf_has_letterhead_signature_date_line_and_footer_on_every_page():
    long_table = Table(tuple(HEADER[:3]), tuple(cells(f"{i} Dec 2026", "–", "Burst TENS")
                                                for i in range(1, 120)))
    document = ReportDocument(
        title="Progress report — P001", subject="Patient P001 (pseudonymous code)",
        letterhead=Letterhead("Riverside Physiotherapy", "12 Mill Lane", "+44 1"),
        prepared="Prepared today", sections=(Section("History", tables=(long_table,)),),
        clinician="Dr A. Example", notice="not a certified medical device",
        footer=f"Prescription fingerprint {short_fingerprint('ab' * 32)}")
    reader = PdfReader(io.BytesIO(to_pdf(document)))
    pages = [page.extract_text() for page in reader.pages]
    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        assert f"Prescription fingerprint {'ab' * 6} · page {number} of {len(pages)}" in text
        assert "ab" * 32 not in text
    assert "Riverside Physiotherapy" in pages[0] and "Telephone +44 1" in pages[0]
    assert "Clinician: Dr A. Example" in pages[-1]
    assert "Signature: ____" in pages[-1] and "Date: ____" in pages[-1]
