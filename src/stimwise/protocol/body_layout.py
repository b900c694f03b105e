"""Where each body site sits on stimwise's simple front/back figure (drawing coordinates).

The figure is stimwise's own: one rounded rectangle per site of
:mod:`stimwise.protocol.body_sites`, front view centred at x = 90 and back view at x = 290 in a
380 × 380 box. The screening's body map (web) and the home-programme sheet's placement drawing
(interop) both draw from these boxes, so a site is in the same place on every page and paper.
"""

from __future__ import annotations

from functools import cache

from stimwise.protocol.body_sites import SIDES

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
CENTRE = {"front": 90.0, "back": 290.0}
WIDTH, HEIGHT = 380, 380


@cache
def site_boxes() -> dict[str, tuple[float, float, float, float]]:
    """(x, y, w, h) of every site; the person's left is on the viewer's right in the front view
    and on the viewer's left in the back view."""
    boxes = {}
    for view, table in (("front", _FRONT), ("back", _BACK)):
        centre = CENTRE[view]
        for region, dx, y, w, h in table:
            for side in SIDES:
                toward = 1 if (side == "left") == (view == "front") else -1
                boxes[f"{side}_{region}"] = (centre + toward * dx - w / 2, y, w, h)
    for site, (view, y, w, h) in _MIDLINE.items():
        boxes[site] = (CENTRE[view] - w / 2, y, w, h)
    return boxes


def side_labels() -> tuple[tuple[float, float, str], ...]:
    """(x, y, text) of the view and side labels drawn with the figure."""
    front, back = CENTRE["front"], CENTRE["back"]
    return ((front, 374, "front"), (back, 374, "back"), (front - 75, 14, "R"),
            (front + 70, 14, "L"), (back - 75, 14, "L"), (back + 70, 14, "R"))
