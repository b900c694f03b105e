"""Current paths between a channel's electrodes, and the body-site vocabulary they rest on:
neighbourhood, selectors and regions (HAZ-016, HAZ-017)."""

from __future__ import annotations

import itertools

import pytest

from stimwise.protocol.body_sites import (
    LIMB_SEGMENTS,
    SELECTOR_NAMES,
    SITE_NAMES,
    expand_sites,
    near,
    neighbours,
    region_group,
    side_of,
)
from stimwise.protocol.current_path import path_hazards


def kinds(*sites: str) -> list[str]:
    return [h.kind for h in path_hazards(sites)]


# --------------------------------------------------------------------------- path_hazards

TRANSTHORACIC = [
    ("left_chest", "right_chest"),
    ("left_hand_dorsal", "right_hand_dorsal"),
    ("left_chest", "left_upper_back"),
    ("left_forearm_volar", "left_calf"),
    ("left_chest", "thoracic_midline"),
    ("right_upper_back", "right_chest"),
    ("left_shoulder", "right_shoulder"),
    ("left_upper_back", "right_upper_back"),
    ("left_fingers", "right_upper_arm_posterior"),
    ("left_chest", "right_forearm_dorsal"),
    ("right_wrist", "left_abdomen"),
    ("left_elbow", "lumbar_midline"),
    ("right_hand_palmar", "right_foot_plantar"),
    ("right_neck_posterior", "left_hand_dorsal"),
    ("left_chest", "right_abdomen"),
    ("left_chest", "lower_abdomen_midline"),
    ("left_chest", "left_abdomen"),
    ("left_upper_back", "right_lower_back"),
    ("left_upper_back", "left_thigh_posterior"),
]
TRANSCRANIAL = [
    ("left_face", "right_face"),
    ("left_head", "left_shoulder"),
    ("left_head", "right_head"),
    ("left_eye", "right_eye"),
    ("right_face", "right_chest"),
    ("left_head", "lumbar_midline"),
    ("right_head", "right_calf"),
    ("left_head", "right_neck_posterior"),
]
NO_HAZARD = [
    ("left_upper_arm_anterior", "left_elbow"),
    ("left_lower_back", "right_lower_back"),
    ("left_calf", "right_calf"),
    ("left_head", "cervical_midline"),
    ("left_face", "left_neck_posterior"),
    ("left_head", "left_face"),
    ("left_abdomen", "right_abdomen"),
    ("left_thigh_anterior", "right_thigh_anterior"),
    ("left_lower_back", "left_calf"),
    ("thoracic_midline", "left_upper_back"),
    ("cervical_midline", "left_shoulder"),
    ("left_forearm_dorsal", "left_hand_dorsal"),
    ("left_neck_posterior", "right_neck_posterior"),
    ("left_upper_back", "left_lower_back"),
    ("thoracic_midline", "lumbar_midline"),
    ("left_neck_posterior", "left_upper_back"),
    ("left_shoulder", "left_chest"),
]


@pytest.mark.parametrize("pair", TRANSTHORACIC, ids="+".join)
def test_HAZ016_transthoracic_pairs(pair):
    assert kinds(*pair) == ["transthoracic"]
    assert kinds(*reversed(pair)) == ["transthoracic"]


@pytest.mark.parametrize("pair", TRANSCRANIAL, ids="+".join)
def test_HAZ016_transcranial_pairs(pair):
    assert kinds(*pair) == ["transcranial"]
    assert kinds(*reversed(pair)) == ["transcranial"]


@pytest.mark.parametrize("pair", NO_HAZARD, ids="+".join)
def test_HAZ016_pairs_without_a_forbidden_path(pair):
    assert path_hazards(pair) == []
    assert path_hazards(reversed(pair)) == []


def test_HAZ016_hazard_names_its_sites_and_explains_itself():
    (hazard,) = path_hazards(["left_hand_dorsal", "right_hand_dorsal"])
    assert hazard.sites == ("left_hand_dorsal", "right_hand_dorsal")
    assert "chest" in hazard.explanation
    (hazard,) = path_hazards(["left_chest", "left_upper_back"])
    assert "front and back of the thorax" in hazard.explanation
    (hazard,) = path_hazards(["left_head", "left_shoulder"])
    assert "head" in hazard.explanation


def test_HAZ016_every_pair_of_a_multi_electrode_channel_is_checked():
    hazards = path_hazards(["left_forearm_volar", "left_elbow", "right_forearm_volar"])
    assert sorted(h.sites for h in hazards) == [
        ("left_elbow", "right_forearm_volar"),
        ("left_forearm_volar", "right_forearm_volar"),
    ]
    assert path_hazards(["left_calf", "left_calf"]) == []
    assert path_hazards(["left_calf"]) == []


def test_HAZ016_no_same_site_pair_is_a_hazard_and_the_relation_is_symmetric():
    sites = sorted(SITE_NAMES)
    for a, b in itertools.combinations(sites, 2):
        assert kinds(a, b) == kinds(b, a), (a, b)
    for a in sites:
        assert path_hazards([a, a]) == []


def test_HAZ016_opposite_sides_of_the_upper_body_always_cross_the_chest():
    upper = [s for s in SITE_NAMES if region_group(s) in ("thorax", "upper_limb")]
    for a, b in itertools.product(upper, upper):
        if {side_of(a), side_of(b)} == {"left", "right"}:
            assert "transthoracic" in kinds(a, b), (a, b)


