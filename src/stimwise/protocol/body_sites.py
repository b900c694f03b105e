"""Controlled vocabulary of body sites for electrode placement.

Sites are ``<side>_<region>`` for paired regions (``left_forearm_dorsal``) and bare region names
for midline regions (``lumbar_midline``). The clinical layer screens against the same names, so a
placement and a contraindication always speak about the same place. Thoracic and head regions are
lateralised on purpose: a channel with electrodes on opposite sides of the thorax or head forms a
trans-thoracic or trans-cranial current path (IEC 60601-2-10 IFU requirements; FDA PMS guidance
1999, see shared/reference/clinical-facts.md §2.1).
"""

from __future__ import annotations

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
