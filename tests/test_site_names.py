"""Body sites in words: typed names matched to selectors, ambiguous ones refused with suggestions
(never a guessed side), and grouped picker choices that cover every selector once (HAZ-159)."""

from __future__ import annotations

import pytest

from stimwise.errors import InputError
from stimwise.protocol.body_sites import SELECTOR_NAMES, expand_sites
from stimwise.protocol.site_names import (
    find_sites,
    match_site,
    match_sites,
    site_choice_groups,
    site_label,
)


@pytest.mark.parametrize(
    "typed, selector",
    [
        ("right hand", "right_hand"),
        ("R hand", "right_hand"),
        ("r. hand", "right_hand"),
        ("Rt calf", "right_calf"),
        ("left lower back", "left_lower_back"),
        ("lower back left", "left_lower_back"),
        ("lower back", "lumbar"),
        ("back of left hand", "left_hand_dorsal"),
        ("L hand back", "left_hand_dorsal"),
        ("left palm", "left_hand_palmar"),
        ("l sole", "left_foot_plantar"),
        ("sole of the right foot", "right_foot_plantar"),
        ("lt shin", "left_leg_anterior"),
        ("left lower leg", "left_leg"),
        ("whole leg left", "left_lower_limb"),
        ("left arm", "left_upper_limb"),
        ("front of neck", "neck_anterior"),
        ("left front of neck", "left_neck_anterior"),
        ("nape", "neck_posterior"),
        ("lumbar spine", "lumbar_midline"),
        ("thorax", "thorax"),
        ("whole body", "whole_body"),
        ("left_calf", "left_calf"),
        ("Left Calf", "left_calf"),
        ("left shoulder blade", "left_upper_back"),
        ("RIGHT KNEE", "right_knee"),
    ],
)
def test_typed_names_match_their_selector(typed, selector):
    assert match_site(typed) == selector
    assert find_sites(typed).problem is None


@pytest.mark.parametrize(
    "typed, suggestions",
    [
        ("hand", {"left_hand", "right_hand"}),
        ("knee", {"left_knee", "right_knee"}),
        ("back", {"left_upper_back", "right_upper_back", "left_lower_back", "right_lower_back"}),
        ("left back", {"left_upper_back", "left_lower_back"}),
        ("left leg", {"left_lower_limb", "left_leg"}),
        ("spine", {"cervical_midline", "thoracic_midline", "lumbar_midline", "sacral_midline"}),
        ("left thorax", {"thorax"}),
    ],
)
def test_HAZ159_ambiguous_names_are_refused_with_suggestions_never_guessed(typed, suggestions):
    found = find_sites(typed)
    assert found.selectors == ()
    assert found.problem
    assert set(found.suggestions) == suggestions
    with pytest.raises(InputError) as caught:
        match_site(typed, path="implants.0.site")
    (problem,) = caught.value.problems
    assert problem.path == "implants.0.site" and problem.value == typed
    for suggestion in suggestions:
        assert site_label(suggestion) in problem.expected


def test_HAZ159_a_name_with_two_sides_is_refused():
    assert find_sites("left right hand").selectors == ()
    assert "more than one side" in find_sites("left right hand").problem


def test_HAZ159_a_misspelt_name_gets_close_suggestions():
    found = find_sites("left hnad")
    assert found.selectors == () and "left_hand" in found.suggestions
    assert find_sites("xyz").suggestions == () and "no body site" in find_sites("xyz").problem


def test_HAZ159_both_sides_are_two_places_and_refused_where_one_is_asked():
    assert find_sites("both feet").selectors == ("left_foot", "right_foot")
    with pytest.raises(InputError) as caught:
        match_site("both feet")
    assert "names two places" in caught.value.problems[0].expected


def test_a_typed_list_is_matched_in_order_without_repeats():
    assert match_sites("left hand, R wrist; both feet and left foot") == (
        "left_hand", "right_wrist", "left_foot", "right_foot")


def test_every_problem_of_a_typed_list_is_reported_at_once():
    with pytest.raises(InputError) as caught:
        match_sites("hand, left calf, bak", path="pain_sites")
    assert [p.path for p in caught.value.problems] == ["pain_sites.0", "pain_sites.2"]


def test_every_selector_is_matched_from_its_own_words():
    for selector in SELECTOR_NAMES:
        words = site_label(selector).split(" (")[0]
        found = find_sites(words)
        if found.matched:
            assert expand_sites(found.selectors[0]) == expand_sites(selector), (selector, words)
        else:  # only where the words are ambiguous, and then the selector is suggested
            assert selector in found.suggestions or expand_sites(selector) in [
                expand_sites(s) for s in found.suggestions], (selector, words, found)


def test_every_selector_is_matched_from_its_whole_label_as_a_page_shows_it():
    """The intake page suggests places by their labels ("Left foot (whole)", "Chest and upper
    back (thorax)"); picking one must match exactly that selector, in any letter case."""
    for selector in SELECTOR_NAMES:
        label = site_label(selector)
        assert find_sites(label).selectors == (selector,), label
        assert find_sites(f"  {label.upper()} ").selectors == (selector,), label


def test_picker_groups_cover_every_selector_exactly_once():
    groups = site_choice_groups()
    listed = [c.selector for g in groups for c in g.choices]
    assert sorted(listed) == sorted(SELECTOR_NAMES)
    assert [g.id for g in groups][:2] == ["head", "neck"] and groups[-1].id == "larger_areas"
    for group in groups:
        assert "_" not in group.label
        for choice in group.choices:
            assert "_" not in choice.label
            assert set(choice.sites) == expand_sites(choice.selector)
            assert choice.side in ("left", "right", "both", "midline")


def test_picker_lists_a_limb_before_its_segments_and_sites_proximal_to_distal():
    arms = next(g for g in site_choice_groups() if g.id == "upper_limb")
    left = [c.selector for c in arms.choices if c.side == "left"]
    assert left[0] == "left_upper_limb"
    assert left.index("left_shoulder") < left.index("left_elbow") < left.index("left_hand")
    assert left.index("left_hand") < left.index("left_hand_dorsal")
    assert all(c.side == "left" for c in arms.choices[: len(left)])


def test_HAZ159_the_front_of_the_neck_is_one_choice_without_a_side():
    neck = next(g for g in site_choice_groups() if g.id == "neck")
    front = next(c for c in neck.choices if c.selector == "neck_anterior")
    assert front.side == "both" and front.label == "Front of neck"
    assert set(front.sites) == {"left_neck_anterior", "right_neck_anterior"}


def test_a_typed_list_may_hold_a_label_with_a_comma_as_one_place():
    from stimwise.protocol.site_names import find_each_site

    assert [m.selectors for m in find_each_site("Left hand, back")] == [("left_hand_dorsal",)]
    assert match_sites("Left hand, back") == ("left_hand_dorsal",)
    parts = find_each_site("right hand; hand")
    assert parts[0].selectors == ("right_hand",) and not parts[1].matched
    assert parts[1].suggestions == ("left_hand", "right_hand")
