"""Controlled vocabulary of body sites for electrode placement.

Sites are ``<side>_<region>`` for paired regions (``left_forearm_dorsal``) and bare region names
for midline regions (``lumbar_midline``). The clinical layer screens against the same names, so a
placement and a contraindication always speak about the same place. Thoracic and head regions are
lateralised on purpose: a channel with electrodes on opposite sides of the thorax or head forms a
trans-thoracic or trans-cranial current path (IEC 60601-2-10 IFU requirements; FDA PMS guidance
1999, see shared/reference/clinical-facts.md §2.1).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from typing import Literal

SIDES = ("left", "right")

PAIRED_REGIONS: dict[str, str] = {
    # head and neck
    "head": "head",
    "face": "head",
    "eye": "head",
    "neck_anterior": "neck",
    "neck_posterior": "neck",
    # trunk
    "chest": "thorax",
    "upper_back": "thorax",
    "abdomen": "abdomen",
    "lower_back": "lumbar",
    "buttock": "pelvis",
    "hip": "pelvis",
    # upper limb
    "shoulder": "upper_limb",
    "upper_arm_anterior": "upper_limb",
    "upper_arm_posterior": "upper_limb",
    "elbow": "upper_limb",
    "forearm_volar": "upper_limb",
    "forearm_dorsal": "upper_limb",
    "wrist": "upper_limb",
    "hand_dorsal": "upper_limb",
    "hand_palmar": "upper_limb",
    "fingers": "upper_limb",
    # lower limb
    "thigh_anterior": "lower_limb",
    "thigh_posterior": "lower_limb",
    "knee": "lower_limb",
    "leg_anterior": "lower_limb",
    "calf": "lower_limb",
    "ankle": "lower_limb",
    "foot_dorsal": "lower_limb",
    "foot_plantar": "lower_limb",
    "toes": "lower_limb",
}

MIDLINE_REGIONS: dict[str, str] = {
    "cervical_midline": "neck",
    "thoracic_midline": "thorax",
    "lumbar_midline": "lumbar",
    "sacral_midline": "pelvis",
    "lower_abdomen_midline": "abdomen",
}

BodyRegionGroup = Literal[
    "head", "neck", "thorax", "abdomen", "lumbar", "pelvis", "upper_limb", "lower_limb"
]


def all_sites() -> tuple[str, ...]:
    """Every valid site name, sorted."""
    paired = [f"{side}_{region}" for side in SIDES for region in PAIRED_REGIONS]
    return tuple(sorted([*paired, *MIDLINE_REGIONS]))


SITE_NAMES: frozenset[str] = frozenset(all_sites())


def region_group(site: str) -> str:
    """The coarse body region (``thorax``, ``lower_limb`` ...) of a valid site name."""
    if site in MIDLINE_REGIONS:
        return MIDLINE_REGIONS[site]
    side, _, region = site.partition("_")
    if side not in SIDES or region not in PAIRED_REGIONS:
        raise KeyError(site)
    return PAIRED_REGIONS[region]


def side_of(site: str) -> str:
    """``left``, ``right`` or ``midline``."""
    return "midline" if site in MIDLINE_REGIONS else site.partition("_")[0]


# --------------------------------------------------------------------------- site groups

LIMB_SEGMENTS: dict[str, tuple[str, ...]] = {
    "upper_arm": ("upper_arm_anterior", "upper_arm_posterior"),
    "forearm": ("forearm_volar", "forearm_dorsal"),
    "hand": ("hand_dorsal", "hand_palmar", "fingers"),
    "thigh": ("thigh_anterior", "thigh_posterior"),
    "leg": ("leg_anterior", "calf"),
    "foot": ("foot_dorsal", "foot_plantar", "toes"),
}
"""Segments that intake forms name as one place (``left_foot``, ``right_forearm``)."""

THORAX_ANTERIOR: frozenset[str] = frozenset({"chest"})
"""Front-of-thorax regions; every other thorax site is on the back."""

NECK_ASPECTS: dict[str, frozenset[str]] = {
    "neck_anterior": frozenset({"neck_anterior"}),
    "neck_posterior": frozenset({"neck_posterior", "cervical_midline"}),
}
"""Selectors for the front and the back of the neck, both sides together: a finding "at the front
of the neck" (a vagus-nerve stimulator lead, a thyroid tumour) is recorded without choosing a
side. The front of the neck covers exactly the sites that the safety limit
``placement.forbidden-site`` forbids for everyone (IEC 60601-2-10 IFU requirements), so the two
never disagree."""


def _group_sites(group: str, side: str | None) -> frozenset[str]:
    return frozenset(
        site
        for site in SITE_NAMES
        if region_group(site) == group and (side is None or side_of(site) in (side, "midline"))
    )


def site_selectors() -> dict[str, frozenset[str]]:
    """Every name an intake may use for a place, mapped to the sites it covers.

    A selector is a site (``left_calf``), a limb segment (``left_foot``), a whole limb
    (``left_lower_limb``), a body region (``thorax``, ``head``) or an aspect of the neck
    (``neck_anterior``, ``neck_posterior``). Selectors make intake forms
    speak the way clinicians do ("DVT in the left leg") while screening still works site by site.
    """
    selectors: dict[str, frozenset[str]] = {site: frozenset({site}) for site in SITE_NAMES}
    for side in SIDES:
        for segment, regions in LIMB_SEGMENTS.items():
            selectors[f"{side}_{segment}"] = frozenset(f"{side}_{r}" for r in regions)
        for limb in ("upper_limb", "lower_limb"):
            selectors[f"{side}_{limb}"] = _group_sites(limb, side)
    groups = {"head", "neck", "thorax", "abdomen", "lumbar", "pelvis"}
    for group in groups:
        selectors[group] = _group_sites(group, None)
    for aspect, regions in NECK_ASPECTS.items():
        selectors[aspect] = frozenset(
            site for site in selectors["neck"] if site.removeprefix(f"{side_of(site)}_") in regions
        )
    selectors["trunk"] = frozenset().union(
        *(selectors[g] for g in ("thorax", "abdomen", "lumbar", "pelvis"))
    )
    selectors["whole_body"] = SITE_NAMES
    return selectors


_SELECTORS: dict[str, frozenset[str]] = site_selectors()
SELECTOR_NAMES: frozenset[str] = frozenset(_SELECTORS)


def expand_sites(selector: str) -> frozenset[str]:
    """The sites a selector covers; ``KeyError`` for an unknown name."""
    return _SELECTORS[selector]


# --------------------------------------------------------------------------- neighbourhood

_LIMB_LEVELS: tuple[tuple[tuple[str, ...], ...], ...] = (
    (
        ("shoulder",),
        ("upper_arm_anterior", "upper_arm_posterior"),
        ("elbow",),
        ("forearm_volar", "forearm_dorsal"),
        ("wrist",),
        ("hand_dorsal", "hand_palmar"),
        ("fingers",),
    ),
    (
        ("hip", "buttock"),
        ("thigh_anterior", "thigh_posterior"),
        ("knee",),
        ("leg_anterior", "calf"),
        ("ankle",),
        ("foot_dorsal", "foot_plantar"),
        ("toes",),
    ),
    (("head", "face", "eye"), ("neck_anterior", "neck_posterior")),
    (("neck_anterior",), ("chest",), ("abdomen",), ("hip",)),
    (("neck_posterior",), ("upper_back",), ("lower_back",), ("buttock",)),
    (("shoulder",), ("chest", "upper_back")),
)
"""Chains of same-side regions, proximal to distal; neighbouring levels touch."""

_MIDLINE_TOUCHES: dict[str, tuple[str, ...]] = {
    "cervical_midline": ("neck_posterior", "head"),
    "thoracic_midline": ("upper_back",),
    "lumbar_midline": ("lower_back",),
    "sacral_midline": ("buttock", "lower_back"),
    "lower_abdomen_midline": ("abdomen", "hip"),
}
_MIDLINE_CHAIN = (
    "cervical_midline",
    "thoracic_midline",
    "lumbar_midline",
    "sacral_midline",
)
_CROSS_MIDLINE_REGIONS = ("chest", "upper_back", "abdomen", "lower_back", "buttock", "head", "face")


def _neighbour_pairs() -> set[frozenset[str]]:
    pairs: set[frozenset[str]] = set()
    for side in SIDES:
        for chain in _LIMB_LEVELS:
            for level_index, level in enumerate(chain):
                below = chain[level_index + 1] if level_index + 1 < len(chain) else ()
                touching = [*level, *below]
                for a in level:
                    for b in touching:
                        if a != b:
                            pairs.add(frozenset({f"{side}_{a}", f"{side}_{b}"}))
        for midline, regions in _MIDLINE_TOUCHES.items():
            for region in regions:
                pairs.add(frozenset({midline, f"{side}_{region}"}))
    for upper, lower in itertools.pairwise(_MIDLINE_CHAIN):
        pairs.add(frozenset({upper, lower}))
    for region in _CROSS_MIDLINE_REGIONS:
        pairs.add(frozenset({f"left_{region}", f"right_{region}"}))
    return pairs


_NEIGHBOURS: dict[str, frozenset[str]] = {
    site: frozenset(
        other for pair in _neighbour_pairs() if site in pair for other in pair if other != site
    )
    for site in SITE_NAMES
}


def neighbours(site: str) -> frozenset[str]:
    """Sites that touch ``site`` (same side, adjacent segment, or across the midline of the trunk).

    Screening uses this for "over or near" rules (malignancy, thrombosis): an electrode on an
    adjacent segment still drives current through the tissue next to it.
    """
    return _NEIGHBOURS[site]


def near(sites: frozenset[str] | set[str]) -> frozenset[str]:
    """``sites`` with all their neighbours."""
    return frozenset(sites).union(*(neighbours(s) for s in sites))


def sites_text(sites: Sequence[str], joiner: str = " + ") -> str:
    """Electrode sites in words, each site once, in the order of first appearance, with the
    number of electrodes on it when there are several: two pads on the anterior thigh read
    "left thigh anterior (2 electrodes)", not "left thigh anterior + left thigh anterior"
    (issue 17: the site vocabulary does not tell apart two pads on one site, so naming the site
    twice reads as a mistake)."""
    counts = Counter(sites)
    return joiner.join(
        site.replace("_", " ") + (f" ({counts[site]} electrodes)" if counts[site] > 1 else "")
        for site in dict.fromkeys(sites)
    )