def test_HAZ016_head_to_anything_below_the_neck_is_transcranial():
    head = expand_sites("head")
    below = SITE_NAMES - head - expand_sites("neck")
    for a, b in itertools.product(head, below):
        assert kinds(a, b) == ["transcranial"], (a, b)


def test_HAZ016_lower_body_pairs_never_form_a_path_hazard():
    lower = [
        s for s in SITE_NAMES if region_group(s) in ("abdomen", "lumbar", "pelvis", "lower_limb")
    ]
    for a, b in itertools.combinations(lower, 2):
        assert path_hazards([a, b]) == [], (a, b)


# --------------------------------------------------------------------------- neighbours


def test_neighbours_are_symmetric_for_every_site():
    for a in SITE_NAMES:
        for b in neighbours(a):
            assert a in neighbours(b), (a, b)


def test_every_site_has_a_neighbour_and_is_not_its_own():
    for site in SITE_NAMES:
        assert neighbours(site), site
        assert site not in neighbours(site)
        assert neighbours(site) <= SITE_NAMES


@pytest.mark.parametrize(
    "site, expected",
    [
        (
            "left_knee",
            {"left_thigh_anterior", "left_thigh_posterior", "left_leg_anterior", "left_calf"},
        ),
        (
            "left_wrist",
            {"left_forearm_volar", "left_forearm_dorsal", "left_hand_dorsal", "left_hand_palmar"},
        ),
        (
            "thoracic_midline",
            {"left_upper_back", "right_upper_back", "cervical_midline", "lumbar_midline"},
        ),
    ],
)
def test_neighbours_of_some_sites(site, expected):
    assert neighbours(site) == expected


def test_limbs_touch_only_their_own_side_and_trunk_regions_touch_across():
    assert "right_calf" not in neighbours("left_calf")
    assert "right_chest" in neighbours("left_chest")
    assert "right_lower_back" in neighbours("left_lower_back")
    assert "left_shoulder" in neighbours("left_chest")


def test_near_is_the_sites_with_their_neighbours():
    assert near(frozenset()) == frozenset()
    assert near({"left_ankle"}) == {"left_ankle"} | neighbours("left_ankle")
    both = near({"left_ankle", "right_wrist"})
    assert both == near({"left_ankle"}) | near({"right_wrist"})
    for site in SITE_NAMES:
        assert site in near({site})


# --------------------------------------------------------------------------- selectors


def test_every_site_is_its_own_selector():
    for site in SITE_NAMES:
        assert expand_sites(site) == {site}
    assert SITE_NAMES <= SELECTOR_NAMES


def test_limb_segment_selectors():
    assert expand_sites("left_foot") == {"left_foot_dorsal", "left_foot_plantar", "left_toes"}
    assert expand_sites("right_hand") == {"right_hand_dorsal", "right_hand_palmar", "right_fingers"}
    assert expand_sites("left_leg") == {"left_leg_anterior", "left_calf"}
    for side in ("left", "right"):
        for segment, regions in LIMB_SEGMENTS.items():
            assert expand_sites(f"{side}_{segment}") == {f"{side}_{r}" for r in regions}


def test_whole_limb_selectors():
    leg = expand_sites("left_lower_limb")
    assert {"left_thigh_anterior", "left_knee", "left_calf", "left_toes"} <= leg
    assert all(side_of(s) == "left" and region_group(s) == "lower_limb" for s in leg)
    assert len(leg) == 9
    assert expand_sites("left_foot") <= leg
    arm = expand_sites("right_upper_limb")
    assert {"right_shoulder", "right_fingers"} <= arm and len(arm) == 10
    assert not leg & expand_sites("right_lower_limb")


def test_region_selectors():
    trunk = expand_sites("trunk")
    assert trunk == (
        expand_sites("thorax")
        | expand_sites("abdomen")
        | expand_sites("lumbar")
        | expand_sites("pelvis")
    )
    assert {
        "left_chest",
        "right_upper_back",
        "thoracic_midline",
        "lumbar_midline",
        "sacral_midline",
        "lower_abdomen_midline",
        "left_hip",
        "right_buttock",
    } <= trunk
    assert not trunk & (expand_sites("neck") | expand_sites("head"))
    assert not trunk & (expand_sites("left_upper_limb") | expand_sites("left_lower_limb"))
    assert expand_sites("thorax") == {
        "left_chest",
        "right_chest",
        "left_upper_back",
        "right_upper_back",
        "thoracic_midline",
    }
    assert expand_sites("neck") == {
        "left_neck_anterior",
        "right_neck_anterior",
        "left_neck_posterior",
        "right_neck_posterior",
        "cervical_midline",
    }
    assert expand_sites("whole_body") == SITE_NAMES


def test_every_site_lies_in_exactly_one_region_or_limb():
    regions = [
        "head",
        "neck",
        "trunk",
        "left_upper_limb",
        "right_upper_limb",
        "left_lower_limb",
        "right_lower_limb",
    ]
    for site in SITE_NAMES:
        assert sum(site in expand_sites(r) for r in regions) == 1, site


def test_unknown_selector_is_a_key_error():
    with pytest.raises(KeyError):
        expand_sites("left_foott")
