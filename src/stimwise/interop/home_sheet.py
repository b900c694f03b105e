"""The printable home-programme sheet: the prescription in the person's device's terms, with the
electrode placement drawn, as a self-contained HTML page and as a PDF.

It states the verification honestly: "verified at the worst case" only when
:func:`~stimwise.device.profiles.translate.translate` verified the settings; otherwise why they
could not be verified. No promise of relief; the not-a-medical-device notice is on every sheet.
"""

from __future__ import annotations

from datetime import date
from html import escape

from stimwise.device.profiles.translate import DeviceInstructions
from stimwise.interop.pdf import heading, line, new_pdf, table
from stimwise.protocol import body_layout

NOTICE = (
    "stimwise is clinical-decision support and research software, not a certified medical "
    "device. Follow your device's own manual and your clinician; stop and tell your clinician "
    "if your skin, pain or swelling gets worse. Stimulation helps some people and not others."
)
STATUS_TEXT = {
    "verified": "Checked: these settings passed stimwise's safety verification at the most "
                "this device could deliver.",
    "blocked": "NOT SAFE AS SET: the safety verification refused these settings. Do not use "
               "them; ask your clinician.",
    "not_verifiable": "Not checked: stimwise could not verify these settings for this device. "
                      "Use them only after your clinician has confirmed them.",
}


def electrode_sites(instructions: DeviceInstructions) -> dict[str, int]:
    """Site → channel number of every electrode."""
    sites = {}
    for number, channel in enumerate(instructions.prescription.channels, start=1):
        for electrode in channel.electrodes:
            sites[electrode.site] = number
    return sites


def placement_svg(instructions: DeviceInstructions) -> str:
    """The figure with the electrode sites filled and numbered by channel (inline SVG)."""
    sites = electrode_sites(instructions)
    shapes = []
    for site, (x, y, w, h) in body_layout.site_boxes().items():
        label = site.replace("_", " ")
        if site in sites:
            shapes.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="3" '
                f'fill="#1f5f8b" stroke="#000" stroke-width="1.2" data-site="{escape(site)}">'
                f"<title>electrode, channel {sites[site]}: {escape(label)}</title></rect>"
                f'<text x="{x + w / 2:.1f}" y="{y + h / 2 + 3:.1f}" font-size="8" '
                f'text-anchor="middle" fill="#fff">{sites[site]}</text>')
        else:
            shapes.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
                          f'rx="3" fill="#eee" stroke="#999" stroke-width="0.5"/>')
    labels = "".join(f'<text x="{x:g}" y="{y:g}" font-size="10" text-anchor="middle">'
                     f"{text}</text>" for x, y, text in body_layout.side_labels())
    return (f'<svg class="placement-map" viewBox="0 0 {body_layout.WIDTH} '
            f'{body_layout.HEIGHT}" role="img" aria-label="where the electrodes go" '
            f'xmlns="http://www.w3.org/2000/svg">{"".join(shapes)}{labels}</svg>')


def _setting_rows(instructions: DeviceInstructions) -> list[list[str]]:
    labels = {"frequency_hz": "Pulse rate", "phase_width_us": "Pulse width",
              "burst_frequency_hz": "Burst rate", "session_minutes": "Session length"}
    rows = []
    for s in instructions.settings:
        device = "not published" if s.device is None else f"{s.device:g} {s.unit}"
        rows.append([labels.get(s.parameter, s.parameter), device, s.note])
    return rows


def schedule_text(instructions: DeviceInstructions) -> str:
    """How often and how long, in words."""
    session = instructions.prescription.protocol.session
    per_day = session.sessions_per_day
    return (f"{session.sessions_per_week} sessions a week"
            + (f", up to {per_day} a day" if per_day > 1 else ", one a day")
            + f", {instructions.prescription.session_duration_min:g} minutes each")


