"""A body-site map of one screening as inline SVG: allowed, forbidden, level-capped, allodynic and
insensate sites, front and back.

The drawing is stimwise's own: one rounded rectangle per site of
:mod:`stimwise.protocol.body_sites`, laid out as a simple figure. Status is shown by fill AND
pattern or outline (never colour alone), every shape has a ``<title>`` naming the site and its
status, and the page lists the same sites as text, so the map is readable without colour vision
and by screen readers. It is drawn on the server: no JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from stimwise.clinical.intake import Intake
from stimwise.clinical.screening import Screening
from stimwise.protocol import body_layout
from stimwise.protocol.body_sites import SITE_NAMES
from stimwise.protocol.site_names import site_label

WIDTH, HEIGHT = body_layout.WIDTH, body_layout.HEIGHT

STATUS_TEXT = {
    "forbidden": "forbidden",
    "capped": "intensity capped",
    "allowed": "allowed",
}


@dataclass(frozen=True)
class SiteStatus:
    """What the screening and the intake say about one site."""

    site: str
    status: str  # forbidden | capped | allowed
    reasons: tuple[str, ...]
    max_level: str | None
    allodynic: bool
    sensation: str | None  # normal | reduced | absent | None (not tested)

    @property
    def description(self) -> str:
        parts = [STATUS_TEXT[self.status]]
        if self.max_level:
            parts.append(f"at most {self.max_level}")
        if self.allodynic:
            parts.append("allodynia")
        if self.sensation == "absent":
            parts.append("insensate")
        elif self.sensation == "reduced":
            parts.append("reduced sensation")
        if self.reasons:
            parts.append("by " + ", ".join(self.reasons))
        return "; ".join(parts)


def site_statuses(screening: Screening, intake: Intake) -> dict[str, SiteStatus]:
    """Every body site's status, by site name."""
    out = {}
    allodynic = intake.allodynic_sites
    for site in sorted(SITE_NAMES):
        reasons = screening.forbidden_sites.get(site, ())
        level = screening.site_max_level.get(site)
        status = "forbidden" if reasons else ("capped" if level else "allowed")
        out[site] = SiteStatus(site, status, tuple(reasons), level, site in allodynic,
                               intake.sensation_at(site))
    return out


def _shape(status: SiteStatus, x: float, y: float, w: float, h: float) -> str:
    classes = ["site", f"site-{status.status}"]
    if status.allodynic:
        classes.append("site-allodynic")
    if status.sensation in ("absent", "reduced"):
        classes.append(f"site-{status.sensation}")
    label = f"{site_label(status.site)}: {status.description}"
    return (
        f'<rect class="{" ".join(classes)}" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" '
        f'height="{h:.1f}" rx="3" data-site="{escape(status.site)}">'
        f"<title>{escape(label)}</title></rect>"
    )


def _placed(statuses: dict[str, SiteStatus]):
    """(status, x, y, w, h) of every site (positions: :mod:`stimwise.protocol.body_layout`)."""
    for site, (x, y, w, h) in body_layout.site_boxes().items():
        yield statuses[site], x, y, w, h


def body_map_svg(statuses: dict[str, SiteStatus], title: str) -> str:
    """The map as an SVG element (safe to embed: every text is escaped)."""
    shapes = "".join(_shape(*placed) for placed in _placed(statuses))
    labels = "".join(
        f'<text x="{x:g}" y="{y:g}" class="{"map-label" if len(text) > 1 else "map-side"}">'
        f"{text}</text>"
        for x, y, text in body_layout.side_labels()
    )
    patterns = (
        '<defs><pattern id="hatch" width="5" height="5" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="5" height="5" class="hatch-bg"/>'
        '<line x1="0" y1="0" x2="0" y2="5" class="hatch-line"/></pattern></defs>'
    )
    return (
        f'<svg class="body-map" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="body-map-title" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="body-map-title">{escape(title)}</title>{patterns}{shapes}{labels}</svg>'
    )


def picker_svg() -> str:
    """The figure of the intake page's place picker: one shape per site (``data-site``) that the
    page's script makes clickable. It is a pointer shortcut and hidden from screen readers: the
    picker's grouped list beside it offers every place (and whole limbs) as checkboxes."""
    shapes = "".join(
        f'<rect class="pick-site" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
        f'rx="3" data-site="{escape(site)}"><title>{escape(site_label(site))}</title></rect>'
        for site, (x, y, w, h) in body_layout.site_boxes().items()
    )
    labels = "".join(
        f'<text x="{x:g}" y="{y:g}" class="{"map-label" if len(text) > 1 else "map-side"}">'
        f"{text}</text>"
        for x, y, text in body_layout.side_labels()
    )
    return (f'<svg class="picker-map" viewBox="0 0 {WIDTH} {HEIGHT}" aria-hidden="true" '
            f'focusable="false" xmlns="http://www.w3.org/2000/svg">{shapes}{labels}</svg>')
