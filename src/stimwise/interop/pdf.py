"""A4 PDF documents drawn with fpdf2 in the DejaVu Sans font that matplotlib ships (Unicode, no
system libraries): the primitives every stimwise report and sheet is written with.

Tables never break a word across lines (issue 16: "2026-12-/06", "crps-gentl/e-sensory"): each
column is at least as wide as its longest word, and the width left over goes to the columns
with the longest texts (:func:`column_widths`); fpdf2 then wraps cells at spaces. A table whose
words do not fit side by side is set in a smaller size (down to 6 pt) before any word would
break.
"""

from __future__ import annotations

from pathlib import Path

TABLE_FONT_SIZES = (8.5, 8.0, 7.5, 7.0, 6.5, 6.0)
"""Table text sizes (pt), tried from the largest until every word fits its column."""
BODY_FONT_PT = 9.5


def font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def new_pdf(title: str, footer: str | None = None):
    """An A4 document with the DejaVu fonts registered and ``title`` as its first line; every
    page ends with ``footer`` (when given) and its page number."""
    from fpdf import FPDF

    class _Document(FPDF):
        def footer(self) -> None:
            if footer is None:
                return
            self.set_y(-12)
            self.set_font("DejaVu", "", 7.5)
            self.set_text_color(80, 80, 80)
            self.cell(0, 5, f"{footer} · page {self.page_no()} of {{nb}}", align="C")
            self.set_text_color(0, 0, 0)

    pdf = _Document(format="A4")
    pdf.set_title(title)
    pdf.set_creator("stimwise")
    fonts = font_dir()
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(auto=True, margin=18 if footer else 15)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    return pdf


def heading(pdf, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 12)
    pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", BODY_FONT_PT)


def line(pdf, text: str) -> None:
    pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")


def word_widths(pdf, rows: list[list[str]], padding: float) -> list[float]:
    """Each column's longest word plus ``padding`` (mm) in the current font."""
    return [max(pdf.get_string_width(word) for cell in column for word in (cell.split() or [""]))
            + padding for column in zip(*rows, strict=True)]


def column_widths(pdf, rows: list[list[str]], total: float, padding: float) -> list[float]:
    """Widths (mm) for the columns of ``rows`` (the header first) in the current font: each
    at least its longest word plus ``padding``, the rest shared in proportion to how much
    more each column's longest text needs."""
    columns = list(zip(*rows, strict=True))
    least = word_widths(pdf, rows, padding)
    wanted = [max(pdf.get_string_width(cell) for cell in column) + padding
              for column in columns]
    spare = total - sum(least)
    if spare <= 0:  # even the words do not fit: shrink in proportion (words may then break)
        return [total * w / sum(least) for w in least]
    extra = [w - m for w, m in zip(wanted, least, strict=True)]
    if sum(extra) <= spare:  # everything fits on one line: share what is left evenly
        leftover = (spare - sum(extra)) / len(columns)
        return [w + leftover for w in wanted]
    return [m + spare * e / sum(extra) for m, e in zip(least, extra, strict=True)]


def table(pdf, header: list[str], rows: list[list[str]], empty: str = "none recorded") -> None:
    """A table that wraps its cells at spaces only (see :func:`column_widths`)."""
    if not rows:
        line(pdf, empty)
        return
    everything = [list(header), *[list(r) for r in rows]]
    for size in TABLE_FONT_SIZES:  # the largest size at which every word fits its column
        pdf.set_font("DejaVu", "B", size)  # measured in bold, the wider face (headers)
        widths = column_widths(pdf, everything, pdf.epw, 2 * pdf.c_margin + 1.0)
        if all(width >= least for width, least in zip(
                widths, word_widths(pdf, everything, 2 * pdf.c_margin + 1.0), strict=True)):
            break
    pdf.set_font("DejaVu", "", size)
    with pdf.table(text_align="LEFT", line_height=size * 0.53, first_row_as_headings=True,
                   col_widths=widths, width=pdf.epw) as drawn:
        for values in everything:
            row = drawn.row()
            for value in values:
                row.cell(value)
    pdf.set_font("DejaVu", "", BODY_FONT_PT)