def sheet_html(instructions: DeviceInstructions, pseudonym: str, on: date) -> str:
    """A complete, printable HTML page (no external files)."""
    programme = instructions.programme
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>"
        for row in _setting_rows(instructions))
    items = "".join

    def bullets(lines) -> str:
        return "<ul>" + items(f"<li>{escape(x)}</li>" for x in lines) + "</ul>"

    unknown = instructions.profile.unknowns()
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Home programme — {escape(pseudonym)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:sans-serif;max-width:48rem;margin:1rem auto;padding:0 1rem}}
table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #999;padding:.3rem;
text-align:left;vertical-align:top}}.status{{padding:.5rem;border:2px solid #000}}
.placement-map{{width:100%;max-width:24rem}}@media print{{body{{margin:0}}}}</style></head>
<body><h1>Your home programme</h1>
<p>For {escape(pseudonym)}, on your {escape(instructions.profile.name)}. Printed {on}.</p>
<p class="status" data-status="{instructions.status}">{escape(STATUS_TEXT[instructions.status])}
<br><small>{escape(instructions.status_reason)}</small></p>
<h2>When</h2><p>{escape(schedule_text(instructions))}.</p>
<h2>Settings</h2>
<p>Programme: {escape(programme.name if programme else "none of this device's programmes")}</p>
<table><tr><th>setting</th><th>on your device</th><th>how</th></tr>{rows}</table>
<h2>Intensity</h2>{bullets(instructions.intensity_guidance)}
<h2>Where the pads go</h2>{placement_svg(instructions)}{bullets(instructions.placement)}
<h2>What your device cannot match</h2>{bullets(instructions.mismatches or ["nothing"])}
<h2>What is not known about this device</h2>{bullets(unknown or ["nothing"])}
<p><small>{escape(NOTICE)}</small></p></body></html>
"""


def _draw_placement(pdf, instructions: DeviceInstructions, top_mm: float) -> None:
    scale = 0.3  # figure units → mm (380 units → 114 mm)
    left = 45.0
    sites = electrode_sites(instructions)
    for site, (x, y, w, h) in body_layout.site_boxes().items():
        chosen = site in sites
        pdf.set_fill_color(31, 95, 139) if chosen else pdf.set_fill_color(235, 235, 235)
        pdf.set_draw_color(0, 0, 0) if chosen else pdf.set_draw_color(160, 160, 160)
        pdf.rect(left + x * scale, top_mm + y * scale, w * scale, h * scale, style="DF")
        if chosen:
            pdf.set_text_color(255, 255, 255)
            pdf.set_font("DejaVu", "B", 6)
            pdf.text(left + (x + w / 2) * scale - 1, top_mm + (y + h / 2) * scale + 1,
                     str(sites[site]))
            pdf.set_text_color(0, 0, 0)
    pdf.set_font("DejaVu", "", 7)
    for x, y, text in body_layout.side_labels():
        pdf.text(left + x * scale - 2, top_mm + y * scale, text)
    pdf.set_font("DejaVu", "", 9.5)
    pdf.set_y(top_mm + body_layout.HEIGHT * scale + 3)


def sheet_pdf(instructions: DeviceInstructions, pseudonym: str, on: date) -> bytes:
    pdf = new_pdf(f"Your home programme — {pseudonym}")
    pdf.set_font("DejaVu", "", 9.5)
    line(pdf, f"On your {instructions.profile.name}. Printed {on}.")
    pdf.set_font("DejaVu", "B", 10)
    line(pdf, STATUS_TEXT[instructions.status])
    pdf.set_font("DejaVu", "", 9.5)
    line(pdf, instructions.status_reason)
    heading(pdf, "When")
    line(pdf, schedule_text(instructions) + ".")
    heading(pdf, "Settings")
    programme = instructions.programme
    line(pdf, "Programme: " + (programme.name if programme else "none matches"))
    table(pdf, ["setting", "on your device", "how"], _setting_rows(instructions))
    heading(pdf, "Intensity")
    for text in instructions.intensity_guidance:
        line(pdf, f"• {text}")
    heading(pdf, "Where the pads go")
    _draw_placement(pdf, instructions, pdf.get_y() + 2)
    for text in instructions.placement:
        line(pdf, f"• {text}")
    heading(pdf, "What your device cannot match")
    for text in instructions.mismatches or ["nothing"]:
        line(pdf, f"• {text}")
    heading(pdf, "Notice")
    line(pdf, NOTICE)
    return bytes(pdf.output())
