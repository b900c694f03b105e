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
from stimwise.protocol.body_sites import SIDES, SITE_NAMES

# (region, dx of the centre from the body's midline toward the person's own side, y, w, h)
_FRONT: tuple[tuple[str, float, float, float, float], ...] = (
    ("head", 8, 4, 16, 18), ("eye", 8, 23, 12, 6), ("face", 8, 30, 14, 13),
    ("neck_anterior", 6, 46, 11, 12), ("shoulder", 38, 61, 18, 16), ("chest", 16, 62, 28, 36),
    ("abdomen", 16, 100, 28, 30), ("hip", 26, 133, 16, 18),
    ("upper_arm_anterior", 47, 80, 14, 40), ("elbow", 51, 122, 14, 10),
    ("forearm_volar", 55, 134, 14, 38), ("wrist", 58, 174, 14, 8),
    ("hand_palmar", 60, 184, 16, 18), ("fingers", 62, 204, 16, 14),
    ("thigh_anterior", 15, 156, 24, 70), ("knee", 15, 228, 22, 16),
    ("leg_anterior", 15, 246, 18, 70), ("ankle", 15, 318, 16, 10),
    ("foot_dorsal", 17, 330, 18, 16), ("toes", 19, 348, 18, 10),
)
_BACK: tuple[tuple[str, float, float, float, float], ...] = (
    ("neck_posterior", 11, 44, 9, 14), ("upper_back", 19, 62, 26, 46),
    ("lower_back", 19, 110, 26, 26), ("buttock", 19, 138, 26, 24),
    ("upper_arm_posterior", 47, 80, 14, 40), ("forearm_dorsal", 55, 134, 14, 38),
    ("hand_dorsal", 60, 184, 16, 18), ("thigh_posterior", 15, 166, 24, 60),
    ("calf", 15, 246, 18, 70), ("foot_plantar", 17, 330, 18, 16),
)
_MIDLINE: dict[str, tuple[str, float, float, float]] = {
    # site: (view, y, w, h)
    "lower_abdomen_midline": ("front", 132, 20, 14),
    "cervical_midline": ("back", 42, 8, 18),
    "thoracic_midline": ("back", 62, 10, 46),
    "lumbar_midline": ("back", 110, 10, 26),
    "sacral_midline": ("back", 138, 10, 20),
}
_CENTRE = {"front": 90.0, "back": 290.0}
WIDTH, HEIGHT = 380, 380

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
    label = f"{status.site.replace('_', ' ')}: {status.description}"
    return (
        f'<rect class="{" ".join(classes)}" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" '
        f'height="{h:.1f}" rx="3" data-site="{escape(status.site)}">'
        f"<title>{escape(label)}</title></rect>"
    )


def _placed(statuses: dict[str, SiteStatus]):
    """(status, x, y, w, h) of every site; the person's left is on the viewer's right in the
    front view and on the viewer's left in the back view."""
    for view, table in (("front", _FRONT), ("back", _BACK)):
        centre = _CENTRE[view]
        for region, dx, y, w, h in table:
            for side in SIDES:
                toward = 1 if (side == "left") == (view == "front") else -1
                yield statuses[f"{side}_{region}"], centre + toward * dx - w / 2, y, w, h
    for site, (view, y, w, h) in _MIDLINE.items():
        yield statuses[site], _CENTRE[view] - w / 2, y, w, h


def body_map_svg(statuses: dict[str, SiteStatus], title: str) -> str:
    """The map as an SVG element (safe to embed: every text is escaped)."""
    shapes = "".join(_shape(*placed) for placed in _placed(statuses))
    labels = (
        f'<text x="{_CENTRE["front"]}" y="374" class="map-label">front</text>'
        f'<text x="{_CENTRE["back"]}" y="374" class="map-label">back</text>'
        f'<text x="{_CENTRE["front"] - 75}" y="14" class="map-side">R</text>'
        f'<text x="{_CENTRE["front"] + 70}" y="14" class="map-side">L</text>'
        f'<text x="{_CENTRE["back"] - 75}" y="14" class="map-side">L</text>'
        f'<text x="{_CENTRE["back"] + 70}" y="14" class="map-side">R</text>'
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
