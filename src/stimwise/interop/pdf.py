"""A4 PDF documents drawn with fpdf2 in the DejaVu Sans font that matplotlib ships (Unicode, no
system libraries): the primitives every stimwise report and sheet is written with."""

from __future__ import annotations

from pathlib import Path


def font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def new_pdf(title: str):
    """An A4 document with the DejaVu fonts registered and ``title`` as its first line."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator("stimwise")
    fonts = font_dir()
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    return pdf


def heading(pdf, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 12)
    pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9.5)


def line(pdf, text: str) -> None:
    pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")


def table(pdf, header: list[str], rows: list[list[str]]) -> None:
    if not rows:
        line(pdf, "none recorded")
        return
    with pdf.table(text_align="LEFT", line_height=5, first_row_as_headings=True) as drawn:
        for values in [header, *rows]:
            row = drawn.row()
            for value in values:
                row.cell(value)
